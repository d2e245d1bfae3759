// MongoDB that loses no data, on the evaluated stacks: prod's one member on a zone-redundant disk,
// scheduled dumps to the stack's backup storage through a workload identity (no account key), the
// identity's federated subject and the CronJob's service account from one binding, the role scoped to
// exactly the mongodb container, the Vault connection matching the topology, and bad config rejected
// before anything is registered.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { checkCronSchedule, parseConfig } from "../components/config";
import { MONGO_BACKUP_CONTAINER } from "../components/azure/layer";
import { STORAGE_BLOB_DATA_CONTRIBUTOR } from "../components/azure/roles";
import { federatedSubject } from "../components/azure/workloadIdentity";
import {
    DUMP_CONTAINER,
    MONGO_BACKUP_SCRIPT,
    MONGO_BACKUP_SCRIPT_FILE,
    MONGO_BACKUP_UPLOAD_IMAGE,
} from "../components/workloads/mongoBackup";
import { MONGO_DATABASE } from "../components/workloads/microservice";
import { MONGO_IMAGE, MONGO_SECRET_KEYS } from "../components/workloads/mongodb";
import { VAULT_CONFIGURE_SCRIPT } from "../components/workloads/vaultDatabase";
import {
    evaluateStack,
    EvaluationError,
    itRejectsConfig,
    PROJECT,
    ROOT,
    stackRaw,
    TUNED,
    type Registration,
    type StackRun,
} from "./harness";

const T = {
    cronJob: "kubernetes:batch/v1:CronJob",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    configMap: "kubernetes:core/v1:ConfigMap",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    storageClass: "kubernetes:storage.k8s.io/v1:StorageClass",
    job: "kubernetes:batch/v1:Job",
    deployment: "kubernetes:apps/v1:Deployment",
    identityComponent: "aksplatform:azure:WorkloadIdentity",
    uami: "azure-native:managedidentity:UserAssignedIdentity",
    fic: "azure-native:managedidentity:FederatedIdentityCredential",
    role: "azure-native:authorization:RoleAssignment",
    container: "azure-native:storage:BlobContainer",
    account: "azure-native:storage:StorageAccount",
    policy: "azure-native:storage:ManagementPolicy",
};

const env = (container: any, name: string) => container.env.find((e: any) => e.name === name);
const childrenOf = (run: StackRun, parent: Registration, type: string) => run.ofType(type).filter((r) => r.parent === parent.urn);

for (const stack of ["dev", "prod"] as const) {
    describe(`MongoDB backups (${stack})`, () => {
        const cfg = parseConfig(stackRaw(stack), PROJECT, stack);
        const appNs = `microservices-${stack}`;
        let run: StackRun;
        let cronJob: Registration;
        let pod: any;
        before(async () => {
            run = await evaluateStack(stack);
            cronJob = run.get(T.cronJob, "mongodb-backup");
            pod = cronJob.inputs.spec.jobTemplate.spec.template;
        });

        it("runs on the configured schedule, in UTC, one at a time, without catching up a burst of missed runs", async () => {
            assert.equal(cronJob.inputs.spec.schedule, cfg.mongo.backup?.schedule);
            assert.equal(cronJob.inputs.metadata.namespace, appNs);
            assert.equal(cronJob.inputs.spec.timeZone, "Etc/UTC");
            assert.equal(cronJob.inputs.spec.concurrencyPolicy, "Forbid");
            assert.ok(cronJob.inputs.spec.startingDeadlineSeconds > 0);
            const other = await evaluateStack(stack, TUNED[stack]);
            assert.equal(other.get(T.cronJob, "mongodb-backup").inputs.spec.schedule, "15 4 * * 1-5");
        });

        it("dumps with the server's own image as an init step, then uploads with the pinned curl image", () => {
            const [dump] = pod.spec.initContainers;
            const [upload] = pod.spec.containers;
            assert.equal(dump.name, DUMP_CONTAINER);
            assert.equal(dump.image, MONGO_IMAGE);
            assert.deepEqual(dump.command, ["/bin/sh", `/scripts/${MONGO_BACKUP_SCRIPT_FILE}`, "dump"]);
            assert.equal(upload.image, MONGO_BACKUP_UPLOAD_IMAGE);
            assert.match(upload.image, /^docker\.io\/curlimages\/curl:\d+\.\d+\.\d+$/, "a pinned release");
            assert.deepEqual(upload.command, ["/bin/sh", `/scripts/${MONGO_BACKUP_SCRIPT_FILE}`, "upload"]);
            assert.equal(pod.spec.restartPolicy, "Never");
            // Both steps see the same scratch volume.
            for (const c of [dump, upload]) {
                assert.ok(c.volumeMounts.some((m: any) => m.name === "backup" && m.mountPath === env(c, "BACKUP_DIR").value));
                assert.equal(c.securityContext.readOnlyRootFilesystem, true);
            }
        });

        it("mounts the script from scripts/ with lib.sh", () => {
            const map = run.get(T.configMap, "mongodb-backup-script");
            assert.equal(map.inputs.data[MONGO_BACKUP_SCRIPT_FILE], fs.readFileSync(MONGO_BACKUP_SCRIPT, "utf8"));
            assert.ok(map.inputs.data["lib.sh"]);
            const volume = pod.spec.volumes.find((v: any) => v.name === "script");
            assert.equal(volume.configMap.name, map.inputs.metadata.name);
        });

        it("dumps MongoDB's client Service with the credentials of its root Secret", () => {
            const [dump] = pod.spec.initContainers;
            const mongoSecret = run.get("kubernetes:core/v1:Secret", "mongodb-root");
            assert.equal(env(dump, "MONGO_HOST").value, `mongodb.${appNs}.svc.cluster.local`);
            assert.deepEqual(env(dump, "MONGO_USERNAME").valueFrom.secretKeyRef, {
                name: mongoSecret.inputs.metadata.name,
                key: MONGO_SECRET_KEYS.username,
            });
            assert.deepEqual(env(dump, "MONGO_PASSWORD").valueFrom.secretKeyRef, {
                name: mongoSecret.inputs.metadata.name,
                key: MONGO_SECRET_KEYS.password,
            });
            // The first run waits for MongoDB itself (dependsOn a component waits for its children).
            assert.ok(run.dependsOn(cronJob.urn, run.get(T.statefulSet, "mongodb").urn));
        });

        it("uploads to the mongodb container of the stack's backup account, which keeps each dump the configured days", async () => {
            const account = run.ofType(T.account);
            assert.equal(account.length, 1);
            const container = run.get(T.container, `backups-${MONGO_BACKUP_CONTAINER}`);
            const [upload] = pod.spec.containers;
            assert.equal(
                env(upload, "BLOB_CONTAINER_URL").value,
                `https://${account[0].inputs.accountName}.blob.core.windows.net/${container.inputs.containerName}`,
            );
            const rule = (r: StackRun) =>
                r.get(T.policy, "backups").inputs.policy.rules.find((x: any) => x.name === `retain-${MONGO_BACKUP_CONTAINER}`);
            assert.equal(rule(run).definition.actions.baseBlob.delete.daysAfterCreationGreaterThan, cfg.mongo.backup?.retentionDays);
            const other = await evaluateStack(stack, TUNED[stack]);
            assert.equal(rule(other).definition.actions.baseBlob.delete.daysAfterCreationGreaterThan, 12);
            assert.equal(rule(other).definition.actions.version.delete.daysAfterCreationGreaterThan, 12);
        });

        it("acts as its own identity: the federated subject is the CronJob's service account, from identities.mongoBackup", () => {
            const component = run.get(T.identityComponent, "mongodb-backup-id");
            const [uami] = childrenOf(run, component, T.uami);
            const credentials = childrenOf(run, component, T.fic);
            const sa = run.get(T.serviceAccount, "mongodb-backup-sa");
            assert.deepEqual(
                credentials.map((c) => c.inputs.subject),
                cfg.identities.mongoBackup.map(federatedSubject),
            );
            assert.deepEqual(
                credentials.map((c) => c.inputs.subject),
                [`system:serviceaccount:${sa.inputs.metadata.namespace}:${sa.inputs.metadata.name}`],
            );
            assert.equal(pod.spec.serviceAccountName, sa.inputs.metadata.name);
            assert.equal(sa.inputs.metadata.annotations["azure.workload.identity/client-id"], uami.state.clientId);
            assert.equal(pod.metadata.labels["azure.workload.identity/use"], "true");
            // The dump step never holds the Azure token; the Job's pod has no sidecar that would outlive it.
            assert.equal(pod.metadata.annotations["azure.workload.identity/skip-containers"], DUMP_CONTAINER);
            assert.equal(pod.metadata.labels["sidecar.istio.io/inject"], "false");
        });

        it("may write blobs in exactly the mongodb container, nothing wider, and runs only once that holds", () => {
            const component = run.get(T.identityComponent, "mongodb-backup-id");
            const [uami] = childrenOf(run, component, T.uami);
            const roles = childrenOf(run, component, T.role);
            assert.equal(roles.length, 1);
            const [role] = roles;
            assert.equal(role.inputs.scope, run.get(T.container, `backups-${MONGO_BACKUP_CONTAINER}`).id);
            assert.match(role.inputs.roleDefinitionId, new RegExp(`/roleDefinitions/${STORAGE_BLOB_DATA_CONTRIBUTOR}$`));
            assert.equal(role.inputs.principalId, uami.state.principalId);
            assert.equal(role.inputs.principalType, "ServicePrincipal");
            for (const ready of [...roles, ...childrenOf(run, component, T.fic)])
                assert.ok(run.dependsOn(cronJob.urn, ready.urn), ready.name);
        });

        it("holds no account key or SAS anywhere: the account refuses shared keys and the pod gets none", () => {
            assert.equal(run.get(T.account, "backups").inputs.allowSharedKeyAccess, false);
            const text = JSON.stringify(pod);
            assert.doesNotMatch(text, /AccountKey|AZURE_STORAGE_KEY|sig=|AZCOPY_ACCOUNT_KEY/);
        });

        it(
            stack === "prod"
                ? "keeps the one member on a zone-redundant Premium SSD class the stack creates"
                : "keeps the one member on the cluster's default class",
            () => {
                const sts = run.get(T.statefulSet, "mongodb");
                assert.equal(sts.inputs.spec.replicas, 1);
                const [claim] = sts.inputs.spec.volumeClaimTemplates;
                const classes = run.ofType(T.storageClass).filter((c) => c.inputs.metadata.name === claim.spec.storageClassName);
                if (stack === "prod") {
                    assert.equal(classes.length, 1);
                    assert.equal(claim.spec.storageClassName, classes[0].inputs.metadata.name);
                    assert.equal(classes[0].inputs.parameters.skuName, "Premium_ZRS");
                    assert.equal(classes[0].inputs.reclaimPolicy, "Retain");
                } else {
                    // dev and local create no StorageClass at all (Vault's zone-redundant one is prod's).
                    assert.equal(run.ofType(T.storageClass).length, 0);
                    assert.equal(claim.spec.storageClassName, undefined);
                }
            },
        );

        it("points Vault's connection and the services at the one member's client Service, with no replica set", () => {
            const host = `mongodb.${appNs}.svc.cluster.local`;
            // A Job in prod, the reconciling Deployment in dev.
            const vaultConfigure = [...run.ofType(T.job), ...run.ofType(T.deployment)].find((r) => r.name === "vault-database");
            assert.ok(vaultConfigure, "the Vault configuration Job or reconciler");
            const [configure] = vaultConfigure.inputs.spec.template.spec.containers;
            assert.equal(env(configure, "MONGO_HOST").value, host);
            // A standalone takes a plain connection string; a replicaSet option would make Vault wait
            // for a replica set that does not exist.
            assert.doesNotMatch(fs.readFileSync(VAULT_CONFIGURE_SCRIPT, "utf8"), /replicaSet=/);
            const services = run
                .ofType("kubernetes:helm.sh/v3:Release")
                .filter((r) => r.inputs.values?.podAnnotations?.["vault.hashicorp.com/role"]);
            assert.equal(services.length, 2);
            for (const release of services) {
                const template = release.inputs.values.podAnnotations["vault.hashicorp.com/agent-inject-template-mongodb"];
                assert.ok(template.includes(`@${host}:27017/`), release.name);
                assert.doesNotMatch(template, /replicaSet=/);
            }
        });
    });
}

describe("MongoDB backups (local)", () => {
    it("has none: no backup storage without Azure (docs/workloads.md)", async () => {
        const run = await evaluateStack("local");
        assert.equal(run.ofType(T.cronJob).length, 0);
        assert.equal(run.ofType(T.storageClass).length, 0);
        const cfg = parseConfig(stackRaw("local"), PROJECT, "local");
        assert.equal(cfg.mongo.backup, undefined);
        assert.deepEqual(cfg.identities.mongoBackup, []);
    });
});

describe("MongoDB restore runbook", () => {
    const docs = fs.readFileSync(path.join(ROOT, "docs", "operations.md"), "utf8");
    const start = docs.indexOf("\n## Restore MongoDB\n");
    const section = docs.slice(start, docs.indexOf("\n## ", start + 1));

    it("is in docs/operations.md and its contents", () => {
        assert.ok(start > 0);
        assert.ok(docs.includes("- [Restore MongoDB](#restore-mongodb)"));
    });

    it("names what the program creates: the CronJob, the container, the database, the Secret's variables", () => {
        for (const fragment of [
            "cronjob/mongodb-backup",
            `-c ${MONGO_BACKUP_CONTAINER}`,
            `--nsInclude="${MONGO_DATABASE}.*"`,
            "mongorestore",
            "--archive --gzip",
            "$MONGO_INITDB_ROOT_USERNAME",
            "$MONGO_INITDB_ROOT_PASSWORD",
            "data-mongodb-0",
            "--auth-mode login",
        ])
            assert.ok(section.includes(fragment), fragment);
        // The variables exist in MongoDB's container, where the exec runs.
        const sts = fs.readFileSync(path.join(ROOT, "components", "workloads", "mongodb.ts"), "utf8");
        assert.ok(sts.includes('"MONGO_INITDB_ROOT_USERNAME"') && sts.includes('"MONGO_INITDB_ROOT_PASSWORD"'));
    });

    it("never puts a password or key on a command line", () => {
        assert.doesNotMatch(section, /--password[= ]|-p \$|--account-key|--sas-token|connection-string/);
    });
});

describe("MongoDB backup config", () => {
    it("accepts cron schedules of five numeric fields", () => {
        for (const good of ["0 3 * * *", "*/15 * * * *", "0 */6 * * *", "30 2 1,15 * 0-6", "0 0-23/2 * 1-12/3 1-5", " 5 4 * * * "]) {
            assert.equal(checkCronSchedule("mongodb.backupSchedule", good), undefined, good);
        }
    });

    it("refuses anything else, naming the key, the value and the fields", () => {
        for (const bad of [
            "",
            "daily",
            "@daily",
            "0 3 * *",
            "0 3 * * * *",
            "60 3 * * *",
            "0 24 * * *",
            "0 3 0 * *",
            "0 3 32 * *",
            "0 3 * 13 *",
            "0 3 * * 7",
            "0 3 * * MON",
            "5-1 * * * *",
            "*/0 * * * *",
            "TZ=UTC 0 3 * * *",
            "0 3 * * 1,",
        ]) {
            const message = checkCronSchedule("mongodb.backupSchedule", bad);
            assert.ok(message, JSON.stringify(bad));
            assert.ok(message.startsWith(`mongodb.backupSchedule: ${JSON.stringify(bad)} is not a cron schedule`), message);
            assert.match(message, /minute 0-59, hour 0-23, day of month 1-31, month 1-12, day of week 0-6/);
        }
    });

    itRejectsConfig([
        {
            name: "a backup schedule that is not cron syntax",
            raw: { "mongodb.backupSchedule": "every night" },
            expect: ["mongodb.backupSchedule", '"every night"', "is not a cron schedule", "five fields"],
        },
        {
            name: "a backup schedule with an hour out of range",
            raw: { "mongodb.backupSchedule": "0 25 * * *" },
            stack: "prod",
            expect: ["mongodb.backupSchedule", '"0 25 * * *"', "hour 0-23"],
        },
        ...(["dev", "prod"] as const).map((stack) => ({
            name: `a backup retention of 0 days (${stack})`,
            raw: { "mongodb.backupRetentionDays": 0 },
            stack,
            expect: ["mongodb.backupRetentionDays", "0 is not allowed", "from 1 to 3650"],
        })),
        {
            name: "a backup schedule on local, which has no backup storage",
            raw: { "mongodb.backupSchedule": "0 3 * * *" },
            stack: "local",
            expect: ["mongodb.backupSchedule", "not allowed for environment local"],
        },
    ]);

    it("fails before any resource is registered", async () => {
        for (const overrides of [{ "mongodb.backupSchedule": "61 * * * *" }, { "mongodb.backupRetentionDays": 0 }]) {
            const failure = await evaluateStack("prod", overrides).then(
                () => assert.fail(`${JSON.stringify(overrides)} was accepted`),
                (error: unknown) => error,
            );
            assert.ok(failure instanceof EvaluationError);
            assert.match(failure.message, new RegExp(Object.keys(overrides)[0].replace(".", "\\.")));
            assert.deepEqual(failure.resources, []);
        }
    });
});
