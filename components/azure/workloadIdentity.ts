import * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceAccountRef } from "../config";
import { roleDefinitionId, roleAssignmentOptions } from "./roles";

/** The audience Azure AD token exchange expects in a federated service account token. */
const TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

/** One role on one scope: a built-in role by GUID, or a custom role by its full ARM ID. */
export type RoleGrant = {
    /** ARM ID of the narrowest resource that works: a key, a secret, a vault. */
    readonly scope: pulumi.Input<string>;
} & (
    | {
          /** Built-in role definition GUID (see roles.ts). */
          readonly roleId: string;
      }
    | {
          /** A custom role definition's ARM ID (authorization.RoleDefinition's id). */
          readonly definitionId: pulumi.Input<string>;
      }
);

export interface WorkloadIdentityArgs {
    /** Name of the user-assigned managed identity. */
    readonly identityName: string;
    /** Resource group of the identity. */
    readonly resourceGroupName: pulumi.Input<string>;
    /** Azure region. */
    readonly location: pulumi.Input<string>;
    /** OIDC issuer URL of the cluster whose service account tokens are trusted. */
    readonly issuerUrl: pulumi.Input<string>;
    /** Kubernetes service accounts that may act as this identity (one federated credential each). */
    readonly subjects: readonly ServiceAccountRef[];
    /** Subscription of the role definitions. */
    readonly subscriptionId: pulumi.Input<string>;
    /** Roles granted to the identity. Default none. */
    readonly roles?: readonly RoleGrant[];
    /** Tags on the identity. */
    readonly tags: pulumi.Input<Record<string, string>>;
}

/** `system:serviceaccount:<namespace>:<name>`: the subject of a projected service account token. */
export function federatedSubject(sa: ServiceAccountRef): string {
    return `system:serviceaccount:${sa.namespace}:${sa.name}`;
}

/**
 * A user-assigned managed identity that Kubernetes service accounts act as through Azure Workload
 * Identity: one federated credential per service account and least-privilege role assignments.
 */
export class WorkloadIdentity extends pulumi.ComponentResource {
    /** Client ID: the value of the service account's azure.workload.identity/client-id annotation. */
    readonly clientId: pulumi.Output<string>;
    /** Object ID of the identity's service principal: the principal of its role assignments. */
    readonly principalId: pulumi.Output<string>;
    /** ARM resource ID of the identity. */
    readonly identityId: pulumi.Output<string>;
    /** The service accounts federated with this identity. */
    readonly subjects: readonly ServiceAccountRef[];
    /**
     * Federated credentials and role assignments: a pod using the identity can only authenticate and
     * be authorized once all of them exist, so workloads list this in dependsOn.
     */
    readonly ready: pulumi.Resource[];

    constructor(name: string, args: WorkloadIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:WorkloadIdentity", name, {}, opts);

        const identity = new managedidentity.UserAssignedIdentity(
            name,
            {
                resourceName: args.identityName,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                tags: args.tags,
            },
            { parent: this },
        );

        // Azure rejects concurrent writes of federated credentials on one identity, so each waits for
        // the one before it.
        const credentials: managedidentity.FederatedIdentityCredential[] = [];
        for (const sa of args.subjects) {
            const previous = credentials[credentials.length - 1];
            credentials.push(
                new managedidentity.FederatedIdentityCredential(
                    `${name}-${sa.namespace}-${sa.name}`,
                    {
                        resourceName: identity.name,
                        resourceGroupName: args.resourceGroupName,
                        federatedIdentityCredentialResourceName: `${sa.namespace}-${sa.name}`,
                        issuer: args.issuerUrl,
                        subject: federatedSubject(sa),
                        audiences: [TOKEN_EXCHANGE_AUDIENCE],
                    },
                    { parent: this, dependsOn: previous ? [previous] : [] },
                ),
            );
        }

        const assignments = (args.roles ?? []).map(
            (grant, i) =>
                new authorization.RoleAssignment(
                    `${name}-role-${i}`,
                    {
                        principalId: identity.principalId,
                        // Stating the type lets Azure skip the directory lookup that fails while a new
                        // identity is still replicating.
                        principalType: authorization.PrincipalType.ServicePrincipal,
                        roleDefinitionId:
                            "definitionId" in grant
                                ? grant.definitionId
                                : pulumi.output(args.subscriptionId).apply((sub) => roleDefinitionId(sub, grant.roleId)),
                        scope: grant.scope,
                    },
                    roleAssignmentOptions({ parent: this }),
                ),
        );

        this.clientId = identity.clientId;
        this.principalId = identity.principalId;
        this.identityId = identity.id;
        this.subjects = args.subjects;
        this.ready = [...credentials, ...assignments];
        this.registerOutputs({ clientId: this.clientId, principalId: this.principalId, identityId: this.identityId });
    }
}
