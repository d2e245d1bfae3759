// The local stack: the same in-cluster program on an existing cluster from the kubeconfig, with no Azure
// at all. Evaluated under the same mocks as dev and prod; the mocks answer Azure, so anything Azure the
// program touched would show up as a registration or an invoke here.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { cloudOf, CONFIG_PATHS, parseConfig, specOf, type ConfigPath } from "../components/config";
import { rawPaths } from "./configRaw";
import { APP_SECRET_KEYS } from "../components/foundation";
import { sizingFor } from "../components/workloads/microservice";
import { mongoStorageFor } from "../components/workloads/mongodb";
import { CLUSTER_OUTPUT_NAMES } from "../components/stackOutputs";
import {
    configProblems,
    ARGOCD,
    evaluateStack,
    EvaluationError,
    isSecretValue,
    plainText,
    PROJECT,
    stackRaw,
    type Registration,
    type StackRun,
    itRejectsConfig,
    type BadConfigRow,
    withOverrides,
} from "./harness";

const T = {
    provider: "pulumi:providers:kubernetes",
    secret: "kubernetes:core/v1:Secret",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    release: "kubernetes:helm.sh/v3:Release",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    job: "kubernetes:batch/v1:Job",
    spc: "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass",
    password: "random:index/randomPassword:RandomPassword",
    selfSigned: "tls:index/selfSignedCert:SelfSignedCert",
    request: "tls:index/certRequest:CertRequest",
    signed: "tls:index/locallySignedCert:LocallySignedCert",
};
const APP_NS = "microservices-local";
const SERVICES = ["product-service", "order-service"] as const;
const WI_USE = "azure.workload.identity/use";

const releaseOf = (run: StackRun, chart: string): Registration => {
    const found = run.ofType(T.release).filter((r) => r.inputs.chart === chart);
    assert.equal(found.length, 1, `one release of ${chart}`);
    return found[0];
};
const serviceRelease = (run: StackRun, name: string): Registration => {
    const found = run.ofType(T.release).filter((r) => r.inputs.name === name);
    assert.equal(found.length, 1, `one release ${name}`);
    return found[0];
};
/** A secret value as the provider would see it: the field itself, or the object around it, wrapped. */
const secretField = (raw: any, field: string) => isSecretValue(raw) || isSecretValue(raw?.[field]);
/** Kubernetes resources by `type name`, the app namespace in names made `APPNS`, so two stacks' graphs compare. */
const kubernetesNames = (run: StackRun, environment: string) =>
    new Set(
        run.resources
            .filter((r) => r.custom && r.type.startsWith("kubernetes:"))
            .map((r) => `${r.type} ${r.name}`.replaceAll(`microservices-${environment}`, "APPNS")),
    );

describe("local stack (existing cluster, no Azure)", () => {
    let run: StackRun;
    let dev: StackRun;
    before(async () => {
        run = await evaluateStack("local", { "local.kubeconfigContext": "kind-kind" });
        dev = await evaluateStack("dev");
    });

    describe("no Azure", () => {
        it("registers no azure-native resource and calls no azure-native function", () => {
            assert.deepEqual(
                run.resources.filter((r) => r.type.startsWith("azure-native:")).map((r) => r.type),
                [],
            );
            assert.deepEqual(
                run.invokes.filter((i) => i.token.startsWith("azure-native:")).map((i) => i.token),
                [],
            );
            assert.deepEqual(
                run.resources.filter((r) => r.type === "pulumi:providers:azure-native"),
                [],
            );
        });

        it("exports only the outputs every stack has, none of the Azure ones", () => {
            assert.deepEqual(Object.keys(run.outputs).sort(), [...CLUSTER_OUTPUT_NAMES].sort());
            assert.equal(run.outputs.appNamespace.value, APP_NS);
            assert.equal(run.outputs.vaultAddress.value, "http://vault.vault.svc.cluster.local:8200");
            assert.equal(run.outputs.ingressHost.value, "app.local.example.com");
            assert.equal(run.outputs.ingressGatewayRef.value, "istio-ingress/public");
        });
    });

    describe("Kubernetes provider", () => {
        it("is one explicit provider for the configured context, reading the kubeconfig itself", () => {
            const [provider, ...others] = run.ofType(T.provider);
            assert.equal(others.length, 0, "one Kubernetes provider");
            assert.equal(provider.name, "local-k8s");
            assert.deepEqual(provider.inputs, { context: "kind-kind" });
        });
    });

    describe("the same in-cluster program as dev", () => {
        it("has dev's Kubernetes resources, with two Kubernetes Secrets in place of the CSI driver, its SecretProviderClasses and the Reloader that rotation needs, and no backups", () => {
            const local = kubernetesNames(run, "local");
            const devNames = kubernetesNames(dev, "dev");
            // ... and no MongoDB backups: local has no backup storage (docs/workloads.md).
            assert.deepEqual([...devNames].filter((n) => !local.has(n)).sort(), [
                "kubernetes:batch/v1:CronJob mongodb-backup",
                "kubernetes:core/v1:ConfigMap mongodb-backup-script",
                "kubernetes:core/v1:Namespace platform-ns-reloader",
                "kubernetes:core/v1:ServiceAccount mongodb-backup-sa",
                `${T.release} reloader`,
                `${T.release} secrets-store-csi`,
                // ... and no private endpoints to allow egress to (no VNet).
                "kubernetes:networking.k8s.io/v1:NetworkPolicy netpol-app-allow-mongodb-backup-to-private-endpoints",
                "kubernetes:networking.k8s.io/v1:NetworkPolicy netpol-vault-allow-vault-init-to-private-endpoints",
                "kubernetes:networking.k8s.io/v1:NetworkPolicy netpol-vault-allow-vault-server-to-private-endpoints",
                "kubernetes:networking.k8s.io/v1:NetworkPolicy netpol-vault-allow-vault-snapshot-to-private-endpoints",
                "kubernetes:networking.k8s.io/v1:NetworkPolicy netpol-vault-allow-vault-tls-renew-to-private-endpoints",
                `${T.spc} app-secrets`,
                `${T.spc} ingress-tls`,
            ]);
            assert.deepEqual([...local].filter((n) => !devNames.has(n)).sort(), [`${T.secret} app-secrets`, `${T.secret} ingress-tls`]);
        });

        it("routes and secures the services exactly as dev does (VirtualService, DestinationRules, AuthorizationPolicies)", () => {
            const mesh = (r: StackRun, env: string) =>
                r.resources
                    .filter((x) =>
                        /^kubernetes:(networking|security)\.istio\.io\/v1:(VirtualService|DestinationRule|AuthorizationPolicy)$/.test(
                            x.type,
                        ),
                    )
                    .map((x) =>
                        JSON.stringify({ type: x.type, name: x.name, spec: x.inputs.spec })
                            .replaceAll(`.${env}.`, ".ENV.")
                            .replaceAll(`microservices-${env}`, "APPNS"),
                    );
            assert.equal(mesh(run, "local").length, 5);
            assert.deepEqual(mesh(run, "local"), mesh(dev, "dev"));
        });
    });

    describe("application secrets as a Kubernetes Secret", () => {
        it("keyvault-secrets holds exactly the keys the CSI driver would sync, every value secret", () => {
            const secret = run.get(T.secret, "app-secrets");
            assert.deepEqual(secret.inputs.metadata, { name: "keyvault-secrets", namespace: APP_NS });
            assert.equal(secret.inputs.type, "Opaque");
            assert.deepEqual(Object.keys(secret.inputs.stringData).sort(), Object.values(APP_SECRET_KEYS).sort());
            for (const key of Object.values(APP_SECRET_KEYS))
                assert.ok(secretField(secret.rawInputs.stringData, key), `${key} is not secret`);
            assert.ok(!plainText(secret.rawInputs).includes(secret.inputs.stringData.API_KEY), "API key in plain text");
        });

        it("generates the API key and database password with @pulumi/random, and leaves Application Insights empty", () => {
            const data = run.get(T.secret, "app-secrets").inputs.stringData;
            assert.equal(data.API_KEY, run.get(T.password, "local-secrets-api-key").state.result);
            assert.equal(data.DATABASE_PASSWORD, run.get(T.password, "local-secrets-database-password").state.result);
            assert.equal(data.API_KEY.length, 32);
            assert.notEqual(data.API_KEY, data.DATABASE_PASSWORD);
            assert.equal(data.APPLICATIONINSIGHTS_CONNECTION_STRING, "");
            assert.equal(data.APPINSIGHTS_INSTRUMENTATIONKEY, "");
        });

        it("installs no CSI driver and creates no SecretProviderClass", () => {
            assert.deepEqual(run.ofType(T.spc), []);
            assert.equal(run.ofType(T.release).filter((r) => r.inputs.chart === "csi-secrets-store-provider-azure").length, 0);
        });

        it("creates the services' accounts without workload identity annotations", () => {
            const accounts = run.ofType(T.serviceAccount).filter((sa) => sa.inputs.metadata.namespace === APP_NS);
            assert.deepEqual(
                accounts.map((sa) => sa.inputs.metadata.name),
                [...SERVICES],
            );
            for (const sa of accounts) assert.deepEqual(sa.inputs.metadata.annotations ?? {}, {}, sa.name);
        });
    });

    describe("ingress gateway", () => {
        it("serves a generated server certificate and its CA from a kubernetes.io/tls Secret, the key secret", () => {
            const tls = run.get(T.secret, "ingress-tls");
            assert.deepEqual(tls.inputs.metadata, { name: "ingress-tls", namespace: "istio-ingress" });
            assert.equal(tls.inputs.type, "kubernetes.io/tls");
            assert.deepEqual(Object.keys(tls.inputs.stringData).sort(), ["tls.crt", "tls.key"]);
            assert.ok(secretField(tls.rawInputs.stringData, "tls.key"), "the private key is not secret");
            const cert = run.ofType(T.signed).find((c) => c.name.includes("ingress-tls"))!;
            const request = run.ofType(T.request).find((r) => r.state.certRequestPem === cert.inputs.certRequestPem)!;
            assert.deepEqual(request.inputs.dnsNames, ["app.local.example.com"]);
            const ca = run.ofType(T.selfSigned).find((c) => c.state.certPem === cert.inputs.caCertPem)!;
            assert.equal(ca.inputs.isCaCertificate, true);
            // The chain: the server certificate, then the CA that signed it.
            assert.equal(tls.inputs.stringData["tls.crt"], cert.state.certPem + ca.state.certPem);
        });

        it("is a NodePort without Key Vault volume or identity, and starts after its TLS Secret", () => {
            const gateway = releaseOf(run, "gateway");
            const v = gateway.inputs.values;
            assert.equal(v.service.type, "NodePort");
            assert.deepEqual(v.volumes, []);
            assert.deepEqual(v.volumeMounts, []);
            assert.deepEqual(v.labels, { istio: "ingressgateway" });
            assert.deepEqual(v.serviceAccount.annotations, {});
            assert.equal(v.autoscaling.minReplicas, 1);
            assert.ok(run.dependsOn(gateway.urn, run.get(T.secret, "ingress-tls").urn));
        });
    });

    describe("Vault and MongoDB", () => {
        it("runs Vault in dev mode, with no seal, identity or storage", () => {
            const v = releaseOf(run, "vault").inputs.values;
            assert.equal(v.server.dev.enabled, true);
            assert.equal(v.server.ha.enabled, false);
            assert.deepEqual(v.server.ha.raft, { enabled: false, setNodeId: false });
            assert.deepEqual(v.server.serviceAccount.annotations, {});
            assert.deepEqual(v.server.extraLabels, {});
            assert.equal(v.server.dataStorage.enabled, false);
            assert.equal(run.ofType(T.job).filter((j) => j.name === "vault-init").length, 0);
        });

        it("configures Vault's database engine with the dev root token from a Secret", () => {
            // A dev-mode Vault: configured by the reconciling Deployment (docs/operations.md).
            const [job] = run.ofType("kubernetes:apps/v1:Deployment").filter((j) => j.urn.includes("VaultDatabaseConfig"));
            const container = job.inputs.spec.template.spec.containers[0];
            const token = container.env.find((e: any) => e.name === "VAULT_TOKEN");
            assert.deepEqual(token.valueFrom, { secretKeyRef: { name: "vault-dev-root-token", key: "token" } });
            assert.equal(run.get(T.secret, "vault-dev-root-token").inputs.metadata.namespace, "vault");
            assert.deepEqual(
                job.inputs.spec.template.spec.volumes.map((v: any) => v.name),
                // handoff: the in-memory note from the configuration to the stale-user cleanup (issue 20 item 6).
                ["script", "tmp", "handoff"],
                "no CSI volume",
            );
        });

        it("claims 1Gi of the cluster's default storage class, with a generated secret root password", () => {
            const set = run.get(T.statefulSet, "mongodb");
            const [claim] = set.inputs.spec.volumeClaimTemplates;
            assert.ok(!("storageClassName" in claim.spec), `storageClassName: ${claim.spec.storageClassName}`);
            assert.deepEqual(claim.spec.resources.requests, { storage: "1Gi" });
            assert.equal(set.retainOnDelete, false);
            const root = run.get(T.secret, "mongodb-root");
            assert.equal(root.inputs.stringData.password, run.get(T.password, "local-secrets-mongodb-root-password").state.result);
            assert.ok(secretField(root.rawInputs.stringData, "password"));
        });
    });

    describe("services", () => {
        for (const name of SERVICES) {
            it(`${name}: one pod, no CSI volume or identity label, env still from keyvault-secrets`, () => {
                const release = serviceRelease(run, name);
                const v = release.inputs.values;
                assert.equal(v.replicaCount, 1);
                assert.deepEqual(v.autoscaling, { enabled: false });
                assert.deepEqual(v.secretsStore, { enabled: false });
                assert.ok(!(WI_USE in v.podLabels), "workload identity label");
                const fromSecret = v.extraEnv.filter((e: any) => e.valueFrom?.secretKeyRef);
                assert.deepEqual(
                    fromSecret.map((e: any) => [e.name, e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key]),
                    Object.values(APP_SECRET_KEYS).map((key) => [key, "keyvault-secrets", key]),
                );
                assert.equal(v.serviceAccount.name, name);
                assert.equal(v.seedData, true);
                assert.ok(run.dependsOn(release.urn, run.get(T.secret, "app-secrets").urn), "after keyvault-secrets");
            });
        }
    });

    it("keeps every secret out of plain text", () => {
        const secrets = run.ofType(T.password).map((p) => p.state.result);
        for (const r of run.resources) {
            const text = plainText(r.rawInputs);
            for (const secret of secrets) assert.ok(!text.includes(secret), `${r.type} ${r.name} carries a password in plain text`);
        }
    });
});

describe("local stack options", () => {
    it("without local.kubeconfigContext, follows the kubeconfig's current context; Argo CD gets no Key Vault facts", async () => {
        const run = await evaluateStack("local", ARGOCD);
        assert.deepEqual(run.get(T.provider, "local-k8s").inputs, {});
        const cluster = run.get(T.secret, "argocd-in-cluster");
        assert.deepEqual(cluster.inputs.metadata.annotations, {
            "aks-platform/app-namespace": APP_NS,
            "aks-platform/vault-namespace": "vault",
        });
        assert.equal(run.resources.filter((r) => r.type.startsWith("azure-native:")).length, 0);
    });

    it("fails on an Azure key before registering anything", async () => {
        const failure = await evaluateStack("local", { "cluster.kubernetesVersion": "1.31" }).then(
            () => undefined,
            (error: unknown) => error,
        );
        assert.ok(failure instanceof EvaluationError, String(failure));
        assert.match(failure.message, /cluster\.kubernetesVersion: "1\.31" is not allowed for environment local/);
        assert.deepEqual(failure.resources, []);
    });
});

describe("local configuration", () => {
    it("Pulumi.local.yaml parses to an existing cluster without Azure, sized like dev", () => {
        const cfg = parseConfig(stackRaw("local"), PROJECT, "local");
        assert.equal(cfg.environment, "local");
        assert.equal(cfg.cloud, "none");
        assert.equal(cfg.kubeconfigContext, undefined);
        assert.equal(cfg.vault.mode, "dev");
        assert.equal(cfg.highAvailability, false);
        assert.equal(cfg.protectStatefulResources, false);
        assert.equal(cfg.ingress.serviceType, "NodePort");
        assert.deepEqual(
            cfg.identities.appSecrets.map((sa) => sa.namespace),
            [APP_NS, APP_NS],
        );
        assert.deepEqual(cfg.identities.vaultInit, []);
        assert.deepEqual(sizingFor("local"), sizingFor("dev"));
        assert.deepEqual(mongoStorageFor("local"), { size: "1Gi" });
    });

    it("is selected by the environment key under any stack name, and the environment decides the cloud", () => {
        assert.equal(parseConfig(withOverrides(stackRaw("local"), { environment: "local" }), PROJECT, "laptop").cloud, "none");
        assert.deepEqual([cloudOf("dev"), cloudOf("prod"), cloudOf("local")], ["azure", "azure", "none"]);
        assert.equal(
            parseConfig(
                withOverrides(stackRaw("local"), { "local.kubeconfigContext": "arn:aws:eks:eu-west-1:123456789012:cluster/lab" }),
                PROJECT,
                "local",
            ).kubeconfigContext,
            "arn:aws:eks:eu-west-1:123456789012:cluster/lab",
        );
    });

    it("the committed local stack sets no key that only Azure reads", () => {
        const paths = rawPaths(stackRaw("local"));
        assert.ok(paths.length > 0);
        for (const path of paths) {
            assert.ok((CONFIG_PATHS as readonly string[]).includes(path), path);
            assert.notEqual(specOf(path as ConfigPath).scope, "azure", path);
        }
    });

    describe("bad combinations are rejected with the key, the value and what to do", () => {
        const rows: BadConfigRow[] = [
            {
                name: "local.kubeconfigContext on dev",
                stack: "dev",
                raw: { "local.kubeconfigContext": "kind-kind" },
                expect: [
                    "local.kubeconfigContext",
                    '"kind-kind"',
                    "environment dev",
                    "AKS cluster it creates",
                    "pulumi config rm --path local.kubeconfigContext",
                ],
            },
            {
                name: "local.kubeconfigContext on prod",
                stack: "prod",
                raw: { "local.kubeconfigContext": "minikube" },
                expect: ["local.kubeconfigContext", '"minikube"', "environment prod"],
            },
            {
                name: "an Azure region on local",
                stack: "local",
                raw: { "azure.location": "westeurope" },
                expect: [
                    "azure.location",
                    '"westeurope"',
                    "environment local",
                    "no Azure resources",
                    "pulumi config rm --path azure.location",
                ],
            },
            {
                name: "the Key Vault CSI poll interval on local",
                stack: "local",
                raw: { "keyVault.csiRotationPollInterval": "90s" },
                expect: ["keyVault.csiRotationPollInterval", '"90s"', "Key Vault CSI path"],
            },
            {
                name: "an empty context",
                stack: "local",
                raw: { "local.kubeconfigContext": "" },
                expect: ["local.kubeconfigContext", '""', "kubectl config get-contexts"],
            },
            {
                name: "a context with a trailing newline",
                stack: "local",
                raw: { "local.kubeconfigContext": "kind-kind\n" },
                expect: ["local.kubeconfigContext", '"kind-kind\\n"'],
            },
        ];
        itRejectsConfig(rows);

        it("reports every Azure key of a dev stack file copied to local at once", () => {
            const problems = configProblems(withOverrides(stackRaw("dev"), { "local.kubeconfigContext": "kind-kind" }), "local");
            const keys = problems.map((p) => p.slice(0, p.indexOf(":")));
            assert.deepEqual(keys.sort(), [
                "apiServer.authorizedIpRanges",
                "azure.location",
                "azure.namePrefix",
                "azure.tags",
                "cluster.kubernetesVersion",
                "keyVault.retentionDays",
                "systemPool.nodeCount",
                "systemPool.vmSize",
            ]);
        });
    });
});

describe("docs/local.md's lists of what local reads and refuses", () => {
    // The groups the doc says local refuses whole, against the key table's scopes: a group is refused
    // whole when every member only configures Azure.
    const text = fs.readFileSync(path.join(__dirname, "..", "docs", "local.md"), "utf8");
    const sentence = text.slice(text.indexOf("A key that only configures Azure is rejected on local"));
    const listed =
        sentence
            .slice(0, sentence.indexOf("groups, and the Azure members"))
            .match(/`(\w+)`/g)
            ?.map((g) => g.slice(1, -1)) ?? [];

    it("names exactly the groups whose every member only configures Azure", () => {
        const groups = new Map<string, string[]>();
        for (const member of CONFIG_PATHS.filter((p) => p.includes("."))) {
            const [group] = member.split(".");
            groups.set(group, [...(groups.get(group) ?? []), specOf(member).scope]);
        }
        const azureOnly = [...groups].filter(([, scopes]) => scopes.every((s) => s === "azure")).map(([g]) => g);
        assert.deepEqual([...listed].sort(), azureOnly.sort());
    });

    it("names, among the others' Azure members, only members that only configure Azure", () => {
        const others = sentence.slice(sentence.indexOf("groups, and the Azure members"), sentence.indexOf("The message names"));
        const paths = others.match(/`([\w]+\.[\w]+)`/g)?.map((p) => p.slice(1, -1)) ?? [];
        assert.ok(paths.length > 0);
        for (const member of paths) assert.equal(specOf(member as ConfigPath).scope, "azure", member);
    });
});
