import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { VAULT_INIT_PLACEHOLDER } from "../foundation";
import { JOB_ANNOTATIONS, JOB_POD_SECURITY_CONTEXT, jobScriptFiles, SCRIPTS_DIR, scriptPhase, scriptVolumes } from "../jobScripts";
import type { ServiceAccountRef } from "../config";
import { IMAGES, WORKLOAD_IDENTITY_USE_LABEL, VAULT_IMAGE } from "./charts";
import { jobServiceAccount } from "./serviceAccounts";
import { POD_LABELS } from "../topology";

/** The initialisation script, kept in the repository and checked with shellcheck (tests/platform-scripts.test.ts). */
const VAULT_INIT_SCRIPT_FILE = "vault-init.sh";
export const VAULT_INIT_SCRIPT = path.join(SCRIPTS_DIR, VAULT_INIT_SCRIPT_FILE);
/** What the init phase runs with the new root token, shipped beside it (and usable by hand: break glass). */
const VAULT_BOOTSTRAP_SCRIPT_FILE = "vault-bootstrap.sh";
/** Where a Job mounts Vault's CA Secret. */
const CA_DIR = "/vault/ca";

/**
 * Where the recovery keys are kept: a Key Vault secret written as the init identity (dev, prod), or a
 * key of a Kubernetes Secret written through the API server as the Job's service account (the local
 * stack's ha mode, which has no Key Vault). Either holds VAULT_INIT_PLACEHOLDER until the Job writes.
 */
export type VaultInitStore =
    | {
          readonly kind: "keyvault";
          /** Client ID of the init identity (Key Vault Secrets Officer on the two secrets below only). */
          readonly clientId: pulumi.Input<string>;
          /** Key Vault that receives the recovery keys. */
          readonly keyVaultName: pulumi.Input<string>;
          /** Name of the Key Vault secret for the recovery keys (no root token is kept). */
          readonly secretNames: { readonly recoveryKeys: string };
      }
    | {
          readonly kind: "kubernetes";
          /** The Secret (Vault's namespace) and its key; the Job's Role may get and patch exactly it. */
          readonly secretName: string;
          readonly key: string;
      };

export interface VaultInitJobArgs {
    /** Namespace of Vault and of the Job. */
    readonly namespace: pulumi.Input<string>;
    /** The Job's service account: the init identity's federated subject. */
    readonly serviceAccount: ServiceAccountRef;
    /** Where the recovery keys are kept. */
    readonly store: VaultInitStore;
    /**
     * What scripts/vault-bootstrap.sh writes with the new root token before revoking it: policies by
     * name (HCL), and the Kubernetes-auth roles (policy of the same name) bound to one service account
     * each in Vault's namespace, accepting tokens of `audience`.
     */
    readonly bootstrap: {
        readonly policies: Readonly<Record<string, string>>;
        readonly roles: readonly { readonly role: string; readonly serviceAccount: string }[];
        readonly audience: string;
        /** Token lifetimes of the roles. */
        readonly tokenTtl: { readonly ttl: string; readonly maxTtl: string };
    };
    /** Secret (Vault's namespace) and key of the CA to verify an https Vault against. Default none (http). */
    readonly caSecret?: { readonly name: string; readonly key: string };
    /**
     * Every raft peer's address, the first one first: initialisation happens there (the others join
     * it), and only when every peer reports "not initialised".
     */
    readonly peerAddresses: pulumi.Input<pulumi.Input<string>[]>;
    /** Recovery key shares and threshold. */
    readonly recoveryShares: number;
    readonly recoveryThreshold: number;
    /** What must exist first: the Vault release and the init identity's credentials and roles. */
    readonly after: readonly pulumi.Resource[];
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
}

/**
 * Initialises a new HA Vault once, without a manual `kubectl exec`, bootstraps it (audit device,
 * Kubernetes auth, the configuration's and snapshots' policies and roles) and revokes the root token:
 * a Job runs scripts/vault-init.sh in three containers of one pod. Two images are used because no
 * single official image has both tools: `vault operator init` runs in the Vault image, `az login
 * --federated-token` and `az keyvault secret set` in the Azure CLI image; they hand the init output
 * over through an in-memory emptyDir that lives as long as the pod. A preflight container first proves
 * the identity can reach the recovery keys' secret,
 * because the init output exists exactly once: failing after `vault operator init` would lose it. With
 * restartPolicy OnFailure a failed store is retried in the same pod, so the emptyDir survives it.
 * When Vault is already initialised and Key Vault holds its recovery keys the Job does nothing and
 * succeeds; every other mixed state fails the Job with what was found (scripts/vault-init.sh). A failed
 * Job is replaced by the next `pulumi up` (JOB_ANNOTATIONS), after the cause is fixed.
 */
export class VaultInitJob extends pulumi.ComponentResource {
    /** The Job's name (generated). */
    readonly jobName: pulumi.Output<string>;

    constructor(name: string, args: VaultInitJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:VaultInitJob", name, {}, opts);
        const child = { parent: this, provider: args.provider };

        const store = args.store;
        const keyVault = store.kind === "keyvault";
        const accounts = jobServiceAccount(name, { ...args, clientId: keyVault ? store.clientId : undefined }, this);
        // kubernetes: read and write the one Secret, nothing else (RBAC resourceNames).
        const storeAccess: pulumi.Resource[] = [];
        if (store.kind === "kubernetes") {
            const role = new k8s.rbac.v1.Role(
                `${name}-store`,
                {
                    metadata: { namespace: args.namespace },
                    rules: [{ apiGroups: [""], resources: ["secrets"], resourceNames: [store.secretName], verbs: ["get", "patch"] }],
                },
                child,
            );
            storeAccess.push(
                role,
                new k8s.rbac.v1.RoleBinding(
                    `${name}-store`,
                    {
                        metadata: { namespace: args.namespace },
                        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                        subjects: [{ kind: "ServiceAccount", name: args.serviceAccount.name, namespace: args.namespace }],
                    },
                    child,
                ),
            );
        }

        // Auto-named: a changed script gives a new ConfigMap name, hence a new Job, which re-runs
        // (and does nothing on an initialised Vault).
        const script = new k8s.core.v1.ConfigMap(
            `${name}-script`,
            {
                metadata: { namespace: args.namespace },
                data: {
                    ...jobScriptFiles(VAULT_INIT_SCRIPT_FILE),
                    ...jobScriptFiles(VAULT_BOOTSTRAP_SCRIPT_FILE),
                    ...Object.fromEntries(Object.entries(args.bootstrap.policies).map(([policy, text]) => [`${policy}.hcl`, text])),
                },
            },
            child,
        );

        const keyVaultEnv: k8s.types.input.core.v1.EnvVar[] =
            store.kind === "keyvault"
                ? [
                      { name: "KEY_VAULT_NAME", value: store.keyVaultName },
                      { name: "RECOVERY_KEYS_SECRET", value: store.secretNames.recoveryKeys },
                      { name: "PLACEHOLDER", value: VAULT_INIT_PLACEHOLDER },
                  ]
                : [
                      { name: "KEY_STORE", value: "kubernetes" },
                      { name: "STORE_NAMESPACE", value: args.namespace },
                      { name: "RECOVERY_KEYS_SECRET", value: store.secretName },
                      { name: "STORE_KEY", value: store.key },
                      { name: "PLACEHOLDER", value: VAULT_INIT_PLACEHOLDER },
                  ];
        const caMounts = args.caSecret ? [{ name: "vault-ca", mountPath: CA_DIR, readOnly: true }] : [];
        const phase = (phaseName: string, image: string, env: k8s.types.input.core.v1.EnvVar[]) =>
            scriptPhase(VAULT_INIT_SCRIPT_FILE, phaseName, image, env, caMounts);
        const vaultImage = VAULT_IMAGE;

        const job = new k8s.batch.v1.Job(
            name,
            {
                metadata: { namespace: args.namespace, annotations: JOB_ANNOTATIONS },
                spec: {
                    backoffLimit: 6,
                    activeDeadlineSeconds: 1800,
                    template: {
                        metadata: {
                            labels: {
                                ...POD_LABELS.vaultInit,
                                ...(keyVault ? { [WORKLOAD_IDENTITY_USE_LABEL]: "true" } : {}),
                                // A sidecar would keep the finished Job's pod running.
                                "sidecar.istio.io/inject": "false",
                            },
                        },
                        spec: {
                            serviceAccountName: args.serviceAccount.name,
                            restartPolicy: "OnFailure",
                            securityContext: JOB_POD_SECURITY_CONTEXT,
                            initContainers: [
                                phase("preflight", IMAGES.azureCli, keyVaultEnv),
                                phase("init", vaultImage, [
                                    { name: "VAULT_PEERS", value: pulumi.output(args.peerAddresses).apply((peers) => peers.join(" ")) },
                                    { name: "RECOVERY_SHARES", value: String(args.recoveryShares) },
                                    { name: "RECOVERY_THRESHOLD", value: String(args.recoveryThreshold) },
                                    { name: "POLICY_DIR", value: "/scripts" },
                                    {
                                        name: "BOOTSTRAP_ROLES",
                                        value: args.bootstrap.roles.map((r) => `${r.role}:${r.serviceAccount}`).join(" "),
                                    },
                                    { name: "ROLE_NAMESPACE", value: args.namespace },
                                    { name: "TOKEN_AUDIENCE", value: args.bootstrap.audience },
                                    { name: "ROLE_TOKEN_TTL", value: args.bootstrap.tokenTtl.ttl },
                                    { name: "ROLE_TOKEN_MAX_TTL", value: args.bootstrap.tokenTtl.maxTtl },
                                    ...(args.caSecret ? [{ name: "VAULT_CACERT", value: `${CA_DIR}/${args.caSecret.key}` }] : []),
                                ]),
                            ],
                            containers: [phase("store", IMAGES.azureCli, keyVaultEnv)],
                            volumes: [
                                // /work in memory: the init output never touches a node's disk.
                                ...scriptVolumes(script.metadata.name, "1Mi"),
                                ...(args.caSecret ? [{ name: "vault-ca", secret: { secretName: args.caSecret.name } }] : []),
                            ],
                        },
                    },
                },
            },
            { ...child, dependsOn: [...args.after, accounts, ...storeAccess], customTimeouts: { create: "35m" } },
        );

        this.jobName = job.metadata.name;
        this.registerOutputs({ jobName: this.jobName });
    }
}
