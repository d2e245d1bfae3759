// Azure built-in role definition IDs (stable GUIDs, the same in every tenant). Key Vault data-plane
// roles only take effect on a vault that uses RBAC authorization, which every vault here does.
import * as authorization from "@pulumi/azure-native/authorization";
import * as pulumi from "@pulumi/pulumi";
import * as time from "@pulumiverse/time";
import { createHash } from "crypto";

/** keys/read, wrapKey, unwrapKey: exactly what Vault's azurekeyvault seal calls (GetKey, WrapKey, UnwrapKey). */
export const KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6";
/** Keys: every data-plane action, rotation policy included: what an operator changing the unseal key's rotation policy needs. */
export const KEY_VAULT_CRYPTO_OFFICER = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603";
/** Reads secret contents: what the Secrets Store CSI driver needs for the objects it mounts. */
export const KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6";
/** Writes and reads secrets; for identities that store secrets (e.g. an init job), scoped to one secret. */
export const KEY_VAULT_SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";
/** Reads, writes and deletes blobs; for backup writers, scoped to their own container. */
export const STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";

/** The subscription-scoped resource ID Azure reports for a built-in role (so `pulumi up` shows no diff). */
export function roleDefinitionId(subscriptionId: string, roleId: string): string {
    return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
}
/**
 * `opts` with what every role assignment takes: a changed role replaces the assignment. Azure
 * updates no assignment in place ("RoleAssignmentUpdateNotPermitted: Tenant ID, application ID,
 * principal ID, and scope are not allowed to be updated", MicrosoftDocs azure-docs articles/
 * role-based-access-control/troubleshooting.md), and azure-native 3.28.0 forces a replacement only for
 * principalId and scope (pulumi/pulumi-azure-native provider/pkg/gen/replacement.go, forceNewMap
 * "Authorization" / "RoleAssignment"), so a new roleDefinitionId (a custom role re-created, a built-in
 * role changed in code) would be sent as an update and refused. Created before the old one is deleted:
 * the name is a GUID the provider draws when none is given (pulumi/pulumi-azure-native issue #582) and
 * the engine draws again for a replacement (pulumi/pulumi pkg/resource/deploy/step_generator.go: "If we
 * are going to perform a replacement, we need to recompute the default values", Check without the old
 * inputs), and the role differs, so the new assignment collides with the old one neither by name nor
 * as the same principal, role and scope.
 */
export function roleAssignmentOptions(opts: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
    return { ...opts, replaceOnChanges: [...(opts.replaceOnChanges ?? []), "roleDefinitionId"] };
}

/**
 * A custom role's name, unique in the directory: `base` and a short hash of the ARM scope the role is
 * defined at (lowercased: ARM IDs are case-insensitive). Custom roles are shared by every
 * subscription that trusts the same Entra tenant and a role's name must be unique in it (MicrosoftDocs
 * azure-docs articles/role-based-access-control/custom-roles.md, custom role properties), while `base` (prefix, environment or cluster name) repeats across
 * subscriptions: two stacks with the same base in two subscriptions of one tenant would otherwise
 * collide. A changed roleName is an update in place of the same definition (its GUID, the path
 * parameter, stays; azure-native 3.28.0 forces no replacement for it, pulumi/pulumi-azure-native
 * provider/pkg/gen/replacement.go has no "RoleDefinition" entry), so its assignments are untouched.
 */
export function customRoleName(base: string, scopeId: string): string {
    return `${base} (${createHash("sha256").update(scopeId.toLowerCase()).digest("hex").slice(0, 8)})`;
}

/** What a custom role allows (azure-native authorization RoleDefinition's PermissionArgs). */
export interface CustomRolePermissions {
    readonly actions: readonly string[];
    readonly dataActions: readonly string[];
    readonly notDataActions?: readonly string[];
}

/**
 * A custom role defined on a resource group, assignable there and below: a custom role's
 * assignableScopes are management groups, subscriptions or resource groups ("create your custom roles
 * with AssignableScopes of management group, subscription, or resource group, but assign the custom
 * roles with narrow scope, such as resource"; a resource instance is possible from the command line but
 * "not recommended": MicrosoftDocs azure-docs articles/role-based-access-control/role-definitions.md,
 * AssignableScopes), so callers assign it on the one resource they mean. Its name is `roleName` with the
 * group's hash (customRoleName), unique in the tenant.
 */
export function resourceGroupCustomRole(
    name: string,
    args: {
        /** The name's base (customRoleName adds the group's hash). */
        readonly roleName: string;
        readonly description: string;
        readonly resourceGroupId: pulumi.Input<string>;
        readonly permissions: CustomRolePermissions;
    },
    opts?: pulumi.CustomResourceOptions,
): authorization.RoleDefinition {
    const { actions, dataActions, notDataActions } = args.permissions;
    return new authorization.RoleDefinition(
        name,
        {
            scope: args.resourceGroupId,
            roleName: pulumi.output(args.resourceGroupId).apply((id) => customRoleName(args.roleName, id)),
            description: args.description,
            permissions: [{ actions: [...actions], dataActions: [...dataActions], notDataActions: notDataActions && [...notDataActions] }],
            assignableScopes: [args.resourceGroupId],
        },
        opts,
    );
}

/** Joins subnets and manages load balancers and IPs: the AKS control-plane identity on the stack's VNet. */
export const NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7";
/** Pulls images: the kubelet identity on the registry. */
export const ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
/** Every Kubernetes action on the whole cluster (Azure RBAC for Kubernetes): the deployer, on its cluster. */
export const AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b";

/**
 * How long a new Azure RBAC for Kubernetes assignment may take to reach the cluster's authorization
 * server: "New role assignments can take up to five minutes to propagate and be updated by the
 * authorization server" (learn.microsoft.com/azure/aks/manage-azure-rbac, "Before you begin").
 */
export const AKS_RBAC_PROPAGATION_SECONDS = 300;

/**
 * How long a new Key Vault data-plane role assignment may take to apply: "it will take up to 10 minutes
 * (600 seconds) after role assignments is changed for role to be applied" (learn.microsoft.com/azure/
 * key-vault/general/rbac-guide, best practices).
 */
export const KEY_VAULT_RBAC_PROPAGATION_SECONDS = 600;

/**
 * A wait of `seconds` after a role assignment exists, for it to apply (an assignment is written before
 * the service it names enforces it). It runs on create and again only when the assignment is replaced
 * (its triggers), so a second `up` does not wait.
 */
export function rbacPropagation(
    name: string,
    assignment: authorization.RoleAssignment,
    seconds: number,
    opts: pulumi.CustomResourceOptions,
): time.Sleep {
    return new time.Sleep(
        name,
        { createDuration: `${seconds}s`, triggers: { principalId: assignment.principalId, assignmentId: assignment.id } },
        opts,
    );
}
