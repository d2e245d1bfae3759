import * as keyvault from "@pulumi/azure-native/keyvault";
import * as monitor from "@pulumi/azure-native/monitor";
import * as pulumi from "@pulumi/pulumi";

export interface KeyVaultArgs {
    /** Globally unique vault name, 3-24 letters, digits and hyphens. */
    readonly vaultName: pulumi.Input<string>;
    /** Resource group of the vault. */
    readonly resourceGroupName: pulumi.Input<string>;
    /** Azure region. */
    readonly location: pulumi.Input<string>;
    /** Entra ID tenant that authorizes data-plane access. */
    readonly tenantId: pulumi.Input<string>;
    /** standard or premium (HSM-backed keys). Default standard. */
    readonly sku?: "standard" | "premium";
    /** Soft-delete retention in days (7-90). Soft delete itself is always on. */
    readonly softDeleteRetentionDays: number;
    /** Purge protection; once on, Azure never allows turning it off. Default false. */
    readonly purgeProtection?: boolean;
    /** Firewall default action. Default allow. */
    readonly networkAclMode?: "allow" | "deny";
    /** Addresses or CIDR ranges let through when the default action is deny. Default none. */
    readonly allowedIpRanges?: readonly string[];
    /** The cluster's static egress IPs (NAT gateway), let through too; known before the cluster exists. Default none. */
    readonly egressIps?: pulumi.Input<string[]>;
    /** The public endpoint; false leaves only private endpoints. Default true. */
    readonly publicNetworkAccess?: boolean;
    /** Log Analytics workspace that receives the vault's audit log. */
    readonly auditWorkspaceId: pulumi.Input<string>;
    /** Tags on the vault. */
    readonly tags: pulumi.Input<Record<string, string>>;
    /** Keep the vault from being deleted (prod). Default false. */
    readonly protect?: boolean;
}

/**
 * An allowed address as Key Vault stores it: a bare IPv4 address comes back from Azure as `<ip>/32`,
 * so passing it bare would show a diff after every `pulumi refresh`.
 */
export function normalisedIpRule(range: string): string {
    return range.includes("/") ? range : `${range}/32`;
}

/**
 * The resource options every Key Vault secret and key of the program carries, so that no destroy path
 * calls a vault's data plane. azure-native implements only the DELETE of `keyvault:Secret` and
 * `keyvault:Key` itself, through the vault's data plane (`https://<vault>.vault.azure.net`, as the
 * deployer) and treats only a 404 as success (pulumi/pulumi-azure-native
 * provider/pkg/resources/customresources/custom_keyvault.go). The deployer holds no data-plane role on
 * these RBAC vaults, and a prod vault has no public endpoint, so that delete fails with 403 or finds
 * no route. Hence:
 * - `deletedWith` the vault: when the vault goes in the same operation (dev's `destroy`, a replaced
 *   vault), Pulumi skips the item's delete; the vault's deletion takes its items with it (pulumi/docs
 *   content/docs/concepts/options/deletedwith.md);
 * - `retainOnDelete`: when the item alone goes (a secret dropped from the program, or a destroy that
 *   keeps the vault), Pulumi removes it from state without calling the provider's delete at all. The
 *   item stays in the vault; it is not soft-deleted, so it never blocks its name (purge protection
 *   would keep a deleted one "deleted but recoverable" and a create of the same name would get 409);
 * - `protect` where the stack protects its vaults (prod): the item then stays in state through
 *   `pulumi destroy --exclude-protected`, with everything it was built from (Pulumi keeps a protected
 *   resource's transitive dependencies: pulumi/pulumi pkg/cmd/pulumi/operations/destroy.go,
 *   separateProtected), so the `up` that re-creates the stack finds it in state and creates nothing in
 *   the kept vault. azure-native refuses to create an item that already exists ("cannot create already
 *   existing resource", provider/pkg/provider/crud/crud.go, CanCreate), which is why keeping it in state matters.
 */
export function keyVaultItemOptions(vault: KeyVault, protect: boolean | undefined): pulumi.CustomResourceOptions {
    return { deletedWith: vault.vault, retainOnDelete: true, protect: protect ?? false };
}

/**
 * A Key Vault with RBAC authorization (no access policies), soft delete, optional purge protection
 * and firewall, and its AuditEvent log sent to Log Analytics (who read which secret, when).
 */
export class KeyVault extends pulumi.ComponentResource {
    /** The vault's name. */
    readonly vaultName: pulumi.Output<string>;
    /** ARM resource ID: the scope for role assignments on the whole vault. */
    readonly vaultId: pulumi.Output<string>;
    /** Data-plane URI, https://<name>.vault.azure.net/. */
    readonly vaultUri: pulumi.Output<string>;
    /** The vault resource itself: what its secrets and keys are `deletedWith` (see keyVaultItemOptions). */
    readonly vault: keyvault.Vault;

    constructor(name: string, args: KeyVaultArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:KeyVault", name, {}, opts);

        const vault = new keyvault.Vault(
            name,
            {
                vaultName: args.vaultName,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                properties: {
                    tenantId: args.tenantId,
                    sku: { family: "A", name: args.sku ?? "standard" },
                    enableRbacAuthorization: true,
                    enableSoftDelete: true,
                    softDeleteRetentionInDays: args.softDeleteRetentionDays,
                    // Azure rejects an explicit false, so "off" is expressed by leaving it unset.
                    enablePurgeProtection: args.purgeProtection ? true : undefined,
                    // Disabled: the data plane answers only through private endpoints, whatever the ACLs say;
                    // ARM (the Secret and Key resources) is the control plane and unaffected.
                    publicNetworkAccess: args.publicNetworkAccess === false ? "Disabled" : "Enabled",
                    networkAcls: {
                        defaultAction: args.networkAclMode === "deny" ? "Deny" : "Allow",
                        bypass: "AzureServices",
                        ipRules: pulumi.output(args.egressIps ?? []).apply((egressIps) =>
                            [...new Set([...(args.allowedIpRanges ?? []), ...egressIps].map(normalisedIpRule))].map((value) => ({
                                value,
                            })),
                        ),
                    },
                },
                tags: args.tags,
            },
            { parent: this, protect: args.protect },
        );

        new monitor.DiagnosticSetting(
            `${name}-audit`,
            {
                name: "audit-to-log-analytics",
                resourceUri: vault.id,
                workspaceId: args.auditWorkspaceId,
                logs: [{ categoryGroup: "audit", enabled: true }],
                // Availability, latency and request counts by result, next to who-did-what.
                metrics: [{ category: "AllMetrics", enabled: true }],
            },
            { parent: this },
        );

        this.vault = vault;
        this.vaultName = vault.name;
        this.vaultId = vault.id;
        this.vaultUri = vault.properties.apply((p) => p.vaultUri ?? "");
        this.registerOutputs({ vaultName: this.vaultName, vaultId: this.vaultId, vaultUri: this.vaultUri });
    }
}
