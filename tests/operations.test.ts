// Day 1 and day 2 on a real cluster (docs/operations.md), proved on the evaluated plan: replaceable Jobs
// that say why they failed, workloads that wait for the mesh, a chart whose content is part of the
// release's inputs, an unseal key whose changes never silently vanish, Vault's rollout notice, retained
// objects adopted on re-create, a safe init Job, a dev Vault that survives restarts, autoscaled counts
// left to the autoscaler, leader-only configuration, and the values Azure normalises.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { normalisedIpRule } from "../components/azure/keyVault";
import { autoscaledCountPaths } from "../components/azure/aksCluster";
import { KEY_VAULT_CRYPTO_OFFICER } from "../components/azure/roles";
import { UNSEAL_KEY_OPS, unsealKeyMismatch } from "../components/azure/unsealKey";
import { VAULT_INIT_PLACEHOLDER } from "../components/foundation";
import { chartDigest, Microservice, MICROSERVICE_CHART_DIR, sizingFor } from "../components/workloads/microservice";
import { DEV_VAULT_RECONCILE_SECONDS } from "../components/workloads/layer";
import { ARGOCD, evaluate, evaluateStack, type Registration, type StackRun, TEST_KUBECONFIG, TUNED } from "./harness";

const T = {
    job: "kubernetes:batch/v1:Job",
    deployment: "kubernetes:apps/v1:Deployment",
    release: "kubernetes:helm.sh/v3:Release",
    namespace: "kubernetes:core/v1:Namespace",
    application: "kubernetes:argoproj.io/v1alpha1:Application",
    provider: "pulumi:providers:kubernetes",
    key: "azure-native:keyvault:Key",
    vault: "azure-native:keyvault:Vault",
    kvSecret: "azure-native:keyvault:Secret",
    role: "azure-native:authorization:RoleAssignment",
    cluster: "azure-native:containerservice:ManagedCluster",
};
const podsOf = (r: Registration) => {
    const pod = r.inputs.spec.template.spec;
    return [...(pod.initContainers ?? []), ...pod.containers];
};

describe("operations: Jobs", () => {
    for (const stack of ["dev", "prod"] as const) {
        it(`${stack}: every Job is replaced when it is not Complete, and reports its containers' last log lines`, async () => {
            const run = await evaluateStack(stack);
            const jobs = run.ofType(T.job);
            assert.equal(jobs.length, stack === "prod" ? 3 : 0, jobs.map((j) => j.name).join(", "));
            for (const job of jobs) {
                assert.equal(job.inputs.metadata.annotations?.["pulumi.com/replaceUnready"], "true", job.name);
                assert.equal(job.inputs.spec.ttlSecondsAfterFinished, undefined, `${job.name}: never deleted behind Pulumi's back`);
                for (const c of podsOf(job)) assert.equal(c.terminationMessagePolicy, "FallbackToLogsOnError", `${job.name}/${c.name}`);
            }
        });
    }
});

describe("operations: the mesh comes first", () => {
    const meshNamespaces = (run: StackRun) =>
        new Set(
            run
                .ofType(T.namespace)
                .filter((n) => n.inputs.metadata.labels?.["istio-injection"] === "enabled")
                .map((n) => n.inputs.metadata.name),
        );

    for (const [name, overrides] of [
        ["dev", {}],
        ["prod", {}],
        ["dev with Argo CD", ARGOCD],
    ] as const) {
        it(`${name}: everything that makes pods in a mesh namespace waits for istiod, or opts out of injection`, async () => {
            const run = await evaluateStack(name.startsWith("prod") ? "prod" : "dev", overrides);
            const istiod = run.get(T.release, "istio-istiod");
            const mesh = meshNamespaces(run);
            assert.equal(mesh.size, 1);
            const podMakers = [
                ...run.ofType(T.release),
                ...run.ofType(T.deployment),
                ...run.ofType("kubernetes:apps/v1:StatefulSet"),
                ...run.ofType(T.job),
            ].filter((r) => mesh.has(r.inputs.namespace ?? r.inputs.metadata?.namespace));
            // Argo CD's applications create the services' pods in the mesh namespace.
            const apps = run.ofType(T.application);
            assert.ok(podMakers.length + apps.length >= 2, "the services are found");
            for (const r of [...podMakers, ...apps]) {
                const optedOut = r.inputs.spec?.template?.metadata?.labels?.["sidecar.istio.io/inject"] === "false";
                assert.ok(optedOut || run.dependsOn(r.urn, istiod.urn), `${r.type} ${r.name} does not wait for istiod`);
            }
            if (name.includes("Argo")) assert.ok(run.dependsOn(apps[0].urn, istiod.urn));
        });
    }
});

describe("operations: the services' chart content is part of the release", () => {
    let copy: string;
    before(() => {
        copy = fs.mkdtempSync(path.join(os.tmpdir(), "chart-"));
        fs.cpSync(MICROSERVICE_CHART_DIR, copy, { recursive: true });
    });
    after(() => fs.rmSync(copy, { recursive: true, force: true }));

    const release = async (chartDir: string) => {
        const run = await evaluate("dev", {}, () => {
            const provider = new k8s.Provider("k8s", { kubeconfig: TEST_KUBECONFIG });
            new Microservice("svc", {
                provider,
                namespace: "microservices-dev",
                serviceName: "product-service",
                serviceAccountName: "product-service",
                imageRepository: "ghcr.io/my-org/product-service",
                imageTag: "v1.0.0",
                sizing: sizingFor("dev"),
                mongoHost: "mongodb.microservices-dev.svc.cluster.local",
                chartDir,
            });
            return {};
        });
        return run.get(T.release, "svc").inputs;
    };

    it("the stack's releases carry the digest of charts/microservice", async () => {
        const run = await evaluateStack("dev");
        for (const name of ["product-service", "order-service"]) {
            const r = run.ofType(T.release).find((x) => x.inputs.name === name)!;
            assert.equal(r.inputs.description, `chart sha256:${chartDigest()}`);
        }
    });

    it("a template edit at the same chart version changes the release's inputs; editor leftovers do not", async () => {
        const before = await release(copy);
        fs.writeFileSync(path.join(copy, "templates", "deployment.yaml~"), "an editor backup, .helmignore'd");
        // Helm's own default: dot files under templates/ (helm/helm pkg/ignore/rules.go, AddDefaults).
        fs.writeFileSync(path.join(copy, "templates", ".scratch.yaml"), "kind: Secret");
        // A directory pattern (.git/ in the chart's .helmignore) leaves out everything beneath it.
        fs.mkdirSync(path.join(copy, ".git"), { recursive: true });
        fs.writeFileSync(path.join(copy, ".git", "HEAD"), "ref: refs/heads/main");
        assert.deepEqual(await release(copy), before, "ignored files change nothing");
        fs.appendFileSync(path.join(copy, "templates", "service.yaml"), "# a template change\n");
        const after = await release(copy);
        assert.equal(after.version, before.version, "same chart version");
        assert.deepEqual(after.values, before.values, "same values");
        assert.notEqual(after.description, before.description, "yet a changed input: the release is upgraded");
    });
});

describe("operations: the unseal key", () => {
    // Issue 17 item 3: nothing in `pulumi up` calls the Azure CLI (a CI login's federated token expires
    // after minutes) or the data plane; ARM takes the policy with the key's creation on every stack.
    for (const [stack, trigger] of [
        ["dev", { timeBeforeExpiry: "P30D" }],
        ["prod", { timeAfterCreate: "P365D" }],
    ] as const) {
        it(`${stack}: the rotation policy goes through ARM with the key's creation; no command, no data-plane role`, async () => {
            const run = await evaluateStack(stack);
            const key = run.get(T.key, "unseal-key");
            // Key Vault's ARM shape (azure-native keyvault KeyRotationPolicyActionType: "rotate" | "notify"):
            // prod rotates after 365 days (Pulumi.prod.yaml); dev sets Key Vault's own notify-only default.
            assert.deepEqual(key.inputs.properties.rotationPolicy, {
                lifetimeActions: [{ trigger, action: { type: stack === "prod" ? "rotate" : "notify" } }],
            });
            assert.deepEqual([...key.ignoreChanges].sort(), ["properties.keyOps", "properties.keySize", "properties.rotationPolicy"]);
            assert.deepEqual(
                run.resources.filter((r) => r.type.startsWith("command:")).map((r) => r.name),
                [],
                "no local command runs during up",
            );
            assert.deepEqual(
                run.ofType(T.role).filter((r) => r.inputs.roleDefinitionId.endsWith(KEY_VAULT_CRYPTO_OFFICER)),
                [],
                "the deployer needs no data-plane role on the key",
            );
            // Its only use gone, the deprecated @pulumi/command 4.5.0 publish goes too (issue 17 item 7).
            const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8"));
            assert.equal(manifest.dependencies["@pulumi/command"], undefined);
        });
    }

    it("a key Azure holds with another size or other operations is reported, with what to do", () => {
        const desired = { size: 4096, keyOps: UNSEAL_KEY_OPS };
        assert.deepEqual(unsealKeyMismatch(desired, {}), [], "not reported yet");
        assert.deepEqual(unsealKeyMismatch(desired, { size: 4096, keyOps: ["unwrapKey", "wrapKey"] }), []);
        assert.match(unsealKeyMismatch(desired, { size: 3072 }).join(), /RSA 3072, the configuration asks for 4096/);
        assert.match(
            unsealKeyMismatch(desired, { keyOps: ["wrapKey", "unwrapKey", "decrypt"] }).join(),
            /allows decrypt,unwrapKey,wrapKey/,
        );
    });

    it("fails the update when the live key differs from the program (never a silent no-op)", async () => {
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => ({
                    id: `${args.name}-id`,
                    // As ARM answers for an existing key: the size it was created with.
                    state: args.type === T.key ? { ...args.inputs, keySize: 3072, keyOps: ["wrapKey", "unwrapKey"] } : args.inputs,
                }),
                call: () => ({}),
            },
            "aks-platform",
            "prod",
            false,
        );
        const { UnsealKey } = await import("../components/azure/unsealKey");
        const { KeyVault } = await import("../components/azure/keyVault");
        const vault = new KeyVault("unseal-kv", {
            vaultName: "gitops-prod-seal-ab12",
            resourceGroupName: "gitops-prod-rg",
            location: "westeurope",
            tenantId: "00000000-0000-0000-0000-000000000001",
            softDeleteRetentionDays: 90,
            auditWorkspaceId: "workspace-id",
            tags: {},
        });
        const key = new UnsealKey("unseal-key", {
            vault,
            resourceGroupName: "gitops-prod-rg",
            keyName: "vault-unseal",
            size: 4096,
        });
        // The Output's own promise: it rejects when the check throws, which fails `pulumi up`.
        const verified = (key.verified as unknown as { promise(): Promise<boolean> }).promise();
        await assert.rejects(verified, /RSA 3072, the configuration asks for 4096.*Rotate the unseal key/s);
        await pulumi.runtime.disconnect();
    });

    it("a changed rotation policy, which ARM cannot apply to an existing key, fails the update with the command to run", async () => {
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => ({
                    id: `${args.name}-id`,
                    // As ARM reports a key created with a 365-day policy, after the config moved to 90 days.
                    state:
                        args.type === T.key
                            ? {
                                  ...args.inputs,
                                  keySize: 4096,
                                  keyOps: ["wrapKey", "unwrapKey"],
                                  rotationPolicy: {
                                      lifetimeActions: [{ trigger: { timeAfterCreate: "P365D" }, action: { type: "rotate" } }],
                                  },
                              }
                            : args.inputs,
                }),
                call: () => ({}),
            },
            "aks-platform",
            "dev",
            false,
        );
        const { UnsealKey } = await import("../components/azure/unsealKey");
        const { KeyVault } = await import("../components/azure/keyVault");
        const vault = new KeyVault("unseal-kv", {
            vaultName: "gitops-dev-seal-ab12",
            resourceGroupName: "gitops-dev-rg",
            location: "westeurope",
            tenantId: "00000000-0000-0000-0000-000000000001",
            softDeleteRetentionDays: 7,
            auditWorkspaceId: "workspace-id",
            tags: {},
        });
        const key = new UnsealKey("unseal-key", {
            vault,
            resourceGroupName: "gitops-dev-rg",
            keyName: "vault-unseal",
            size: 4096,
            rotationDays: 90,
        });
        const verified = (key.verified as unknown as { promise(): Promise<boolean> }).promise();
        await assert.rejects(verified, /rotates P365D, the configuration asks for P90D.*az keyvault key rotation-policy update/s);
        await pulumi.runtime.disconnect();
    });
});

describe("operations: Vault changes reach the pods", () => {
    for (const stack of ["dev", "prod"] as const) {
        it(`${stack}: a config change is a new pod revision, clients reach Ready pods only, and the outputs say when to roll out`, async () => {
            const run = await evaluateStack(stack);
            const values = run.get(T.release, "vault").inputs.values;
            assert.equal(values.server.includeConfigAnnotation, true);
            assert.deepEqual(values.server.service, { publishNotReadyAddresses: false });
            assert.match(run.outputs.vaultRollout.value, /^Vault release revision .*run scripts\/vault-rollout\.sh/);
            assert.ok(fs.existsSync(path.join(__dirname, "..", "scripts", "vault-rollout.sh")));
        });
    }
});

describe("operations: objects kept on destroy are adopted on re-create", () => {
    it("prod: every retained object goes through a provider for the same cluster that adopts existing objects", async () => {
        const run = await evaluateStack("prod");
        const main = run.get(T.provider, "aks-k8s");
        const adopting = run.get(T.provider, "aks-k8s-retained");
        assert.equal(adopting.inputs.upsertExistingObjects, "true");
        assert.equal(adopting.inputs.kubeconfig, main.inputs.kubeconfig, "the same cluster");
        assert.equal(main.inputs.upsertExistingObjects, undefined, "everything else still fails on an existing object");
        const kube = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
        const retained = kube.filter((r) => r.retainOnDelete);
        assert.deepEqual(
            retained
                .filter((r) => r.type === T.namespace)
                .map((r) => r.inputs.metadata.name)
                .sort(),
            ["microservices-prod", "vault"],
        );
        assert.ok(retained.some((r) => r.type === "kubernetes:apps/v1:StatefulSet" && r.inputs.metadata.name === "mongodb"));
    });

    // The one provider check (the policy pack's kubernetes-explicit-provider enforces it at preview): a
    // resource on the default provider would go to whatever cluster the deployer's kubeconfig names.
    for (const stack of ["dev", "prod", "local"] as const) {
        it(`${stack}: every Kubernetes resource goes through the stack's explicit provider, what is kept on destroy through the adopting one`, async () => {
            const run = await evaluateStack(stack);
            const providers = run.ofType(T.provider);
            const main = providers.filter((p) => p.inputs.upsertExistingObjects === undefined);
            const adopting = providers.filter((p) => p.inputs.upsertExistingObjects === "true");
            assert.equal(main.length, 1, "one provider for the cluster");
            const kube = run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
            assert.ok(kube.length > 0);
            for (const r of kube) {
                const expected = r.retainOnDelete && adopting.length > 0 ? adopting[0].urn : main[0].urn;
                assert.equal(r.provider, expected, `${r.type} ${r.name}`);
            }
        });
    }

    it("dev keeps nothing, so it has no adopting provider", async () => {
        const run = await evaluateStack("dev");
        assert.equal(run.ofType(T.provider).filter((p) => p.name === "aks-k8s-retained").length, 0);
        // Only Key Vault items are retainOnDelete in dev: their delete would go to the data plane, and
        // they go with their vault (tests/teardown.test.ts).
        const kvItems = new Set(["azure-native:keyvault:Secret", "azure-native:keyvault:Key"]);
        assert.equal(run.resources.filter((r) => r.retainOnDelete && !kvItems.has(r.type)).length, 0);
    });
});

describe("operations: the init Job", () => {
    it("asks every raft peer and knows the placeholder the Azure layer wrote", async () => {
        const run = await evaluateStack("prod");
        const job = run.ofType(T.job).find((j) => j.urn.includes("VaultInitJob"))!;
        const env = (name: string) =>
            Object.fromEntries(
                podsOf(job)
                    .find((c: any) => c.name === name)
                    .env.map((e: any) => [e.name, e.value]),
            );
        const peers = env("init").VAULT_PEERS.split(" ");
        assert.equal(peers.length, 3, "one per replica");
        assert.equal(
            peers[0],
            "https://vault-0.vault-internal.vault.svc.cluster.local:8200",
            "initialised at vault-0, which the others join",
        );
        const placeholders = run.ofType(T.kvSecret).filter((s) => s.name.startsWith("vault-init-"));
        assert.deepEqual(
            placeholders.map((s) => s.inputs.secretName),
            ["vault-recovery-keys"],
            "the recovery keys only: no root token is kept",
        );
        for (const s of placeholders) assert.equal(s.inputs.properties.value, VAULT_INIT_PLACEHOLDER);
        for (const phase of ["preflight", "store"]) assert.equal(env(phase).PLACEHOLDER, VAULT_INIT_PLACEHOLDER);
    });
});

describe("operations: dev's in-memory Vault survives a restart", () => {
    for (const stack of ["dev", "local"] as const) {
        it(`${stack}: a reconciling Deployment (not a Job) configures Vault, the services wait for it`, async () => {
            const run = await evaluateStack(stack);
            assert.equal(run.ofType(T.job).length, 0);
            const reconciler = run.ofType(T.deployment).find((d) => d.urn.includes("VaultDatabaseConfig"))!;
            const [c] = reconciler.inputs.spec.template.spec.containers;
            const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
            assert.equal(env.RECONCILE_SECONDS, String(DEV_VAULT_RECONCILE_SECONDS));
            assert.deepEqual(c.readinessProbe.exec.command, ["test", "-f", env.READY_FILE]);
            assert.equal(reconciler.inputs.spec.template.spec.restartPolicy, "Always");
            for (const name of ["product-service", "order-service"]) {
                const release = run.ofType(T.release).find((r) => r.inputs.name === name)!;
                assert.ok(run.dependsOn(release.urn, reconciler.urn), `${name} waits for the first configuration`);
            }
        });
    }
});

describe("operations: autoscaled pools are left to the autoscaler", () => {
    it("prod: Pulumi ignores both autoscaled pools' counts; dev (fixed size) sends its count", async () => {
        const prodRun = await evaluateStack("prod");
        const prod = prodRun.get(T.cluster, "aks");
        assert.deepEqual([...prod.ignoreChanges], ["agentPoolProfiles[0].count"]);
        assert.deepEqual(
            prod.inputs.agentPoolProfiles.map((p: any) => p.name),
            ["system"],
            "the paths' indexes are the pools' order",
        );
        assert.deepEqual([...prodRun.get("azure-native:containerservice:AgentPool", "aks-user").ignoreChanges], ["count"]);
        const dev = (await evaluateStack("dev")).get(T.cluster, "aks");
        assert.deepEqual([...dev.ignoreChanges], []);
        assert.equal(TUNED.dev["systemPool.autoscaling"], true);
        const autoscaledDev = (await evaluateStack("dev", TUNED.dev)).get(T.cluster, "aks");
        assert.deepEqual([...autoscaledDev.ignoreChanges], ["agentPoolProfiles[0].count"]);
    });

    it("only autoscaled pools' counts are ignored", () => {
        const pool = (autoscaling: boolean) => ({
            vmSize: "x",
            nodeCount: 3,
            autoscaling,
            minCount: 1,
            maxCount: 5,
            zones: [],
            osDiskType: "Managed" as const,
        });
        assert.deepEqual(autoscaledCountPaths([pool(false), pool(true)]), ["agentPoolProfiles[1].count"]);
    });
});

describe("operations: Vault's configuration Job", () => {
    it("prod: writes to the leader only over TLS, after the init Job that created its role and the CA it verifies with", async () => {
        const run = await evaluateStack("prod");
        const job = run.ofType(T.job).find((j) => j.urn.includes("VaultDatabaseConfig"))!;
        const env = Object.fromEntries(podsOf(job)[0].env.map((e: any) => [e.name, e.value]));
        assert.equal(env.VAULT_ADDR, "https://vault-active.vault.svc.cluster.local:8200");
        const init = run.ofType(T.job).find((j) => j.urn.includes("VaultInitJob"))!;
        assert.ok(run.dependsOn(job.urn, init.urn), "an explicit dependency, not a lucky ordering");
        const ca = run
            .ofType("kubernetes:core/v1:Secret")
            .find((s) => s.inputs.metadata.name === "vault-ca" && s.inputs.metadata.namespace === "vault")!;
        assert.ok(run.dependsOn(job.urn, ca.urn));
    });
});

describe("operations: values Azure normalises are sent normalised", () => {
    it("a bare IPv4 address in the Key Vault firewall is sent as Azure stores it, /32", () => {
        assert.equal(normalisedIpRule("198.51.100.7"), "198.51.100.7/32");
        assert.equal(normalisedIpRule("203.0.113.0/24"), "203.0.113.0/24");
        // That the program sends it so: tests/azure.test.ts, "a Key Vault firewall in deny mode".
    });
});
