// The local stack's ha Vault (issue 20 item 8): raft x3 with TLS from a generated CA, auto-unsealed by
// an in-cluster transit unsealer, initialised and bootstrapped by prod's init Job (recovery keys in a
// Kubernetes Secret), snapshotted by prod's CronJob onto a volume. Each expectation comes from the
// upstream source named beside it (vault-helm 0.32.0 values, hashicorp/vault's transit seal docs),
// never from the code under test. Nothing here ran a Vault: the e2e workflow's kind-vault-ha job does.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { configProblems, evaluateStack, plainText, stackRaw, type Registration, type StackRun, withOverrides } from "./harness";

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
    signedCert: "tls:index/locallySignedCert:LocallySignedCert",
    selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
    certRequest: "tls:index/certRequest:CertRequest",
    randomPassword: "random:index/randomPassword:RandomPassword",
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

describe("local stack, local.vaultMode ha (Vault raft + TLS + transit seal on kind)", () => {
    let run: StackRun;
    let dev: StackRun;
    let prod: StackRun;
    before(async () => {
        run = await evaluateStack("local", { "local.kubeconfigContext": "kind-e2e", "local.vaultMode": "ha" });
        dev = await evaluateStack("local", { "local.kubeconfigContext": "kind-e2e" });
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
            // Nothing else: above all no tls_skip_verify, which would accept any certificate at that address.
            assert.deepEqual([...seal[1].matchAll(/^\s*(\w+)\s*=/gm)].map((m) => m[1]).sort(), [
                "address",
                "disable_renewal",
                "key_name",
                "mount_path",
                "tls_ca_cert",
            ]);
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

    // RFC 8813 section 3 (updating RFC 5480): with an id-ecPublicKey key, keyEncipherment and
    // dataEncipherment MUST NOT be asserted; TLS signs with an EC key and never encrypts a secret to it.
    it("issues its ECDSA certificates for signing only: no key or data encipherment", () => {
        const signed = run.ofType(T.signedCert);
        assert.ok(signed.length >= 2, "the server's and the unsealer's certificates");
        for (const cert of signed) {
            const request = run
                .ofType("tls:index/certRequest:CertRequest")
                .find((r) => r.state.certRequestPem === cert.inputs.certRequestPem)!;
            const key = run
                .ofType("tls:index/privateKey:PrivateKey")
                .find((k) => k.state.privateKeyPem === request.inputs.privateKeyPem && k.name === request.name)!;
            assert.equal(key.inputs.algorithm, "ECDSA", cert.name);
            assert.ok(cert.inputs.allowedUses.includes("digital_signature"), cert.name);
            assert.ok(!cert.inputs.allowedUses.some((u: string) => /encipherment/.test(u)), `${cert.name}: ${cert.inputs.allowedUses}`);
        }
    });

    describe("the unsealer", () => {
        const unsealer = () => run.ofType(T.deployment).find((d) => d.inputs.metadata?.name === "vault-unsealer")!;

        it("is a Vault with file storage on a claim of its own, not a dev server: its transit key outlives any pod (review finding 1)", () => {
            const deployment = unsealer();
            assert.ok(deployment, "the unsealer Deployment");
            const pod = deployment.inputs.spec.template.spec;
            const vault = pod.containers.find((c: any) => c.name === "vault");
            // `vault server -dev` keeps everything in memory (hashicorp/vault command/server.go, -dev: inmem
            // storage): a restart or an image bump would lose the transit key the servers' root key is wrapped by.
            assert.ok(!vault.command.includes("-dev"), vault.command.join(" "));
            assert.equal(env(vault).VAULT_DEV_ROOT_TOKEN_ID, undefined);
            assert.deepEqual(vault.command, ["vault", "server", "-config=/vault/config/server.hcl"]);
            const config = run.ofType(T.configMap).find((c) => c.inputs.metadata?.name === "vault-unsealer-config")!;
            const hcl: string = config.inputs.data["server.hcl"];
            // website/content/docs/configuration/storage/filesystem.mdx: storage "file" { path = ... }.
            const storagePath = /storage "file" \{\s*path\s*=\s*"([^"]+)"/.exec(hcl)?.[1];
            assert.ok(storagePath, hcl);
            const dataVolume = pod.volumes.find((v: any) => v.persistentVolumeClaim)!;
            assert.equal(dataVolume.persistentVolumeClaim.claimName, "vault-unsealer-data");
            const mount = vault.volumeMounts.find((m: any) => m.name === dataVolume.name);
            assert.ok(storagePath.startsWith(`${mount.mountPath}/`), `${storagePath} is on the claim (${mount.mountPath})`);
            assert.match(hcl, /tls_cert_file\s*=\s*"\/vault\/tls\/tls.crt"/);
            assert.match(hcl, /disable_mlock\s*=\s*true/);
            const claim = run.ofType(T.pvc).find((c) => c.inputs.metadata?.name === "vault-unsealer-data")!;
            assert.deepEqual(claim.inputs.spec.accessModes, ["ReadWriteOnce"]);
            // One pod on the claim at a time: an image bump stops the old pod before the new one starts.
            assert.equal(deployment.inputs.spec.strategy.type, "Recreate");
            const service = run.ofType(T.service).find((s) => s.inputs.metadata?.name === "vault-unsealer")!;
            assert.deepEqual(service.inputs.spec.ports, [{ name: "https", port: 8200, targetPort: "https" }]);
            // The Service reaches the unsealer's pods, and their `https` port is the TLS listener's.
            const labels = deployment.inputs.spec.template.metadata.labels;
            for (const [key, value] of Object.entries(service.inputs.spec.selector)) assert.equal(labels[key], value, `selector ${key}`);
            assert.deepEqual(service.inputs.spec.selector, deployment.inputs.spec.selector.matchLabels);
            const https = vault.ports.find((p: any) => p.name === "https").containerPort;
            const tlsListener = /listener "tcp" \{[^}]*address\s*=\s*"\[::\]:(\d+)"[^}]*tls_cert_file/.exec(hcl);
            assert.ok(tlsListener, hcl);
            assert.equal(Number(tlsListener[1]), https);
        });

        it("a sidecar initialises it once and unseals it after every start, with its key on the claim", () => {
            const pod = unsealer().inputs.spec.template.spec;
            const sidecar = pod.containers.find((c: any) => c.name === "unseal");
            assert.ok(sidecar, pod.containers.map((c: any) => c.name).join(", "));
            assert.deepEqual(sidecar.command, ["/bin/sh", "/scripts/vault-unsealer.sh", "unseal"]);
            assert.deepEqual(env(sidecar).ROOT_TOKEN, { secretKeyRef: { name: "vault-unsealer-root-token", key: "token" } });
            const dataVolume = pod.volumes.find((v: any) => v.persistentVolumeClaim)!;
            const mount = sidecar.volumeMounts.find((m: any) => m.name === dataVolume.name);
            assert.ok(String(env(sidecar).KEY_DIR).startsWith(`${mount.mountPath}/`), "the unseal key is kept on the claim");
            assert.ok(sidecar.readinessProbe, "the Deployment is Ready only once the root token works");
            assert.equal(env(sidecar).SERVER_ADDRS.split(" ").length, 3, "asks every ha server before a first initialisation");
        });

        it("the sidecar keeps the seal's token alive: it reads the token's Secret and the same policy and period as the setup Job (review finding 1)", () => {
            const pod = unsealer().inputs.spec.template.spec;
            const sidecar = env(pod.containers.find((c: any) => c.name === "unseal"));
            const setup = env(
                run.ofType(T.job).find((j) => j.name === "vault-local-ha-unsealer-setup")!.inputs.spec.template.spec.containers[0],
            );
            // The ID the servers read as VAULT_TOKEN (the release's extraSecretEnvironmentVars, above).
            const serverToken = vaultRelease(run).inputs.values.server.extraSecretEnvironmentVars[0];
            assert.deepEqual(sidecar.SEAL_TOKEN, { secretKeyRef: { name: serverToken.secretName, key: serverToken.secretKey } });
            assert.deepEqual(setup.SEAL_TOKEN, sidecar.SEAL_TOKEN);
            assert.equal(sidecar.SEAL_POLICY, setup.SEAL_POLICY);
            assert.equal(sidecar.SEAL_TOKEN_PERIOD_SECONDS, setup.SEAL_TOKEN_PERIOD_SECONDS);
            assert.ok(Number(sidecar.SEAL_TOKEN_PERIOD_SECONDS) > 0);
            // The pod needs the Secret to start (secretKeyRef): it waits for it.
            const sealSecret = run.ofType(T.secret).find((s) => s.inputs.metadata?.name === "vault-transit-seal")!;
            assert.ok(run.dependsOn(unsealer().urn, sealSecret.urn));
        });

        it("the sidecar has the memory the vault CLI needs, and the unsealer's probe a 3 s timeout (review findings 2, 5)", () => {
            const pod = unsealer().inputs.spec.template.spec;
            const container = (name: string) => pod.containers.find((c: any) => c.name === name);
            const mebibytes = (q: string) => Number(/^(\d+)Mi$/.exec(q)?.[1]);
            // vault-helm 0.32.0 values.yaml injector.agentDefaults.memLimit "128Mi" (the CLI hung at 64 MB:
            // hashicorp/vault#14039).
            const resources = container("unseal").resources;
            assert.ok(mebibytes(resources.limits.memory) >= 128, resources.limits.memory);
            assert.ok(mebibytes(resources.requests.memory) <= mebibytes(resources.limits.memory));
            // vault-helm 0.32.0 values.yaml server.readinessProbe.timeoutSeconds: 3 (the kubelet's default is 1).
            assert.equal(container("vault").readinessProbe.timeoutSeconds, 3);
        });

        it("neither token ID is ever re-generated by a later `up`: every RandomPassword input is ignored (review finding 7)", () => {
            const passwords = run.ofType(T.randomPassword).filter((r) => /^vault-local-ha-unsealer-(root|seal)-token$/.test(r.name));
            assert.equal(passwords.length, 2, passwords.map((p) => p.name).join(", "));
            // Every input of @pulumi/random's RandomPasswordArgs (node_modules/@pulumi/random/randomPassword.d.ts):
            // a change to any of them replaces the password.
            const dts = fs.readFileSync(require.resolve("@pulumi/random/randomPassword.d.ts"), "utf8");
            const argsBody = /export interface RandomPasswordArgs \{([\s\S]*?)\n\}/.exec(dts)![1];
            const inputs = [...argsBody.matchAll(/^\s+(\w+)\??:/gm)].map((m) => m[1]);
            assert.ok(inputs.includes("length") && inputs.includes("special"), inputs.join(", "));
            for (const password of passwords) assert.deepEqual([...password.ignoreChanges].sort(), [...inputs].sort(), password.name);
        });

        it("a Job creates the transit key, its encrypt/decrypt-only policy and the seal's token, before the release", () => {
            const setup = run.ofType(T.job).find((j) => j.name === "vault-local-ha-unsealer-setup")!;
            assert.ok(setup, "the unsealer's setup Job");
            const container = setup.inputs.spec.template.spec.containers[0];
            assert.deepEqual(container.command, ["/bin/sh", "/scripts/vault-unsealer.sh", "setup"]);
            assert.equal(env(container).TRANSIT_KEY, "vault-autounseal");
            assert.deepEqual(env(container).SEAL_TOKEN, { secretKeyRef: { name: "vault-transit-seal", key: "token" } });
            // Each server pod by its name under the chart's headless Service <release>-internal (vault-helm
            // 0.32.0 templates/server-headless-service.yaml, publishNotReadyAddresses: sealed pods resolve too),
            // fully qualified with the root's dot (review finding 4): only the cluster's DNS answers it.
            const hosts = [0, 1, 2].map((i) => `vault-${i}.vault-internal.vault.svc.cluster.local`);
            assert.equal(env(container).SERVER_ADDRS, hosts.map((h) => `https://${h}.:8200`).join(" "));
            // Verified against the server certificate's DNS names (Go drops the trailing dot before matching).
            const request = run.ofType(T.certRequest).find((c) => c.name === "vault-local-ha-server")!;
            for (const host of hosts) assert.ok(request.inputs.dnsNames.includes(host), `${host} is a SAN of the server certificate`);
            assert.ok(run.dependsOn(vaultRelease(run).urn, setup.urn), "the release waits for the transit key");
            const text = script("vault-unsealer.sh");
            assert.match(text, /path "\$mount\/encrypt\/\$TRANSIT_KEY"/);
            assert.match(text, /path "\$mount\/decrypt\/\$TRANSIT_KEY"/);
            assert.match(text, /auth\/token\/create-orphan[\s\S]*id=-/);
        });

        it("its certificate lives as long as the CA and has no early renewal: no `up` re-issues it under a running unsealer (review finding 2)", () => {
            const signed = run.ofType(T.signedCert);
            const cert = signed.find((c) => c.name === "vault-local-ha-unsealer")!;
            const ca = run.ofType(T.selfSignedCert).find((c) => c.name === "vault-local-ha-ca")!;
            assert.ok(cert && ca, signed.map((c) => c.name).join(", "));
            // hashicorp/terraform-provider-tls internal/provider/common_cert.go,
            // modifyPlanIfCertificateReadyForRenewal: replaced from validity_end - early_renewal_hours on.
            assert.ok(!cert.inputs.earlyRenewalHours, `earlyRenewalHours ${cert.inputs.earlyRenewalHours}`);
            assert.equal(cert.inputs.validityPeriodHours, ca.inputs.validityPeriodHours);
            assert.ok(!ca.inputs.earlyRenewalHours, "nor the CA");
            // The servers' own certificate keeps its renewal window: their reload sidecar makes Vault read it.
            const server = signed.find((c) => c.name === "vault-local-ha-server")!;
            assert.ok(server.inputs.earlyRenewalHours > 0);
            // Should it change anyway, the unsealer's pod restarts on it.
            const annotations = unsealer().inputs.spec.template.metadata.annotations;
            assert.match(annotations["checksum/tls"], /^[0-9a-f]{64}$/);
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

    it("rejects an unknown local.vaultMode, and the key on a stack with Azure", () => {
        const local = configProblems(withOverrides(stackRaw("local"), { "local.vaultMode": "raft" }), "local");
        assert.ok(
            local.some((p) => p.startsWith("local.vaultMode:") && p.includes("dev, ha")),
            local.join("\n"),
        );
        const devStack = configProblems(withOverrides(stackRaw("dev"), { "local.vaultMode": "ha" }), "dev");
        assert.ok(
            devStack.some((p) => p.startsWith("local.vaultMode:")),
            devStack.join("\n"),
        );
    });
});

// scripts/vault-unsealer.sh against a stand-in for the vault CLI. The unsealer's state lives in $FAKE:
// u-init (initialised), u-unsealed, u-transit, u-key, tokens (valid token IDs, one a line), revoked,
// ttl-<id> (a token's remaining TTL in seconds; 86400 when absent; negative: expired, not yet revoked),
// u-hang (status never answers), u-down-once (the next status gets no answer), u-slow-init (init
// answers after 2 s), reseal-at (the unsealer's server restarted, sealed, at that pass). \`sleep\` ends a
// pass: it counts passes in $FAKE/pass and fails once FAKE_PASSES (default 1) are done, which ends the
// unseal phase's loop (set -e); the passes of the seal token's lookups go to $FAKE/lookups.
// The ha servers answer by VAULT_ADDR: $FAKE/server-<pod> holds "initialized" or "fresh" (seal-status
// JSON, exit 2: sealed), or "refused"; no file: the name does not resolve (Go's "no such host").
// `-field=NAME` is checked as the real CLI does (hashicorp/vault command/util.go, RawField): an auth
// response (create-orphan, renew) has token, token_accessor, token_duration, token_renewable,
// token_policies, and nothing else (its data is empty: the CLI exits 1, after the write took effect);
// a data response has its data's keys (auth/token/lookup: website/content/api-docs/auth/token.mdx).
describe("scripts/vault-unsealer.sh (stand-in vault)", () => {
    const FAKE_VAULT = `#!/bin/sh
f="$FAKE"
echo "$VAULT_ADDR \${VAULT_TOKEN:+[token] }$*" >>"$f/vault.log"
case "$VAULT_ADDR" in
  https://vault-[0-9]*)
    host=\${VAULT_ADDR#https://}; host=\${host%:*}; pod=\${host%%.*}
    [ -e "$f/server-$pod" ] || { echo "Error checking seal status: dial tcp: lookup $host on 10.96.0.10:53: no such host" >&2; exit 1; }
    case "$(cat "$f/server-$pod")" in
      initialized) printf '{\\n  "initialized": true,\\n  "sealed": true\\n}\\n'; exit 2 ;;
      fresh) printf '{\\n  "initialized": false,\\n  "sealed": true\\n}\\n'; exit 2 ;;
      *) echo "Error checking seal status: dial tcp 10.244.1.5:8200: connect: connection refused" >&2; exit 1 ;;
    esac ;;
esac
# field_of KIND: fails, as the CLI does, on a -field name the response does not have.
field_of() {
  case "$1:$field" in
    auth:token|auth:token_accessor|auth:token_duration|auth:token_renewable|auth:token_policies) ;;
    lookup:id|lookup:accessor|lookup:policies|lookup:ttl|lookup:period|lookup:display_name|lookup:orphan) ;;
    unseal:sealed|unseal:progress|unseal:t|unseal:n) ;;
    *) echo "Field $field not present in secret" >&2; exit 1 ;;
  esac
}
case "$1 $2" in
  "status "*|"status")
    [ ! -e "$f/u-hang" ] || exec /bin/sleep 30
    if [ -e "$f/u-down-once" ]; then rm "$f/u-down-once"; echo "Error checking seal status: connection refused" >&2; exit 1; fi
    if [ "$(cat "$f/reseal-at" 2>/dev/null)" = "$(cat "$f/pass" 2>/dev/null || echo 0)" ]; then rm -f "$f/reseal-at" "$f/u-unsealed"; [ ! -e "$f/expire-on-reseal" ] || echo -5 >"$f/ttl-SealTokenId"; fi
    [ -e "$f/u-init" ] || { printf '{\\n  "initialized": false,\\n  "sealed": true\\n}\\n'; exit 2; }
    [ -e "$f/u-unsealed" ] || { printf '{\\n  "initialized": true,\\n  "sealed": true\\n}\\n'; exit 2; }
    printf '{\\n  "initialized": true,\\n  "sealed": false\\n}\\n' ;;
  "operator init")
    # The real CLI's client gives up after VAULT_CLIENT_TIMEOUT (default 60 s: hashicorp/vault api/client.go).
    [ "\${VAULT_CLIENT_TIMEOUT:-60s}" != 60s ] || { echo "init under the client's default 60 s timeout" >&2; exit 1; }
    [ ! -e "$f/u-slow-init" ] || /bin/sleep 2
    : >"$f/u-init"; echo hvs.GENERATED >>"$f/tokens"
    printf '{\\n  "unseal_keys_b64": [\\n    "S0VZLTE="\\n  ],\\n  "unseal_threshold": 1,\\n  "root_token": "hvs.GENERATED"\\n}\\n' ;;
  "token lookup") grep -qx "$VAULT_TOKEN" "$f/tokens" 2>/dev/null || exit 2 ;;
  "token revoke") echo "$VAULT_TOKEN" >>"$f/revoked"; grep -vx "$VAULT_TOKEN" "$f/tokens" >"$f/t" || true; mv "$f/t" "$f/tokens" ;;
  "secrets list") if [ -e "$f/u-transit" ]; then echo '{"transit/": {}}'; else echo '{"cubbyhole/": {}}'; fi ;;
  "secrets enable") : >"$f/u-transit" ;;
  "read -format=json") [ -e "$f/u-key" ] || exit 2 ;;
  "write -f") : >"$f/u-key"; echo "created key" >>"$f/actions" ;;
  "policy write") cat >/dev/null ;;
  "write -field="*)
    field=\${2#-field=}
    case "$3" in
      sys/unseal)
        field_of unseal
        [ "$(cat "\${4#key=@}")" = "S0VZLTE=" ] || { echo "bad unseal key" >&2; exit 2; }
        : >"$f/u-unsealed"; echo false ;;
      auth/token/lookup)
        grep -qx "$VAULT_TOKEN" "$f/tokens" || { echo "permission denied" >&2; exit 2; }
        cat "$f/pass" 2>/dev/null >>"$f/lookups" || echo 0 >>"$f/lookups"
        id=$(cat); grep -qx "$id" "$f/tokens" 2>/dev/null || { echo "Code: 403. Errors: * bad token" >&2; exit 2; }
        field_of lookup
        # expire-on-reseal: an expired token is revoked by the expiration manager right after it is seen.
        if [ -e "$f/ttl-$id" ]; then cat "$f/ttl-$id"; if [ -e "$f/expire-on-reseal" ]; then case "$(cat "$f/ttl-$id")" in -*) rm -f "$f/ttl-$id"; grep -vx "$id" "$f/tokens" >"$f/t2" || true; mv "$f/t2" "$f/tokens";; esac; fi; else echo 86400; fi ;;
      auth/token/renew)
        grep -qx "$VAULT_TOKEN" "$f/tokens" || { echo "permission denied" >&2; exit 2; }
        id=$(cat); grep -qx "$id" "$f/tokens" || { echo "invalid token" >&2; exit 2; }
        rm -f "$f/ttl-$id"; echo "renew" >>"$f/actions"
        field_of auth; echo 86400 ;;
      auth/token/create-orphan)
        grep -qx "$VAULT_TOKEN" "$f/tokens" || { echo "permission denied" >&2; exit 2; }
        id=$(cat)
        if grep -qx "$id" "$f/tokens" 2>/dev/null; then echo "cannot create a token with a duplicate ID" >&2; exit 2; fi
        echo "$id" >>"$f/tokens"; echo "create-orphan $*" >>"$f/actions"
        field_of auth; echo accessor ;;
      *) echo "unexpected: $*" >&2; exit 9 ;;
    esac ;;
  *) echo "unexpected: $*" >&2; exit 9 ;;
esac
`;
    let fake: string;
    beforeEach(() => {
        fake = fs.mkdtempSync(path.join(os.tmpdir(), "vault-unsealer-"));
        fs.mkdirSync(path.join(fake, "bin"));
        fs.writeFileSync(path.join(fake, "bin", "vault"), FAKE_VAULT, { mode: 0o755 });
        fs.writeFileSync(
            path.join(fake, "bin", "sleep"),
            '#!/bin/sh\nn=$(( $(cat "$FAKE/pass" 2>/dev/null || echo 0) + 1 ))\necho "$n" >"$FAKE/pass"\n[ "$n" -lt "${FAKE_PASSES:-1}" ]\n',
            { mode: 0o755 },
        );
    });
    afterEach(() => fs.rmSync(fake, { recursive: true, force: true }));
    const file = (name: string) => path.join(fake, name);
    const read = (name: string) => (fs.existsSync(file(name)) ? fs.readFileSync(file(name), "utf8") : "");
    const SCRIPT = path.join(ROOT, "scripts", "vault-unsealer.sh");
    const runPhase = (phase: string, extra: Record<string, string>) => {
        const r = spawnSync("sh", [SCRIPT, phase], {
            encoding: "utf8",
            env: { PATH: `${path.join(fake, "bin")}:${process.env.PATH}`, FAKE: fake, VAULT_ADDR: "http://127.0.0.1:8200", ...extra },
        });
        return { status: r.status, output: `${r.stdout}${r.stderr}` };
    };
    const SERVER_ADDRS =
        "https://vault-0.vault-internal.vault.svc.cluster.local.:8200 https://vault-1.vault-internal.vault.svc.cluster.local.:8200";
    const SEAL = { SEAL_TOKEN: "SealTokenId", SEAL_POLICY: "vault-autounseal", SEAL_TOKEN_PERIOD_SECONDS: "86400" };
    const unseal = (extra: Record<string, string> = {}) =>
        runPhase("unseal", {
            ROOT_TOKEN: "PulumiRootTokenId",
            KEY_DIR: file("claim/unseal"),
            READY_FILE: file("ready"),
            SERVER_ADDRS,
            ...SEAL,
            ...extra,
        });
    const setup = (extra: Record<string, string> = {}) =>
        runPhase("setup", {
            VAULT_ADDR: "https://vault-unsealer.vault.svc:8200",
            VAULT_TOKEN: "PulumiRootTokenId",
            TRANSIT_MOUNT: "transit/",
            TRANSIT_KEY: "vault-autounseal",
            SERVER_ADDRS,
            ...SEAL,
            ...extra,
        });

    it("unseal: initialises an empty unsealer once, keeps the key on the claim, hands root to the Secret's token ID, revokes the generated one", () => {
        const first = unseal();
        assert.equal(first.status, 1, "ends at the fake sleep");
        assert.equal(fs.readFileSync(file("claim/unseal/unseal-key"), "utf8"), "S0VZLTE=");
        assert.equal(fs.statSync(file("claim/unseal/unseal-key")).mode & 0o077, 0, "the key file is the owner's only");
        assert.ok(fs.existsSync(file("u-unsealed")));
        assert.match(read("actions"), /create-orphan write -field=token_accessor auth\/token\/create-orphan id=- policies=root /);
        assert.deepEqual(read("tokens").trim().split("\n"), ["PulumiRootTokenId", "SealTokenId"], "the generated root token is gone");
        assert.equal(read("revoked").trim(), "hvs.GENERATED");
        assert.ok(!fs.existsSync(file("claim/unseal/init-root-token")), "no root token left on the claim");
        assert.ok(fs.existsSync(file("ready")));
        assert.ok(!/PulumiRootTokenId|SealTokenId|hvs\.GENERATED/.test(read("vault.log")), "no token as an argument");
        assert.ok(!/vault.log/.test(first.output) && !first.output.includes("S0VZLTE="), "the key is never printed");

        // A restart (an image bump, a rescheduling): the data and the key are on the claim; sealed again.
        fs.rmSync(file("u-unsealed"));
        fs.rmSync(file("ready"));
        fs.writeFileSync(file("actions"), "");
        unseal();
        assert.ok(fs.existsSync(file("u-unsealed")), "unsealed from the claim's key");
        assert.equal(read("actions"), "", "no second init, no new token");
        assert.equal((read("vault.log").match(/operator init/g) ?? []).length, 1);
        assert.ok(fs.existsSync(file("ready")));
    });

    it("unseal: re-creates the seal's token with the Secret's ID when it is gone (expired and revoked while the cluster was stopped > 24 h) (review finding 1)", () => {
        // An initialised, unsealed unsealer whose root token works; the seal's token has expired.
        fs.mkdirSync(file("claim/unseal"), { recursive: true });
        fs.writeFileSync(file("claim/unseal/unseal-key"), "S0VZLTE=");
        fs.writeFileSync(file("u-init"), "");
        fs.writeFileSync(file("tokens"), "PulumiRootTokenId\n");
        const r = unseal();
        assert.match(r.output, /the seal's token created with the Secret's ID/);
        assert.ok(read("tokens").split("\n").includes("SealTokenId"), "the servers' VAULT_TOKEN works again");
        // An orphan, periodic token of the seal's policy (seal/transit.mdx: encrypt and decrypt only).
        assert.match(
            read("actions"),
            /create-orphan write -field=token_accessor auth\/token\/create-orphan id=- policies=vault-autounseal period=86400s /,
        );
        assert.ok(!/SealTokenId|PulumiRootTokenId/.test(read("vault.log")), "tokens only on stdin or in the environment");
        assert.ok(fs.existsSync(file("ready")));
        // The next pass: it exists, more than half its period left: nothing written.
        fs.writeFileSync(file("actions"), "");
        unseal();
        assert.equal(read("actions"), "");
    });

    it("unseal: renews the seal's token once half its period is gone, so it never expires even if no server renews it (review finding 1)", () => {
        fs.mkdirSync(file("claim/unseal"), { recursive: true });
        fs.writeFileSync(file("claim/unseal/unseal-key"), "S0VZLTE=");
        fs.writeFileSync(file("u-init"), "");
        fs.writeFileSync(file("u-unsealed"), "");
        fs.writeFileSync(file("tokens"), "PulumiRootTokenId\nSealTokenId\n");
        fs.writeFileSync(file("ttl-SealTokenId"), "43300");
        unseal();
        assert.equal(read("actions"), "", "43300 s of 86400 left: no renewal yet");
        fs.writeFileSync(file("ttl-SealTokenId"), "43100");
        const r = unseal();
        assert.equal(read("actions").trim(), "renew", r.output);
        assert.ok(!/create-orphan/.test(read("actions")), "the token is renewed, not re-created");
    });

    const unsealedWithTokens = (tokens: string) => {
        fs.mkdirSync(file("claim/unseal"), { recursive: true });
        fs.writeFileSync(file("claim/unseal/unseal-key"), "S0VZLTE=");
        fs.writeFileSync(file("u-init"), "");
        fs.writeFileSync(file("u-unsealed"), "");
        fs.writeFileSync(file("tokens"), tokens);
    };
    const lookupPasses = () => read("lookups").trim().split("\n").filter(Boolean).map(Number);
    /** The setup Job's starting point: the unsealer initialised and unsealed, root handed to Pulumi's token ID. */
    const runningUnsealer = () => {
        fs.writeFileSync(file("u-unsealed"), "");
        fs.writeFileSync(file("u-init"), "");
        fs.writeFileSync(file("tokens"), "PulumiRootTokenId\n");
    };

    it("unseal: an EXPIRED seal token not yet revoked (lookup answers a negative ttl) is reported as such and re-created once revoked (re-review 2)", () => {
        // hashicorp/vault vault/token_store.go: handleLookup reads the token tainted, and lookupInternal
        // returns it past its expiry when tainted; the ttl comes from the lease's expire time (negative).
        unsealedWithTokens("PulumiRootTokenId\nSealTokenId\n");
        fs.writeFileSync(file("ttl-SealTokenId"), "-120");
        const r = unseal({ FAKE_PASSES: "2" });
        assert.match(r.output, /the seal's token has expired \(ttl -120s\) but is not revoked yet/);
        assert.doesNotMatch(r.output, /the seal's token exists/);
        assert.ok(!read("actions").includes("create-orphan"), "no create while the ID is still taken");
        assert.deepEqual(lookupPasses(), [0, 1], "checked again on the next pass, not a minute later");
        // The expiration manager revoked it: the next check creates it again with the Secret's ID.
        fs.writeFileSync(file("tokens"), "PulumiRootTokenId\n");
        fs.rmSync(file("ttl-SealTokenId"));
        fs.rmSync(file("pass"));
        assert.match(unseal().output, /the seal's token created with the Secret's ID/);
        assert.ok(read("tokens").split("\n").includes("SealTokenId"));
    });

    it("unseal: checks the seal's token once a minute (every 12th 5 s pass) and right after every unseal, the status every pass (re-review 4)", () => {
        unsealedWithTokens("PulumiRootTokenId\nSealTokenId\n");
        unseal({ FAKE_PASSES: "13" });
        assert.equal((read("vault.log").match(/^http:\/\/127\.0\.0\.1:8200 status/gm) ?? []).length, 13, "the status every pass");
        assert.deepEqual(lookupPasses(), [0, 12], "at the sidecar's start, then 60 s / 5 s = 12 passes later");
        // The unsealer's server restarted (sealed) at pass 3: unsealed, then the token checked at once.
        for (const name of ["pass", "lookups", "vault.log"]) fs.rmSync(file(name), { force: true });
        fs.writeFileSync(file("reseal-at"), "3");
        const r = unseal({ FAKE_PASSES: "16" });
        assert.equal((r.output.match(/unsealed/g) ?? []).length, 1, r.output);
        assert.deepEqual(lookupPasses(), [0, 3, 15]);
    });

    it("unseal: a check right after an unseal that finds the seal's token expired is retried on the next pass, not a minute later (re-review 5)", () => {
        unsealedWithTokens("PulumiRootTokenId\nSealTokenId\n");
        fs.writeFileSync(file("reseal-at"), "3");
        fs.writeFileSync(file("expire-on-reseal"), "");
        unseal({ FAKE_PASSES: "16" });
        assert.deepEqual(lookupPasses().slice(0, 3), [0, 3, 4]);
    });

    it("unseal: `vault operator init` is not under the short CLI limit: its answer is the only copy of the key and root token (re-review 1)", () => {
        // The stand-in's init answers after 2 s; every other call stays under a 1 s limit.
        fs.writeFileSync(file("u-slow-init"), "");
        const r = unseal({ VAULT_CLI_TIMEOUT_SECONDS: "1" });
        assert.equal(fs.readFileSync(file("claim/unseal/unseal-key"), "utf8"), "S0VZLTE=", r.output);
        assert.ok(fs.existsSync(file("ready")), r.output);
        assert.match(script("vault-unsealer.sh"), /VAULT_INIT_TIMEOUT_SECONDS:=300/);
    });

    it("unseal: a vault CLI call that hangs is killed, and the pass ends (review finding 2)", () => {
        fs.writeFileSync(file("u-hang"), "");
        const started = Date.now();
        const r = unseal({ VAULT_CLI_TIMEOUT_SECONDS: "1" });
        const seconds = (Date.now() - started) / 1000;
        assert.ok(seconds < 10, `the pass took ${seconds}s (the stand-in hangs 30 s): ${r.output}`);
        assert.ok(!fs.existsSync(file("ready")));
    });

    it("unseal: an EMPTY unsealer beside an initialised ha Vault (its claim lost) stays down and says why, never initialises", () => {
        fs.writeFileSync(file("server-vault-0"), "initialized");
        const r = unseal();
        assert.match(
            r.output,
            /FAILED: this unsealer is empty .* already initialised \(https:\/\/vault-0\.vault-internal\.vault\.svc\.cluster\.local\.:8200\)/,
        );
        assert.ok(!read("vault.log").includes("operator init"));
        assert.ok(!fs.existsSync(file("ready")), "never Ready: the Deployment's rollout fails with it");
        // A server that does not answer is no licence to initialise either.
        fs.writeFileSync(file("server-vault-0"), "refused");
        assert.match(unseal().output, /cannot tell whether the Vault server at https:\/\/vault-0/);
        assert.ok(!read("vault.log").includes("operator init"));
        // Servers that are themselves empty (a re-created stack): initialise.
        fs.writeFileSync(file("server-vault-0"), "fresh");
        unseal();
        assert.ok(fs.existsSync(file("ready")));
    });

    it("unseal: an initialised unsealer whose key is gone is reported, never initialised again", () => {
        fs.writeFileSync(file("u-init"), "");
        const r = unseal();
        assert.match(r.output, /initialised but .* holds no unseal key/);
        assert.ok(!read("vault.log").includes("operator init"));
        assert.ok(!fs.existsSync(file("ready")));
    });

    it("setup: creates the missing transit key while no ha server exists yet (first `up`)", () => {
        runningUnsealer();
        const r = setup();
        assert.equal(r.status, 0, r.output);
        assert.match(read("actions"), /created key/);
        assert.match(read("actions"), /create-orphan .*policies=vault-autounseal/);
        // The servers were asked without the unsealer's root token.
        for (const line of read("vault.log")
            .split("\n")
            .filter((l) => /^https:\/\/vault-[0-9]/.test(l)))
            assert.ok(!line.includes("[token]"), line);
        // A re-run changes nothing.
        fs.writeFileSync(file("actions"), "");
        assert.equal(setup().status, 0);
        assert.equal(read("actions"), "");
    });

    it("setup: waits for the unsealer, and its log names the command retried, not `timeout` (re-review 3)", () => {
        runningUnsealer();
        fs.writeFileSync(file("u-key"), "");
        fs.writeFileSync(file("u-down-once"), "");
        // retry's pause (the stand-in's sleep) succeeds here, as the real one does.
        const r = setup({ FAKE_PASSES: "100" });
        assert.equal(r.status, 0, r.output);
        assert.match(r.output, /attempt 1 of 60 failed: vault_status; retrying in 5s/);
        assert.doesNotMatch(r.output, /failed: timeout/);
    });

    it("setup: FAILS, creating nothing, when the key is missing but an ha server is initialised (the unsealer lost its data)", () => {
        runningUnsealer();
        fs.writeFileSync(file("server-vault-0"), "fresh");
        fs.writeFileSync(file("server-vault-1"), "initialized");
        const r = setup();
        assert.equal(r.status, 1, r.output);
        assert.match(
            r.output,
            /transit key vault-autounseal is missing .* already initialised \(https:\/\/vault-1\.vault-internal\.vault\.svc\.cluster\.local\.:8200\)/,
        );
        assert.match(r.output, /pulumi destroy/);
        assert.ok(!read("actions").includes("created key"), "no new key under the old name");
    });

    it("setup: a server that exists but does not answer is not taken as uninitialised", () => {
        runningUnsealer();
        fs.writeFileSync(file("server-vault-0"), "refused");
        const r = setup();
        assert.equal(r.status, 1, r.output);
        assert.match(r.output, /cannot tell whether the Vault server at https:\/\/vault-0/);
        assert.ok(!read("actions").includes("created key"));
        // With the key in place, the servers are not even asked.
        fs.writeFileSync(file("u-key"), "");
        assert.equal(setup().status, 0);
    });
});
