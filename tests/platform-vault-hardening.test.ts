// Issue 11 on the evaluated prod and dev plans: Vault's TLS (the certificate's names, the CSI delivery,
// the listener and retry_join), no root token anywhere in prod, the bootstrap and audit device, the zone
// spread and disruption budgets, the zone-redundant raft storage, and the config that is refused.
import { strict as assert } from "assert";
import { VAULT_TLS_SECRETS, vaultServerNames } from "../components/azure/vaultTls";
import {
    vaultBootstrapPolicies,
    VAULT_BOOTSTRAP_ROLES,
    VAULT_CONFIGURE_POLICY,
    VAULT_SNAPSHOT_POLICY,
} from "../components/platform/vaultPolicies";
import { STORAGE_BLOB_DATA_CONTRIBUTOR, roleDefinitionId } from "../components/azure/roles";
import { evaluateStack, itRejectsConfig, plainText, SUBSCRIPTION, TUNED, type StackRun } from "./harness";

const T = {
    release: "kubernetes:helm.sh/v3:Release",
    spc: "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass",
    csr: "tls:index/certRequest:CertRequest",
    signed: "tls:index/locallySignedCert:LocallySignedCert",
    selfSigned: "tls:index/selfSignedCert:SelfSignedCert",
    kvSecret: "azure-native:keyvault:Secret",
    secret: "kubernetes:core/v1:Secret",
    job: "kubernetes:batch/v1:Job",
    configMap: "kubernetes:core/v1:ConfigMap",
    storageClass: "kubernetes:storage.k8s.io/v1:StorageClass",
    identity: "azure-native:managedidentity:UserAssignedIdentity",
} as const;

const vaultValues = (run: StackRun) => run.ofType(T.release).find((r) => r.inputs.chart === "vault")!.inputs.values;
const hclOf = (run: StackRun): string => vaultValues(run).server.ha.raft.config;

describe("Vault, production grade (prod)", () => {
    let run: StackRun;
    before(async () => {
        run = await evaluateStack("prod");
    });

    it("signs a server certificate with the internal CA whose SANs are every Service, every pod and their namespace forms", () => {
        const [csr] = run.ofType(T.csr);
        const names: string[] = csr.inputs.dnsNames;
        for (const host of [
            "vault",
            "vault-active",
            "vault-internal",
            "vault-0.vault-internal",
            "vault-1.vault-internal",
            "vault-2.vault-internal",
        ]) {
            for (const form of [host, `${host}.vault`, `${host}.vault.svc`, `${host}.vault.svc.cluster.local`])
                assert.ok(names.includes(form), form);
        }
        assert.deepEqual(names, vaultServerNames("vault", "vault", 3));
        assert.deepEqual(csr.inputs.ipAddresses, ["127.0.0.1"], "the CLI inside each pod dials https://127.0.0.1:8200");
        const [signed] = run.ofType(T.signed);
        const ca = run.ofType(T.selfSigned).find((c) => c.inputs.isCaCertificate)!;
        assert.equal(signed.inputs.caCertPem, ca.state.certPem);
        // Renewed by the in-cluster CronJob only (tests/vault-tls-renewal.test.ts), never by `pulumi up`.
        assert.ok(!signed.inputs.earlyRenewalHours, "pulumi up never re-issues it");
        assert.ok(signed.inputs.allowedUses.includes("server_auth"));
    });

    it("keeps the key material as Key Vault secrets of Vault's own vault, the key secret, and no key in any Helm value", () => {
        for (const secretName of Object.values(VAULT_TLS_SECRETS)) {
            const secret = run.ofType(T.kvSecret).find((s) => s.inputs.secretName === secretName)!;
            assert.equal(secret.inputs.vaultName, run.outputs.unsealKeyVaultName.value, secretName);
        }
        const key = run.ofType(T.kvSecret).find((s) => s.inputs.secretName === VAULT_TLS_SECRETS.privateKey)!;
        assert.ok(plainText(key.rawInputs).includes("[secret]"), "the private key is a Pulumi secret");
        for (const release of run.ofType(T.release))
            assert.doesNotMatch(JSON.stringify(release.inputs.values), /PRIVATE KEY/, release.name);
    });

    it("delivers them through the CSI driver as Vault's own identity, with no synced Kubernetes Secret", () => {
        const spc = run.ofType(T.spc).find((s) => s.inputs.metadata.name === "vault-tls")!;
        assert.equal(spc.inputs.metadata.namespace, "vault");
        const unseal = run.ofType(T.identity).find((i) => i.name === "vault-unseal-id")!;
        assert.equal(spc.inputs.spec.parameters.clientID, unseal.state.clientId);
        assert.equal(spc.inputs.spec.parameters.keyvaultName, run.outputs.unsealKeyVaultName.value);
        for (const name of Object.values(VAULT_TLS_SECRETS))
            assert.match(spc.inputs.spec.parameters.objects, new RegExp(`objectName: ${name}\\n`));
        assert.equal(spc.inputs.spec.secretObjects, undefined, "no Kubernetes Secret holds the key");
        const server = vaultValues(run).server;
        assert.deepEqual(server.volumes, [
            {
                name: "tls",
                csi: { driver: "secrets-store.csi.k8s.io", readOnly: true, volumeAttributes: { secretProviderClass: "vault-tls" } },
            },
        ]);
        assert.deepEqual(server.volumeMounts, [{ name: "tls", mountPath: "/vault/userconfig/tls", readOnly: true }]);
        assert.deepEqual(server.extraEnvironmentVars, { VAULT_CACERT: "/vault/userconfig/tls/vault-tls-ca" });
    });

    it("turns TLS on: tlsDisable false, the listener serves the mounted pair, every retry_join verifies the leader with the CA", () => {
        assert.equal(vaultValues(run).global.tlsDisable, false);
        const hcl = hclOf(run);
        const listener = hcl.slice(hcl.indexOf('listener "tcp"'), hcl.indexOf("}", hcl.indexOf('listener "tcp"')));
        assert.doesNotMatch(listener, /tls_disable/);
        assert.match(listener, /tls_cert_file\s+= "\/vault\/userconfig\/tls\/vault-tls-crt"/);
        assert.match(listener, /tls_key_file\s+= "\/vault\/userconfig\/tls\/vault-tls-key"/);
        assert.match(listener, /tls_min_version = "tls12"/);
        const joins = [...hcl.matchAll(/retry_join \{([^}]*)\}/g)].map((m) => m[1]);
        assert.equal(joins.length, 3);
        joins.forEach((join, i) => {
            assert.match(join, new RegExp(`leader_api_addr = "https://vault-${i}\\.vault-internal:8200"`));
            assert.match(join, /leader_ca_cert_file = "\/vault\/userconfig\/tls\/vault-tls-ca"/);
        });
    });

    it("the agents, the Jobs and the stack's addresses verify against the CA", () => {
        for (const ns of ["vault", "microservices-prod"]) {
            const ca = run.ofType(T.secret).find((s) => s.inputs.metadata.name === "vault-ca" && s.inputs.metadata.namespace === ns)!;
            assert.ok(ca, ns);
            assert.equal(ca.inputs.stringData["ca.crt"], run.ofType(T.selfSigned).find((c) => c.inputs.isCaCertificate)!.state.certPem);
        }
        for (const service of ["product-service", "order-service"]) {
            const annotations = run.ofType(T.release).find((r) => r.name === service)!.inputs.values.podAnnotations;
            assert.equal(annotations["vault.hashicorp.com/tls-secret"], "vault-ca");
            assert.equal(annotations["vault.hashicorp.com/ca-cert"], "/vault/tls/ca.crt");
            assert.equal(annotations["vault.hashicorp.com/tls-skip-verify"], undefined);
            assert.equal(annotations["vault.hashicorp.com/agent-service-account-token-volume-name"], "vault-token");
            assert.equal(run.ofType(T.release).find((r) => r.name === service)!.inputs.values.vaultAgent.tokenAudience, "vault");
        }
        for (const job of run.ofType(T.job)) {
            const pod = job.inputs.spec.template.spec;
            for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
                const env = Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value]));
                if (env.VAULT_ADDR || env.VAULT_PEERS) assert.equal(env.VAULT_CACERT, "/vault/ca/ca.crt", `${job.name}/${c.name}`);
            }
        }
        assert.match(run.outputs.vaultAddress.value, /^https:\/\//);
    });

    it("every Kubernetes-auth role sets an audience: the services' roles require the agents' projected token's", () => {
        const job = run.ofType(T.job).find((j) => j.urn.includes("VaultDatabaseConfig"))!;
        const env = Object.fromEntries(job.inputs.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
        assert.equal(env.APP_TOKEN_AUDIENCE, "vault");
    });

    it("holds no root token: no Key Vault secret, Kubernetes Secret, SecretProviderClass or env carries one", () => {
        assert.equal(run.ofType(T.kvSecret).filter((s) => /root-token/.test(s.inputs.secretName)).length, 0);
        assert.equal(run.ofType(T.secret).filter((s) => /root-token/.test(s.inputs.metadata.name ?? "")).length, 0);
        assert.equal(run.ofType(T.spc).filter((s) => /root-token/.test(plainText(s.inputs))).length, 0);
        for (const r of run.resources.filter((r) => r.type.startsWith("kubernetes:"))) {
            assert.doesNotMatch(JSON.stringify(r.inputs), /"name":"VAULT_TOKEN"|ROOT_TOKEN/, `${r.type} ${r.name}`);
        }
    });

    it("the init Job bootstraps the four least-privilege roles with Vault's token audience and ships their policies", () => {
        const init = run.ofType(T.job).find((j) => j.urn.includes("VaultInitJob"))!;
        const pod = init.inputs.spec.template.spec;
        const env = Object.fromEntries(pod.initContainers.find((c: any) => c.name === "init").env.map((e: any) => [e.name, e.value]));
        assert.equal(
            env.BOOTSTRAP_ROLES,
            "vault-configure:vault-configure vault-snapshot:vault-snapshot vault-operator:vault-operator vault-sync:vault-sync",
        );
        assert.equal(env.TOKEN_AUDIENCE, "vault");
        assert.equal(env.ROLE_NAMESPACE, "vault");
        const script = run.ofType(T.configMap).find((c) => c.urn.includes("VaultInitJob"))!;
        for (const [policy, text] of Object.entries(vaultBootstrapPolicies("vault")))
            assert.equal(script.inputs.data[`${policy}.hcl`], text);
        assert.ok(script.inputs.data["vault-bootstrap.sh"].includes("vault token revoke -self"));
        assert.ok(script.inputs.data["vault-bootstrap.sh"].includes("vault audit enable -path=stdout file file_path=stdout"));
    });

    it("spreads the voters across zones (ScheduleAnyway: a lost zone never keeps a replacement Pending), never two on a node, one voter and one injector down at most, on Premium_ZRS disks", () => {
        const v = vaultValues(run);
        assert.deepEqual(v.server.topologySpreadConstraints, [
            {
                maxSkew: 1,
                topologyKey: "topology.kubernetes.io/zone",
                whenUnsatisfiable: "ScheduleAnyway",
                labelSelector: {
                    matchLabels: { "app.kubernetes.io/name": "vault", "app.kubernetes.io/instance": "vault", component: "server" },
                },
            },
        ]);
        // The chart's own default (vault-helm 0.32.0 values.yaml server.affinity), pinned.
        assert.deepEqual(v.server.affinity, {
            podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                    {
                        labelSelector: {
                            matchLabels: { "app.kubernetes.io/name": "vault", "app.kubernetes.io/instance": "vault", component: "server" },
                        },
                        topologyKey: "kubernetes.io/hostname",
                    },
                ],
            },
        });
        assert.deepEqual(v.server.ha.disruptionBudget, { enabled: true, maxUnavailable: 1 });
        assert.equal(v.injector.replicas, 2);
        assert.deepEqual(v.injector.podDisruptionBudget, { maxUnavailable: 1 });
        assert.equal(v.injector.topologySpreadConstraints[0].labelSelector.matchLabels.component, "webhook");
        const sc = run.ofType(T.storageClass).find((s) => s.inputs.metadata.name === v.server.dataStorage.storageClass)!;
        assert.equal(sc.inputs.provisioner, "disk.csi.azure.com");
        assert.equal(sc.inputs.parameters.skuName, "Premium_ZRS");
        assert.equal(sc.inputs.volumeBindingMode, "WaitForFirstConsumer");
        assert.equal(sc.inputs.reclaimPolicy, "Retain");
        const release = run.ofType(T.release).find((r) => r.inputs.chart === "vault")!;
        assert.ok(run.dependsOn(release.urn, sc.urn));
    });

    it("snapshots: the CronJob's service account, the identity's federated subject, its role and scope, and the container agree", () => {
        const cron = run.ofType("kubernetes:batch/v1:CronJob").find((c) => c.urn.includes("VaultSnapshotCronJob"))!;
        assert.equal(cron.inputs.metadata.namespace, "vault");
        assert.equal(cron.inputs.spec.schedule, "0 */6 * * *");
        assert.equal(cron.inputs.spec.concurrencyPolicy, "Forbid");
        const pod = cron.inputs.spec.jobTemplate.spec.template;
        const saName = pod.spec.serviceAccountName;
        assert.equal(saName, VAULT_BOOTSTRAP_ROLES.snapshot.serviceAccount, "the Vault role is bound to this service account");
        assert.equal(pod.metadata.labels["azure.workload.identity/use"], "true");
        const identity = run.ofType(T.identity).find((i) => i.name === "vault-snapshot-id")!;
        const sa = run.ofType("kubernetes:core/v1:ServiceAccount").find((a) => a.inputs.metadata.name === saName)!;
        assert.equal(sa.inputs.metadata.namespace, "vault");
        assert.equal(sa.inputs.metadata.annotations["azure.workload.identity/client-id"], identity.state.clientId);
        const credentials = run
            .ofType("azure-native:managedidentity:FederatedIdentityCredential")
            .filter((c) => c.name.startsWith("vault-snapshot-id-"));
        assert.deepEqual(
            credentials.map((c) => c.inputs.subject),
            [`system:serviceaccount:vault:${saName}`],
        );
        const roles = run.ofType("azure-native:authorization:RoleAssignment").filter((r) => r.name.startsWith("vault-snapshot-id-"));
        assert.equal(roles.length, 1);
        assert.equal(roles[0].inputs.principalId, identity.state.principalId);
        assert.equal(roles[0].inputs.roleDefinitionId, roleDefinitionId(SUBSCRIPTION, STORAGE_BLOB_DATA_CONTRIBUTOR));
        const container = run.ofType("azure-native:storage:BlobContainer").find((c) => c.inputs.containerName === "vault-snapshots")!;
        assert.equal(roles[0].inputs.scope, container.id, "scoped to the one container, not the account");
        const account = run.ofType("azure-native:storage:StorageAccount")[0];
        assert.equal(account.inputs.allowSharedKeyAccess, false);
        const env = (name: string, containers: any[]) =>
            Object.fromEntries(containers.find((c) => c.name === name).env.map((e: any) => [e.name, e.value]));
        const upload = env("upload", pod.spec.containers);
        assert.equal(upload.STORAGE_ACCOUNT, account.inputs.accountName);
        assert.equal(upload.STORAGE_CONTAINER, "vault-snapshots");
        const save = env("save", pod.spec.initContainers);
        assert.equal(save.VAULT_AUTH_ROLE, VAULT_BOOTSTRAP_ROLES.snapshot.role);
        assert.equal(save.VAULT_ADDR, "https://vault-active.vault.svc.cluster.local:8200");
        assert.equal(save.VAULT_CACERT, "/vault/ca/ca.crt");
        const token = pod.spec.volumes.find((v: any) => v.name === "vault-token").projected.sources[0].serviceAccountToken;
        assert.equal(token.audience, "vault");
        const init = run.ofType(T.job).find((j) => j.urn.includes("VaultInitJob"))!;
        assert.ok(run.dependsOn(cron.urn, init.urn), "after the init Job that creates its Vault role");
        for (const r of credentials.concat(roles)) assert.ok(run.dependsOn(cron.urn, r.urn), r.name);
    });

    it("snapshots: schedule and retention come from config", async () => {
        const other = await evaluateStack("prod", TUNED.prod);
        const cron = other.ofType("kubernetes:batch/v1:CronJob").find((c) => c.urn.includes("VaultSnapshotCronJob"))!;
        assert.equal(cron.inputs.spec.schedule, "15 2 * * *");
        const rules = JSON.stringify(other.ofType("azure-native:storage:ManagementPolicy")[0].inputs.policy);
        assert.match(rules, /"vault-snapshots\/"/);
        assert.match(rules, /"daysAfterCreationGreaterThan":90/);
    });

    it("five voters from config: five replicas, five retry_joins, five pod names in the certificate", async () => {
        const five = await evaluateStack("prod", TUNED.prod);
        assert.equal(TUNED.prod["vault.voters"], 5);
        assert.equal(vaultValues(five).server.ha.replicas, 5);
        assert.equal([...hclOf(five).matchAll(/retry_join/g)].length, 5);
        assert.ok(
            five
                .ofType(T.csr)
                .find((r) => r.name === "vault-tls-server")!
                .inputs.dnsNames.includes("vault-4.vault-internal.vault.svc.cluster.local"),
        );
    });
});

describe("Vault, production grade (dev)", () => {
    it("dev-mode server: http (its listener is built by `vault server -dev`), no certificate, no spread or PDB", async () => {
        const run = await evaluateStack("dev");
        const v = vaultValues(run);
        assert.equal(v.global.tlsDisable, true);
        // (The ingress gateway's generated certificate has a request of its own: not Vault's.)
        assert.equal(run.ofType(T.csr).filter((r) => r.name.startsWith("vault-")).length, 0);
        assert.equal(run.ofType(T.spc).filter((s) => s.inputs.metadata.name === "vault-tls").length, 0);
        assert.deepEqual(v.server.topologySpreadConstraints, []);
        assert.deepEqual(v.server.ha.disruptionBudget, { enabled: false });
        assert.equal(run.ofType(T.storageClass).filter((s) => s.urn.includes("ZoneRedundantStorageClass::vault")).length, 0);
        assert.equal(
            run.ofType("kubernetes:batch/v1:CronJob").filter((c) => c.urn.includes("VaultSnapshotCronJob")).length,
            0,
            "no snapshots of an in-memory server",
        );
        assert.equal(run.ofType(T.identity).filter((i) => i.name === "vault-snapshot-id").length, 0);
    });
});

describe("Vault policies", () => {
    it("the configuration's policy cannot touch the bootstrapped roles or policies, and the snapshot policy reads snapshots only", () => {
        for (const role of Object.values(VAULT_BOOTSTRAP_ROLES).map((r) => r.role)) {
            assert.match(VAULT_CONFIGURE_POLICY, new RegExp(`path "auth/kubernetes/role/${role}" \\{\\n  capabilities = \\["deny"\\]`));
            assert.match(VAULT_CONFIGURE_POLICY, new RegExp(`path "sys/policies/acl/${role}" \\{\\n  capabilities = \\["deny"\\]`));
        }
        assert.doesNotMatch(VAULT_CONFIGURE_POLICY, /"delete"|"list"|database\/creds|path "\*"|sys\/raw|sys\/storage/);
        assert.equal(VAULT_SNAPSHOT_POLICY, 'path "sys/storage/raft/snapshot" {\n  capabilities = ["read"]\n}\n');
    });
});

describe("Vault config that is refused", () => {
    itRejectsConfig([
        { name: "TLS off in prod", stack: "prod", raw: { "vault.tlsEnabled": false }, expect: ["vault.tlsEnabled", "false", "prod"] },
        { name: "one voter in prod", stack: "prod", raw: { "vault.voters": 1 }, expect: ["vault.voters", "1", "3, 5"] },
        { name: "four voters", stack: "prod", raw: { "vault.voters": 4 }, expect: ["vault.voters", "4", "3, 5"] },
        {
            name: "a weekly snapshot schedule (the staleness alert looks back at most 48 hours)",
            stack: "prod",
            raw: { "vault.snapshotSchedule": "0 3 * * 1" },
            expect: ["vault.snapshotSchedule", "0 3 * * 1", "168 hours", "at least once every 24 hours"],
        },
        {
            name: "keeping no snapshot",
            stack: "prod",
            raw: { "vault.snapshotKeepLast": 0 },
            expect: ["vault.snapshotKeepLast", "0"],
        },
        {
            name: "a snapshot schedule that is not cron",
            stack: "prod",
            raw: { "vault.snapshotSchedule": "hourly" },
            expect: ["vault.snapshotSchedule", "hourly", "five fields"],
        },
        {
            name: "no snapshot retention",
            stack: "prod",
            raw: { "vault.snapshotRetentionDays": 0 },
            expect: ["vault.snapshotRetentionDays", "0", "1 to 3650"],
        },
    ]);
});
