// The in-cluster platform layer under the Azure mocks, for dev and prod: what each chart receives,
// how the Kubernetes side is wired to the Azure side (resolved to values), and the order of creation.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { APP_SECRET_KEYS, INGRESS_TLS_SECRETS, VAULT_INIT_SECRETS } from "../components/azure/layer";
import { KEY_VAULT_SECRETS_OFFICER, KEY_VAULT_SECRETS_USER, roleDefinitionId } from "../components/azure/roles";
import { CHARTS, IMAGES } from "../components/platform/charts";
import { VAULT_INIT_SCRIPT } from "../components/platform/vaultInit";
import {
    evaluateStack,
    isSecretValue,
    plainText,
    SUBSCRIPTION,
    TENANT,
    TEST_TLS,
    TUNED,
    type Registration,
    type StackRun,
} from "./harness";

const T = {
    release: "kubernetes:helm.sh/v3:Release",
    namespace: "kubernetes:core/v1:Namespace",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    configMap: "kubernetes:core/v1:ConfigMap",
    job: "kubernetes:batch/v1:Job",
    spc: "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass",
    peerAuthentication: "kubernetes:security.istio.io/v1:PeerAuthentication",
    gateway: "kubernetes:networking.istio.io/v1:Gateway",
    k8sProvider: "pulumi:providers:kubernetes",
    identity: "azure-native:managedidentity:UserAssignedIdentity",
    fic: "azure-native:managedidentity:FederatedIdentityCredential",
    role: "azure-native:authorization:RoleAssignment",
    secret: "azure-native:keyvault:Secret",
};
const WI_CLIENT_ID = "azure.workload.identity/client-id";
const WI_USE = "azure.workload.identity/use";

/** Resources registered inside the platform layer's components (the workloads layer has its own tests). */
const inPlatform = (r: Registration) => r.urn.includes("aksplatform:platform:");

function release(run: StackRun, chart: string): Registration {
    const found = run.ofType(T.release).filter((r) => r.inputs.chart === chart);
    assert.equal(found.length, 1, `one release of chart ${chart}`);
    return found[0];
}

/** An identity component's managed identity, federated subjects and role assignments, from the mocks. */
function identity(run: StackRun, name: string) {
    const component = run.get("aksplatform:azure:WorkloadIdentity", name);
    const children = (type: string) => run.ofType(type).filter((r) => r.parent === component.urn);
    const [uami] = children(T.identity);
    const credentials = children(T.fic);
    return {
        clientId: uami.state.clientId as string,
        subjects: credentials.map((c) => c.inputs.subject as string),
        ready: [...credentials, ...children(T.role)],
        roles: children(T.role),
    };
}

const subjectOf = (namespace: string, name: string) => `system:serviceaccount:${namespace}:${name}`;

/** Fields of one `name "label" { ... }` block of an HCL string (flat `key = "value"` lines only). */
function hclBlock(hcl: string, header: string): Record<string, string> {
    const start = hcl.indexOf(`${header} {`);
    assert.ok(start >= 0, `no ${header} block in\n${hcl}`);
    const body = hcl.slice(start, hcl.indexOf("\n}", start));
    return Object.fromEntries([...body.matchAll(/^\s*(\w+)\s*=\s*"([^"]*)"/gm)].map((m) => [m[1], m[2]]));
}

for (const stack of ["dev", "prod"] as const) {
    const prod = stack === "prod";
    const appNs = `microservices-${stack}`;

    describe(`platform layer (${stack})`, () => {
        let run: StackRun;
        before(async () => {
            run = await evaluateStack(stack);
        });

        it("creates the namespaces, sidecar injection on the applications' only", () => {
            const namespaces = Object.fromEntries(
                run.ofType(T.namespace).map((n) => [n.inputs.metadata.name, n.inputs.metadata.labels ?? {}]),
            );
            assert.deepEqual(
                Object.keys(namespaces).sort(),
                ["istio-cni", "istio-ingress", "istio-system", appNs, "reloader", "vault"].sort(),
            );
            // Pod Security labels are tests/governance.test.ts's subject.
            const own = (labels: Record<string, string>) =>
                Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith("pod-security.kubernetes.io/")));
            assert.deepEqual(own(namespaces[appNs]), { "istio-injection": "enabled", "vault.hashicorp.com/agent-inject": "true" });
            assert.equal(namespaces.vault["vault.hashicorp.com/agent-inject"], undefined, "the injector never gates its own namespace");
            for (const ns of ["istio-cni", "istio-system", "istio-ingress", "reloader", "vault"])
                assert.equal(namespaces[ns]["istio-injection"], undefined, ns);
        });

        describe("charts", () => {
            // The pins themselves live in one place (components/platform/charts.ts CHARTS); what the
            // tests check is that each release installs its entry whole, atomically, into a namespace
            // the stack creates (or kube-system), not the version numbers again.
            const pins = Object.values(CHARTS);
            for (const pin of pins) {
                it(`${pin.chart}: the pinned chart, atomically, into a namespace that exists`, () => {
                    const r = release(run, pin.chart);
                    assert.deepEqual([r.inputs.repositoryOpts.repo, r.inputs.version], [pin.repo, pin.version]);
                    assert.equal(r.inputs.atomic, true);
                    const namespaces = run.ofType(T.namespace).map((n) => n.inputs.metadata.name);
                    assert.ok([...namespaces, "kube-system"].includes(r.inputs.namespace), `${pin.chart}: ${r.inputs.namespace}`);
                });
            }

            it("wait only for the releases they need: istiod for base, the gateway for istiod and the CSI driver", () => {
                const releases = run.ofType(T.release).filter(inPlatform);
                const waits = releases.flatMap((a) =>
                    releases.filter((b) => a !== b && run.dependsOn(a.urn, b.urn)).map((b) => `${a.inputs.chart} -> ${b.inputs.chart}`),
                );
                assert.deepEqual(waits.sort(), [
                    "cni -> base",
                    "gateway -> base",
                    "gateway -> cni",
                    "gateway -> csi-secrets-store-provider-azure",
                    "gateway -> istiod",
                    "istiod -> base",
                    // prod: the server's TLS volume is a CSI mount.
                    ...(prod ? ["vault -> csi-secrets-store-provider-azure"] : []),
                ]);
            });

            it("are exactly the pinned ones, one Istio version for base, istiod and gateway", () => {
                assert.deepEqual(
                    run
                        .ofType(T.release)
                        .filter(inPlatform)
                        .map((r) => r.inputs.chart)
                        .sort(),
                    pins.map((p) => p.chart).sort(),
                );
                assert.equal(
                    new Set([CHARTS.istioBase.version, CHARTS.istiod.version, CHARTS.istioGateway.version, CHARTS.istioCni.version]).size,
                    1,
                );
            });
        });

        describe("Istio", () => {
            it("declares the validating webhooks fail-closed in base and istiod, as istiod sets them at run time", () => {
                assert.deepEqual(release(run, "base").inputs.values.base, { validationFailurePolicy: "Fail" });
                assert.deepEqual(release(run, "istiod").inputs.values.base, { validationFailurePolicy: "Fail" });
                assert.equal(release(run, "base").inputs.values.defaultRevision, "default");
            });

            it(
                prod
                    ? "runs 2+ istiod replicas with a disruption budget"
                    : "runs one small istiod without a budget that would block drains",
                () => {
                    const v = release(run, "istiod").inputs.values;
                    assert.equal(v.global.istioNamespace, "istio-system");
                    assert.equal(v.autoscaleEnabled, true);
                    if (prod) {
                        assert.ok(v.replicaCount >= 2 && v.autoscaleMin >= 2, JSON.stringify(v));
                        assert.equal(v.global.defaultPodDisruptionBudget.enabled, true);
                        assert.deepEqual(v.pdb, { minAvailable: 1 });
                    } else {
                        assert.equal(v.autoscaleMin, 1);
                        assert.equal(v.global.defaultPodDisruptionBudget.enabled, false);
                    }
                },
            );

            it("gateway: labelled istio: ingressgateway, a public LoadBalancer, 2+ replicas and a budget in prod", () => {
                const v = release(run, "gateway").inputs.values;
                assert.equal(v.labels.istio, "ingressgateway");
                assert.equal(v.service.type, "LoadBalancer");
                assert.equal(v.autoscaling.enabled, true);
                assert.equal(v.autoscaling.minReplicas, prod ? 2 : 1);
                assert.deepEqual(v.podDisruptionBudget, prod ? { minAvailable: 1 } : {});
            });

            it(`mesh-wide PeerAuthentication is STRICT, created after istiod`, () => {
                const [peer] = run.ofType(T.peerAuthentication);
                assert.deepEqual(peer.inputs.metadata, { name: "default", namespace: "istio-system" });
                assert.deepEqual(peer.inputs.spec, { mtls: { mode: "STRICT" } });
                assert.ok(run.dependsOn(peer.urn, release(run, "istiod").urn));
            });

            // Issue 22 item 4. Keys from istio/istio 1.29.2: istio-discovery's injector ConfigMap picks the
            // top-level `cni` into `pilot` (templates/istiod-injector-configmap.yaml), and the injection
            // template adds istio-init with NET_ADMIN/NET_RAW unless `.Values.pilot.cni.enabled`.
            it("injects sidecars through the CNI node agent, which the meshed workloads wait for", () => {
                const v = release(run, "istiod").inputs.values;
                assert.equal(v.cni.enabled, true);
                const cni = release(run, "cni");
                assert.equal(cni.inputs.namespace, "istio-cni");
                // AKS's (and kind's) CNI paths, appended to the existing conflist (istio-cni values.yaml keys).
                assert.equal(cni.inputs.values.cniBinDir, "/opt/cni/bin");
                assert.equal(cni.inputs.values.cniConfDir, "/etc/cni/net.d");
                assert.equal(cni.inputs.values.chained, true);
                assert.equal(cni.inputs.values.ambient.enabled, false);
                assert.ok(run.dependsOn(cni.urn, release(run, "base").urn), "cni after base (Istio's order)");
                const meshed = run.ofType(T.release).filter((r) => r.inputs.namespace === appNs);
                assert.ok(meshed.length >= 2, "the services' releases");
                for (const r of meshed) assert.ok(run.dependsOn(r.urn, cni.urn), `${r.inputs.name} waits for the CNI agent`);
            });

            it("orders base -> istiod -> gateway", () => {
                const [base, istiod, gateway] = ["base", "istiod", "gateway"].map((c) => release(run, c));
                assert.ok(run.dependsOn(istiod.urn, base.urn), "istiod after base");
                assert.ok(run.dependsOn(gateway.urn, istiod.urn), "gateway after istiod");
                assert.ok(!run.dependsOn(base.urn, istiod.urn));
            });
        });

        describe("Secrets Store CSI", () => {
            it("installs the driver with rotation every 2m and secret sync", () => {
                assert.deepEqual(release(run, "csi-secrets-store-provider-azure").inputs.values, {
                    "secrets-store-csi-driver": {
                        install: true,
                        enableSecretRotation: true,
                        rotationPollInterval: "2m",
                        syncSecret: { enabled: true },
                    },
                });
            });

            it("the applications' SecretProviderClass reads the four secrets of the app vault as the app identity", () => {
                const [spc] = run.ofType(T.spc).filter((s) => s.inputs.metadata.namespace === appNs);
                const app = identity(run, "app-secrets-id");
                const p = spc.inputs.spec.parameters;
                assert.equal(spc.inputs.spec.provider, "azure");
                assert.equal(p.usePodIdentity, "false");
                assert.equal(p.clientID, app.clientId);
                assert.equal(p.keyvaultName, run.outputs.appKeyVaultName.value);
                assert.equal(p.tenantID, TENANT);
                const objects = (parse(p.objects).array as string[]).map((doc) => parse(doc));
                assert.deepEqual(objects.map((o) => o.objectName).sort(), Object.keys(APP_SECRET_KEYS).sort());
                for (const o of objects) assert.equal(o.objectType, "secret");
                assert.deepEqual(spc.inputs.spec.secretObjects, [
                    {
                        secretName: "keyvault-secrets",
                        type: "Opaque",
                        data: Object.entries(APP_SECRET_KEYS).map(([objectName, key]) => ({ objectName, key })),
                    },
                ]);
                assert.equal(run.outputs.appSecretProviderClass.value, spc.inputs.metadata.name);
            });

            it("every SecretProviderClass waits for the driver (its CRD); the driver waits for nothing of Istio or Vault", () => {
                const csi = release(run, "csi-secrets-store-provider-azure");
                for (const spc of run.ofType(T.spc)) assert.ok(run.dependsOn(spc.urn, csi.urn), spc.name);
                for (const other of ["base", "istiod", "gateway", "vault"])
                    assert.ok(!run.dependsOn(csi.urn, release(run, other).urn), other);
            });

            it("the application service accounts are exactly the app identity's subjects, annotated with its client ID", () => {
                const app = identity(run, "app-secrets-id");
                // The MongoDB backup's account lives there too, bound to its own identity (mongodb-backup.test.ts).
                const accounts = run
                    .ofType(T.serviceAccount)
                    .filter(
                        (sa) => sa.inputs.metadata.namespace === appNs && run.byUrn(sa.parent).type !== "aksplatform:workloads:MongoBackup",
                    );
                assert.deepEqual(
                    accounts.map((sa) => subjectOf(appNs, sa.inputs.metadata.name)),
                    app.subjects,
                );
                assert.deepEqual(
                    accounts.map((sa) => sa.inputs.metadata.name),
                    ["product-service", "order-service"],
                );
                for (const sa of accounts) assert.equal(sa.inputs.metadata.annotations[WI_CLIENT_ID], app.clientId);
            });
        });

        describe("ingress TLS from Key Vault", () => {
            it("keeps the PEM certificate and key as two secrets of the app vault, the key secret", () => {
                const expected = { certificate: TEST_TLS.certificate, privateKey: TEST_TLS.privateKey };
                for (const [field, secretName] of Object.entries(INGRESS_TLS_SECRETS)) {
                    const [secret] = run.ofType(T.secret).filter((s) => s.inputs.secretName === secretName);
                    assert.equal(secret.inputs.vaultName, run.outputs.appKeyVaultName.value);
                    assert.equal(secret.inputs.properties.value, expected[field as keyof typeof expected]);
                    assert.ok(isSecretValue(secret.rawInputs.properties), `${secretName} is not secret`);
                }
                // dev generates a CA and a server certificate for the host (its request names it); prod
                // takes the configured chain.
                const generated = run.ofType("tls:index/locallySignedCert:LocallySignedCert").filter((c) => c.name.startsWith("ingress-"));
                assert.equal(generated.length, prod ? 0 : 1);
                if (!prod) {
                    const request = run
                        .ofType("tls:index/certRequest:CertRequest")
                        .find((r) => r.state.certRequestPem === generated[0].inputs.certRequestPem);
                    assert.deepEqual(request?.inputs.dnsNames, ["app.dev.example.com"]);
                }
            });

            it("the ingress identity reads just those two secrets, and is federated with the gateway's service account", () => {
                const ingress = identity(run, "ingress-tls-id");
                const secretIds = Object.values(INGRESS_TLS_SECRETS).map(
                    (n) => run.ofType(T.secret).find((s) => s.inputs.secretName === n)!.id,
                );
                assert.deepEqual(ingress.roles.map((r) => r.inputs.scope).sort(), secretIds.sort());
                for (const r of ingress.roles)
                    assert.equal(r.inputs.roleDefinitionId, roleDefinitionId(SUBSCRIPTION, KEY_VAULT_SECRETS_USER));

                const gateway = release(run, "gateway");
                const sa = gateway.inputs.values.serviceAccount;
                assert.equal(sa.create, true);
                assert.deepEqual(ingress.subjects, [subjectOf(gateway.inputs.namespace, sa.name)]);
                assert.equal(sa.annotations[WI_CLIENT_ID], ingress.clientId);
                assert.equal(gateway.inputs.values.labels[WI_USE], "true");
            });

            it("a SecretProviderClass in the gateway's namespace syncs a kubernetes.io/tls Secret, mounted by the gateway pods", () => {
                const gateway = release(run, "gateway");
                const [spc] = run.ofType(T.spc).filter((s) => s.inputs.metadata.namespace === "istio-ingress");
                const p = spc.inputs.spec.parameters;
                assert.equal(p.clientID, identity(run, "ingress-tls-id").clientId);
                assert.equal(p.keyvaultName, run.outputs.appKeyVaultName.value);
                assert.equal(p.tenantID, TENANT);
                assert.deepEqual(
                    (parse(p.objects).array as string[]).map((d) => parse(d).objectName),
                    Object.values(INGRESS_TLS_SECRETS),
                );
                assert.deepEqual(spc.inputs.spec.secretObjects, [
                    {
                        secretName: "ingress-tls",
                        type: "kubernetes.io/tls",
                        data: [
                            { objectName: INGRESS_TLS_SECRETS.certificate, key: "tls.crt" },
                            { objectName: INGRESS_TLS_SECRETS.privateKey, key: "tls.key" },
                        ],
                    },
                ]);
                const [volume] = gateway.inputs.values.volumes;
                assert.deepEqual(volume.csi, {
                    driver: "secrets-store.csi.k8s.io",
                    readOnly: true,
                    volumeAttributes: { secretProviderClass: spc.inputs.metadata.name },
                });
                assert.deepEqual(
                    gateway.inputs.values.volumeMounts.map((m: { name: string }) => m.name),
                    [volume.name],
                );
                // The pods cannot start before their volume can mount.
                assert.ok(run.dependsOn(gateway.urn, spc.urn));
                for (const r of identity(run, "ingress-tls-id").ready) assert.ok(run.dependsOn(gateway.urn, r.urn), r.name);
            });

            it("the Istio Gateway serves the host with that Secret and redirects HTTP", () => {
                const [gw] = run.ofType(T.gateway);
                const host = prod ? "app.prod.example.com" : "app.dev.example.com";
                assert.deepEqual(gw.inputs.spec.selector, { istio: "ingressgateway" });
                const [https, http] = gw.inputs.spec.servers;
                assert.deepEqual(https, {
                    port: { number: 443, name: "https", protocol: "HTTPS" },
                    hosts: [host],
                    tls: { mode: "SIMPLE", credentialName: "ingress-tls" },
                });
                assert.deepEqual(http, {
                    port: { number: 80, name: "http", protocol: "HTTP" },
                    hosts: [host],
                    tls: { httpsRedirect: true },
                });
                assert.ok(run.dependsOn(gw.urn, release(run, "istiod").urn));
                assert.equal(run.outputs.ingressHost.value, host);
                assert.equal(run.outputs.ingressGatewayRef.value, `istio-ingress/${gw.inputs.metadata.name}`);
            });
        });

        describe("HashiCorp Vault", () => {
            it(`pins Vault ${IMAGES.vault.tag} (not 1.18.5) with the injector on and nothing exposed outside the cluster`, () => {
                const v = release(run, "vault").inputs.values;
                // The one pin (components/platform/charts.ts IMAGES), not the chart's default, on server and agent.
                assert.deepEqual(v.server.image, IMAGES.vault);
                assert.notEqual(v.server.image.tag, "1.18.5");
                assert.deepEqual(v.injector.agentImage, v.server.image);
                assert.equal(v.injector.enabled, true);
                assert.equal(v.ui.enabled, false);
                assert.ok(!JSON.stringify(v).includes("LoadBalancer") && !JSON.stringify(v).includes("NodePort"));
                assert.equal(v.server.dev.enabled, !prod);
                assert.equal(v.server.ha.enabled, prod);
                assert.equal(run.outputs.vaultAddress.value, `${prod ? "https" : "http"}://vault.vault.svc.cluster.local:8200`);
            });

            it("runs as the unseal identity's federated service account", () => {
                const unseal = identity(run, "vault-unseal-id");
                const vault = release(run, "vault");
                const sa = vault.inputs.values.server.serviceAccount;
                assert.deepEqual(unseal.subjects, [subjectOf(vault.inputs.namespace, sa.name)]);
                assert.equal(sa.create, true);
                if (prod) {
                    assert.equal(sa.annotations[WI_CLIENT_ID], unseal.clientId);
                    assert.deepEqual(vault.inputs.values.server.extraLabels, { [WI_USE]: "true" });
                }
            });

            if (prod) {
                it("HA: 3 raft replicas on zone-redundant disks, joining one another over TLS, auto-unsealed by the Key Vault key", () => {
                    const server = release(run, "vault").inputs.values.server;
                    assert.equal(server.ha.replicas, 3);
                    assert.equal(server.ha.raft.enabled, true);
                    assert.equal(server.ha.raft.setNodeId, true);
                    assert.equal(server.dataStorage.storageClass, "vault-premium-zrs");
                    const hcl: string = server.ha.raft.config;
                    assert.deepEqual(hclBlock(hcl, 'seal "azurekeyvault"'), {
                        tenant_id: TENANT,
                        vault_name: run.outputs.unsealKeyVaultName.value,
                        key_name: run.outputs.unsealKeyName.value,
                    });
                    assert.equal(hclBlock(hcl, 'storage "raft"').path, "/vault/data");
                    assert.deepEqual(
                        [...hcl.matchAll(/leader_api_addr = "([^"]+)"/g)].map((m) => m[1]),
                        [0, 1, 2].map((i) => `https://vault-${i}.vault-internal:8200`),
                    );
                    assert.match(hcl, /service_registration "kubernetes" \{\}/);
                    assert.doesNotMatch(hcl, /client_secret|disable_mlock/);
                });

                it("waits for the unseal identity's credential and roles and the CSI driver that mounts its TLS files, nothing of Istio", () => {
                    const vault = release(run, "vault");
                    const unseal = identity(run, "vault-unseal-id");
                    // One federated credential, the unseal key's role and one role per TLS secret.
                    assert.equal(unseal.ready.length, 5);
                    for (const r of unseal.ready) assert.ok(run.dependsOn(vault.urn, r.urn), r.name);
                    assert.ok(
                        run.dependsOn(vault.urn, release(run, "csi-secrets-store-provider-azure").urn),
                        "the TLS volume needs the driver",
                    );
                    for (const other of ["base", "istiod", "gateway"]) assert.ok(!run.dependsOn(vault.urn, release(run, other).urn), other);
                    assert.equal(vault.protect, true);
                });
            } else {
                it("dev mode: no seal, so no wait for the unseal identity", () => {
                    const vault = release(run, "vault");
                    for (const r of identity(run, "vault-unseal-id").ready) assert.ok(!run.dependsOn(vault.urn, r.urn), r.name);
                });
            }
        });

        describe("Vault initialisation", () => {
            if (!prod) {
                it("has no Job and no init identity in dev", () => {
                    assert.deepEqual(run.ofType(T.job).filter(inPlatform), []);
                    assert.equal(run.ofType("aksplatform:azure:WorkloadIdentity").filter((i) => i.name === "vault-init-id").length, 0);
                });
                return;
            }

            it("a Job in Vault's namespace runs the repository's script as the init identity", () => {
                const init = identity(run, "vault-init-id");
                const [job] = run.ofType(T.job);
                const pod = job.inputs.spec.template;
                assert.equal(job.inputs.metadata.namespace, "vault");
                assert.deepEqual(init.subjects, [subjectOf("vault", pod.spec.serviceAccountName)]);
                const [sa] = run.ofType(T.serviceAccount).filter((s) => s.inputs.metadata.name === pod.spec.serviceAccountName);
                assert.equal(sa.inputs.metadata.namespace, "vault");
                assert.equal(sa.inputs.metadata.annotations[WI_CLIENT_ID], init.clientId);
                assert.equal(pod.metadata.labels[WI_USE], "true");
                assert.equal(pod.metadata.labels["sidecar.istio.io/inject"], "false");

                const script = run.ofType(T.configMap).find((c) => c.urn.includes("VaultInitJob"))!;
                assert.ok(pod.spec.volumes.some((v: any) => v.configMap?.name === script.state.metadata.name));
                assert.equal(script.inputs.data["vault-init.sh"], fs.readFileSync(VAULT_INIT_SCRIPT, "utf8"));
                assert.equal(
                    script.inputs.data["lib.sh"],
                    fs.readFileSync(path.join(path.dirname(VAULT_INIT_SCRIPT), "lib.sh"), "utf8"),
                    "the lib it sources",
                );
                const steps = [...pod.spec.initContainers, ...pod.spec.containers];
                assert.deepEqual(
                    steps.map((c: any) => [c.name, c.image, c.command]),
                    [
                        ["preflight", IMAGES.azureCli, ["/bin/sh", "/scripts/vault-init.sh", "preflight"]],
                        ["init", "docker.io/hashicorp/vault:1.21.2", ["/bin/sh", "/scripts/vault-init.sh", "init"]],
                        ["store", IMAGES.azureCli, ["/bin/sh", "/scripts/vault-init.sh", "store"]],
                    ],
                );
                const env = (name: string) =>
                    Object.fromEntries(steps.find((c: any) => c.name === name).env.map((e: any) => [e.name, e.value]));
                assert.equal(env("store").KEY_VAULT_NAME, run.outputs.unsealKeyVaultName.value);
                assert.equal(env("store").ROOT_TOKEN_SECRET, undefined, "no root token is stored");
                assert.equal(env("store").RECOVERY_KEYS_SECRET, VAULT_INIT_SECRETS.recoveryKeys);
                assert.equal(
                    env("init").VAULT_PEERS,
                    [0, 1, 2].map((i) => `https://vault-${i}.vault-internal.vault.svc.cluster.local:8200`).join(" "),
                );
                assert.deepEqual([env("init").RECOVERY_SHARES, env("init").RECOVERY_THRESHOLD], ["5", "3"]);
                assert.equal(pod.spec.restartPolicy, "OnFailure");
                assert.ok(pod.spec.volumes.some((v: any) => v.name === "work" && v.emptyDir?.medium === "Memory"));
            });

            it("the init identity may write only the two placeholder secrets, which keep the Job's value", () => {
                const init = identity(run, "vault-init-id");
                const placeholders = Object.values(VAULT_INIT_SECRETS).map((n) =>
                    run.ofType(T.secret).find((s) => s.inputs.secretName === n)!,
                );
                for (const p of placeholders) {
                    assert.equal(p.inputs.vaultName, run.outputs.unsealKeyVaultName.value);
                    assert.deepEqual(p.ignoreChanges, ["properties"]);
                    assert.equal(p.protect, true);
                }
                assert.deepEqual(init.roles.map((r) => r.inputs.scope).sort(), placeholders.map((p) => p.id).sort());
                for (const r of init.roles)
                    assert.equal(r.inputs.roleDefinitionId, roleDefinitionId(SUBSCRIPTION, KEY_VAULT_SECRETS_OFFICER));
            });

            it("runs after the Vault release and the init identity's credentials and roles", () => {
                const [job] = run.ofType(T.job);
                assert.ok(run.dependsOn(job.urn, release(run, "vault").urn));
                for (const r of identity(run, "vault-init-id").ready) assert.ok(run.dependsOn(job.urn, r.urn), r.name);
            });
        });

        it("puts no secret into Helm values, and into Kubernetes objects only as Pulumi secrets", () => {
            const secrets = [
                TEST_TLS.privateKey,
                ...run.ofType("random:index/randomPassword:RandomPassword").map((p) => p.state.result as string),
            ];
            for (const r of run.resources.filter((r) => r.type.startsWith("kubernetes:"))) {
                // A secret may sit in a Kubernetes Secret, wrapped so that state and diffs hide it.
                const text = plainText(r.rawInputs);
                for (const secret of secrets) assert.ok(!text.includes(secret), `${r.type} ${r.name} carries a plaintext secret`);
                // devRootToken may only be emptied (the chart's default is "root"; the token comes from a Secret).
                assert.doesNotMatch(text, /PRIVATE KEY|"devRootToken": *"[^"]|hvs\./, `${r.type} ${r.name}`);
                // Helm stores values in the release Secret and shows them in `helm get values`: no secret at all.
                if (r.type === T.release)
                    assert.ok(!plainText(r.rawInputs.values).includes("[secret]"), `${r.name}: a secret in Helm values`);
            }
        });

        it("exports the gateway's Service and namespace", () => {
            assert.equal(run.outputs.ingressGatewayService.value, "istio-ingressgateway");
            assert.equal(run.outputs.ingressGatewayNamespace.value, release(run, "gateway").inputs.namespace);
            assert.equal(run.outputs.appNamespace.value, appNs);
        });
    });
}

describe("platform layer options", () => {
    it("dev may run the mesh PERMISSIVE and poll Key Vault at another interval", async () => {
        const run = await evaluateStack("dev", TUNED.dev);
        assert.deepEqual(run.ofType(T.peerAuthentication)[0].inputs.spec, { mtls: { mode: "PERMISSIVE" } });
        assert.equal(
            release(run, "csi-secrets-store-provider-azure").inputs.values["secrets-store-csi-driver"].rotationPollInterval,
            "90s",
        );
    });

    it("dev with a configured certificate stores it instead of generating one", async () => {
        assert.equal(TUNED.dev["ingress.tlsCertificate"], TEST_TLS.certificate);
        const run = await evaluateStack("dev", TUNED.dev);
        assert.deepEqual(run.ofType("tls:index/selfSignedCert:SelfSignedCert"), []);
        assert.deepEqual(run.ofType("tls:index/privateKey:PrivateKey"), []);
        const key = run.ofType(T.secret).find((s) => s.inputs.secretName === INGRESS_TLS_SECRETS.privateKey)!;
        assert.equal(key.inputs.properties.value, TEST_TLS.privateKey);
        assert.ok(isSecretValue(key.rawInputs.properties));
    });
});
