// The stack outputs contract: what other projects may read from this stack (through a
// StackReference). Adding a field is safe; renaming or removing one breaks consumers. A stack without
// Azure (local) exports only the ClusterOutputs part.

/** A service account federated with a managed identity, and that identity's client ID. */
export interface BoundIdentity {
    /** Client ID: the azure.workload.identity/client-id annotation value. */
    readonly clientId: string;
    /** Service accounts, as namespace/name, that may act as the identity. */
    readonly serviceAccounts: string[];
}

/** Outputs only a stack with Azure (dev, prod) exports; a stack without Azure (local) has none of them. */
export interface AzureOutputs {
    /** Resource group holding every Azure resource of the stack. */
    readonly resourceGroupName: string;
    /** AKS cluster name. */
    readonly clusterName: string;
    /** OIDC issuer URL of the cluster, for federating further identities. */
    readonly oidcIssuerUrl: string;
    /** Kubeconfig from the cluster's user credentials. Secret. */
    readonly kubeconfig: string;
    /** Entra ID tenant of the subscription. */
    readonly tenantId: string;
    /** Application secrets Key Vault. */
    readonly appKeyVaultName: string;
    readonly appKeyVaultUri: string;
    /** Key Vault dedicated to HashiCorp Vault's unseal key. */
    readonly unsealKeyVaultName: string;
    readonly unsealKeyVaultUri: string;
    /** Name of the RSA key Vault's azurekeyvault seal uses. */
    readonly unsealKeyName: string;
    /** Identity of HashiCorp Vault's server (unseal). */
    readonly vaultUnsealIdentity: BoundIdentity;
    /** Identity of the applications (Key Vault secrets through the CSI driver). */
    readonly appSecretsIdentity: BoundIdentity;
    /** Application Insights connection string. Secret. */
    readonly appInsightsConnectionString: string;
    /** ARM resource ID of the Log Analytics workspace. */
    readonly logAnalyticsWorkspaceId: string;
    /** Static public IPs the nodes leave through (the firewall's, prod, or the NAT gateway's); [] with loadBalancer. For allow lists elsewhere. */
    readonly egressIps: string[];
    /** The ingress WAF's (Application Gateway's) public IP, where ingress.host's DNS record points; "" without the WAF (the gateway's own load balancer IP is AKS's to pick). */
    readonly ingressPublicIp: string;
    /** SecretProviderClass (in appNamespace) that mounts the application secrets and syncs the keyvault-secrets Secret. */
    readonly appSecretProviderClass: string;
}

/** Outputs every stack exports, with Azure or without. */
export interface ClusterOutputs {
    /** Namespace the applications run in (Istio sidecar injection on); their secrets are in its keyvault-secrets Secret. */
    readonly appNamespace: string;
    /** HashiCorp Vault's in-cluster API address, http://vault.<namespace>.svc.cluster.local:8200. */
    readonly vaultAddress: string;
    /** Service of the Istio ingress gateway (type LoadBalancer with Azure, NodePort without). */
    readonly ingressGatewayService: string;
    /** Namespace of the ingress gateway, its Service and its TLS Secret. */
    readonly ingressGatewayNamespace: string;
    /** `<namespace>/<name>` of the Istio Gateway resource that VirtualServices attach to. */
    readonly ingressGatewayRef: string;
    /** Host the ingress gateway serves over HTTPS. */
    readonly ingressHost: string;
    /** Vault's release revision and what to run when it changed (scripts/vault-rollout.sh). */
    readonly vaultRollout: string;
}

/** What a stack exports: the cluster outputs always, the Azure outputs only where the stack creates Azure. */
export type StackOutputs = ClusterOutputs & Partial<AzureOutputs>;

/** What a stack with Azure (dev, prod) exports: every output of the contract. */
export type AzureStackOutputs = ClusterOutputs & AzureOutputs;

/** Output names that are secret: consumers get them through getSecretOutput / requireOutput as secrets. */
export const SECRET_OUTPUTS = ["kubeconfig", "appInsightsConnectionString"] as const satisfies readonly (keyof StackOutputs)[];
