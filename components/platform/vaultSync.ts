import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { JOB_ANNOTATIONS, JOB_POD_SECURITY_CONTEXT, jobScriptFiles, SCRIPTS_DIR, scriptPhase, scriptVolumes } from "../jobScripts";
import { VAULT_IMAGE } from "./charts";
import type { AutopilotSettings, BootstrapRole } from "./vaultPolicies";
import { POD_LABELS } from "../topology";

/** The sync script, checked with shellcheck and run against a stand-in vault (tests/platform-vault-day2.test.ts). */
const VAULT_SYNC_SCRIPT_FILE = "vault-sync.sh";
export const VAULT_SYNC_SCRIPT = path.join(SCRIPTS_DIR, VAULT_SYNC_SCRIPT_FILE);

const TOKEN_DIR = "/var/run/secrets/vault";
const CA_DIR = "/vault/ca";

export interface VaultSyncJobArgs {
    /** Vault's namespace: the Job, its service account and the bootstrapped roles' service accounts live there. */
    readonly namespace: pulumi.Input<string>;
    /** Where to write: the active node (vault-active). */
    readonly vaultAddress: pulumi.Input<string>;
    /** The Job's own role (compared, never written) and the roles it rewrites. */
    readonly self: BootstrapRole;
    readonly roles: readonly BootstrapRole[];
    /** Every bootstrapped policy by role name (HCL), its own included. */
    readonly policies: Readonly<Record<string, string>>;
    /** Audience of the projected tokens the roles accept, and their token lifetimes. */
    readonly audience: string;
    readonly tokenTtl: { readonly ttl: string; readonly maxTtl: string };
    /** Raft autopilot settings (ha raft). */
    readonly autopilot: AutopilotSettings;
    /** Secret (Vault's namespace) and key of the CA an https Vault is verified against. Default none. */
    readonly caSecret?: { readonly name: string; readonly key: string };
    /** What must exist first: the initialisation that bootstrapped the vault-sync role. */
    readonly after: readonly pulumi.Resource[];
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
}

/**
 * Brings the bootstrapped policies and roles of an initialised Vault up to date on the next `up`, with
 * no root token: a Job (Vault image) logs in as vault-sync, whose policy may write exactly the other
 * bootstrapped policies and roles (each role pinned to its service account) and the autopilot
 * configuration (scripts/vault-sync.sh). Its ConfigMap carries the policies, so a policy change is a
 * new ConfigMap name, hence a new Job that runs; an unchanged program keeps the same Job (no diff). A
 * change to vault-sync's own policy cannot be applied this way: the Job fails, naming it.
 */
export class VaultSyncJob extends pulumi.ComponentResource {
    readonly jobName: pulumi.Output<string>;

    constructor(name: string, args: VaultSyncJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:VaultSyncJob", name, {}, opts);
        const child = { parent: this, provider: args.provider };

        const account = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            // No API token is mounted: the Job projects its own, with Vault's audience.
            { metadata: { name: args.self.serviceAccount, namespace: args.namespace }, automountServiceAccountToken: false },
            child,
        );
        // Auto-named: changed policies (or script) give a new name, hence a new Job.
        const script = new k8s.core.v1.ConfigMap(
            `${name}-script`,
            {
                metadata: { namespace: args.namespace },
                data: {
                    ...jobScriptFiles(VAULT_SYNC_SCRIPT_FILE),
                    ...Object.fromEntries(Object.entries(args.policies).map(([policy, text]) => [`${policy}.hcl`, text])),
                },
            },
            child,
        );
        const env: k8s.types.input.core.v1.EnvVar[] = [
            { name: "VAULT_ADDR", value: args.vaultAddress },
            { name: "VAULT_AUTH_ROLE", value: args.self.role },
            { name: "VAULT_AUTH_JWT_FILE", value: `${TOKEN_DIR}/token` },
            { name: "POLICY_DIR", value: "/scripts" },
            { name: "SELF_ROLE", value: args.self.role },
            { name: "SYNC_ROLES", value: args.roles.map((r) => `${r.role}:${r.serviceAccount}`).join(" ") },
            { name: "ROLE_NAMESPACE", value: args.namespace },
            { name: "TOKEN_AUDIENCE", value: args.audience },
            { name: "ROLE_TOKEN_TTL", value: args.tokenTtl.ttl },
            { name: "ROLE_TOKEN_MAX_TTL", value: args.tokenTtl.maxTtl },
            { name: "AUTOPILOT_MIN_QUORUM", value: String(args.autopilot.minQuorum) },
            { name: "AUTOPILOT_DEAD_SERVER_THRESHOLD", value: args.autopilot.deadServerLastContactThreshold },
            { name: "AUTOPILOT_STABILIZATION_TIME", value: args.autopilot.serverStabilizationTime },
            ...(args.caSecret ? [{ name: "VAULT_CACERT", value: `${CA_DIR}/${args.caSecret.key}` }] : []),
        ];
        const job = new k8s.batch.v1.Job(
            name,
            {
                metadata: { namespace: args.namespace, annotations: JOB_ANNOTATIONS },
                spec: {
                    backoffLimit: 2,
                    activeDeadlineSeconds: 900,
                    template: {
                        metadata: { labels: { ...POD_LABELS.vaultSync, "sidecar.istio.io/inject": "false" } },
                        spec: {
                            serviceAccountName: account.metadata.name,
                            restartPolicy: "Never",
                            securityContext: JOB_POD_SECURITY_CONTEXT,
                            containers: [
                                scriptPhase(VAULT_SYNC_SCRIPT_FILE, "sync", VAULT_IMAGE, env, [
                                    { name: "vault-token", mountPath: TOKEN_DIR, readOnly: true },
                                    ...(args.caSecret ? [{ name: "vault-ca", mountPath: CA_DIR, readOnly: true }] : []),
                                ]),
                            ],
                            volumes: [
                                ...scriptVolumes(script.metadata.name, "1Mi"),
                                {
                                    name: "vault-token",
                                    projected: {
                                        sources: [
                                            { serviceAccountToken: { audience: args.audience, expirationSeconds: 600, path: "token" } },
                                        ],
                                    },
                                },
                                ...(args.caSecret ? [{ name: "vault-ca", secret: { secretName: args.caSecret.name } }] : []),
                            ],
                        },
                    },
                },
            },
            { ...child, dependsOn: [...args.after], customTimeouts: { create: "15m" } },
        );
        this.jobName = job.metadata.name;
        this.registerOutputs({ jobName: this.jobName });
    }
}
