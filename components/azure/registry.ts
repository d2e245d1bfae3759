import * as authorization from "@pulumi/azure-native/authorization";
import * as containerregistry from "@pulumi/azure-native/containerregistry";
import * as pulumi from "@pulumi/pulumi";
import { PrivateEndpoint } from "./privateEndpoint";
import { ACR_PULL, roleDefinitionId, roleAssignmentOptions } from "./roles";

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
 * created (Premium with a private endpoint, Basic without; admin user off, so pulls and pushes
 * authenticate with Entra ID) or referenced, with AcrPull for the kubelet identity on exactly the registry.
 */
export class Registry extends pulumi.ComponentResource {
    /** ARM ID of the registry. */
    readonly registryId: pulumi.Output<string>;
    /** Login server, <name>.azurecr.io: the created registry's, or derived from an existing one's ID. */
    readonly loginServer: pulumi.Output<string>;
    /** What a pull from the cluster waits for: the kubelet's AcrPull and, if any, the private endpoint. */
    readonly ready: pulumi.Resource[];

    constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:Registry", name, {}, opts);
        let registryId: pulumi.Output<string>;
        let endpoint: PrivateEndpoint | undefined;
        if (args.mode === "create") {
            const registry = new containerregistry.Registry(
                name,
                {
                    registryName: args.registryName,
                    resourceGroupName: args.resourceGroupName,
                    location: args.location,
                    // Premium is the only SKU with private endpoints; a registry without one (dev) is Basic,
                    // which pushes, imports and pulls all the same at a tenth of the price.
                    sku: { name: args.privateEndpoint ? containerregistry.SkuName.Premium : containerregistry.SkuName.Basic },
                    adminUserEnabled: false,
                    // Premium's dedicated data endpoint, <name>.<region>.data.azurecr.io: layers come from it
                    // rather than from the registry's storage account (*.blob.core.windows.net), so a firewall
                    // allows this registry by name ("Configure rules to access an Azure container registry
                    // behind a firewall", MicrosoftDocs/azure-docs container-registry-firewall-access-rules.md).
                    // Its private endpoint gets a record for it too (container-registry-private-link.md).
                    dataEndpointEnabled: args.privateEndpoint ? true : undefined,
                    anonymousPullEnabled: false,
                    publicNetworkAccess: args.publicNetworkAccess === false ? "Disabled" : "Enabled",
                    tags: args.tags,
                },
                { parent: this },
            );
            if (args.privateEndpoint) {
                endpoint = new PrivateEndpoint(
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
            if (!args.existingId) throw new pulumi.ResourceError(`${name}: an existing registry needs its resource ID`, this);
            registryId = pulumi.output(args.existingId);
            // Azure's public cloud names a registry's login server <lowercased name>.azurecr.io.
            this.loginServer = pulumi.output(`${args.existingId.split("/").pop()!.toLowerCase()}.azurecr.io`);
        }
        const pull = new authorization.RoleAssignment(
            `${name}-pull`,
            {
                principalId: args.kubeletObjectId,
                principalType: authorization.PrincipalType.ServicePrincipal,
                roleDefinitionId: pulumi.output(args.subscriptionId).apply((sub) => roleDefinitionId(sub, ACR_PULL)),
                scope: registryId,
            },
            roleAssignmentOptions({ parent: this }),
        );
        this.registryId = registryId;
        this.ready = [pull, ...(endpoint ? [endpoint] : [])];
        this.registerOutputs({ registryId: this.registryId, loginServer: this.loginServer });
    }
}
