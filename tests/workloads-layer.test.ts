// The workloads layer as index.ts composes it, for dev and prod: what each piece is wired to across
// the Azure and platform layers, and what waits for what.
import { strict as assert } from "assert";
import { ARGOCD, evaluateStack, plainText, type Registration, type StackRun } from "./harness";

const T = {
    release: "kubernetes:helm.sh/v3:Release",
    job: "kubernetes:batch/v1:Job",
    secret: "kubernetes:core/v1:Secret",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    spc: "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass",
    virtualService: "kubernetes:networking.istio.io/v1:VirtualService",
    gateway: "kubernetes:networking.istio.io/v1:Gateway",
    application: "kubernetes:argoproj.io/v1alpha1:Application",
    kvSecret: "azure-native:keyvault:Secret",
    password: "random:index/randomPassword:RandomPassword",
    fic: "azure-native:managedidentity:FederatedIdentityCredential",
};
const SERVICES = ["product-service", "order-service"] as const;

const serviceRelease = (run: StackRun, name: string): Registration => {
    const found = run.ofType(T.release).filter((r) => r.inputs.name === name);
    assert.equal(found.length, 1, `one release ${name}`);
    return found[0];
};
/** What configures Vault: a Job (prod, a Vault with storage) or the reconciling Deployment (dev mode). */
const configJob = (run: StackRun): Registration => {
    const found = [...run.ofType(T.job), ...run.ofType("kubernetes:apps/v1:Deployment")].filter((r) =>
        r.urn.includes("VaultDatabaseConfig"),
    );
    assert.equal(found.length, 1);
    return found[0];
};
const envOf = (job: Registration) =>
    Object.fromEntries(job.inputs.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

for (const stack of ["dev", "prod"] as const) {
    describe(`workloads layer (${stack})`, () => {
        const appNs = `microservices-${stack}`;
        let run: StackRun;
        before(async () => {
            run = await evaluateStack(stack);
        });

        it("runs each service as the service account its federated credential names", () => {
            const subjects = run.ofType(T.fic).map((f) => f.inputs.subject);
            for (const name of SERVICES) {
                const values = serviceRelease(run, name).inputs.values;
                assert.equal(values.serviceAccount.create, false);
                assert.equal(values.serviceAccount.name, name);
                assert.ok(subjects.includes(`system:serviceaccount:${appNs}:${name}`), name);
                const sa = run
                    .ofType(T.serviceAccount)
                    .find((s) => s.inputs.metadata.name === name && s.inputs.metadata.namespace === appNs);
                assert.ok(sa, `service account ${name} exists`);
            }
        });

        it("deploys the images from the stack's own registry with the lab's sizing", () => {
            // dev builds its images and deploys the digest; prod imports the configured tag
            // (tests/service-images.test.ts covers both in depth).
            const loginServer = run.ofType("azure-native:containerregistry:Registry")[0].state.loginServer;
            for (const name of SERVICES) {
                const values = serviceRelease(run, name).inputs.values;
                const tag = stack === "prod" ? "v1.0.0" : run.get("docker-build:index:Image", `images-${name}`).state.digest;
                assert.deepEqual(values.image, { repository: `${loginServer}/${name}`, tag });
                assert.equal(values.resources.limits.cpu, stack === "prod" ? "500m" : "250m");
                assert.equal(values.autoscaling.enabled, stack === "prod");
                assert.equal(values.seedData, stack === "dev");
                assert.equal(values.secretsStore.secretProviderClass, run.outputs.appSecretProviderClass.value);
            }
        });

        it("starts the services only after Vault's database engine is configured and MongoDB runs", () => {
            const job = configJob(run);
            const mongo = run.ofType(T.statefulSet).find((s) => s.urn.includes("MongoDb"))!;
            for (const name of SERVICES) {
                const release = serviceRelease(run, name);
                assert.ok(run.dependsOn(release.urn, job.urn), `${name} after the Vault config Job`);
                assert.ok(run.dependsOn(release.urn, mongo.urn), `${name} after MongoDB`);
            }
        });

        it("configures Vault after the Vault release (and its initialisation in prod) and MongoDB", () => {
            const job = configJob(run);
            const vault = run.ofType(T.release).find((r) => r.inputs.chart === "vault")!;
            assert.ok(run.dependsOn(job.urn, vault.urn));
            assert.ok(run.dependsOn(job.urn, run.ofType(T.statefulSet).find((s) => s.urn.includes("MongoDb"))!.urn));
            const init = run.ofType(T.job).find((j) => j.urn.includes("VaultInitJob"));
            assert.equal(Boolean(init), stack === "prod");
            if (init) assert.ok(run.dependsOn(job.urn, init.urn), "after the init Job");
        });

        it("points Vault's database engine at this MongoDB with its generated root password, never in plain text", () => {
            const env = envOf(configJob(run));
            // Writes go to the leader: vault-active in ha mode (only the unsealed leader), the one pod in dev.
            assert.equal(
                env.VAULT_ADDR,
                stack === "prod" ? "https://vault-active.vault.svc.cluster.local:8200" : run.outputs.vaultAddress.value,
            );
            assert.equal(env.MONGO_HOST, `mongodb.${appNs}.svc.cluster.local`);
            assert.deepEqual(env.DEFAULT_TTL, "1h");
            assert.deepEqual(env.MAX_TTL, "24h");
            assert.equal(env.APP_NAMESPACE, appNs);
            assert.equal(env.SERVICES, "product-service:product-service order-service:order-service");
            const password = run.get(T.password, "app-secrets-mongodb-root-password").state.result;
            const kv = run.ofType(T.kvSecret).find((s) => s.inputs.secretName === "mongodb-root-password")!;
            assert.equal(kv.inputs.properties.value, password, "the root password is also kept in Key Vault");
            for (const r of run.resources.filter((r) => r.type.startsWith("kubernetes:"))) {
                assert.ok(!plainText(r.rawInputs).includes(password), `${r.type} ${r.name} has the MongoDB password in plain text`);
            }
        });

        if (stack === "dev") {
            it("uses the dev server's root token from a Kubernetes Secret", () => {
                const env = envOf(configJob(run));
                assert.deepEqual(env.VAULT_TOKEN, { secretKeyRef: { name: "vault-dev-root-token", key: "token" } });
                assert.equal(run.ofType(T.spc).filter((s) => s.inputs.metadata.name === "vault-root-token").length, 0);
            });
        } else {
            it("logs in through Kubernetes auth with a projected Vault-audience token, verifying the CA; no token anywhere", () => {
                const job = configJob(run);
                const env = envOf(job);
                assert.equal(env.VAULT_TOKEN, undefined, "no token in the Job's env");
                assert.equal(env.VAULT_AUTH_ROLE, "vault-configure");
                assert.equal(env.VAULT_AUTH_JWT_FILE, "/var/run/secrets/vault/token");
                assert.equal(env.VAULT_CACERT, "/vault/ca/ca.crt");
                const pod = job.inputs.spec.template.spec;
                assert.equal(pod.serviceAccountName, "vault-configure");
                assert.equal(pod.automountServiceAccountToken, false);
                const projected = pod.volumes.find((v: any) => v.name === "vault-token").projected.sources[0].serviceAccountToken;
                assert.deepEqual(projected, { audience: "vault", expirationSeconds: 600, path: "token" });
                assert.equal(pod.volumes.find((v: any) => v.name === "vault-ca").secret.secretName, "vault-ca");
                assert.equal(run.ofType(T.spc).filter((s) => s.inputs.metadata.name === "vault-root-token").length, 0);
                const sa = run.ofType("kubernetes:core/v1:ServiceAccount").find((a) => a.inputs.metadata.name === "vault-configure")!;
                assert.equal(sa.inputs.metadata.namespace, "vault");
                assert.ok(run.dependsOn(job.urn, sa.urn));
            });
        }

        it(`${stack === "prod" ? "keeps" : "does not keep"} MongoDB's and Vault's namespaces when the stack is destroyed`, () => {
            const kept = run
                .ofType("kubernetes:core/v1:Namespace")
                .filter((n) => n.retainOnDelete)
                .map((n) => n.inputs.metadata.name)
                .sort();
            assert.deepEqual(kept, stack === "prod" ? [appNs, "vault"] : []);
            const mongo = run.ofType(T.statefulSet).find((s) => s.urn.includes("MongoDb"))!;
            assert.equal(mongo.retainOnDelete, stack === "prod");
        });

        it("routes the API through the platform's gateway", () => {
            // The services' route, in their namespace (prod also has the gateway's own health route in istio-ingress).
            const routes = run.ofType(T.virtualService).filter((v) => v.inputs.metadata.namespace === run.outputs.appNamespace.value);
            assert.equal(routes.length, 1);
            const vs = routes[0];
            assert.deepEqual(vs.inputs.spec.gateways, [run.outputs.ingressGatewayRef.value]);
            assert.deepEqual(vs.inputs.spec.hosts, [run.outputs.ingressHost.value]);
            // Per prefix, its POST route (never replayed) before the route of every other method.
            assert.deepEqual(
                vs.inputs.spec.http.map((h: any) => `${h.match[0].method?.exact ?? "*"} ${h.match[0].uri.prefix}`),
                ["POST /api/products", "* /api/products", "POST /api/orders", "* /api/orders"],
            );
            assert.equal(run.ofType(T.gateway).length, 1, "one Gateway: the platform's");
        });
    });
}

describe("workloads layer with Argo CD", () => {
    let run: StackRun;
    before(async () => {
        run = await evaluateStack("dev", ARGOCD);
    });

    it("hands the services to Argo CD instead of deploying them as releases", () => {
        const charts = run.ofType(T.release).map((r) => r.inputs.chart);
        assert.ok(charts.includes("argo-cd"));
        assert.equal(run.ofType(T.release).filter((r) => SERVICES.includes(r.inputs.name)).length, 0);
        const app = run.ofType(T.application).find((a) => a.inputs.spec.source.path === "argocd/apps/dev")!;
        assert.equal(app.inputs.spec.source.repoURL, ARGOCD["argocd.repoUrl"]);
        assert.equal(app.inputs.spec.source.targetRevision, "main");
        assert.ok(run.dependsOn(app.urn, configJob(run).urn), "Argo CD syncs only once Vault can issue credentials");
    });

    it("passes the cluster facts from the graph, not typed by hand", () => {
        const clusterSecret = run.ofType(T.secret).find((s) => s.inputs.metadata.labels?.["argocd.argoproj.io/secret-type"] === "cluster")!;
        const facts = JSON.stringify(clusterSecret.inputs.metadata.annotations);
        const appClientId = run.outputs.appSecretsIdentity.value.clientId;
        assert.ok(facts.includes(appClientId), "the app identity's client ID");
        assert.ok(facts.includes(run.outputs.appKeyVaultName.value), "the app Key Vault name");
        assert.ok(facts.includes("microservices-dev"));
    });

    it("requires a repository when switched on", async () => {
        await assert.rejects(evaluateStack("dev", { "argocd.enabled": true }), /argocd\.repoUrl: is not set but argocd\.enabled is true/);
    });
});
