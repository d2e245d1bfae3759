import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import type { ServiceAccountRef } from "../config";
import {
    JOB_CONTAINER_SECURITY_CONTEXT,
    JOB_POD_SECURITY_CONTEXT,
    jobScriptFiles,
    SCRIPTS_DIR,
    scriptPhase,
    scriptVolumes,
} from "../jobScripts";
import { POD_LABELS } from "../topology";
import { IMAGES, WORKLOAD_IDENTITY_USE_LABEL, VAULT_IMAGE } from "./charts";
import { jobServiceAccount } from "./serviceAccounts";

/** The renewal script (tests/vault-tls-renewal.test.ts runs it against a stand-in az and real openssl). */
const VAULT_TLS_RENEW_SCRIPT_FILE = "vault-tls-renew.sh";
export const VAULT_TLS_RENEW_SCRIPT = path.join(SCRIPTS_DIR, VAULT_TLS_RENEW_SCRIPT_FILE);
/** The server pods' tls-reload sidecar (same test, against a stand-in vault process). */
const VAULT_TLS_RELOAD_SCRIPT_FILE = "vault-tls-reload.sh";
export const VAULT_TLS_RELOAD_SCRIPT = path.join(SCRIPTS_DIR, VAULT_TLS_RELOAD_SCRIPT_FILE);

/** Daily (UTC): a renewal window of 30 days leaves 30 tries; the alert's staleness window is two runs. */
const VAULT_TLS_RENEW_SCHEDULE = "17 3 * * *";
/** The alert fires when no served certificate was reported for this long (two missed daily runs). */
export const VAULT_TLS_REPORT_STALE_HOURS = 48;
/**
 * The first report is due at most this long after a new stack's Vault starts logging: the schedule's
 * period (24 h), the CronJob's startingDeadlineSeconds (1 h) and its Job's activeDeadlineSeconds (30 min), rounded
 * up: the unreported alert stays quiet
 * before that (components/azure/auditAlerts.ts).
 */
export const VAULT_TLS_FIRST_REPORT_HOURS = 26;
/** The statuses of a `vault-tls served` line that are not ok (scripts/vault-tls-renew.sh): the expiring alert. */
export const VAULT_TLS_BAD_STATUSES = ["EXPIRING", "EXPIRED", "UNVERIFIED"] as const;
/** Seconds between the sidecar's looks at the certificate files. */
const VAULT_TLS_RELOAD_INTERVAL_SECONDS = 30;

/**
 * The tls-reload sidecar for vault-helm's `server.extraContainers` (rendered verbatim with toYaml,
 * vault-helm v0.32.0 templates/server-statefulset.yaml) next to `server.shareProcessNamespace: true`
 * (values.yaml: "useful if Vault must be signaled, e.g. to send a SIGHUP"), so it sees and may signal
 * the vault process: same UID (the chart's pod securityContext runAsUser 100, which applies to every
 * container), no capability. It mounts the TLS volume read-only and runs scripts/vault-tls-reload.sh,
 * whose text is part of the pod spec: a changed script is a new StatefulSet revision (rollout script).
 */
export function tlsReloadSidecar(args: {
    readonly volume: string;
    readonly dir: string;
    readonly certFile: string;
    readonly keyFile: string;
}) {
    return {
        name: "tls-reload",
        // The server's own image: already pulled on the node, already allowed by policy, has busybox.
        image: VAULT_IMAGE,
        command: ["/bin/sh", "-c", fs.readFileSync(VAULT_TLS_RELOAD_SCRIPT, "utf8"), VAULT_TLS_RELOAD_SCRIPT_FILE],
        env: [
            { name: "TLS_CERT_FILE", value: `${args.dir}/${args.certFile}` },
            { name: "TLS_KEY_FILE", value: `${args.dir}/${args.keyFile}` },
            { name: "CHECK_INTERVAL_SECONDS", value: String(VAULT_TLS_RELOAD_INTERVAL_SECONDS) },
        ],
        volumeMounts: [{ name: args.volume, mountPath: args.dir, readOnly: true }],
        resources: { requests: { cpu: "5m", memory: "8Mi" }, limits: { memory: "32Mi" } },
        securityContext: { ...JOB_CONTAINER_SECURITY_CONTEXT, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    };
}

export interface VaultTlsRenewArgs {
    /** Vault's namespace: the CronJob runs there. */
    readonly namespace: pulumi.Input<string>;
    /** The CronJob's service account: federated with the renewal identity. */
    readonly serviceAccount: ServiceAccountRef;
    /** Client ID of the renewal identity (reads the CA's two secrets; reads and writes the server's two). */
    readonly clientId: pulumi.Input<string>;
    /** The Key Vault (Vault's own) and the secret names. */
    readonly keyVaultName: pulumi.Input<string>;
    readonly secrets: {
        readonly caCertificate: string;
        readonly caKey: string;
        readonly certificate: string;
        readonly privateKey: string;
    };
    /** The server certificate's subject, SANs and IP SANs: as the first issuance (components/azure/vaultTls.ts). */
    readonly subject: { readonly commonName: string; readonly organization: string };
    readonly dnsNames: readonly string[];
    readonly ipAddresses: readonly string[];
    /** Renew when the stored certificate has fewer days left; new certificates live validityDays. */
    readonly renewBeforeDays: number;
    readonly validityDays: number;
    /** A served certificate with fewer days left is reported EXPIRING (the alert). */
    readonly alertDays: number;
    /** Every server's address: each is probed for the certificate it serves. */
    readonly peerAddresses: pulumi.Input<pulumi.Input<string>[]>;
    /** What must exist first: the identity's credential and roles, the Vault release. */
    readonly after: readonly pulumi.Resource[];
    readonly provider: k8s.Provider;
}

/**
 * Renews Vault's listener certificate with no `pulumi up` and no person: a daily CronJob signs a new
 * server certificate with the internal CA (kept in Key Vault) in the stored one's last renewBeforeDays,
 * writes it as new Key Vault secret versions, and reports the certificate each server serves; the CSI
 * driver's rotation puts the new versions into the server pods and their tls-reload sidecar sends
 * SIGHUP (tlsReloadSidecar). Never two at once; a failed run stays visible as the last failed Job, and
 * the expiry alert reads what it reports (docs/operations.md, "Vault's TLS certificate").
 */
export class VaultTlsRenewCronJob extends pulumi.ComponentResource {
    readonly cronJobName: pulumi.Output<string>;

    constructor(name: string, args: VaultTlsRenewArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:VaultTlsRenewCronJob", name, {}, opts);
        const child = { parent: this, provider: args.provider };
        const accounts = jobServiceAccount(name, args, this);
        const script = new k8s.core.v1.ConfigMap(
            `${name}-script`,
            { metadata: { namespace: args.namespace }, data: jobScriptFiles(VAULT_TLS_RENEW_SCRIPT_FILE) },
            child,
        );
        const env: k8s.types.input.core.v1.EnvVar[] = [
            { name: "KEY_VAULT_NAME", value: args.keyVaultName },
            { name: "CA_CERT_SECRET", value: args.secrets.caCertificate },
            { name: "CA_KEY_SECRET", value: args.secrets.caKey },
            { name: "CERT_SECRET", value: args.secrets.certificate },
            { name: "KEY_SECRET", value: args.secrets.privateKey },
            { name: "COMMON_NAME", value: args.subject.commonName },
            { name: "ORGANIZATION", value: args.subject.organization },
            { name: "DNS_NAMES", value: args.dnsNames.join(" ") },
            { name: "IP_ADDRESSES", value: args.ipAddresses.join(" ") },
            { name: "VAULT_PEERS", value: pulumi.output(args.peerAddresses).apply((peers) => peers.join(" ")) },
            { name: "RENEW_BEFORE_DAYS", value: String(args.renewBeforeDays) },
            { name: "VALIDITY_DAYS", value: String(args.validityDays) },
            { name: "ALERT_DAYS", value: String(args.alertDays) },
        ];
        const cronJob = new k8s.batch.v1.CronJob(
            name,
            {
                metadata: { namespace: args.namespace },
                spec: {
                    schedule: VAULT_TLS_RENEW_SCHEDULE,
                    timeZone: "Etc/UTC",
                    concurrencyPolicy: "Forbid",
                    startingDeadlineSeconds: 3600,
                    successfulJobsHistoryLimit: 3,
                    failedJobsHistoryLimit: 3,
                    jobTemplate: {
                        spec: {
                            backoffLimit: 2,
                            activeDeadlineSeconds: 1800,
                            template: {
                                metadata: {
                                    labels: {
                                        ...POD_LABELS.vaultTlsRenew,
                                        [WORKLOAD_IDENTITY_USE_LABEL]: "true",
                                        "sidecar.istio.io/inject": "false",
                                    },
                                },
                                spec: {
                                    serviceAccountName: args.serviceAccount.name,
                                    restartPolicy: "Never",
                                    securityContext: JOB_POD_SECURITY_CONTEXT,
                                    containers: [scriptPhase(VAULT_TLS_RENEW_SCRIPT_FILE, "renew", IMAGES.azureCli, env)],
                                    // /work in memory: it holds the CA key while a certificate is signed.
                                    volumes: scriptVolumes(script.metadata.name, "16Mi"),
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
