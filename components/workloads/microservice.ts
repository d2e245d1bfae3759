import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import * as fs from "fs";
import ignore from "ignore";
import * as path from "path";
import type { Environment } from "../config";
import { APP_SECRET_KEYS } from "../foundation";
import { secretEnv } from "../jobScripts";
import { keyVaultMountTimeoutSeconds, RELEASE_TIMEOUT_SECONDS } from "../platform/charts";
import { VAULT_AGENT_INJECT_LABEL } from "../platform/vault";
import { VAULT_CA_SECRET } from "../platform/vaultCa";
import { PORTS } from "../topology";
import { MONGO_PORT } from "./mongodb";

/** The repo's one chart for both services. */
export const MICROSERVICE_CHART_DIR = path.join(__dirname, "../../charts/microservice");

/**
 * The chart as the Release names it: relative to the program's directory, which is where the provider
 * resolves it too. An absolute path would differ per checkout and show a diff on every machine
 * (pulumi/pulumi-kubernetes#2251). The leading ./ keeps Helm from reading `charts/microservice` as
 * chart `microservice` of a repository named `charts`.
 */
export function chartPath(from: string = process.cwd(), chartDir: string = MICROSERVICE_CHART_DIR): string {
    const relative = path.relative(from, chartDir);
    return path.isAbsolute(relative) || relative.startsWith("..") ? relative : `./${relative}`;
}

/**
 * What Helm leaves out of a chart directory: its .helmignore (shell globs, `dir/` for directories, `!`
 * to negate; a pattern without a slash matches the file's name at any depth) plus Helm's default,
 * dot files under templates/ (helm/helm pkg/ignore/rules.go, AddDefaults and parseRule; the directory
 * loader applies both, pkg/chart/loader/directory.go). The `ignore` package reads the same gitignore
 * syntax; Helm rejects `**`, so no chart here uses it. Directories are asked about with a trailing slash.
 */
function helmIgnored(chartDir: string): (relative: string, isDirectory: boolean) => boolean {
    const file = path.join(chartDir, ".helmignore");
    const rules = ignore().add("templates/.?*");
    if (fs.existsSync(file)) rules.add(fs.readFileSync(file, "utf8"));
    return (relative, isDirectory) => rules.ignores(isDirectory ? `${relative}/` : relative);
}

/**
 * A digest of a local chart's content: every file Helm packages (not .helmignore'd), by relative path
 * and bytes, in a fixed order, so it is the same on every checkout. `helm.v3.Release` diffs its inputs
 * only (chart, version, values: pulumi-kubernetes provider/pkg/provider/helm_release.go, Diff), so a
 * template edit at the same chart version would never deploy; the Release carries this digest, and a
 * changed file is a changed input, which upgrades the release.
 */
export function chartDigest(chartDir: string = MICROSERVICE_CHART_DIR): string {
    const ignored = helmIgnored(chartDir);
    const files: string[] = [];
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            const relative = path.relative(chartDir, full).split(path.sep).join("/");
            if (ignored(relative, entry.isDirectory())) continue;
            if (entry.isDirectory()) walk(full);
            else if (entry.isFile()) files.push(relative);
        }
    };
    walk(chartDir);
    const hash = createHash("sha256");
    for (const relative of files.sort()) {
        hash.update(`${relative}\0`)
            .update(fs.readFileSync(path.join(chartDir, relative)))
            .update("\0");
    }
    return hash.digest("hex");
}

/** The lab's application database. */
export const MONGO_DATABASE = "microservices";
/** Vault path of the database secrets engine role that issues MongoDB credentials. */
export const VAULT_DB_CREDS_PATH = "database/creds/microservices-role";
/** The Vault agent writes the rendered connection string to /vault/secrets/<this>. */
const VAULT_SECRET_FILE = "mongodb";
/** Where the Vault agent mounts the vault.hashicorp.com/tls-secret Secret (hashicorp/vault-k8s, agent-inject/agent). */
const VAULT_AGENT_TLS_DIR = "/vault/tls";
/** The chart's projected token volume for the agent (values vaultAgent.tokenAudience). */
const VAULT_AGENT_TOKEN_VOLUME = "vault-token";
/** Port of the Vault API, kept out of the Istio sidecar (see microserviceValues). */
const VAULT_PORT = PORTS.vaultApi;
/** Port of each service's Kubernetes Service (the lab's services answer on 80). */
export const SERVICE_PORT = PORTS.servicePort;
/**
 * The services' health endpoints (services/common's LIVENESS_PATH and READINESS_PATH; a test checks
 * they agree): startup and liveness on the lab's /health, readiness on one that fails while MongoDB
 * is unreachable, so such a pod leaves the Service instead of being restarted.
 */
export const PROBE_PATHS = { liveness: "/health", readiness: "/health/ready" } as const;

export interface CpuMemory {
    readonly cpu: string;
    readonly memory: string;
}

/** How many pods a service runs and how big each one is. */
export interface Sizing {
    /** Fixed pod count when autoscaling is off. */
    readonly replicas: number;
    /** HPA bounds and target; absent for a fixed count. */
    readonly autoscaling?: {
        readonly minReplicas: number;
        readonly maxReplicas: number;
        /** Average CPU of the application container, in percent of its request. */
        readonly targetCPUUtilizationPercentage: number;
    };
    readonly requests: CpuMemory;
    readonly limits: CpuMemory;
}

// The lab's "Dev vs Prod Differences" table; requests are the lab's values files'.
const DEV_SIZING: Sizing = {
    replicas: 1,
    requests: { cpu: "50m", memory: "64Mi" },
    limits: { cpu: "250m", memory: "128Mi" },
};
const SIZING: Readonly<Record<Environment, Sizing>> = {
    dev: DEV_SIZING,
    // The lab's ubuntu (MicroK8s) environment runs the dev sizing: one small pod per service.
    local: DEV_SIZING,
    prod: {
        replicas: 3,
        autoscaling: { minReplicas: 3, maxReplicas: 10, targetCPUUtilizationPercentage: 70 },
        requests: { cpu: "100m", memory: "128Mi" },
        limits: { cpu: "500m", memory: "256Mi" },
    },
};

/** Replicas, HPA and resources of a service in `environment`, per the lab's table. */
export function sizingFor(environment: Environment): Sizing {
    return SIZING[environment];
}

/**
 * The Vault agent template that renders dynamic MongoDB credentials as a connection string. It is
 * Go template text for the agent: Helm must pass it through untouched (the chart never `tpl`s values).
 */
export function vaultMongoTemplate(mongoHost: string, credsPath = VAULT_DB_CREDS_PATH): string {
    return [
        `{{- with secret "${credsPath}" -}}`,
        `mongodb://{{ .Data.username }}:{{ .Data.password }}@${mongoHost}:${MONGO_PORT}/${MONGO_DATABASE}?authSource=admin`,
        "{{- end -}}",
    ].join("\n");
}

export interface MicroserviceArgs {
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
    /** Namespace of the release (the application namespace, created by the platform layer). */
    readonly namespace: pulumi.Input<string>;
    /** Helm release name and the name of its Deployment, Service, HPA and container, e.g. product-service. */
    readonly serviceName: string;
    /** Existing service account the pods run as; created elsewhere with its workload identity annotation. */
    readonly serviceAccountName: pulumi.Input<string>;
    /** Container image repository. */
    readonly imageRepository: pulumi.Input<string>;
    /** Container image tag (pinned; never latest). */
    readonly imageTag: pulumi.Input<string>;
    /** Replicas or HPA, requests and limits: use sizingFor(environment). */
    readonly sizing: Sizing;
    /** Vault Kubernetes-auth role the agent logs in with. Default: serviceName. */
    readonly vaultRole?: pulumi.Input<string>;
    /** Vault path that issues MongoDB credentials. Default: database/creds/microservices-role. */
    readonly vaultCredsPath?: pulumi.Input<string>;
    /** Host name of the MongoDB service, e.g. mongodb.<namespace>.svc.cluster.local. */
    readonly mongoHost: pulumi.Input<string>;
    /**
     * Secret (in `namespace`) holding Vault's CA certificate as `ca.crt`, for an https Vault: the agent
     * mounts it (vault.hashicorp.com/tls-secret, at /vault/tls) and verifies Vault against it. Default
     * none (an http dev-mode Vault).
     */
    readonly vaultCaSecret?: pulumi.Input<string>;
    /**
     * Audience of the projected token the Vault agent logs in with (its Kubernetes-auth role accepts only
     * that audience). Default none: the pod's default service account token.
     */
    readonly vaultTokenAudience?: pulumi.Input<string>;
    /**
     * SecretProviderClass (in `namespace`) the CSI volume mounts, as the service account's workload
     * identity. Default: none, no CSI volume and no workload identity label: keyVaultSecretName is then
     * a plain Kubernetes Secret (a stack without Azure), read into env all the same.
     */
    readonly secretProviderClass?: pulumi.Input<string>;
    /** Kubernetes Secret the services read their secrets from (the SecretProviderClass syncs it). Default: keyvault-secrets. */
    readonly keyVaultSecretName?: pulumi.Input<string>;
    /** Keys of that Secret exposed as env variables. Default: the values of APP_SECRET_KEYS. */
    readonly keyVaultSecretKeys?: pulumi.Input<readonly string[]>;
    /** SEED_DATA: seed sample records into an empty database. Default: false. */
    readonly seedData?: pulumi.Input<boolean>;
    /** The pods' `version` label (Istio telemetry and policy). Default: v1. */
    readonly version?: pulumi.Input<string>;
    /** Extra plain env variables, e.g. PRODUCT_SERVICE_URL. No secrets: they land in Helm values. Default none. */
    readonly env?: pulumi.Input<Readonly<Record<string, pulumi.Input<string>>>>;
    /** A PodDisruptionBudget and zone spread (prod). Anti-affinity across nodes is on either way. Default: false. */
    readonly highAvailability?: pulumi.Input<boolean>;
    /** Seconds Helm waits for the rollout before failing (and rolling back). Default: 600. */
    readonly timeoutSeconds?: number;
    /** The chart's directory. Default: the repository's charts/microservice. */
    readonly chartDir?: string;
}

/** The arguments of microserviceValues: MicroserviceArgs with every input resolved. */
export type MicroserviceSettings = Omit<pulumi.Unwrap<MicroserviceArgs>, "provider" | "timeoutSeconds" | "chartDir">;

/**
 * The Helm values the component passes to charts/microservice: pure, so the chart render test feeds
 * exactly these to helm.
 */
export function microserviceValues(s: MicroserviceSettings) {
    const { sizing } = s;
    const credsPath = s.vaultCredsPath ?? VAULT_DB_CREDS_PATH;
    const secretName = s.keyVaultSecretName ?? "keyvault-secrets";
    const secretKeys = [...(s.keyVaultSecretKeys ?? Object.values(APP_SECRET_KEYS))];
    // The chart reads the Secret into env only together with its CSI volume (the synced Secret exists only
    // while a pod mounts it). Without Key Vault the Secret simply exists: the same env, as extraEnv.
    const csi = s.secretProviderClass !== undefined;
    const secretEnvs = csi ? [] : secretKeys.map((key) => secretEnv(key, secretName, key));
    return {
        fullnameOverride: s.serviceName,
        image: { repository: s.imageRepository, tag: s.imageTag },
        replicaCount: sizing.replicas,
        autoscaling: sizing.autoscaling ? { enabled: true, ...sizing.autoscaling } : { enabled: false },
        resources: { requests: { ...sizing.requests }, limits: { ...sizing.limits } },
        service: { port: SERVICE_PORT },
        probes: { path: PROBE_PATHS.liveness, readinessPath: PROBE_PATHS.readiness },
        // The service account carries the workload identity annotation and is federated by the Azure
        // layer, so it is created where that binding is defined, not by each release.
        serviceAccount: { create: false, name: s.serviceAccountName },
        podLabels: {
            // The workload identity webhook only injects the federated token into labelled pods; only the
            // Key Vault volume needs that token.
            ...(csi ? { "azure.workload.identity/use": "true" } : {}),
            // The agent injector's webhook only sees pods with this label (objectSelector), in namespaces with it.
            [VAULT_AGENT_INJECT_LABEL.key]: VAULT_AGENT_INJECT_LABEL.value,
            version: s.version ?? "v1",
        },
        podAnnotations: {
            "vault.hashicorp.com/agent-inject": "true",
            "vault.hashicorp.com/role": s.vaultRole ?? s.serviceName,
            [`vault.hashicorp.com/agent-inject-secret-${VAULT_SECRET_FILE}`]: credsPath,
            [`vault.hashicorp.com/agent-inject-template-${VAULT_SECRET_FILE}`]: vaultMongoTemplate(s.mongoHost, credsPath),
            // The vault-agent-init container runs before the Istio proxy is up; with Vault's port
            // redirected to a proxy that is not listening it cannot log in (hashicorp/vault-k8s#41).
            // The port stays outside the proxy; with TLS the agent's traffic is encrypted end to end to Vault.
            "traffic.sidecar.istio.io/excludeOutboundPorts": String(VAULT_PORT),
            // vault-k8s mounts the named projected volume into its agent containers and logs in with its token.
            ...(s.vaultTokenAudience ? { "vault.hashicorp.com/agent-service-account-token-volume-name": VAULT_AGENT_TOKEN_VOLUME } : {}),
            ...(s.vaultCaSecret
                ? {
                      "vault.hashicorp.com/tls-secret": s.vaultCaSecret,
                      "vault.hashicorp.com/ca-cert": `${VAULT_AGENT_TLS_DIR}/${VAULT_CA_SECRET.key}`,
                  }
                : {}),
        },
        vaultAgent: { tokenAudience: s.vaultTokenAudience ?? "" },
        seedData: s.seedData ?? false,
        extraEnv: [...secretEnvs, ...Object.entries(s.env ?? {}).map(([name, value]) => ({ name, value }))],
        podDisruptionBudget: { enabled: s.highAvailability ?? false, maxUnavailable: 1 },
        zoneSpread: { enabled: s.highAvailability ?? false },
        podAntiAffinity: { enabled: true },
        secretsStore: csi
            ? { enabled: true, secretProviderClass: s.secretProviderClass, secretName, secretKeys, restartOnRotation: true }
            : { enabled: false },
    };
}

/**
 * One of the lab's HTTP services (product-service, order-service) as a Helm release of the repo's
 * generic chart: sized per environment, Key Vault secrets through the CSI driver (or, without Azure,
 * the same Secret created directly), MongoDB credentials from the Vault agent, running as the given
 * service account. Sidecar injection is left to the namespace's istio-injection label.
 */
export class Microservice extends pulumi.ComponentResource {
    /** Name of the Kubernetes Service (and Deployment). */
    readonly serviceName: pulumi.Output<string>;
    /** In-cluster host name of the Service. */
    readonly host: pulumi.Output<string>;
    /** Port of the Service. */
    readonly port: number = SERVICE_PORT;
    /** The Helm release's status (name, namespace, revision). */
    readonly status: k8s.helm.v3.Release["status"];

    constructor(name: string, args: MicroserviceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:workloads:Microservice", name, {}, opts);

        const { provider, timeoutSeconds, chartDir, ...inputs } = args;
        const values = pulumi.output(inputs).apply(microserviceValues);
        const dir = chartDir ?? MICROSERVICE_CHART_DIR;

        const release = new k8s.helm.v3.Release(
            name,
            {
                name: args.serviceName,
                namespace: args.namespace,
                chart: chartPath(process.cwd(), dir),
                // The chart's content as an input (see chartDigest); Helm keeps it as the revision's
                // description, so `helm history` shows which content each revision deployed.
                description: `chart sha256:${chartDigest(dir)}`,
                values,
                // A failed rollout is rolled back rather than left half-upgraded.
                atomic: true,
                cleanupOnFail: true,
                // Pods that mount Key Vault secrets (the CSI path) wait out their identity's role propagation.
                timeout:
                    timeoutSeconds ?? (args.secretProviderClass !== undefined ? keyVaultMountTimeoutSeconds() : RELEASE_TIMEOUT_SECONDS),
                maxHistory: 10,
            },
            // Children do not inherit the component's dependsOn; pass it on so "after Vault and
            // MongoDB" holds for the release itself.
            { parent: this, provider, dependsOn: opts?.dependsOn },
        );

        // Read back from the release, so whoever uses them waits for it.
        this.serviceName = release.name;
        this.host = pulumi.interpolate`${release.name}.${release.namespace}.svc.cluster.local`;
        this.status = release.status;
        this.registerOutputs({ serviceName: this.serviceName, host: this.host, port: this.port, status: this.status });
    }
}
