import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { BootstrapRole } from "./vaultPolicies";

export interface VaultOperatorAccessArgs {
    /** Vault's namespace. */
    readonly namespace: pulumi.Input<string>;
    /** The StatefulSet (Vault's release name) the rollout reads. */
    readonly statefulSet: string;
    /** The bootstrapped operator role and its service account. */
    readonly operator: BootstrapRole;
    /**
     * Kubernetes group names (on AKS with Entra ID: group object IDs) bound to the Role. Default none:
     * nobody but cluster admins may run the rollout.
     */
    readonly groups: readonly string[];
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
}

/**
 * Who may run scripts/vault-rollout.sh, in Kubernetes RBAC: the vault-operator service account (bound
 * to the Vault role of the same name: autopilot state and step-down only) and a Role that may mint a
 * token for exactly that service account, read the StatefulSet and the server pods, delete them, and
 * exec into them (the script runs the vault CLI there); bound to the configured groups.
 */
export class VaultOperatorAccess extends pulumi.ComponentResource {
    readonly roleName: pulumi.Output<string>;

    constructor(name: string, args: VaultOperatorAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:VaultOperatorAccess", name, {}, opts);
        const child = { parent: this, provider: args.provider };

        const account = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            // Never mounted in a pod: tokens come from `kubectl create token` (TokenRequest).
            { metadata: { name: args.operator.serviceAccount, namespace: args.namespace }, automountServiceAccountToken: false },
            child,
        );
        const role = new k8s.rbac.v1.Role(
            name,
            {
                metadata: { name: args.operator.role, namespace: args.namespace },
                rules: [
                    {
                        apiGroups: [""],
                        resources: ["serviceaccounts/token"],
                        resourceNames: [args.operator.serviceAccount],
                        verbs: ["create"],
                    },
                    { apiGroups: ["apps"], resources: ["statefulsets"], resourceNames: [args.statefulSet], verbs: ["get"] },
                    { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "delete"] },
                    { apiGroups: [""], resources: ["pods/exec"], verbs: ["get", "create"] },
                ],
            },
            { ...child, dependsOn: [account] },
        );
        if (args.groups.length > 0) {
            new k8s.rbac.v1.RoleBinding(
                name,
                {
                    metadata: { name: args.operator.role, namespace: args.namespace },
                    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                    subjects: args.groups.map((group) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: group })),
                },
                child,
            );
        }
        this.roleName = role.metadata.name;
        this.registerOutputs({ roleName: this.roleName });
    }
}
