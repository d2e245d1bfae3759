// The local stack's ha Vault (issue 20 item 8): raft x3 with TLS from a generated CA, auto-unsealed by
// an in-cluster transit unsealer, initialised and bootstrapped by prod's init Job (recovery keys in a
// Kubernetes Secret), snapshotted by prod's CronJob onto a volume. Each expectation comes from the
// upstream source named beside it (vault-helm 0.32.0 values, hashicorp/vault's transit seal docs),
// never from the code under test. Nothing here ran a Vault: the e2e workflow's kind-vault-ha job does.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { configProblems, evaluateStack, plainText, stackRaw, type Registration, type StackRun } from "./harness";

const T = {
    release: "kubernetes:helm.sh/v3:Release",
    secret: "kubernetes:core/v1:Secret",
    job: "kubernetes:batch/v1:Job",
    cronJob: "kubernetes:batch/v1:CronJob",
    configMap: "kubernetes:core/v1:ConfigMap",
    deployment: "kubernetes:apps/v1:Deployment",
    service: "kubernetes:core/v1:Service",
    pvc: "kubernetes:core/v1:PersistentVolumeClaim",
    role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
    storageClass: "kubernetes:storage.k8s.io/v1:StorageClass",
};
const ROOT = path.join(__dirname, "..");
const script = (file: string) => fs.readFileSync(path.join(ROOT, "scripts", file), "utf8");

const vaultRelease = (run: StackRun): Registration => {
    const found = run.ofType(T.release).filter((r) => r.inputs.chart === "vault");
    assert.equal(found.length, 1, "one vault release");
    return found[0];
};
const env = (container: any): Record<string, any> =>
    Object.fromEntries((container.env ?? []).map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe("local stack, localVaultMode ha (Vault raft + TLS + transit seal on kind)", () => {
    let run: StackRun;
    let dev: StackRun;
    let prod: StackRun;
    before(async () => {
        run = await evaluateStack("local", { kubeconfigContext: "kind-e2e", localVaultMode: "ha" });
        dev = await evaluateStack("local", { kubeconfigContext: "kind-e2e" });
        prod = await evaluateStack("prod");
    });

    describe("the vault release", () => {
        it("runs HA with integrated raft storage, three voters, no dev server (vault-helm 0.32.0 server.ha.*, server.dev.enabled)", () => {
            const server = vaultRelease(run).inputs.values.server;
            assert.equal(server.dev.enabled, false);
            assert.equal(server.ha.enabled, true);
            assert.equal(server.ha.replicas, 3);
            assert.equal(server.ha.raft.enabled, true);
            assert.equal(server.dataStorage.enabled, true);
            // No Azure disk class on kind: the cluster's default class (chart default storageClass null).
            assert.equal(server.dataStorage.storageClass, undefined);
            assert.deepEqual(run.ofType(T.storageClass), [], "no zone-redundant Azure disk StorageClass");
        });

        it("seals with transit at the unsealer's Service, its key and mount, verifying it against the CA (seal/transit.mdx)", () => {
            const config: string = vaultRelease(run).inputs.values.server.ha.raft.config;
            const seal = /seal "transit" \{([^}]*)\}/.exec(config);
            assert.ok(seal, `no transit seal stanza in:\n${config}`);
            const field = (name: string) => new RegExp(`\\b${name}\\s*=\\s*"([^"]*)"`).exec(seal[1])?.[1];
            assert.equal(field("address"), "https://vault-unsealer.vault.svc:8200");
            assert.equal(field("key_name"), "vault-autounseal");
            assert.equal(field("mount_path"), "transit/");
            assert.equal(field("tls_ca_cert"), "/vault/userconfig/tls/vault-tls-ca");
            // The token is required by the seal but comes from VAULT_TOKEN (seal/transit.mdx), not the config.
            assert.equal(field("token"), undefined, "no token in the server config (a Helm value)");
            assert.doesNotMatch(config, /azurekeyvault/);
        });

        it("gives the seal its token as VAULT_TOKEN from the seal token's Secret, never as a Helm value", () => {
            const server = vaultRelease(run).inputs.values.server;
            assert.deepEqual(server.extraSecretEnvironmentVars, [
                { envName: "VAULT_TOKEN", secretName: "vault-transit-seal", secretKey: "token" },
            ]);
            const sealSecret = run.ofType(T.secret).find((s) => s.inputs.metadata?.name === "vault-transit-seal")!;
            assert.ok(sealSecret, "the seal token's Secret");
            assert.ok(plainText(sealSecret.inputs.stringData.token).length >= 32);
        });

        it("serves TLS from the generated certificate, mounted from a Kubernetes Secret (no CSI driver without Key Vault)", () => {
            const values = vaultRelease(run).inputs.values;
            const config: string = values.server.ha.raft.config;
            assert.equal(values.global.tlsDisable, false);
            assert.match(config, /tls_cert_file\s*=\s*"\/vault\/userconfig\/tls\/vault-tls-crt"/);
            assert.match(config, /tls_key_file\s*=\s*"\/vault\/userconfig\/tls\/vault-tls-key"/);
            assert.doesNotMatch(config, /tls_disable/);
            assert.match(config, /leader_api_addr = "https:\/\/vault-2\.vault-internal:8200"/);
            assert.deepEqual(values.server.volumes, [{ name: "tls", secret: { secretName: "vault-tls" } }]);
            const tlsSecret = run.ofType(T.secret).find((s) => s.inputs.metadata?.name === "vault-tls")!;
            const data = tlsSecret.inputs.stringData;
            assert.match(plainText(data["vault-tls-crt"]), /BEGIN CERTIFICATE/);
            assert.doesNotMatch(JSON.stringify(values), /PRIVATE KEY/);
        });
    });

    describe("the unsealer", () => {
        it("is a dev-mode Vault with a TLS listener from -config, behind a Service named as the seal's address", () => {
            const deployment = run.ofType(T.deployment).find((d) => d.inputs.metadata?.name === "vault-unsealer")!;
            assert.ok(deployment, "the unsealer Deployment");
            const container = deployment.inputs.spec.template.spec.containers[0];
            assert.deepEqual(container.command.slice(0, 3), ["vault", "server", "-dev"]);
            assert.ok(container.command.includes("-config=/vault/config/listener.hcl"));
            assert.deepEqual(env(container).VAULT_DEV_ROOT_TOKEN_ID, { secretKeyRef: { name: "vault-unsealer-root-token", key: "token" } });
            const config = run.ofType(T.configMap).find((c) => c.inputs.metadata?.name === "vault-unsealer-config")!;
            assert.match(config.inputs.data["listener.hcl"], /tls_cert_file\s*=\s*"\/vault\/tls\/tls.crt"/);
            const service = run.ofType(T.service).find((s) => s.inputs.metadata?.name === "vault-unsealer")!;
            assert.deepEqual(service.inputs.spec.ports, [{ name: "https", port: 8200, targetPort: "https" }]);
        });

        it("a Job creates the transit key, its encrypt/decrypt-only policy and the seal's token, before the release", () => {
            const setup = run.ofType(T.job).find((j) => j.name === "vault-local-ha-unsealer-setup")!;
            assert.ok(setup, "the unsealer's setup Job");
            const container = setup.inputs.spec.template.spec.containers[0];
            assert.equal(env(container).TRANSIT_KEY, "vault-autounseal");
            assert.deepEqual(env(container).SEAL_TOKEN, { secretKeyRef: { name: "vault-transit-seal", key: "token" } });
            assert.ok(run.dependsOn(vaultRelease(run).urn, setup.urn), "the release waits for the transit key");
            const text = script("vault-unsealer.sh");
            assert.match(text, /path "\$mount\/encrypt\/\$TRANSIT_KEY"/);
            assert.match(text, /path "\$mount\/decrypt\/\$TRANSIT_KEY"/);
            assert.match(text, /auth\/token\/create-orphan[\s\S]*id=-/);
        });
    });

    describe("prod's Jobs, with Kubernetes targets", () => {
        it("initialises through prod's init Job (same scripts), keeping the recovery keys in a Secret it alone may patch", () => {
            const jobs = (r: StackRun) => r.ofType(T.job).filter((j) => j.name === "vault-init");
            assert.equal(jobs(run).length, 1, "the init Job");
            const scriptsOf = (r: StackRun) => {
                const cm = r.ofType(T.configMap).find((c) => c.name === "vault-init-script")!;
                return Object.keys(cm.inputs.data).sort();
            };
            assert.deepEqual(scriptsOf(run), scriptsOf(prod), "the same scripts and policies as prod's init Job");
            const spec = jobs(run)[0].inputs.spec.template.spec;
            assert.deepEqual(
                spec.initContainers.map((c: any) => c.command),
                jobs(prod)[0].inputs.spec.template.spec.initContainers.map((c: any) => c.command),
            );
            const store = env(spec.containers[0]);
            assert.equal(store.KEY_STORE, "kubernetes");
            assert.equal(store.RECOVERY_KEYS_SECRET, "vault-recovery-keys");
            assert.equal(spec.serviceAccountName, "vault-init");
            const role = run.ofType(T.role).find((r) => r.name === "vault-init-store")!;
            assert.deepEqual(role.inputs.rules, [
                { apiGroups: [""], resources: ["secrets"], resourceNames: ["vault-recovery-keys"], verbs: ["get", "patch"] },
            ]);
            const keys = run.ofType(T.secret).find((s) => s.inputs.metadata?.name === "vault-recovery-keys")!;
            assert.deepEqual(keys.ignoreChanges, ["stringData", "data"]);
        });

        it("runs the sync Job and the operator role as prod does (the rollout script's vault-operator login)", () => {
            assert.equal(run.ofType(T.job).filter((j) => j.name === "vault-sync").length, 1);
            assert.ok(run.ofType(T.role).find((r) => r.inputs.metadata?.name === "vault-operator"));
        });

        it("snapshots with prod's save phase onto the vault-snapshots claim (keep phase, no Azure)", () => {
            const cron = run.ofType(T.cronJob).find((c) => c.name === "vault-snapshot")!;
            assert.ok(cron, "the snapshot CronJob");
            const spec = cron.inputs.spec.jobTemplate.spec.template.spec;
            assert.deepEqual(
                spec.initContainers.map((c: any) => c.command.at(-1)),
                ["save"],
            );
            assert.deepEqual(
                spec.containers.map((c: any) => c.command.at(-1)),
                ["keep"],
            );
            assert.ok(spec.volumes.some((v: any) => v.persistentVolumeClaim?.claimName === "vault-snapshots"));
            assert.ok(!("azure.workload.identity/use" in (cron.inputs.spec.jobTemplate.spec.template.metadata.labels ?? {})));
            assert.ok(run.ofType(T.pvc).find((p) => p.inputs.metadata?.name === "vault-snapshots"));
        });
    });

    it("the default local stack keeps its dev server: no unsealer, no init Job", () => {
        assert.equal(vaultRelease(dev).inputs.values.server.dev.enabled, true);
        assert.equal(dev.ofType(T.deployment).filter((d) => d.inputs.metadata?.name === "vault-unsealer").length, 0);
        assert.equal(dev.ofType(T.job).filter((j) => j.name === "vault-init").length, 0);
    });

    it("prod still seals with Key Vault (azurekeyvault)", () => {
        assert.match(vaultRelease(prod).inputs.values.server.ha.raft.config, /seal "azurekeyvault"/);
    });

    it("rejects an unknown localVaultMode, and the key on a stack with Azure", () => {
        const local = configProblems({ ...stackRaw("local"), localVaultMode: "raft" }, "local");
        assert.ok(
            local.some((p) => p.startsWith("localVaultMode:") && p.includes("dev, ha")),
            local.join("\n"),
        );
        const devStack = configProblems({ ...stackRaw("dev"), localVaultMode: "ha" }, "dev");
        assert.ok(
            devStack.some((p) => p.startsWith("localVaultMode:")),
            devStack.join("\n"),
        );
    });
});
