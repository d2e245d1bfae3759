import * as authorization from "@pulumi/azure-native/authorization";
import * as containerregistry from "@pulumi/azure-native/containerregistry";
import * as pulumi from "@pulumi/pulumi";
import { PrivateEndpoint } from "./privateEndpoint";
import { ACR_PULL, roleDefinitionId } from "./roles";

export interface RegistryArgs {
    /** create: a Premium registry here; existing: the registry at `existingId`. */
    readonly mode: "create" | "existing";
    /** Registry name (create): 5-50 letters and digits, globally unique. */
    readonly registryName?: pulumi.Input<string>;
    /** ARM ID of the registry to use (existing). */
    readonly existingId?: string;
    /** Resource group (create). */
    readonly resourceGroupName: pulumi.Input<string>;
    /** Azure region (create). */
    readonly location: pulumi.Input<string>;
    /** The registry's public endpoint (create); off needs a private endpoint. Default true. */
    readonly publicNetworkAccess?: boolean;
    /** Private endpoint (create): the subnet and the privatelink.azurecr.io zone. */
    readonly privateEndpoint?: { readonly subnetId: pulumi.Input<string>; readonly privateDnsZoneId: pulumi.Input<string> };
    /** Object ID of the cluster's kubelet identity, which pulls the images. */
    readonly kubeletObjectId: pulumi.Input<string>;
    /** Subscription of the role definition ID. */
    readonly subscriptionId: pulumi.Input<string>;
    /** Tags on the registry. */
    readonly tags: pulumi.Input<Record<string, string>>;
}

/**
 * The cluster's private registry (azure-native containerregistry, API version 2023-01-01-preview):
 * created (Premium, the only SKU with private endpoints; admin user off, so pulls authenticate with
 * Entra ID) or referenced, with AcrPull for the kubelet identity on exactly the registry.
 */
export class Registry extends pulumi.ComponentResource {
    /** ARM ID of the registry. */
    readonly registryId: pulumi.Output<string>;
    /** Login server, e.g. <name>.azurecr.io (undefined for an existing registry: it is not read). */
    readonly loginServer?: pulumi.Output<string>;

    constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:Registry", name, {}, opts);
        let registryId: pulumi.Output<string>;
        if (args.mode === "create") {
            const registry = new containerregistry.Registry(
                name,
                {
                    registryName: args.registryName,
                    resourceGroupName: args.resourceGroupName,
                    location: args.location,
                    sku: { name: containerregistry.SkuName.Premium },
                    adminUserEnabled: false,
                    anonymousPullEnabled: false,
                    publicNetworkAccess: args.publicNetworkAccess === false ? "Disabled" : "Enabled",
                    tags: args.tags,
                },
                { parent: this },
            );
            if (args.privateEndpoint) {
                new PrivateEndpoint(
                    `${name}-pe`,
                    {
                        endpointName: pulumi.interpolate`pe-${registry.name}`,
                        resourceGroupName: args.resourceGroupName,
                        location: args.location,
                        subnetId: args.privateEndpoint.subnetId,
                        targetId: registry.id,
                        groupId: "registry",
                        privateDnsZoneId: args.privateEndpoint.privateDnsZoneId,
                        tags: args.tags,
                    },
                    { parent: this },
                );
            }
            registryId = registry.id;
            this.loginServer = registry.loginServer;
        } else {
            if (!args.existingId) throw new Error(`${name}: an existing registry needs its resource ID`);
            registryId = pulumi.output(args.existingId);
        }
        new authorization.RoleAssignment(
            `${name}-pull`,
            {
                principalId: args.kubeletObjectId,
                principalType: authorization.PrincipalType.ServicePrincipal,
                roleDefinitionId: pulumi.output(args.subscriptionId).apply((sub) => roleDefinitionId(sub, ACR_PULL)),
                scope: registryId,
            },
            { parent: this },
        );
        this.registryId = registryId;
        this.registerOutputs({ registryId: this.registryId, loginServer: this.loginServer });
    }
}
