import * as privatedns from "@pulumi/azure-native/privatedns";
import * as pulumi from "@pulumi/pulumi";

/** The privatelink zones of the services the stack reaches privately (Azure's documented zone names). */
export const PRIVATE_LINK_ZONES = {
    keyVault: "privatelink.vaultcore.azure.net",
    registry: "privatelink.azurecr.io",
    blob: "privatelink.blob.core.windows.net",
} as const;

export interface PrivateDnsZoneArgs {
    /** Zone name, one of PRIVATE_LINK_ZONES. */
    readonly zoneName: string;
    /** Resource group of the zone. */
    readonly resourceGroupName: pulumi.Input<string>;
    /** VNet whose resolver answers from this zone. */
    readonly vnetId: pulumi.Input<string>;
    /** Tags on the zone and its link. */
    readonly tags: pulumi.Input<Record<string, string>>;
}

/**
 * A private DNS zone (azure-native privatedns, API version 2024-06-01) linked to the stack's VNet: the
 * VNet's resolver then answers `<name>.vault.azure.net` (a CNAME to `<name>.privatelink...`) with the
 * private endpoint's address, so nodes and pods reach the service without any DNS setting of their own.
 */
export class PrivateDnsZone extends pulumi.ComponentResource {
    /** ARM ID of the zone: the endpoints' DNS zone groups write their A records into it. */
    readonly zoneId: pulumi.Output<string>;
    /** Resolves once the VNet link exists, i.e. once names resolve privately inside the VNet. */
    readonly linked: pulumi.Output<string>;

    constructor(name: string, args: PrivateDnsZoneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:PrivateDnsZone", name, {}, opts);
        const zone = new privatedns.PrivateZone(
            name,
            { privateZoneName: args.zoneName, resourceGroupName: args.resourceGroupName, location: "global", tags: args.tags },
            { parent: this },
        );
        const link = new privatedns.VirtualNetworkLink(
            `${name}-link`,
            {
                privateZoneName: zone.name,
                resourceGroupName: args.resourceGroupName,
                virtualNetworkLinkName: `${name}-vnet`,
                virtualNetwork: { id: args.vnetId },
                // Resolution only: VMs do not register their own names in a privatelink zone.
                registrationEnabled: false,
                location: "global",
                tags: args.tags,
            },
            { parent: this },
        );
        this.zoneId = zone.id;
        this.linked = link.id;
        this.registerOutputs({ zoneId: this.zoneId, linked: this.linked });
    }
}
