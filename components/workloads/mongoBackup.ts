import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { JOB_CONTAINER_DEFAULTS, JOB_CONTAINER_SECURITY_CONTEXT, jobScriptFiles, SCRIPTS_DIR, secretEnv } from "../jobScripts";
import { MONGO_IMAGE, MONGO_PORT, MONGO_SECRET_KEYS, MONGO_UID } from "./mongodb";
import { POD_LABELS } from "../topology";

/** The backup script (dump and upload steps), kept in the repository and checked with shellcheck. */
export const MONGO_BACKUP_SCRIPT_FILE = "mongodb-backup.sh";
export const MONGO_BACKUP_SCRIPT = path.join(SCRIPTS_DIR, MONGO_BACKUP_SCRIPT_FILE);

/**
 * The upload step's image: the curl project's own (curl/curl-container), Alpine with busybox sh. curl
 * does the workload identity token exchange and the Put Blob with every secret read from a file; the
 * mongo image has no HTTP client (docker-library/mongo 7.0/Dockerfile purges wget after the build).
 */
export const MONGO_BACKUP_UPLOAD_IMAGE = "docker.io/curlimages/curl:8.16.0";

/** Name of the pod's dump step, which must not receive the Azure token (workload identity skips it). */
export const DUMP_CONTAINER = "dump";

/** Where the two steps hand the archive over. */
const BACKUP_DIR = "/backup";

export interface MongoBackupArgs {
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
    /** Namespace of MongoDB, its root Secret and this CronJob. */
    readonly namespace: pulumi.Input<string>;
    /** Service account the pods run as: the one the backup identity's federated credential names. */
    readonly serviceAccountName: string;
    /** Client ID of that identity (azure.workload.identity/client-id). */
    readonly clientId: pulumi.Input<string>;
    /** The identity's federated credential and role assignment: the first run needs them. */
    readonly identityReady: readonly pulumi.Resource[];
    /** Cron schedule, five fields, read in UTC. */
    readonly schedule: pulumi.Input<string>;
    /** https://<account>.blob.core.windows.net/<container>: where the dumps go. */
    readonly blobContainerUrl: pulumi.Input<string>;
    /** MongoDB host, e.g. mongodb.<namespace>.svc.cluster.local. */
    readonly mongoHost: pulumi.Input<string>;
    /** MongoDB port. Default: 27017. */
    readonly mongoPort?: number;
    /** Secret (in namespace) with the credentials of a user that may read every database (keys MONGO_SECRET_KEYS). */
    readonly credentialsSecret: pulumi.Input<string>;
    /** Largest dump the pod's scratch volume holds. Default: 4Gi. */
    readonly scratchSize?: string;
    /** Image with mongodump. Default: MONGO_IMAGE, the server's own release. */
    readonly dumpImage?: string;
    /** Image with curl and a POSIX sh. Default: MONGO_BACKUP_UPLOAD_IMAGE. */
    readonly uploadImage?: string;
    /** What must exist first (MongoDB). Default none. */
    readonly after?: readonly pulumi.Resource[];
}

/**
 * Scheduled MongoDB backups: a CronJob whose pod dumps the database (init container, mongodump) and
 * uploads the archive as a new blob (container, curl) through a workload identity, with no account key.
 * It never deletes a backup; the storage account's lifecycle policy applies the retention.
 */
export class MongoBackup extends pulumi.ComponentResource {
    /** Name of the CronJob (kubectl create job --from=cronjob/<this> runs one now). */
    readonly cronJobName: pulumi.Output<string>;
    /** Name of the service account the pods run as. */
    readonly serviceAccountName: pulumi.Output<string>;

    constructor(name: string, args: MongoBackupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:workloads:MongoBackup", name, {}, opts);
        const child = { parent: this, provider: args.provider };
        const labels = { ...POD_LABELS.mongoBackup, "app.kubernetes.io/instance": name };
        const meta = (objectName: string) => ({ name: objectName, namespace: args.namespace, labels });

        const serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            {
                metadata: { ...meta(args.serviceAccountName), annotations: { "azure.workload.identity/client-id": args.clientId } },
                // The pods need no Kubernetes API token; the webhook projects the Azure one on its own.
                automountServiceAccountToken: false,
            },
            child,
        );
        const script = new k8s.core.v1.ConfigMap(
            `${name}-script`,
            { metadata: meta(`${name}-script`), data: jobScriptFiles(MONGO_BACKUP_SCRIPT_FILE) },
            child,
        );

        const step = (stepName: string, image: string, env: k8s.types.input.core.v1.EnvVar[]): k8s.types.input.core.v1.Container => ({
            name: stepName,
            image,
            command: ["/bin/sh", `/scripts/${MONGO_BACKUP_SCRIPT_FILE}`, stepName],
            ...JOB_CONTAINER_DEFAULTS,
            env: [{ name: "BACKUP_DIR", value: BACKUP_DIR }, ...env],
            resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
            securityContext: JOB_CONTAINER_SECURITY_CONTEXT,
            volumeMounts: [
                { name: "script", mountPath: "/scripts", readOnly: true },
                { name: "backup", mountPath: BACKUP_DIR },
                { name: "tmp", mountPath: "/tmp" },
            ],
        });

        const cronJob = new k8s.batch.v1.CronJob(
            name,
            {
                metadata: meta(name),
                spec: {
                    schedule: args.schedule,
                    timeZone: "Etc/UTC",
                    // One dump at a time; a run missed by more than an hour (cluster down) is skipped, not
                    // caught up in a burst.
                    concurrencyPolicy: "Forbid",
                    startingDeadlineSeconds: 3600,
                    successfulJobsHistoryLimit: 3,
                    failedJobsHistoryLimit: 5,
                    jobTemplate: {
                        metadata: { labels },
                        spec: {
                            backoffLimit: 2,
                            activeDeadlineSeconds: 3600,
                            template: {
                                metadata: {
                                    labels: {
                                        ...labels,
                                        "azure.workload.identity/use": "true",
                                        // A sidecar would never exit and keep the finished Job's pod running.
                                        "sidecar.istio.io/inject": "false",
                                    },
                                    // Only the upload step gets the Azure token (azure-workload-identity
                                    // docs: skip-containers, semicolon-separated container names).
                                    annotations: { "azure.workload.identity/skip-containers": DUMP_CONTAINER },
                                },
                                spec: {
                                    serviceAccountName: serviceAccount.metadata.name,
                                    automountServiceAccountToken: false,
                                    restartPolicy: "Never",
                                    securityContext: {
                                        runAsNonRoot: true,
                                        runAsUser: MONGO_UID,
                                        runAsGroup: MONGO_UID,
                                        fsGroup: MONGO_UID,
                                        // The restricted Azure Policy initiative requires supplementalGroups in 1-65535 (components/azure/clusterPolicy.ts).
                                        supplementalGroups: [MONGO_UID],
                                        seccompProfile: { type: "RuntimeDefault" },
                                    },
                                    initContainers: [
                                        step(DUMP_CONTAINER, args.dumpImage ?? MONGO_IMAGE, [
                                            { name: "MONGO_HOST", value: args.mongoHost },
                                            { name: "MONGO_PORT", value: String(args.mongoPort ?? MONGO_PORT) },
                                            secretEnv("MONGO_USERNAME", args.credentialsSecret, MONGO_SECRET_KEYS.username),
                                            secretEnv("MONGO_PASSWORD", args.credentialsSecret, MONGO_SECRET_KEYS.password),
                                        ]),
                                    ],
                                    containers: [
                                        step("upload", args.uploadImage ?? MONGO_BACKUP_UPLOAD_IMAGE, [
                                            { name: "BLOB_CONTAINER_URL", value: args.blobContainerUrl },
                                        ]),
                                    ],
                                    volumes: [
                                        { name: "script", configMap: { name: script.metadata.name, defaultMode: 0o555 } },
                                        { name: "backup", emptyDir: { sizeLimit: args.scratchSize ?? "4Gi" } },
                                        { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
                                    ],
                                },
                            },
                        },
                    },
                },
            },
            { ...child, dependsOn: [...args.identityReady, ...(args.after ?? [])] },
        );

        this.cronJobName = cronJob.metadata.name;
        this.serviceAccountName = serviceAccount.metadata.name;
        this.registerOutputs({ cronJobName: this.cronJobName, serviceAccountName: this.serviceAccountName });
    }
}
