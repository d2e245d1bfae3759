// The workload components on their own under the mocks: MongoDB and the two services as index.ts
// would wire them, for dev and prod.
import { strict as assert } from "assert";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { APP_SECRET_KEYS } from "../components/azure/layer";
import { appNamespace, type Environment } from "../components/config";
import { Microservice, MICROSERVICE_CHART_DIR, sizingFor, vaultMongoTemplate } from "../components/workloads/microservice";
import { MONGO_IMAGE, MONGO_SECRET_KEYS, MongoDb, mongoStorageFor } from "../components/workloads/mongodb";
import { plainText, evaluate, isSecretValue, type Registration, type StackRun, TEST_KUBECONFIG as KUBECONFIG } from "./harness";

const T = {
    provider: "pulumi:providers:kubernetes",
    release: "kubernetes:helm.sh/v3:Release",
    secret: "kubernetes:core/v1:Secret",
    service: "kubernetes:core/v1:Service",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    storageClass: "kubernetes:storage.k8s.io/v1:StorageClass",
    configMap: "kubernetes:core/v1:ConfigMap",
    password: "random:index/randomPassword:RandomPassword",
    microservice: "aksplatform:workloads:Microservice",
    mongo: "aksplatform:workloads:MongoDb",
};
const SERVICES = ["product-service", "order-service"] as const;
const VAULT_NAMESPACE = "vault";

/** The workloads as index.ts wires them: MongoDB first, the services after it and Vault's setup. */
function workloads(environment: Environment, rootPassword?: pulumi.Input<string>) {
    return () => {
        const provider = new k8s.Provider("k8s", { kubeconfig: KUBECONFIG });
        const namespace = appNamespace(environment);
        const password =
            rootPassword ?? new random.RandomPassword("mongo-root", { length: 32, special: true, overrideSpecial: "-_.~" }).result;
        const storage = mongoStorageFor(environment);
        const mongo = new MongoDb("mongodb", {
            provider,
            namespace,
            rootPassword: password,
            storageClassName: storage.storageClassName,
            zoneRedundantStorage: storage.zoneRedundant,
            storageSize: storage.size,
            vaultNamespace: VAULT_NAMESPACE,
            retainOnDelete: environment === "prod",
        });
        // Stands in for the Vault configuration Job, which the services must wait for.
        const vaultConfig = new k8s.core.v1.ConfigMap("vault-config", { metadata: { namespace: VAULT_NAMESPACE } }, { provider });
        const services = SERVICES.map(
            (serviceName) =>
                new Microservice(
                    serviceName,
                    {
                        provider,
                        namespace,
                        serviceName,
                        serviceAccountName: serviceName,
                        imageRepository: `contoso/${serviceName}`,
                        imageTag: environment === "prod" ? "v1.0.0" : "dev-306466e",
                        sizing: sizingFor(environment),
                        mongoHost: mongo.host,
                        secretProviderClass: "app-secrets",
                        seedData: environment === "dev",
                    },
                    { dependsOn: [mongo, vaultConfig] },
                ),
        );
        return { mongoHost: mongo.host, productHost: services[0].host };
    };
}

const childOf = (run: StackRun, parent: Registration, type: string) => run.ofType(type).filter((r) => r.parent === parent.urn);

for (const environment of ["dev", "prod"] as const) {
    describe(`workloads (${environment})`, () => {
        const namespace = appNamespace(environment);
        let run: StackRun;
        before(async () => {
            run = await evaluate(environment, {}, workloads(environment));
        });

        it("puts every Kubernetes resource on the explicit provider", () => {
            const provider = run.get(T.provider, "k8s");
            const kube = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
            assert.ok(kube.length >= 8, `found ${kube.length}`);
            for (const r of kube) assert.equal(r.provider, provider.urn, `${r.type} ${r.name}`);
        });

        describe("services", () => {
            for (const serviceName of SERVICES) {
                it(`${serviceName}: a release of the repo's chart, sized per the lab's table`, () => {
                    const component = run.get(T.microservice, serviceName);
                    const [release] = childOf(run, component, T.release);
                    assert.ok(release, "release is a child of the component");
                    assert.equal(path.resolve(release.inputs.chart), MICROSERVICE_CHART_DIR);
                    assert.equal(release.inputs.chart, "./charts/microservice", "relative, the same on every machine");
                    assert.equal(release.inputs.name, serviceName);
                    assert.equal(release.inputs.namespace, namespace);
                    assert.equal(release.inputs.atomic, true);

                    const v = release.inputs.values;
                    assert.equal(v.fullnameOverride, serviceName);
                    assert.deepEqual(v.image, {
                        repository: `contoso/${serviceName}`,
                        tag: environment === "prod" ? "v1.0.0" : "dev-306466e",
                    });
                    if (environment === "dev") {
                        assert.equal(v.replicaCount, 1);
                        assert.deepEqual(v.autoscaling, { enabled: false });
                        assert.deepEqual(v.resources.limits, { cpu: "250m", memory: "128Mi" });
                    } else {
                        assert.deepEqual(v.autoscaling, {
                            enabled: true,
                            minReplicas: 3,
                            maxReplicas: 10,
                            targetCPUUtilizationPercentage: 70,
                        });
                        assert.deepEqual(v.resources.limits, { cpu: "500m", memory: "256Mi" });
                    }
                    assert.equal(v.seedData, environment === "dev");
                });

                it(`${serviceName}: Vault agent, workload identity, CSI and keyvault-secrets wiring`, () => {
                    const [release] = childOf(run, run.get(T.microservice, serviceName), T.release);
                    const v = release.inputs.values;
                    assert.deepEqual(v.serviceAccount, { create: false, name: serviceName });
                    // The injector webhook's objectSelector label (vault-helm templates/injector-mutating-webhook.yaml sees labels only).
                    assert.deepEqual(v.podLabels, {
                        "azure.workload.identity/use": "true",
                        "vault.hashicorp.com/agent-inject": "true",
                        version: "v1",
                    });
                    const mongoHost = `mongodb.${namespace}.svc.cluster.local`;
                    assert.deepEqual(v.podAnnotations, {
                        "vault.hashicorp.com/agent-inject": "true",
                        "vault.hashicorp.com/role": serviceName,
                        "vault.hashicorp.com/agent-inject-secret-mongodb": "database/creds/microservices-role",
                        "vault.hashicorp.com/agent-inject-template-mongodb": vaultMongoTemplate(mongoHost),
                        "traffic.sidecar.istio.io/excludeOutboundPorts": "8200",
                    });
                    assert.match(
                        v.podAnnotations["vault.hashicorp.com/agent-inject-template-mongodb"],
                        new RegExp(`@${mongoHost.replace(/\./g, "\\.")}:27017/microservices\\?authSource=admin\n`),
                    );
                    assert.deepEqual(v.secretsStore, {
                        enabled: true,
                        secretProviderClass: "app-secrets",
                        secretName: "keyvault-secrets",
                        restartOnRotation: true,
                        secretKeys: Object.values(APP_SECRET_KEYS),
                    });
                });

                it(`${serviceName}: created only after MongoDB and the Vault configuration`, () => {
                    const [release] = childOf(run, run.get(T.microservice, serviceName), T.release);
                    assert.ok(run.dependsOn(release.urn, run.get(T.statefulSet, "mongodb").urn), "waits for the StatefulSet");
                    assert.ok(run.dependsOn(release.urn, run.get(T.configMap, "vault-config").urn), "waits for the Vault configuration");
                });
            }

            it("exports each service's in-cluster host", () => {
                assert.equal(run.outputs.productHost.value, `product-service.${namespace}.svc.cluster.local`);
            });
        });

        describe("MongoDB", () => {
            it("runs the pinned official 7.0 image as the mongodb user, read-only root, no capabilities", () => {
                const sts = run.get(T.statefulSet, "mongodb");
                assert.equal(sts.inputs.metadata.namespace, namespace);
                assert.equal(sts.inputs.spec.replicas, 1);
                const pod = sts.inputs.spec.template.spec;
                const [c] = pod.containers;
                assert.equal(c.image, MONGO_IMAGE);
                assert.match(MONGO_IMAGE, /^docker\.io\/library\/mongo:7\.0\.\d+$/);
                assert.deepEqual(
                    { ...pod.securityContext },
                    {
                        runAsNonRoot: true,
                        runAsUser: 999,
                        runAsGroup: 999,
                        fsGroup: 999,
                        fsGroupChangePolicy: "OnRootMismatch",
                        supplementalGroups: [999],
                        seccompProfile: { type: "RuntimeDefault" },
                    },
                );
                assert.deepEqual(c.securityContext, {
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ["ALL"] },
                });
                assert.ok(c.resources.limits.memory && c.resources.requests.cpu);
                assert.equal(pod.automountServiceAccountToken, false);
                assert.deepEqual(
                    c.volumeMounts.map((m: any) => m.mountPath),
                    ["/data/db", "/tmp", "/data/configdb"],
                );
            });

            it("probes readiness and liveness with a mongosh ping", () => {
                const [c] = run.get(T.statefulSet, "mongodb").inputs.spec.template.spec.containers;
                for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
                    assert.deepEqual(c[probe].exec.command, ["mongosh", "--quiet", "--eval", "db.adminCommand('ping')"], probe);
                }
            });

            it("claims its volume per environment", () => {
                const sts = run.get(T.statefulSet, "mongodb");
                const [claim] = sts.inputs.spec.volumeClaimTemplates;
                assert.equal(claim.metadata.name, "data");
                assert.deepEqual(claim.spec.accessModes, ["ReadWriteOnce"]);
                if (environment === "dev") {
                    assert.equal(claim.spec.storageClassName, undefined, "cluster default class");
                    assert.equal(run.ofType(T.storageClass).length, 0);
                    assert.equal(claim.spec.resources.requests.storage, "1Gi");
                    assert.deepEqual(sts.inputs.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Delete", whenScaled: "Retain" });
                } else {
                    // A zone-redundant Premium SSD class of its own, kept with its disks.
                    const zrs = run.get(T.storageClass, "mongodb-zrs").inputs;
                    assert.equal(claim.spec.storageClassName, zrs.metadata.name);
                    assert.equal(zrs.metadata.name, "mongodb-premium-zrs");
                    assert.equal(zrs.provisioner, "disk.csi.azure.com");
                    assert.equal(zrs.parameters.skuName, "Premium_ZRS");
                    assert.equal(zrs.reclaimPolicy, "Retain");
                    assert.equal(zrs.volumeBindingMode, "WaitForFirstConsumer");
                    assert.equal(run.get(T.storageClass, "mongodb-zrs").retainOnDelete, true);
                    assert.equal(claim.spec.resources.requests.storage, "4Gi");
                    assert.deepEqual(sts.inputs.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Retain", whenScaled: "Retain" });
                }
            });

            it("has a headless Service for the StatefulSet and a ClusterIP Service for clients, both on 27017", () => {
                const sts = run.get(T.statefulSet, "mongodb");
                const headless = run.get(T.service, "mongodb-headless");
                const client = run.get(T.service, "mongodb");
                assert.equal(headless.inputs.spec.clusterIP, "None");
                assert.equal(sts.inputs.spec.serviceName, "mongodb-headless");
                assert.equal(client.inputs.metadata.name, "mongodb");
                assert.equal(client.inputs.spec.type, "ClusterIP");
                for (const svc of [headless, client]) {
                    assert.equal(svc.inputs.metadata.namespace, namespace);
                    assert.equal(svc.inputs.spec.ports[0].port, 27017);
                    assert.deepEqual(svc.inputs.spec.selector, sts.inputs.spec.selector.matchLabels);
                }
                assert.equal(run.outputs.mongoHost.value, `mongodb.${namespace}.svc.cluster.local`);
            });

            it("admits only the application namespace and Vault's server, on 27017", () => {
                const policy = run.get(T.networkPolicy, "mongodb-ingress");
                const sts = run.get(T.statefulSet, "mongodb");
                assert.equal(policy.inputs.metadata.namespace, namespace);
                assert.deepEqual(policy.inputs.spec.podSelector.matchLabels, sts.inputs.spec.selector.matchLabels);
                assert.deepEqual(policy.inputs.spec.policyTypes, ["Ingress"]);
                assert.deepEqual(policy.inputs.spec.ingress, [
                    {
                        from: [
                            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } },
                            // Only Vault's server (its database secrets engine): vault-helm v0.32.0's server pod labels.
                            {
                                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": VAULT_NAMESPACE } },
                                podSelector: { matchLabels: { "app.kubernetes.io/name": "vault", component: "server" } },
                            },
                        ],
                        ports: [{ protocol: "TCP", port: 27017 }],
                    },
                ]);
            });

            it("keeps the root password secret from end to end", () => {
                const password = run.get(T.password, "mongo-root").state.result as string;
                assert.ok(password.length >= 16);
                const secret = run.get(T.secret, "mongodb-root");
                const stringData = secret.rawInputs.stringData;
                assert.ok(isSecretValue(stringData) || isSecretValue(stringData[MONGO_SECRET_KEYS.password]), "password input is a secret");
                assert.equal(secret.inputs.stringData[MONGO_SECRET_KEYS.password], password);
                // The StatefulSet references the Secret; nothing else carries the value.
                const [c] = run.get(T.statefulSet, "mongodb").inputs.spec.template.spec.containers;
                assert.deepEqual(c.env.find((e: any) => e.name === "MONGO_INITDB_ROOT_PASSWORD").valueFrom.secretKeyRef, {
                    name: "mongodb-root",
                    key: MONGO_SECRET_KEYS.password,
                });
                for (const r of run.resources.filter((r) => r.type !== T.password)) {
                    assert.ok(!plainText(r.rawInputs).includes(password), `${r.type} ${r.name} carries the password in plaintext`);
                }
                for (const [name, output] of Object.entries(run.outputs)) {
                    assert.ok(!JSON.stringify(output.value ?? "").includes(password), `output ${name}`);
                }
            });

            it(environment === "prod" ? "retains every MongoDB object when the stack is destroyed" : "is deleted with the stack", () => {
                const mongo = run.get(T.mongo, "mongodb");
                // Every object under MongoDb, through its components: Secret, two Services, StatefulSet,
                // NetworkPolicy; and prod's zone-redundant StorageClass.
                const under = (urn: string): typeof run.resources =>
                    run.resources.filter((r) => r.parent === urn).flatMap((r) => [r, ...under(r.urn)]);
                const children = under(mongo.urn).filter((r) => r.custom);
                assert.equal(children.length, environment === "prod" ? 6 : 5);
                for (const r of children) assert.equal(r.retainOnDelete, environment === "prod", `${r.type} ${r.name}`);
            });
        });
    });
}

describe("MongoDb", () => {
    it("makes the root password secret even when it arrives as a plain value", async () => {
        const run = await evaluate("dev", {}, workloads("dev", pulumi.output("plain-text-password")));
        const secret = run.get(T.secret, "mongodb-root");
        assert.ok(isSecretValue(secret.rawInputs.stringData) || isSecretValue(secret.rawInputs.stringData.password));
        for (const r of run.resources) {
            assert.ok(!plainText(r.rawInputs).includes("plain-text-password"), `${r.type} ${r.name}`);
        }
    });
});

describe("sizingFor", () => {
    it("is the lab's table", () => {
        assert.deepEqual(sizingFor("dev"), {
            replicas: 1,
            requests: { cpu: "50m", memory: "64Mi" },
            limits: { cpu: "250m", memory: "128Mi" },
        });
        assert.deepEqual(sizingFor("prod"), {
            replicas: 3,
            autoscaling: { minReplicas: 3, maxReplicas: 10, targetCPUUtilizationPercentage: 70 },
            requests: { cpu: "100m", memory: "128Mi" },
            limits: { cpu: "500m", memory: "256Mi" },
        });
    });
});
