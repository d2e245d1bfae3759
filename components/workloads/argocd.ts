import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/**
 * The argo-cd chart, pinned. 9.5.17 is a published 9.5 release (Argo CD 3.4 line); the value keys below
 * were read in the chart's 9.5.x values.yaml. The 10.x line exists but its values were not reviewed.
 */
export const ARGOCD_CHART = { chart: "argo-cd", repo: "https://argoproj.github.io/argo-helm", version: "9.5.17" } as const;

/** The API server as seen from inside the cluster: Argo CD's in-cluster destination. */
export const IN_CLUSTER_SERVER = "https://kubernetes.default.svc";

/** Prefix of the cluster-fact annotations on Argo CD's cluster Secret (readable from ApplicationSets). */
export const CLUSTER_FACT_PREFIX = "aks-platform";

/** The lab's layout: one directory of Application manifests per environment. */
export function appOfAppsPath(environment: string): string {
    return `argocd/apps/${environment}`;
}

/** Facts about the cluster that the Git-managed applications need, taken from the Pulumi graph. */
export interface ClusterFacts {
    /** Namespace the applications run in. */
    readonly appNamespace: pulumi.Input<string>;
    /** Namespace of HashiCorp Vault. */
    readonly vaultNamespace: pulumi.Input<string>;
    /** The application Key Vault's name. Default: none (a stack without Azure; not annotated). */
    readonly keyVaultName?: pulumi.Input<string>;
    /** Entra ID tenant of the Key Vault and the identities. Default: none (not annotated). */
    readonly tenantId?: pulumi.Input<string>;
    /** Workload identity client ID per service account name, e.g. { "product-service": <clientId> }. Default: none. */
    readonly identityClientIds?: pulumi.Input<Readonly<Record<string, pulumi.Input<string>>>>;
}

/** The keys of the argo-cd chart's values (9.5.x) this component sets. */
export interface ArgoCdValues {
    readonly crds: { readonly install: boolean; readonly keep: boolean };
    readonly configs: { readonly params: { readonly "server.insecure": boolean } };
    readonly server: { readonly service: { readonly type: "ClusterIP" } };
    readonly dex: { readonly enabled: boolean };
}

export interface ArgoCdArgs {
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
    /** Environment the app-of-apps is for, e.g. dev (names the Application). */
    readonly environment: string;
    /** Namespace of Argo CD, created by this component. Default: argocd. */
    readonly namespace?: string;
    /** Git repository holding the Argo CD applications and charts (the only allowed source). */
    readonly repoUrl: pulumi.Input<string>;
    /** Directory of the environment's Application manifests. Default: appOfAppsPath(environment). */
    readonly path?: pulumi.Input<string>;
    /** Branch, tag or commit to follow. Default: main. */
    readonly targetRevision?: pulumi.Input<string>;
    /** AppProject the services' Applications use (the lab's manifests name it). Default: microservices. */
    readonly projectName?: string;
    /** Cluster facts annotated on the in-cluster cluster Secret. */
    readonly clusterFacts: ClusterFacts;
    /**
     * Serve the UI and API over plain HTTP (configs.params server.insecure): only when TLS ends in front
     * of it, e.g. at the Istio gateway. Default: false (Argo CD serves its own TLS).
     */
    readonly serverInsecure?: boolean;
    /** Seconds Helm waits for Argo CD to become ready. Default: 600. */
    readonly timeoutSeconds?: number;
    /** What the applications need before Argo CD may sync them (Vault configured, MongoDB up). Default none. */
    readonly appsAfter?: readonly pulumi.Resource[];
}

/** The chart values: pure, so the tests read exactly what the Release gets. */
export function argoCdValues(serverInsecure: boolean): ArgoCdValues {
    return {
        // The CRDs stay when the release goes, so deleting Argo CD never deletes every Application.
        crds: { install: true, keep: true },
        configs: { params: { "server.insecure": serverInsecure } },
        // Reached with a port-forward or through the mesh, never a public load balancer.
        server: { service: { type: "ClusterIP" } },
        // No SSO connector is configured; Dex would be an idle pod with a service account.
        dex: { enabled: false },
    };
}

/** The annotations carrying the cluster facts. */
export function clusterFactAnnotations(facts: pulumi.Unwrap<ClusterFacts>): Record<string, string> {
    const annotations: Record<string, string> = {
        [`${CLUSTER_FACT_PREFIX}/app-namespace`]: facts.appNamespace,
        [`${CLUSTER_FACT_PREFIX}/vault-namespace`]: facts.vaultNamespace,
    };
    // Absent facts are left out rather than annotated empty, so a manifest can test for them.
    if (facts.keyVaultName !== undefined) annotations[`${CLUSTER_FACT_PREFIX}/key-vault-name`] = facts.keyVaultName;
    if (facts.tenantId !== undefined) annotations[`${CLUSTER_FACT_PREFIX}/tenant-id`] = facts.tenantId;
    for (const [account, clientId] of Object.entries(facts.identityClientIds ?? {})) {
        annotations[`${CLUSTER_FACT_PREFIX}/${account}-client-id`] = clientId;
    }
    return annotations;
}

/**
 * Argo CD from the argo-cd chart, bootstrapped with the lab's app-of-apps for one environment: the
 * in-cluster destination declared as a cluster Secret annotated with the cluster facts from the graph,
 * an AppProject for the services (one repo, the app namespace), a bootstrap AppProject for the parent
 * Application (the same repo, Applications in Argo CD's namespace only), and the parent Application.
 */
export class ArgoCd extends pulumi.ComponentResource {
    /** Argo CD's namespace. */
    readonly namespace: pulumi.Output<string>;
    /** Name of the app-of-apps Application. */
    readonly applicationName: pulumi.Output<string>;
    /** Name of the services' AppProject. */
    readonly projectName: pulumi.Output<string>;

    constructor(name: string, args: ArgoCdArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:workloads:ArgoCd", name, {}, opts);
        const child = { parent: this, provider: args.provider };
        const projectName = args.projectName ?? "microservices";
        const labels = { "app.kubernetes.io/part-of": "argocd" };

        const namespace = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: args.namespace ?? "argocd" } }, child);
        const ns = namespace.metadata.name;

        const release = new k8s.helm.v3.Release(
            name,
            {
                name: "argocd",
                chart: ARGOCD_CHART.chart,
                version: ARGOCD_CHART.version,
                repositoryOpts: { repo: ARGOCD_CHART.repo },
                namespace: ns,
                createNamespace: false,
                values: argoCdValues(args.serverInsecure ?? false) as unknown as Record<string, unknown>,
                atomic: true,
                cleanupOnFail: true,
                timeout: args.timeoutSeconds ?? 600,
                maxHistory: 5,
            },
            child,
        );
        // The Application and AppProject kinds exist only once the chart's CRDs are installed.
        const crdsReady = [release];

        // Argo CD reads clusters from Secrets labelled secret-type=cluster. Declaring the in-cluster one
        // carries the facts the Git-managed apps need (an ApplicationSet's cluster generator exposes
        // them as {{metadata.annotations.*}}), from the graph rather than typed into Git.
        new k8s.core.v1.Secret(
            `${name}-in-cluster`,
            {
                metadata: {
                    name: "in-cluster",
                    namespace: ns,
                    labels: { ...labels, "argocd.argoproj.io/secret-type": "cluster" },
                    annotations: pulumi.output(args.clusterFacts).apply(clusterFactAnnotations),
                },
                type: "Opaque",
                stringData: {
                    name: "in-cluster",
                    server: IN_CLUSTER_SERVER,
                    // No credentials: the controller uses its own service account in its own cluster.
                    config: JSON.stringify({ tlsClientConfig: { insecure: false } }),
                },
            },
            { ...child, dependsOn: crdsReady },
        );

        const project = new k8s.apiextensions.CustomResource(
            `${name}-project`,
            {
                apiVersion: "argoproj.io/v1alpha1",
                kind: "AppProject",
                metadata: { name: projectName, namespace: ns, labels },
                spec: {
                    description: "The services: one repository, the application namespace only",
                    sourceRepos: [args.repoUrl],
                    destinations: [{ server: IN_CLUSTER_SERVER, namespace: args.clusterFacts.appNamespace }],
                    // No cluster-scoped objects (namespaces, CRDs, RBAC): the platform layer owns them.
                    clusterResourceWhitelist: [],
                },
            },
            { ...child, dependsOn: crdsReady },
        );

        // The parent Application deploys Application objects into Argo CD's own namespace, which the
        // services' project must not reach; it gets a project of its own that allows only that.
        const bootstrapProject = new k8s.apiextensions.CustomResource(
            `${name}-bootstrap-project`,
            {
                apiVersion: "argoproj.io/v1alpha1",
                kind: "AppProject",
                metadata: { name: `${projectName}-bootstrap`, namespace: ns, labels },
                spec: {
                    description: "The app-of-apps: Applications in Argo CD's namespace only",
                    sourceRepos: [args.repoUrl],
                    destinations: [{ server: IN_CLUSTER_SERVER, namespace: ns }],
                    clusterResourceWhitelist: [],
                    namespaceResourceWhitelist: [{ group: "argoproj.io", kind: "Application" }],
                },
            },
            { ...child, dependsOn: crdsReady },
        );

        const application = new k8s.apiextensions.CustomResource(
            `${name}-app-of-apps`,
            {
                apiVersion: "argoproj.io/v1alpha1",
                kind: "Application",
                metadata: { name: `app-of-apps-${args.environment}`, namespace: ns, labels },
                spec: {
                    project: bootstrapProject.metadata.name,
                    source: {
                        repoURL: args.repoUrl,
                        path: args.path ?? appOfAppsPath(args.environment),
                        targetRevision: args.targetRevision ?? "main",
                    },
                    destination: { server: IN_CLUSTER_SERVER, namespace: ns },
                    syncPolicy: { automated: { prune: true, selfHeal: true } },
                },
            },
            // The child Applications name the services' project: it must exist before they sync.
            { ...child, dependsOn: [...crdsReady, project, ...(args.appsAfter ?? [])] },
        );

        this.namespace = ns;
        this.applicationName = application.metadata.name;
        this.projectName = project.metadata.name;
        this.registerOutputs({ namespace: this.namespace, applicationName: this.applicationName, projectName: this.projectName });
    }
}
