// ArgoCd on its own under the mocks: the pinned chart and its values, the annotated cluster Secret with
// facts from the graph, the projects and the app-of-apps.
import { strict as assert } from "assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { appNamespace } from "../components/config";
import { ArgoCd } from "../components/workloads/argocd";
import { evaluate, type StackRun, TEST_KUBECONFIG as KUBECONFIG } from "./harness";

const T = {
    provider: "pulumi:providers:kubernetes",
    component: "aksplatform:workloads:ArgoCd",
    release: "kubernetes:helm.sh/v3:Release",
    namespace: "kubernetes:core/v1:Namespace",
    secret: "kubernetes:core/v1:Secret",
    project: "kubernetes:argoproj.io/v1alpha1:AppProject",
    application: "kubernetes:argoproj.io/v1alpha1:Application",
};
const REPO = "https://github.com/example/gitops-helm.git";

function program(environment: "dev" | "prod", overrides: { serverInsecure?: boolean } = {}) {
    return () => {
        const provider = new k8s.Provider("k8s", { kubeconfig: KUBECONFIG });
        // Outputs from "the graph": the test checks the component passes them on, not typed values.
        const fact = (value: string) =>
            new k8s.core.v1.ConfigMap(`fact-${value}`, { metadata: { name: value } }, { provider }).metadata.name;
        const argo = new ArgoCd("argocd", {
            provider,
            environment,
            repoUrl: REPO,
            targetRevision: "main",
            clusterFacts: {
                appNamespace: appNamespace(environment),
                vaultNamespace: fact("vault"),
                keyVaultName: fact(`kv-app-${environment}`),
                tenantId: fact("00000000-0000-0000-0000-000000000001"),
                identityClientIds: {
                    "product-service": fact("11111111-1111-1111-1111-111111111111"),
                    "order-service": pulumi.output("22222222-2222-2222-2222-222222222222"),
                },
            },
            ...overrides,
        });
        return { application: argo.applicationName, project: argo.projectName, namespace: argo.namespace };
    };
}

for (const environment of ["dev", "prod"] as const) {
    describe(`ArgoCd (${environment})`, () => {
        const namespace = appNamespace(environment);
        let run: StackRun;
        before(async () => {
            run = await evaluate(environment, {}, program(environment));
        });

        it("puts every Kubernetes resource on the explicit provider, under the component", () => {
            const provider = run.get(T.provider, "k8s");
            const component = run.get(T.component, "argocd");
            const children = run.resources.filter((r) => r.parent === component.urn);
            assert.equal(children.length, 6);
            for (const r of children) assert.equal(r.provider, provider.urn, r.name);
        });

        it("installs the pinned argo-cd chart with the values the platform relies on", () => {
            const release = run.get(T.release, "argocd");
            // The pin itself is ARGOCD_CHART's (components/workloads/argocd.ts); the chart facts were captured at it.
            assert.equal(release.inputs.chart, "argo-cd");
            assert.equal(release.inputs.namespace, "argocd");
            assert.equal(release.inputs.atomic, true);
            assert.deepEqual(release.inputs.values, {
                crds: { install: true, keep: true },
                configs: { params: { "server.insecure": false } },
                server: { service: { type: "ClusterIP" } },
                dex: { enabled: false },
            });
        });

        it("declares the in-cluster destination with the cluster facts from the graph", () => {
            const secret = run.get(T.secret, "argocd-in-cluster");
            assert.equal(secret.inputs.metadata.namespace, "argocd");
            assert.equal(secret.inputs.metadata.labels["argocd.argoproj.io/secret-type"], "cluster");
            assert.deepEqual(secret.inputs.stringData, {
                name: "in-cluster",
                server: "https://kubernetes.default.svc",
                config: JSON.stringify({ tlsClientConfig: { insecure: false } }),
            });
            assert.deepEqual(secret.inputs.metadata.annotations, {
                "aks-platform/app-namespace": namespace,
                "aks-platform/vault-namespace": "vault",
                "aks-platform/key-vault-name": `kv-app-${environment}`,
                "aks-platform/tenant-id": "00000000-0000-0000-0000-000000000001",
                "aks-platform/product-service-client-id": "11111111-1111-1111-1111-111111111111",
                "aks-platform/order-service-client-id": "22222222-2222-2222-2222-222222222222",
            });
            // Wired from the graph: the Secret depends on the resources the facts came from.
            const keyVaultFact = run.get("kubernetes:core/v1:ConfigMap", `fact-kv-app-${environment}`);
            assert.ok(secret.dependencies.includes(keyVaultFact.urn), "waits for the Key Vault fact's source");
        });

        it("limits the services' project to the repo and the app namespace, no cluster resources", () => {
            const project = run.get(T.project, "argocd-project");
            assert.equal(project.inputs.metadata.name, "microservices");
            assert.equal(project.inputs.metadata.namespace, "argocd");
            assert.deepEqual(project.inputs.spec.sourceRepos, [REPO]);
            assert.deepEqual(project.inputs.spec.destinations, [{ server: "https://kubernetes.default.svc", namespace }]);
            assert.deepEqual(project.inputs.spec.clusterResourceWhitelist, []);
        });

        it("gives the app-of-apps a project that may only create Applications in Argo CD's namespace", () => {
            const project = run.get(T.project, "argocd-bootstrap-project");
            assert.equal(project.inputs.metadata.name, "microservices-bootstrap");
            assert.deepEqual(project.inputs.spec.sourceRepos, [REPO]);
            assert.deepEqual(project.inputs.spec.destinations, [{ server: "https://kubernetes.default.svc", namespace: "argocd" }]);
            assert.deepEqual(project.inputs.spec.namespaceResourceWhitelist, [{ group: "argoproj.io", kind: "Application" }]);
            assert.deepEqual(project.inputs.spec.clusterResourceWhitelist, []);
        });

        it("points the app-of-apps at the environment's directory with automated prune and self-heal", () => {
            const app = run.get(T.application, "argocd-app-of-apps");
            assert.equal(app.inputs.metadata.name, `app-of-apps-${environment}`);
            assert.equal(app.inputs.metadata.namespace, "argocd");
            assert.equal(app.inputs.spec.project, "microservices-bootstrap");
            assert.deepEqual(app.inputs.spec.source, {
                repoURL: REPO,
                path: `argocd/apps/${environment}`,
                targetRevision: "main",
                // The generated chart there reads these (tests/gitops.test.ts renders it with them).
                helm: { valuesObject: { repoURL: REPO, targetRevision: "main" } },
            });
            assert.deepEqual(app.inputs.spec.destination, { server: "https://kubernetes.default.svc", namespace: "argocd" });
            assert.deepEqual(app.inputs.spec.syncPolicy, { automated: { prune: true, selfHeal: true } });
            assert.equal(run.outputs.application.value, `app-of-apps-${environment}`);
        });

        it("creates the projects and the Application only after the chart (its CRDs)", () => {
            const release = run.get(T.release, "argocd");
            for (const r of [...run.ofType(T.project), ...run.ofType(T.application)]) {
                assert.ok(run.dependsOn(r.urn, release.urn), `${r.name} waits for the release`);
            }
            const app = run.get(T.application, "argocd-app-of-apps");
            assert.ok(run.dependsOn(app.urn, run.get(T.project, "argocd-project").urn), "the services' project exists first");
        });
    });
}

describe("ArgoCd: server.insecure", () => {
    it("is set only when asked for (TLS terminated in front)", async () => {
        const run = await evaluate("dev", {}, program("dev", { serverInsecure: true }));
        assert.deepEqual(run.get(T.release, "argocd").inputs.values.configs, { params: { "server.insecure": true } });
    });
});
