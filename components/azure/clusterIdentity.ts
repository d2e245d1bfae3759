import * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as pulumi from "@pulumi/pulumi";
import { NETWORK_CONTRIBUTOR, roleDefinitionId, roleAssignmentOptions } from "./roles";

export interface ClusterIdentityArgs {
    /** Identity resource name. */
    readonly identityName: string;
    /** Resource group of the identity. */
    readonly resourceGroupName: pulumi.Input<string>;
    /** Azure region. */
    readonly location: pulumi.Input<string>;
    /** The VNet the cluster's subnets are in: the identity's Network Contributor scope. */
    readonly vnetId: pulumi.Input<string>;
    /** Subscription of the role definition ID. */
    readonly subscriptionId: pulumi.Input<string>;
    /** Tags on the identity. */
    readonly tags: pulumi.Input<Record<string, string>>;
}

/**
 * The AKS control plane's user-assigned identity, with Network Contributor on the stack's VNet BEFORE
 * the cluster exists: with a bring-your-own subnet (and API server VNet integration) AKS checks its
 * rights on the subnets at creation, which a system-assigned identity cannot have yet
 * (mspnp/aks-baseline workload-team/modules/role-assignment-EnsureClusterIdentityHasRbacToSelfManagedResources.bicep
 * grants its control-plane identity Network Contributor per subnet; one grant on the VNet covers ours).
 */
export class ClusterIdentity extends pulumi.ComponentResource {
    /** ARM ID of the identity; resolves only once its role assignment exists. */
    readonly identityId: pulumi.Output<string>;
    /** Object ID of the identity. */
    readonly principalId: pulumi.Output<string>;

    constructor(name: string, args: ClusterIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:ClusterIdentity", name, {}, opts);
        const identity = new managedidentity.UserAssignedIdentity(
            name,
            { resourceName: args.identityName, resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags },
            { parent: this },
        );
        const assignment = new authorization.RoleAssignment(
            `${name}-network`,
            {
                principalId: identity.principalId,
                principalType: authorization.PrincipalType.ServicePrincipal,
                roleDefinitionId: pulumi.output(args.subscriptionId).apply((sub) => roleDefinitionId(sub, NETWORK_CONTRIBUTOR)),
                scope: args.vnetId,
            },
            roleAssignmentOptions({ parent: this }),
        );
        // The cluster takes this ID, so it waits for the assignment through data, not a dependsOn.
        this.identityId = pulumi.all([identity.id, assignment.id]).apply(([id]) => id);
        this.principalId = identity.principalId;
        this.registerOutputs({ identityId: this.identityId, principalId: this.principalId });
    }
}
