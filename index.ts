// Composes the layers of one stack and exports the outputs contract (components/outputs.ts).
import * as pulumi from "@pulumi/pulumi";
import { createAzureLayer } from "./components/azure/layer";
import type { WorkloadIdentity } from "./components/azure/workloadIdentity";
import { loadConfig } from "./components/config";
import type { BoundIdentity, StackOutputs } from "./components/outputs";
import { createPlatformLayer } from "./components/platform/layer";
import { createWorkloadsLayer } from "./components/workloads/layer";

// Validates every key before any resource is registered.
const cfg = loadConfig();
const azure = createAzureLayer(cfg);
const platform = createPlatformLayer(cfg, azure);
createWorkloadsLayer(cfg, azure, platform);

function bound(identity: WorkloadIdentity): pulumi.Output<BoundIdentity> {
    return pulumi.output({
        clientId: identity.clientId,
        serviceAccounts: identity.subjects.map((sa) => `${sa.namespace}/${sa.name}`),
    });
}

type Exported = { [K in keyof StackOutputs]: pulumi.Output<StackOutputs[K]> };
const outputs: Exported = {
    resourceGroupName: azure.resourceGroupName,
    clusterName: azure.cluster.clusterName,
    oidcIssuerUrl: azure.cluster.oidcIssuerUrl,
    kubeconfig: azure.cluster.kubeconfig,
    tenantId: azure.tenantId,
    appKeyVaultName: azure.appVault.vaultName,
    appKeyVaultUri: azure.appVault.vaultUri,
    unsealKeyVaultName: azure.unsealVault.vaultName,
    unsealKeyVaultUri: azure.unsealVault.vaultUri,
    unsealKeyName: azure.unsealKey.keyName,
    vaultUnsealIdentity: bound(azure.vaultUnsealIdentity),
    appSecretsIdentity: bound(azure.appSecretsIdentity),
    appInsightsConnectionString: azure.monitoring.connectionString,
    logAnalyticsWorkspaceId: azure.monitoring.workspaceId,
    appNamespace: pulumi.output(platform.appNamespace),
    appSecretProviderClass: pulumi.output(platform.appSecretProviderClass.className),
    vaultAddress: platform.vault.address,
    ingressGatewayService: pulumi.output(platform.ingressGateway.serviceName),
    ingressGatewayNamespace: platform.ingressGateway.namespace,
    ingressGatewayRef: platform.ingressGateway.gatewayRef,
    ingressHost: pulumi.output(platform.ingressHost),
};

export const {
    resourceGroupName,
    clusterName,
    oidcIssuerUrl,
    kubeconfig,
    tenantId,
    appKeyVaultName,
    appKeyVaultUri,
    unsealKeyVaultName,
    unsealKeyVaultUri,
    unsealKeyName,
    vaultUnsealIdentity,
    appSecretsIdentity,
    appInsightsConnectionString,
    logAnalyticsWorkspaceId,
    appNamespace,
    appSecretProviderClass,
    vaultAddress,
    ingressGatewayService,
    ingressGatewayNamespace,
    ingressGatewayRef,
    ingressHost,
} = outputs;
