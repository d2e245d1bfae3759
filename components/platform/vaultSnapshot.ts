import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import type { ServiceAccountRef } from "../config";
import { JOB_POD_SECURITY_CONTEXT, jobScriptFiles, SCRIPTS_DIR, scriptPhase, scriptVolumes } from "../jobScripts";
import { IMAGES, WORKLOAD_IDENTITY_USE_LABEL, VAULT_IMAGE } from "./charts";
import { jobServiceAccount } from "./serviceAccounts";
import { POD_LABELS } from "../topology";

/** The snapshot script, checked with shellcheck and run against stand-ins (tests/platform-snapshot.test.ts). */
const VAULT_SNAPSHOT_SCRIPT_FILE = "vault-snapshot.sh";
export const VAULT_SNAPSHOT_SCRIPT = path.join(SCRIPTS_DIR, VAULT_SNAPSHOT_SCRIPT_FILE);

const TOKEN_DIR = "/var/run/secrets/vault";
const CA_DIR = "/vault/ca";

/** Where a volume target mounts its claim in the keep container. */
const VAULT_SNAPSHOT_DIR = "/snapshots";

/**
 * Where the snapshots go: a blob container written as the snapshot identity (prod), or a
 * PersistentVolumeClaim in Vault's namespace (the local stack's ha mode, which has no Azure).
 */
export type VaultSnapshotTarget =
    | {
          readonly kind: "azureBlob";
          /** Client ID of the snapshot identity (Storage Blob Data Contributor on the container only). */
          readonly clientId: pulumi.Input<string>;
          /** Storage account and container the snapshots go to. */
          readonly accountName: pulumi.Input<string>;
          readonly containerName: string;
      }
    | { readonly kind: "volume"; readonly claimName: pulumi.Input<string> };

export interface VaultSnapshotArgs {
    /** Vault's namespace: the CronJob runs there. */
    readonly namespace: pulumi.Input<string>;
    /** The CronJob's service account: federated with the snapshot identity, bound to the Vault role. */
    readonly serviceAccount: ServiceAccountRef;
    /** Where the snapshots go. */
    readonly target: VaultSnapshotTarget;
    /** Cron schedule (UTC). */
    readonly schedule: string;
    /** Snapshots older than retentionDays are deleted, except the newest keepLast good ones. */
    readonly retention: { readonly retentionDays: number; readonly keepLast: number };
    /** Where to take the snapshot: the active node (vault-active). */
    readonly vaultAddress: pulumi.Input<string>;
    /** Kubernetes-auth role (snapshot-only policy) and the audience of the token it accepts. */
    readonly vaultRole: string;
    readonly audience: string;
    /** Secret (Vault's namespace) and key of the CA an https Vault is verified against. Default none. */
    readonly caSecret?: { readonly name: string; readonly key: string };
    /** What must exist first: the initialisation that created the role, the identity's credential and role. */
    readonly after: readonly pulumi.Resource[];
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
}

/**
 * Raft snapshots on a schedule: a CronJob whose pod saves a snapshot in the Vault image (Kubernetes
 * auth, snapshot-only policy) and uploads it in the Azure CLI image (workload identity, Entra ID auth
 * to Blob Storage) through an in-memory emptyDir. Never two at once (concurrencyPolicy Forbid); a
 * failed run is not retried into a pile of pods (backoffLimit 1) and stays visible as the last failed
 * Job. Restore: docs/operations.md, "Restore Vault from a raft snapshot".
 */
export class VaultSnapshotCronJob extends pulumi.ComponentResource {
    readonly cronJobName: pulumi.Output<string>;

    constructor(name: string, args: VaultSnapshotArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:VaultSnapshotCronJob", name, {}, opts);
        const child = { parent: this, provider: args.provider };

        const target = args.target;
        const blob = target.kind === "azureBlob";
        const accounts = jobServiceAccount(name, { ...args, clientId: blob ? target.clientId : undefined }, this);
        const script = new k8s.core.v1.ConfigMap(
            `${name}-script`,
            { metadata: { namespace: args.namespace }, data: jobScriptFiles(VAULT_SNAPSHOT_SCRIPT_FILE) },
            child,
        );

        const container = (
            phase: string,
            image: string,
            env: k8s.types.input.core.v1.EnvVar[],
            extraMounts: k8s.types.input.core.v1.VolumeMount[] = [],
        ) => scriptPhase(VAULT_SNAPSHOT_SCRIPT_FILE, phase, image, env, extraMounts);

        const retentionEnv = [
            { name: "RETENTION_DAYS", value: String(args.retention.retentionDays) },
            { name: "KEEP_LAST", value: String(args.retention.keepLast) },
        ];
        const cronJob = new k8s.batch.v1.CronJob(
            name,
            {
                metadata: { namespace: args.namespace },
                spec: {
                    schedule: args.schedule,
                    timeZone: "Etc/UTC",
                    concurrencyPolicy: "Forbid",
                    startingDeadlineSeconds: 600,
                    successfulJobsHistoryLimit: 3,
                    failedJobsHistoryLimit: 3,
                    jobTemplate: {
                        spec: {
                            backoffLimit: 1,
                            activeDeadlineSeconds: 1800,
                            template: {
                                metadata: {
                                    labels: {
                                        ...POD_LABELS.vaultSnapshot,
                                        ...(blob ? { [WORKLOAD_IDENTITY_USE_LABEL]: "true" } : {}),
                                        "sidecar.istio.io/inject": "false",
                                    },
                                },
                                spec: {
                                    serviceAccountName: args.serviceAccount.name,
                                    restartPolicy: "Never",
                                    securityContext: JOB_POD_SECURITY_CONTEXT,
                                    initContainers: [
                                        container(
                                            "save",
                                            VAULT_IMAGE,
                                            [
                                                { name: "VAULT_ADDR", value: args.vaultAddress },
                                                { name: "VAULT_AUTH_ROLE", value: args.vaultRole },
                                                { name: "VAULT_AUTH_JWT_FILE", value: `${TOKEN_DIR}/token` },
                                                ...(args.caSecret
                                                    ? [{ name: "VAULT_CACERT", value: `${CA_DIR}/${args.caSecret.key}` }]
                                                    : []),
                                            ],
                                            [
                                                { name: "vault-token", mountPath: TOKEN_DIR, readOnly: true },
                                                ...(args.caSecret ? [{ name: "vault-ca", mountPath: CA_DIR, readOnly: true }] : []),
                                            ],
                                        ),
                                    ],
                                    containers: [
                                        target.kind === "azureBlob"
                                            ? container("upload", IMAGES.azureCli, [
                                                  { name: "STORAGE_ACCOUNT", value: target.accountName },
                                                  { name: "STORAGE_CONTAINER", value: target.containerName },
                                                  ...retentionEnv,
                                              ])
                                            : container(
                                                  "keep",
                                                  VAULT_IMAGE,
                                                  [{ name: "SNAPSHOT_DIR", value: VAULT_SNAPSHOT_DIR }, ...retentionEnv],
                                                  [{ name: "snapshots", mountPath: VAULT_SNAPSHOT_DIR }],
                                              ),
                                    ],
                                    volumes: [
                                        // A snapshot holds every secret Vault keeps (encrypted): /work is in memory.
                                        ...scriptVolumes(script.metadata.name, "512Mi"),
                                        {
                                            name: "vault-token",
                                            projected: {
                                                sources: [
                                                    {
                                                        serviceAccountToken: {
                                                            audience: args.audience,
                                                            expirationSeconds: 600,
                                                            path: "token",
                                                        },
                                                    },
                                                ],
                                            },
                                        },
                                        ...(args.caSecret ? [{ name: "vault-ca", secret: { secretName: args.caSecret.name } }] : []),
                                        ...(target.kind === "volume"
                                            ? [{ name: "snapshots", persistentVolumeClaim: { claimName: target.claimName } }]
                                            : []),
                                    ],
                                },
                            },
                        },
                    },
                },
            },
            { ...child, dependsOn: [...args.after, accounts] },
        );
        this.cronJobName = cronJob.metadata.name;
        this.registerOutputs({ cronJobName: this.cronJobName });
    }
}
