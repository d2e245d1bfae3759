// Typed access to this platform's stack outputs from another Pulumi project, through a StackReference.
// Names and types come from the contract in outputs.ts; the outputs it lists as secret stay secret.
import * as pulumi from "@pulumi/pulumi";
import { SECRET_OUTPUTS, type AzureOutputs, type AzureStackOutputs, type ClusterOutputs } from "./outputs";

/** A platform stack's outputs as Pulumi outputs, one per field of the contract of a stack with Azure (dev, prod). */
export type PlatformOutputs = { readonly [K in keyof AzureStackOutputs]: pulumi.Output<AzureStackOutputs[K]> };

/** The outputs every platform stack has, a stack without Azure (local) included. */
export type ClusterPlatformOutputs = { readonly [K in keyof ClusterOutputs]: pulumi.Output<ClusterOutputs[K]> };

/** The platform program's project name (Pulumi.yaml), the middle part of its stacks' full names. */
export const PLATFORM_PROJECT = "aks-platform";

/** The organization part of stack names in a DIY backend (Azure Blob, local files). */
export const DIY_ORGANIZATION = "organization";

/**
 * Every output name of the contract and which stacks export it. Typed as a record over the contract's
 * keys, so the compiler rejects this list when a field is added to or removed from the contract without
 * it, or filed under the wrong kind of stack.
 */
const CONTRACT: { readonly [K in keyof AzureStackOutputs]: K extends keyof AzureOutputs ? "azure" : "every stack" } = {
    resourceGroupName: "azure",
    clusterName: "azure",
    oidcIssuerUrl: "azure",
    kubeconfig: "azure",
    tenantId: "azure",
    appKeyVaultName: "azure",
    appKeyVaultUri: "azure",
    unsealKeyVaultName: "azure",
    unsealKeyVaultUri: "azure",
    unsealKeyName: "azure",
    vaultUnsealIdentity: "azure",
    appSecretsIdentity: "azure",
    appInsightsConnectionString: "azure",
    logAnalyticsWorkspaceId: "azure",
    egressIps: "azure",
    ingressPublicIp: "azure",
    appNamespace: "every stack",
    appSecretProviderClass: "azure",
    vaultAddress: "every stack",
    ingressGatewayService: "every stack",
    ingressGatewayNamespace: "every stack",
    ingressGatewayRef: "every stack",
    ingressHost: "every stack",
    vaultRollout: "every stack",
};

/** The contract's output names, in declaration order: what a stack with Azure exports. */
export const OUTPUT_NAMES = Object.keys(CONTRACT) as readonly (keyof AzureStackOutputs)[];

/** The output names every stack exports: all a stack without Azure (local) has. */
export const CLUSTER_OUTPUT_NAMES = OUTPUT_NAMES.filter((name) => CONTRACT[name] === "every stack") as readonly (keyof ClusterOutputs)[];

/** Organization, project and stack names: letters, digits, hyphens, underscores and periods. */
const NAME_PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The fully qualified name of a platform stack, `<organization>/<project>/<stack>`, as a StackReference
 * takes it. In a DIY backend (Azure Blob, local files) the organization is literally `organization`.
 */
export function stackReferenceName(organization: string, project: string, stack: string): string {
    const parts = { organization, project, stack };
    const bad = Object.entries(parts).filter(([, value]) => !NAME_PART.test(value));
    if (bad.length > 0) {
        const problems = bad.map(([key, value]) => `${key} ${JSON.stringify(value)}`).join(", ");
        throw new Error(
            `stackReferenceName: ${problems} is not allowed; use letters, digits, hyphens, underscores and periods, starting with a letter or digit`,
        );
    }
    return `${organization}/${project}/${stack}`;
}

/**
 * The platform's outputs, typed by the StackOutputs contract. Each output is read from the stack the
 * first time it is used, with requireOutput: a missing output fails the consumer's update with its name,
 * and an output the consumer never touches is never read. The contract's secret outputs (SECRET_OUTPUTS)
 * come back secret even from a stack or engine that did not mark them.
 */
export function platformOutputs(stack: pulumi.StackReference): PlatformOutputs {
    const secret = new Set<string>(SECRET_OUTPUTS);
    const outputs: Partial<Record<keyof AzureStackOutputs, pulumi.Output<unknown>>> = {};
    for (const name of OUTPUT_NAMES) {
        let read: pulumi.Output<unknown> | undefined;
        Object.defineProperty(outputs, name, {
            enumerable: true,
            get: () => {
                read ??= secret.has(name) ? pulumi.secret(stack.requireOutput(name)) : stack.requireOutput(name);
                return read;
            },
        });
    }
    return outputs as PlatformOutputs;
}

/**
 * The outputs every platform stack has, for a consumer that may read a stack without Azure (local): the
 * same lazily read outputs as platformOutputs, typed without the Azure ones that such a stack lacks.
 */
export function clusterOutputs(stack: pulumi.StackReference): ClusterPlatformOutputs {
    return platformOutputs(stack);
}
