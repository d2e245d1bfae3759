// Composes the layers of one stack and exports the outputs contract (components/outputs.ts).
import * as pulumi from "@pulumi/pulumi";
import { AzureLayer } from "./components/azure/layer";
import type { WorkloadIdentity } from "./components/azure/workloadIdentity";
import { loadConfig } from "./components/config";
import type { ClusterFoundation } from "./components/foundation";
import { layerArgs } from "./components/layerArgs";
import { LocalLayer } from "./components/local/layer";
import type { AzureOutputs, BoundIdentity, ClusterOutputs } from "./components/outputs";
import { PlatformLayer } from "./components/platform/layer";
import { WorkloadsLayer } from "./components/workloads/layer";

// Validates every key before any resource is registered.
const cfg = loadConfig();
// dev and prod stand on the AKS cluster and Key Vaults they create; local on an existing cluster of the
// kubeconfig, with no Azure resource at all. Everything in the cluster is the same program either way.
const args = layerArgs(cfg);
const azure = cfg.cloud === "azure" ? new AzureLayer("azure", args.azure) : undefined;
const foundation: ClusterFoundation = azure ?? new LocalLayer("local", args.local);
const platform = new PlatformLayer("platform", args.platform(foundation));
new WorkloadsLayer("workloads", args.workloads(foundation, platform));

type Exported<T> = { [K in keyof T]: pulumi.Output<T[K]> };

function bound(identity: WorkloadIdentity): pulumi.Output<BoundIdentity> {
    return pulumi.output({
        clientId: identity.clientId,
        serviceAccounts: identity.subjects.map((sa) => `${sa.namespace}/${sa.name}`),
    });
}

function azureOutputs(layer: AzureLayer, inCluster: PlatformLayer): Exported<AzureOutputs> {
    const appSecretProviderClass = inCluster.appSecrets.secretProviderClass;
    if (appSecretProviderClass === undefined)
        throw new Error("a stack with Azure mounts its application secrets from Key Vault, yet has no SecretProviderClass");
    return {
        resourceGroupName: layer.resourceGroupName,
        clusterName: layer.cluster.clusterName,
        oidcIssuerUrl: layer.cluster.oidcIssuerUrl,
        kubeconfig: layer.cluster.kubeconfig,
        tenantId: layer.tenantId,
        appKeyVaultName: layer.appVault.vaultName,
        appKeyVaultUri: layer.appVault.vaultUri,
        unsealKeyVaultName: layer.unsealVault.vaultName,
        unsealKeyVaultUri: layer.unsealVault.vaultUri,
        unsealKeyName: layer.unsealKey.keyName,
        vaultUnsealIdentity: bound(layer.vaultUnsealIdentity),
        appSecretsIdentity: bound(layer.appSecretsIdentity),
        appInsightsConnectionString: layer.monitoring.connectionString,
        logAnalyticsWorkspaceId: layer.monitoring.workspaceId,
        egressIps: layer.network.egressIps,
        ingressPublicIp: layer.ingressWaf?.publicIp ?? pulumi.output(""),
        appSecretProviderClass: pulumi.output(appSecretProviderClass),
    };
}

const everyStack: Exported<ClusterOutputs> = {
    appNamespace: pulumi.output(platform.appNamespace),
    vaultAddress: platform.vault.address,
    ingressGatewayService: pulumi.output(platform.ingressGateway.serviceName),
    ingressGatewayNamespace: platform.ingressGateway.namespace,
    ingressGatewayRef: platform.ingressGateway.gatewayRef,
    ingressHost: pulumi.output(platform.ingressHost),
    vaultRollout: platform.vault.rolloutNotice,
};
// Without Azure the Azure outputs are undefined, which Pulumi leaves out of the stack's outputs.
const outputs: Exported<ClusterOutputs> & Partial<Exported<AzureOutputs>> = { ...everyStack, ...(azure && azureOutputs(azure, platform)) };

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
    egressIps,
    ingressPublicIp,
    appNamespace,
    appSecretProviderClass,
    vaultAddress,
    ingressGatewayService,
    ingressGatewayNamespace,
    ingressGatewayRef,
    ingressHost,
    vaultRollout,
} = outputs;
