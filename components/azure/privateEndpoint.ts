import * as network from "@pulumi/azure-native/network";
import * as pulumi from "@pulumi/pulumi";

export interface PrivateEndpointArgs {
    /** Endpoint resource name. */
    readonly endpointName: pulumi.Input<string>;
    /** Resource group of the endpoint. */
    readonly resourceGroupName: pulumi.Input<string>;
    /** Azure region (the VNet's). */
    readonly location: pulumi.Input<string>;
    /** Subnet the endpoint's NIC takes its address from. */
    readonly subnetId: pulumi.Input<string>;
    /** ARM ID of the resource the endpoint connects to (a Key Vault, a registry). */
    readonly targetId: pulumi.Input<string>;
    /** Private link sub-resource: "vault" for Key Vault, "registry" for ACR. */
    readonly groupId: string;
    /** Private DNS zone that receives the endpoint's A records. */
    readonly privateDnsZoneId: pulumi.Input<string>;
    /** Tags on the endpoint. */
    readonly tags: pulumi.Input<Record<string, string>>;
}

/**
 * A private endpoint (azure-native network, API version 2024-05-01) with its DNS zone group, so Azure
 * writes and removes the endpoint's A records in the privatelink zone itself (no record resources of
 * our own to fall out of step when the NIC's address changes).
 */
export class PrivateEndpoint extends pulumi.ComponentResource {
    /** ARM ID of the endpoint. */
    readonly endpointId: pulumi.Output<string>;
    /** Resolves once the endpoint's DNS records are in the zone. */
    readonly registered: pulumi.Output<string>;

    constructor(name: string, args: PrivateEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:PrivateEndpoint", name, {}, opts);
        const endpoint = new network.PrivateEndpoint(
            name,
            {
                privateEndpointName: args.endpointName,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                subnet: { id: args.subnetId },
                // An automatic connection: the deployer owns the target, so no manual approval is pending.
                privateLinkServiceConnections: [
                    { name: `${name}-${args.groupId}`, privateLinkServiceId: args.targetId, groupIds: [args.groupId] },
                ],
                tags: args.tags,
            },
            { parent: this },
        );
        const zoneGroup = new network.PrivateDnsZoneGroup(
            `${name}-dns`,
            {
                privateEndpointName: endpoint.name,
                resourceGroupName: args.resourceGroupName,
                privateDnsZoneGroupName: "default",
                privateDnsZoneConfigs: [{ name: args.groupId, privateDnsZoneId: args.privateDnsZoneId }],
            },
            { parent: this },
        );
        this.endpointId = endpoint.id;
        this.registered = zoneGroup.id;
        this.registerOutputs({ endpointId: this.endpointId, registered: this.registered });
    }
}
