// VaultDatabaseConfig on its own under the mocks: the Job's wiring, the script it runs, and the script
// itself (syntax and shellcheck).
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { appNamespace } from "../components/config";
import { IMAGES } from "../components/platform/charts";
import {
    configHash,
    VAULT_CONFIGURE_SCRIPT,
    VaultDatabaseConfig,
    type VaultDatabaseConfigArgs,
} from "../components/workloads/vaultDatabase";
import { plainText, evaluate, isSecretValue, type Registration, type StackRun, TEST_KUBECONFIG as KUBECONFIG } from "./harness";
import { skipVisibly } from "./externalTools";

const T = {
    provider: "pulumi:providers:kubernetes",
    job: "kubernetes:batch/v1:Job",
    configMap: "kubernetes:core/v1:ConfigMap",
    secret: "kubernetes:core/v1:Secret",
    component: "aksplatform:workloads:VaultDatabaseConfig",
};
const PASSWORD = "s3cret-Mongo-Root-Password";
const VAULT_ADDR = "http://vault.vault.svc.cluster.local:8200";
const TOKEN_SECRET = { name: "vault-config-token", key: "token" };

function program(namespace: string, overrides: Partial<VaultDatabaseConfigArgs> = {}, opts?: pulumi.ComponentResourceOptions) {
    return () => {
        const provider = new k8s.Provider("k8s", { kubeconfig: KUBECONFIG });
        const config = new VaultDatabaseConfig(
            "vault-db",
            {
                provider,
                vaultNamespace: "vault",
                vaultAddress: VAULT_ADDR,
                auth: { kind: "token", secret: TOKEN_SECRET },
                mongoHost: pulumi.output(`mongodb.${namespace}.svc.cluster.local`),
                mongoUsername: "root",
                mongoPassword: pulumi.secret(PASSWORD),
                appNamespace: namespace,
                services: [
                    { role: "product-service", serviceAccount: "product-service" },
                    { role: "order-service", serviceAccount: "order-service" },
                ],
                ...overrides,
            },
            opts,
        );
        return { jobName: config.jobName };
    };
}

const envOf = (job: Registration) => {
    const [c] = job.inputs.spec.template.spec.containers;
    return new Map<string, any>(c.env.map((e: any) => [e.name, e]));
};

for (const environment of ["dev", "prod"] as const) {
    describe(`VaultDatabaseConfig (${environment})`, () => {
        const namespace = appNamespace(environment);
        let run: StackRun;
        let job: Registration;
        before(async () => {
            run = await evaluate(environment, {}, program(namespace));
            job = run.ofType(T.job)[0];
        });

        it("puts every Kubernetes resource under the component, in Vault's namespace", () => {
            const component = run.get(T.component, "vault-db");
            const kube = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
            assert.equal(kube.length, 3);
            for (const r of kube) {
                assert.equal(r.parent, component.urn, `${r.type} ${r.name}`);
                assert.equal(r.inputs.metadata.namespace, "vault", `${r.type} ${r.name}`);
            }
            assert.deepEqual(
                run.resources
                    .filter((r) => r.type.startsWith("kubernetes:"))
                    .map((r) => r.name)
                    .sort(),
                ["vault-db", "vault-db-mongo", "vault-db-script"],
            );
        });

        it("runs the script from a ConfigMap holding exactly the file, in the platform's Vault image", () => {
            const map = run.get(T.configMap, "vault-db-script");
            assert.equal(map.inputs.data["vault-configure.sh"], fs.readFileSync(VAULT_CONFIGURE_SCRIPT, "utf8"));
            assert.equal(map.inputs.data["lib.sh"], fs.readFileSync(path.join(path.dirname(VAULT_CONFIGURE_SCRIPT), "lib.sh"), "utf8"));
            const pod = job.inputs.spec.template.spec;
            const [c] = pod.containers;
            assert.equal(c.image, `${IMAGES.vault.repository}:${IMAGES.vault.tag}`, "the Vault server's own image");
            assert.match(IMAGES.vault.tag, /^1\.\d+\.\d+$/, "a pinned 1.x release");
            assert.deepEqual(c.command, ["/bin/sh", "/scripts/vault-configure.sh"]);
            const scriptVolume = pod.volumes.find((v: any) => v.name === "script");
            assert.equal(map.inputs.metadata.name, job.inputs.metadata.name, "named with the Job's hash");
            assert.equal(scriptVolume.configMap.name, job.inputs.metadata.name);
            assert.equal(scriptVolume.configMap.defaultMode, 0o555);
            assert.deepEqual(
                c.volumeMounts.find((m: any) => m.name === "script"),
                { name: "script", mountPath: "/scripts", readOnly: true },
            );
        });

        it("passes Vault's address, the token and MongoDB's host and credentials by reference", () => {
            const env = envOf(job);
            assert.equal(env.get("VAULT_ADDR").value, VAULT_ADDR);
            assert.deepEqual(env.get("VAULT_TOKEN").valueFrom, { secretKeyRef: TOKEN_SECRET });
            assert.equal(env.get("MONGO_HOST").value, `mongodb.${namespace}.svc.cluster.local`);
            assert.equal(env.get("MONGO_PORT").value, "27017");
            const mongoSecret = run.get(T.secret, "vault-db-mongo");
            const secretName = mongoSecret.inputs.metadata.name;
            assert.equal(secretName, "vault-db-mongo");
            assert.deepEqual(env.get("MONGO_USERNAME").valueFrom, { secretKeyRef: { name: secretName, key: "username" } });
            assert.deepEqual(env.get("MONGO_PASSWORD").valueFrom, { secretKeyRef: { name: secretName, key: "password" } });
            for (const e of env.values()) assert.ok(!("value" in e) || e.value !== PASSWORD, e.name);
        });

        it("keeps the MongoDB password out of the Job and secret in its own Secret", () => {
            assert.ok(!JSON.stringify(job.inputs).includes(PASSWORD), "not in the Job spec");
            const mongoSecret = run.get(T.secret, "vault-db-mongo");
            assert.ok(isSecretValue(mongoSecret.rawInputs.stringData.password) || isSecretValue(mongoSecret.rawInputs.stringData));
            assert.ok(!plainText(mongoSecret.rawInputs).includes(PASSWORD), "never in the clear in state");
            assert.equal(mongoSecret.inputs.stringData.password, PASSWORD);
            assert.equal(mongoSecret.inputs.stringData.username, "root");
        });

        it("passes role names, TTLs, database and the services' bindings to the script", () => {
            const env = envOf(job);
            assert.equal(env.get("DB_ROLE").value, "microservices-role");
            assert.equal(env.get("DB_NAME").value, "microservices");
            assert.equal(env.get("DEFAULT_TTL").value, "1h");
            assert.equal(env.get("MAX_TTL").value, "24h");
            assert.equal(env.get("APP_NAMESPACE").value, namespace);
            assert.equal(env.get("SERVICES").value, "product-service:product-service order-service:order-service");
        });

        it("runs outside the mesh, non-root, read-only, limited, bounded in retries and lifetime", () => {
            const spec = job.inputs.spec;
            const pod = spec.template.spec;
            const [c] = pod.containers;
            assert.equal(spec.template.metadata.labels["sidecar.istio.io/inject"], "false");
            assert.equal(pod.securityContext.runAsNonRoot, true);
            assert.ok(pod.securityContext.runAsUser > 0);
            assert.equal(pod.automountServiceAccountToken, false);
            assert.equal(pod.restartPolicy, "Never");
            assert.deepEqual(c.securityContext, {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
            });
            assert.deepEqual(c.resources.limits, { cpu: "200m", memory: "128Mi" });
            assert.ok(c.resources.requests.cpu);
            assert.equal(spec.backoffLimit, 4);
            // Never deleted behind Pulumi's back: a refresh would drop it and the next up re-run it.
            assert.equal(spec.ttlSecondsAfterFinished, undefined);
            assert.deepEqual(job.inputs.metadata.annotations, { "pulumi.com/replaceUnready": "true" });
            assert.equal(c.terminationMessagePolicy, "FallbackToLogsOnError");
            assert.ok(spec.activeDeadlineSeconds > 0);
        });

        it("names the Job after a hash of the script and settings, and replaces it on change", () => {
            assert.match(job.inputs.metadata.name, /^vault-db-[0-9a-f]{10}$/);
            assert.equal(run.outputs.jobName.value, job.inputs.metadata.name);
        });
    });
}

describe("VaultDatabaseConfig: re-running on change", () => {
    const jobName = async (overrides: Partial<VaultDatabaseConfigArgs>) => {
        const run = await evaluate("dev", {}, program("microservices-dev", overrides));
        return run.ofType(T.job)[0].inputs.metadata.name as string;
    };

    it("keeps the Job name when nothing changes, changes it when a TTL, role or host does", async () => {
        const base = await jobName({});
        assert.equal(await jobName({}), base, "stable: an unchanged program does not re-run the Job");
        assert.notEqual(await jobName({ maxTtl: "48h" }), base);
        assert.notEqual(await jobName({ services: [{ role: "product-service", serviceAccount: "products" }] }), base);
        assert.notEqual(await jobName({ mongoHost: "mongo.other.svc.cluster.local" }), base);
    });

    it("does not put the password into the name", async () => {
        assert.equal(await jobName({ mongoPassword: pulumi.secret("another-password") }), await jobName({}));
    });

    it("hashes the script content", () => {
        const settings = {
            script: "a",
            image: "i",
            vaultAddress: "v",
            mongoHost: "h",
            mongoPort: 27017,
            mongoUsername: "root",
            appNamespace: "n",
            services: [],
            database: "d",
            dbRole: "r",
            defaultTtl: "1h",
            maxTtl: "24h",
            auth: "token:t/k",
            caSecret: "",
            appTokenAudience: "",
        };
        assert.notEqual(configHash(settings), configHash({ ...settings, script: "b" }));
        assert.equal(configHash(settings), configHash({ ...settings }));
    });

    it("marks the Job replace-on-change", async () => {
        // The registration record has no replaceOnChanges; a transformation sees the options.
        const seen: pulumi.CustomResourceOptions[] = [];
        const record: pulumi.ResourceTransformation = (a) => {
            if (a.type === T.job) seen.push(a.opts);
            return undefined;
        };
        await evaluate("dev", {}, program("microservices-dev", {}, { transformations: [record] }));
        assert.equal(seen.length, 1);
        assert.deepEqual(seen[0].replaceOnChanges, ["spec"]);
        assert.equal(seen[0].customTimeouts?.create, "20m");
    });
});

describe("scripts/vault-configure.sh", () => {
    const script = fs.readFileSync(VAULT_CONFIGURE_SCRIPT, "utf8");

    it("parses with bash -n and, as it runs in the Vault image's busybox sh, with a POSIX sh -n", function () {
        const bash = spawnSync("bash", ["-n", VAULT_CONFIGURE_SCRIPT], { encoding: "utf8" });
        if (bash.error) skipVisibly(this, "bash is not installed");
        assert.equal(bash.status, 0, bash.stderr);
        const sh = spawnSync("sh", ["-n", VAULT_CONFIGURE_SCRIPT], { encoding: "utf8" });
        if (!sh.error) assert.equal(sh.status, 0, sh.stderr);
    });

    it("does what the issue asks, idempotently", () => {
        assert.match(script, /^#!\/bin\/sh\n/);
        assert.match(script, /^set -eu$/m);
        // Checks before enabling, so a second run does not fail on "path is already in use".
        assert.match(script, /if mounted auth kubernetes; then[\s\S]*?vault auth enable kubernetes/);
        assert.match(script, /if mounted secrets database; then[\s\S]*?vault secrets enable -path=database database/);
        assert.match(script, /kubernetes_host="https:\/\/\$\{KUBERNETES_SERVICE_HOST\}:\$\{KUBERNETES_SERVICE_PORT\}"/);
        assert.match(script, /plugin_name=mongodb-database-plugin/);
        assert.match(script, /allowed_roles="\$DB_ROLE"/);
        assert.ok(script.includes('connection_url="mongodb://{{username}}:{{password}}@${MONGO_HOST}:${MONGO_PORT}/admin"'));
        // The password reaches vault on stdin, never as an argument.
        assert.match(script, /printf '%s' "\$MONGO_PASSWORD" \| vault write/);
        assert.match(script, /password=- /);
        assert.ok(script.includes('{\\"role\\": \\"readWrite\\", \\"db\\": \\"${DB_NAME}\\"}'));
        assert.match(script, /default_ttl="\$DEFAULT_TTL"/);
        assert.match(script, /max_ttl="\$MAX_TTL"/);
        assert.match(script, /path "database\/creds\/%s" \{\\n  capabilities = \["read"\]\\n\}/);
        assert.match(script, /bound_service_account_names="\$2"/);
        assert.match(script, /bound_service_account_namespaces="\$APP_NAMESPACE"/);
        assert.match(script, /token_policies="\$1"/);
        // Waits for an unsealed Vault (`vault status` exits 0 only then).
        assert.match(script, /retry "\$WAIT_ATTEMPTS" "\$WAIT_SECONDS" unsealed/);
    });
});
