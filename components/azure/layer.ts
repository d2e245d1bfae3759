// The Azure layer: everything the in-cluster layer stands on, composed from the components beside this
// file. It returns typed handles; index.ts turns them into stack outputs.
import * as authorization from "@pulumi/azure-native/authorization";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as resources from "@pulumi/azure-native/resources";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { cronMaxGapMinutes, NAME_SUFFIX_LENGTH, VAULT_NAMESPACE, VAULT_RELEASE, type PlatformConfig } from "../config";
import {
    APP_SECRET_KEYS,
    retainsMongoData,
    VAULT_INIT_PLACEHOLDER,
    type AppSecretName,
    type ClusterFoundation,
    type KeyVaultSecrets,
} from "../foundation";
import { ingressCertificate } from "../generated";
import { layerChildOptions, type LayerChildOptions } from "../layer";
import { AksCluster } from "./aksCluster";
import { IngressWaf } from "./appGateway";
import { AppSecrets } from "./appSecrets";
import { AuditAlerts } from "./auditAlerts";
import { ClusterDiagnostics, controlPlaneCategories } from "./clusterDiagnostics";
import { BackupStorage, type BackupContainer } from "./backupStorage";
import { CiRunner } from "./ciRunner";
import { ClusterIdentity } from "./clusterIdentity";
import { KeyVault, keyVaultItemOptions } from "./keyVault";
import { ResourceLocks } from "./locks";
import { ManagedPrometheus } from "./managedPrometheus";
import { Monitoring } from "./monitoring";
import { egressSourceRanges, Network } from "./network";
import {
    AKS_FQDN_TAG,
    aksRequiredFqdns,
    AZURE_POLICY_FQDNS,
    azureMonitorFqdns,
    MANAGED_PROMETHEUS_FQDNS,
    CI_RUNNER_APT_FQDNS,
    ciRunnerFqdns,
    ENTRA_ID_FQDNS,
    KEY_VAULT_FQDNS,
    pinnedImages,
    registryFqdns,
    upstreamRegistryFqdns,
} from "./egressAllowlist";
import { HTTP_AND_HTTPS, type FirewallApplicationRule } from "./firewall";
import { PrivateDnsZone, PRIVATE_LINK_ZONES } from "./privateDnsZone";
import { PrivateEndpoint } from "./privateEndpoint";
import { Registry } from "./registry";
import {
    KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
    KEY_VAULT_SECRETS_OFFICER,
    KEY_VAULT_SECRETS_USER,
    STORAGE_BLOB_DATA_CONTRIBUTOR,
} from "./roles";
import { ServiceImages } from "./serviceImages";
import { ClusterPolicy, policyExemptions } from "./clusterPolicy";
import { ISTIO_CNI_NAMESPACE, ISTIO_NAMESPACE, RELOADER_NAMESPACE } from "../platform/layer";
import { UPSTREAM_IMAGE_PREFIXES } from "../platform/charts";
import { ARGOCD_NAMESPACE } from "../workloads/argocd";
import { UnsealKey } from "./unsealKey";
import {
    VAULT_SERVER_IP_ADDRESSES,
    VAULT_TLS_CA_KEY_SECRET,
    VAULT_TLS_SECRETS,
    VAULT_TLS_VALIDITY,
    vaultTlsRenewGrants,
    vaultTlsRenewRole,
    VaultTls,
    vaultServerSubject,
} from "./vaultTls";
import { VAULT_TLS_BAD_STATUSES, VAULT_TLS_FIRST_REPORT_HOURS, VAULT_TLS_REPORT_STALE_HOURS } from "../platform/vaultTlsRenew";
import { WorkloadIdentity } from "./workloadIdentity";

// Shared with the stack without Azure; kept importable from here, where the secrets are created.
export { APP_SECRET_KEYS, type AppSecretName };

/** Key Vault secret (application vault) with MongoDB's generated root password. */
const MONGO_ROOT_PASSWORD_SECRET = "mongodb-root-password";

/** Key Vault secrets (application vault) holding the ingress gateway's PEM certificate and key. */
export const INGRESS_TLS_SECRETS = { certificate: "ingress-tls-crt", privateKey: "ingress-tls-key" } as const;

/** Container of the backup storage account that MongoDB's dumps go to. */
export const MONGO_BACKUP_CONTAINER = "mongodb";

/** Key Vault secret (unseal vault) the prod Vault initialisation Job writes: the recovery keys, no root token. */
export const VAULT_INIT_SECRETS = { recoveryKeys: "vault-recovery-keys" } as const;

/**
 * The containers of the stack's backup storage account: the one place a kind of backup is added, with
 * the retention its config gives. The account exists only when there is one.
 */
export function backupContainers(cfg: Pick<PlatformConfig, "mongo" | "identities" | "vault">): BackupContainer[] {
    return [
        ...(cfg.mongo.backup ? [{ name: MONGO_BACKUP_CONTAINER, retentionDays: cfg.mongo.backup.retentionDays }] : []),
        // Vault's raft snapshots, where a snapshot CronJob runs (prod).
        ...(cfg.identities.vaultSnapshot.length > 0
            ? [
                  {
                      name: VAULT_SNAPSHOT_CONTAINER,
                      retentionDays: cfg.vault.snapshot.retentionDays,
                      writerPrunesKeepingLast: cfg.vault.snapshot.keepLast,
                  },
              ]
            : []),
    ];
}

/** The backup container of Vault's raft snapshots. */
const VAULT_SNAPSHOT_CONTAINER = "vault-snapshots";

/** The settings the Azure layer reads (components/layerArgs.ts picks them out of the program's config). */
export const AZURE_LAYER_CONFIG = [
    "environment",
    "location",
    "namePrefix",
    "names",
    "tags",
    "protectStatefulResources",
    "highAvailability",
    "resourceLocks",
    "cluster",
    "network",
    "monitoring",
    "governance",
    "keyVault",
    "unsealKey",
    "registry",
    "backupStorage",
    "ciRunner",
    "ingress",
    "identities",
    "vault",
    "mongo",
    "workloads",
] as const satisfies readonly (keyof PlatformConfig)[];
export type AzureLayerArgs = Pick<PlatformConfig, (typeof AZURE_LAYER_CONFIG)[number]>;

/** The Azure resources, and the foundation the in-cluster layers stand on: AKS's provider and Key Vault. */
export interface AzureHandles extends ClusterFoundation {
    readonly provider: k8s.Provider;
    readonly secrets: KeyVaultSecrets;
    readonly resourceGroupName: pulumi.Output<string>;
    readonly tenantId: pulumi.Output<string>;
    readonly monitoring: Monitoring;
    readonly network: Network;
    readonly cluster: AksCluster;
    /** The self-hosted runners in the VNet (ciRunner.enabled). */
    readonly ciRunner?: CiRunner;
    /** The private registry (registry.mode create or existing). */
    readonly registry?: Registry;
    readonly appVault: KeyVault;
    readonly unsealVault: KeyVault;
    readonly unsealKey: UnsealKey;
    readonly appSecrets: AppSecrets;
    readonly vaultUnsealIdentity: WorkloadIdentity;
    readonly appSecretsIdentity: WorkloadIdentity;
    /** The ingress WAF in front of the gateway (ingress.waf). */
    readonly ingressWaf?: IngressWaf;
    /** The ingress gateway's identity: reads the two INGRESS_TLS_SECRETS, nothing else. */
    readonly ingressTlsIdentity: WorkloadIdentity;
    /** The Vault initialisation Job's identity: writes the two VAULT_INIT_SECRETS (prod only). */
    readonly vaultInitIdentity?: WorkloadIdentity;
    /** Vault's internal CA and listener certificate (ha with TLS). */
    readonly vaultTls?: VaultTls;
    /** The backup storage account, when backupContainers(cfg) lists any container. */
    readonly backupStorage?: BackupStorage;
    /** The MongoDB backup CronJob's identity: Storage Blob Data Contributor on the mongodb container only. */
    readonly mongoBackupIdentity?: WorkloadIdentity;
    /** The raft snapshot CronJob's identity: writes blobs of the vault-snapshots container (prod only). */
    readonly vaultSnapshotIdentity?: WorkloadIdentity;
    /** The Vault TLS renewal CronJob's identity (prod with Vault TLS). */
    readonly vaultTlsRenewIdentity?: WorkloadIdentity;
}

/** The ID of a subnet every stack has. */
function subnet(net: Network, role: "system" | "privateEndpoints"): pulumi.Output<string> {
    const id = net.subnetIds[role];
    if (!id) throw new Error(`the network has no ${role} subnet`);
    return id;
}

/**
 * What the egress firewall allows, from the egress subnets, and nothing else: AKS (its FQDN tag and
 * the documented FQDNs), Entra ID, Azure Monitor, the Azure Policy add-on where it runs, Key Vault
 * where the vaults have no private endpoint, the stack's registry, and the upstream registries of the
 * images the program pins and the services are configured with (components/azure/egressAllowlist.ts).
 */
export function firewallRules(cfg: AzureLayerArgs, createdRegistryName: pulumi.Input<string>): FirewallApplicationRule[] {
    const sourceAddresses = egressSourceRanges(cfg.network);
    const rule = (
        name: string,
        description: string,
        targetFqdns: pulumi.Input<readonly string[]>,
        from: Partial<Pick<FirewallApplicationRule, "sourceAddresses" | "protocols">> = {},
    ): FirewallApplicationRule => ({ name, description, sourceAddresses, targetFqdns, ...from });
    const registryName =
        cfg.registry.mode === "create"
            ? pulumi.output(createdRegistryName)
            : cfg.registry.mode === "existing" && cfg.registry.id
              ? pulumi.output(cfg.registry.id.split("/").pop() ?? "")
              : undefined;
    const serviceImages = Object.values(cfg.workloads.images ?? {}).map((image) => image.repository);
    return [
        {
            name: "aks-fqdn-tag",
            description: "AKS's own dependencies, as Azure maintains them",
            sourceAddresses,
            fqdnTags: [AKS_FQDN_TAG],
            protocols: HTTP_AND_HTTPS,
        },
        rule("aks-required", "AKS's required FQDNs (outbound-rules-control-egress)", aksRequiredFqdns(cfg.location)),
        rule("entra-id", "Entra ID tokens: kubelet, CSI driver, workload identities", [...ENTRA_ID_FQDNS]),
        rule("azure-monitor", "Container Insights and Application Insights", azureMonitorFqdns(cfg.location)),
        ...(cfg.monitoring.managedPrometheus
            ? [rule("managed-prometheus", "Managed Prometheus' metrics add-on", [...MANAGED_PROMETHEUS_FQDNS])]
            : []),
        ...(cfg.governance.azurePolicy ? [rule("azure-policy", "The Azure Policy add-on", [...AZURE_POLICY_FQDNS])] : []),
        ...(cfg.keyVault.privateEndpoints ? [] : [rule("key-vault", "Key Vault without private endpoints", [...KEY_VAULT_FQDNS])]),
        ...(registryName
            ? [
                  rule(
                      "stack-registry",
                      "The stack's registry",
                      registryName.apply((n) => registryFqdns(n, cfg.location)),
                  ),
              ]
            : []),
        rule(
            "upstream-registries",
            "Registries of the pinned images and the services' images",
            upstreamRegistryFqdns([...pinnedImages(cfg.workloads.argocd !== undefined), ...serviceImages]),
        ),
        // The CI runner's workflow jobs (GitHub, npm, Pulumi, the chart repositories), from its subnet only.
        ...(cfg.ciRunner && cfg.network.subnets.runner
            ? [
                  rule("ci-runner", "The CI runner's workflow jobs: GitHub, npm, Pulumi, the Helm repositories", ciRunnerFqdns(), {
                      sourceAddresses: [cfg.network.subnets.runner],
                  }),
                  rule(
                      "ci-runner-apt",
                      "The CI runner's Azure CLI install: Ubuntu's package mirrors (HTTP) and the git PPA",
                      [...CI_RUNNER_APT_FQDNS],
                      { sourceAddresses: [cfg.network.subnets.runner], protocols: HTTP_AND_HTTPS },
                  ),
              ]
            : []),
    ];
}

/** The zones the node pools span: where the zone-redundant network appliances (firewall, WAF) run too. */
function nodeZones(cfg: Pick<PlatformConfig, "cluster">): string[] {
    return [...new Set([...cfg.cluster.systemPool.zones, ...(cfg.cluster.userPool?.zones ?? [])])].sort();
}

function azureResources(cfg: AzureLayerArgs, child: LayerChildOptions): AzureHandles {
    const client = authorization.getClientConfigOutput();
    const tags = cfg.tags;
    const protect = cfg.protectStatefulResources;

    const group = new resources.ResourceGroup(
        "rg",
        { resourceGroupName: cfg.names.resourceGroup, location: cfg.location, tags },
        { ...child, protect },
    );
    const common = { resourceGroupName: group.name, location: group.location };
    const stem = `${cfg.namePrefix}-${cfg.environment}`;

    // Key Vault and registry names are global across Azure; a suffix fixed in state keeps them unique and stable.
    const suffix = new random.RandomString(
        "kv-suffix",
        {
            length: NAME_SUFFIX_LENGTH,
            special: false,
            upper: false,
            minNumeric: 1,
        },
        child,
    ).result;
    // Registry names are global and alphanumeric: the prefix, environment and the vaults' suffix.
    const createdRegistryName = pulumi.interpolate`${cfg.namePrefix}${cfg.environment}${suffix}`;

    const monitoring = new Monitoring(
        "monitoring",
        {
            ...common,
            workspaceName: cfg.names.logAnalytics,
            appInsightsName: cfg.names.appInsights,
            retentionDays: cfg.monitoring.logRetentionDays,
            tags,
            protect,
        },
        child,
    );

    // The network and the control plane's identity are the only things the cluster waits for; the
    // private endpoints and DNS zones come up beside the cluster, not before it.
    const net = new Network(
        "network",
        {
            ...common,
            vnetName: `vnet-${stem}`,
            settings: cfg.network,
            tags,
            firewall:
                cfg.network.egress.type === "firewall"
                    ? {
                          applicationRules: firewallRules(cfg, createdRegistryName),
                          workspaceId: monitoring.workspaceId,
                          // The firewall spans the zones the node pools span, so that a zone's loss leaves
                          // the other zones' nodes their way out.
                          zones: nodeZones(cfg),
                      }
                    : undefined,
        },
        child,
    );
    const clusterIdentity = new ClusterIdentity(
        "aks-identity",
        {
            ...common,
            identityName: `${stem}-aks-control-plane`,
            vnetId: net.vnetId,
            subscriptionId: client.subscriptionId,
            tags,
        },
        child,
    );

    const cluster = new AksCluster(
        "aks",
        {
            ...common,
            clusterName: cfg.names.cluster,
            dnsPrefix: cfg.names.dnsPrefix,
            tenantId: client.tenantId,
            settings: cfg.cluster,
            workspaceId: monitoring.workspaceId,
            azurePolicy: cfg.governance.azurePolicy !== undefined,
            defender: cfg.governance.defender,
            prometheusMetrics: cfg.monitoring.managedPrometheus,
            tags,
            protect,
            identityId: clusterIdentity.identityId,
            network: {
                systemSubnetId: net.subnetIds.system,
                userSubnetId: net.subnetIds.user,
                zonalSubnetIds: net.zonalSubnetIds,
                apiServerSubnetId: net.subnetIds.apiServer,
                egressType: cfg.network.egress.type,
                egressIps: net.egressIps,
            },
            // One fixed principal where configured, so that CI and a workstation do not replace each other's grant.
            deployerObjectId: cfg.cluster.entraId?.deployerObjectId ?? client.objectId,
            subscriptionId: client.subscriptionId,
        },
        child,
    );

    // Who did what on the control plane, and (prod) the pod security initiative the add-on enforces.
    const diagnostics = new ClusterDiagnostics(
        "aks-diagnostics",
        {
            clusterId: cluster.clusterId,
            workspaceId: monitoring.workspaceId,
            categories: controlPlaneCategories(cfg.monitoring),
        },
        child,
    );

    const vaultArgs = {
        ...common,
        tenantId: client.tenantId,
        sku: cfg.keyVault.sku,
        softDeleteRetentionDays: cfg.keyVault.softDeleteRetentionDays,
        purgeProtection: cfg.keyVault.purgeProtection,
        networkAclMode: cfg.keyVault.networkAclMode,
        allowedIpRanges: cfg.keyVault.allowedIpRanges,
        egressIps: net.egressIps,
        publicNetworkAccess: cfg.keyVault.publicNetworkAccess,
        auditWorkspaceId: monitoring.workspaceId,
        tags,
        protect,
    };
    const appVault = new KeyVault("app-kv", { ...vaultArgs, vaultName: pulumi.interpolate`${cfg.names.appVaultStem}-${suffix}` }, child);
    // Vault's unseal key lives apart from application secrets, so no application role can reach it.
    const unsealVault = new KeyVault(
        "unseal-kv",
        { ...vaultArgs, vaultName: pulumi.interpolate`${cfg.names.unsealVaultStem}-${suffix}` },
        child,
    );

    // Private endpoints for both vaults; in-cluster consumers (the CSI driver, Vault's seal, the init
    // Job) get the vault names only once the endpoints' records resolve inside the VNet.
    const vaultsReachable: pulumi.Input<string>[] = [];
    // Deleting an endpoint deletes a privateEndpointConnectionProxies child of its vault, which the
    // vault's CanNotDelete lock refuses (ScopeLocked): the locks cover the endpoints too.
    const vaultEndpoints: PrivateEndpoint[] = [];
    const endpointSubnet = subnet(net, "privateEndpoints");
    if (cfg.keyVault.privateEndpoints) {
        const zone = new PrivateDnsZone(
            "kv-dns",
            {
                zoneName: PRIVATE_LINK_ZONES.keyVault,
                resourceGroupName: group.name,
                vnetId: net.vnetId,
                tags,
            },
            child,
        );
        vaultsReachable.push(zone.linked);
        for (const [key, vault] of [
            ["app-kv", appVault],
            ["unseal-kv", unsealVault],
        ] as const) {
            const endpoint = new PrivateEndpoint(
                `${key}-pe`,
                {
                    ...common,
                    endpointName: pulumi.interpolate`pe-${vault.vaultName}`,
                    subnetId: endpointSubnet,
                    targetId: vault.vaultId,
                    groupId: "vault",
                    privateDnsZoneId: zone.zoneId,
                    tags,
                },
                child,
            );
            vaultsReachable.push(endpoint.registered);
            vaultEndpoints.push(endpoint);
        }
    }
    const reachable = (name: pulumi.Output<string>) => pulumi.all([name, ...vaultsReachable]).apply(([n]) => n);
    const auditAlerts = new AuditAlerts(
        "audit-alerts",
        {
            ...common,
            workspaceId: monitoring.workspaceId,
            namePrefix: `${cfg.namePrefix}-${cfg.environment}`,
            auditTable: diagnostics.auditTable,
            vaultNamespace: VAULT_NAMESPACE,
            unsealVaultName: unsealVault.vaultName,
            snapshotStaleMinutes: cfg.identities.vaultSnapshot.length > 0 ? 2 * cronMaxGapMinutes(cfg.vault.snapshot.schedule) : undefined,
            vaultTlsExpiry:
                cfg.vault.tls && cfg.identities.vaultTlsRenew.length > 0
                    ? {
                          alertDays: VAULT_TLS_VALIDITY.expiryAlertDays,
                          reportStaleHours: VAULT_TLS_REPORT_STALE_HOURS,
                          firstReportHours: VAULT_TLS_FIRST_REPORT_HOURS,
                          badStatuses: VAULT_TLS_BAD_STATUSES,
                      }
                    : undefined,
            receiver: cfg.monitoring.alertReceiver,
            tags,
        },
        child,
    );
    // Node and pod health (issue 22): managed Prometheus and Microsoft's recommended alerts, notifying
    // the audit alerts' receivers.
    if (cfg.monitoring.managedPrometheus) {
        new ManagedPrometheus(
            "prometheus",
            {
                ...common,
                clusterName: cfg.names.cluster,
                clusterId: cluster.clusterId,
                logAnalyticsWorkspaceId: monitoring.workspaceId,
                resourceGroupId: group.id,
                namePrefix: stem,
                actionGroupId: auditAlerts.actionGroupId,
                tags,
            },
            child,
        );
    }

    const containers = backupContainers(cfg);
    const blobZone =
        containers.length > 0 && cfg.backupStorage.privateEndpoint
            ? new PrivateDnsZone(
                  "blob-dns",
                  { zoneName: PRIVATE_LINK_ZONES.blob, resourceGroupName: group.name, vnetId: net.vnetId, tags },
                  child,
              )
            : undefined;
    const backupStorage =
        containers.length > 0
            ? new BackupStorage(
                  "backups",
                  {
                      ...common,
                      accountName: pulumi.interpolate`${cfg.names.backupStorageStem}${suffix}`,
                      containers,
                      zoneRedundant: cfg.highAvailability,
                      tags,
                      protect,
                      publicNetworkAccess: cfg.backupStorage.publicNetworkAccess,
                      privateEndpoint: blobZone
                          ? { subnetId: endpointSubnet, privateDnsZoneId: blobZone.zoneId, zoneLinked: blobZone.linked }
                          : undefined,
                  },
                  child,
              )
            : undefined;

    const unsealKey = new UnsealKey(
        "unseal-key",
        {
            deployerReachesDataPlane: cfg.keyVault.publicNetworkAccess,
            vault: unsealVault,
            resourceGroupName: group.name,
            keyName: cfg.names.unsealKey,
            size: cfg.unsealKey.size,
            rotationDays: cfg.unsealKey.rotationDays,
            protect,
        },
        child,
    );

    const appSecrets = new AppSecrets(
        "app-secrets",
        {
            vault: appVault,
            resourceGroupName: group.name,
            // Taken from the Application Insights resource itself, never typed in.
            provided: {
                "applicationinsights-connection-string": monitoring.connectionString,
                "applicationinsights-instrumentation-key": monitoring.instrumentationKey,
            } satisfies Partial<Record<AppSecretName, pulumi.Input<string>>>,
            // MongoDB's root password is kept beside them, but no role lets an application read it.
            generated: ["database-password", "api-key", MONGO_ROOT_PASSWORD_SECRET],
            // Where MongoDB's volume outlives a destroy (retainsMongoData), its root user keeps the password
            // it was created with: the generated value stays in state with its secret, so a re-create
            // writes the same password into the mongodb-root Secret. (Kept vaults: keyVaultItemOptions.)
            protect: protect || retainsMongoData(cfg),
        },
        child,
    );

    // Vault's listener certificate (ha with TLS): kept in Vault's own Key Vault, read by Vault's identity.
    const vaultTls = cfg.vault.tls
        ? new VaultTls(
              "vault-tls",
              {
                  release: VAULT_RELEASE,
                  namespace: VAULT_NAMESPACE,
                  replicas: cfg.vault.replicas,
                  vault: unsealVault,
                  resourceGroupName: group.name,
                  protect,
              },
              child,
          )
        : undefined;

    const identityArgs = { ...common, issuerUrl: cluster.oidcIssuerUrl, subscriptionId: client.subscriptionId, tags };
    const vaultUnsealIdentity = new WorkloadIdentity(
        "vault-unseal-id",
        {
            ...identityArgs,
            identityName: `${cfg.namePrefix}-${cfg.environment}-vault-unseal`,
            subjects: cfg.identities.vaultUnseal,
            roles: [
                // On the key itself, not the vault: the seal can touch nothing else.
                { roleId: KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER, scope: unsealKey.keyId },
                // The CSI driver mounts the listener's certificate, key and CA as this identity: one each.
                ...Object.values(vaultTls?.secretIds ?? {}).map((scope) => ({ roleId: KEY_VAULT_SECRETS_USER, scope })),
            ],
        },
        child,
    );
    // The in-cluster renewal of Vault's certificate (issue 20 item 3): reads the CA's certificate and key,
    // reads and writes (a custom role: no delete) the server's certificate and key; one assignment each.
    const vaultTlsRenewIdentity =
        vaultTls && cfg.identities.vaultTlsRenew.length > 0
            ? new WorkloadIdentity(
                  "vault-tls-renew-id",
                  {
                      ...identityArgs,
                      identityName: `${cfg.namePrefix}-${cfg.environment}-vault-tls-renew`,
                      subjects: cfg.identities.vaultTlsRenew,
                      roles: vaultTlsRenewGrants(
                          vaultTls,
                          vaultTlsRenewRole(
                              "vault-tls-renew-role",
                              { roleName: `${cfg.namePrefix}-${cfg.environment} Vault TLS renewal`, resourceGroupId: group.id },
                              child,
                          ).id,
                      ),
                  },
                  child,
              )
            : undefined;
    const appSecretsIdentity = new WorkloadIdentity(
        "app-secrets-id",
        {
            ...identityArgs,
            identityName: `${cfg.namePrefix}-${cfg.environment}-app-secrets`,
            subjects: cfg.identities.appSecrets,
            // One assignment per secret the CSI driver mounts, so other secrets in the vault stay out of reach.
            roles: (Object.keys(APP_SECRET_KEYS) as AppSecretName[]).map((secretName) => ({
                roleId: KEY_VAULT_SECRETS_USER,
                scope: appSecrets.secretIds[secretName],
            })),
        },
        child,
    );

    // The ingress certificate and key, as PEM secrets the CSI driver syncs into the gateway's TLS
    // Secret (azure-native manages Key Vault secrets, not certificates). Without configured ones
    // (dev only: config requires them in prod) a CA and a server certificate for the ingress host are
    // generated (components/generated.ts; the stem keeps the name of the self-signed pair before them).
    const ingressPem = ingressCertificate(
        "ingress-tls-self-signed",
        {
            host: cfg.ingress.host,
            environment: cfg.environment,
            configured: cfg.ingress.tls,
        },
        child,
    );
    const ingressTls = new AppSecrets(
        "ingress-tls",
        {
            vault: appVault,
            resourceGroupName: group.name,
            protect,
            provided: {
                [INGRESS_TLS_SECRETS.certificate]: ingressPem.certificate,
                [INGRESS_TLS_SECRETS.privateKey]: ingressPem.privateKey,
            },
        },
        child,
    );
    // The ingress WAF (prod): the only public entry, serving the same certificate from Key Vault and
    // re-encrypting to the gateway's internal load balancer. In the node pools' zones, like the firewall.
    const appGatewaySubnet = net.subnetIds.appGateway;
    if (cfg.ingress.waf && !appGatewaySubnet) throw new Error("ingress.waf: the network has no Application Gateway subnet");
    const ingressWaf =
        cfg.ingress.waf && appGatewaySubnet
            ? new IngressWaf(
                  "ingress-waf",
                  {
                      ...common,
                      name: stem,
                      subscriptionId: client.subscriptionId,
                      subnetId: appGatewaySubnet,
                      zones: nodeZones(cfg),
                      settings: cfg.ingress.waf,
                      host: cfg.ingress.host,
                      certificatePem: ingressPem.certificate,
                      privateKeyPem: ingressPem.privateKey,
                      rootCertificatePem: ingressPem.root,
                      vault: appVault,
                      reachableVaultUri: reachable(appVault.vaultUri),
                      vaultResourceGroupName: group.name,
                      workspaceId: monitoring.workspaceId,
                      protect,
                      tags,
                  },
                  child,
              )
            : undefined;
    const ingressTlsIdentity = new WorkloadIdentity(
        "ingress-tls-id",
        {
            ...identityArgs,
            identityName: `${cfg.namePrefix}-${cfg.environment}-ingress-tls`,
            subjects: cfg.identities.ingressTls,
            roles: Object.values(INGRESS_TLS_SECRETS).map((secretName) => ({
                roleId: KEY_VAULT_SECRETS_USER,
                scope: ingressTls.secretIds[secretName],
            })),
        },
        child,
    );

    // The initialisation Job writes Vault's recovery keys and root token into these secrets. They are
    // created here with a placeholder so that the Job's role can be scoped to exactly them. Pulumi
    // ignores every change to their properties: an update would PUT the placeholder as a new current
    // version over the Job's (Key Vault would keep the older version, but the current one would be wrong).
    let vaultInitIdentity: WorkloadIdentity | undefined;
    let vaultInitPlaceholders: keyvault.Secret[] = [];
    if (cfg.identities.vaultInit.length > 0) {
        const placeholders = Object.values(VAULT_INIT_SECRETS).map(
            (secretName) =>
                new keyvault.Secret(
                    `vault-init-${secretName}`,
                    {
                        vaultName: unsealVault.vaultName,
                        resourceGroupName: group.name,
                        secretName,
                        properties: { value: pulumi.secret(VAULT_INIT_PLACEHOLDER), contentType: "text/plain" },
                    },
                    {
                        ...child,
                        ignoreChanges: ["properties"],
                        additionalSecretOutputs: ["properties"],
                        ...keyVaultItemOptions(unsealVault, protect),
                    },
                ),
        );
        vaultInitIdentity = new WorkloadIdentity(
            "vault-init-id",
            {
                ...identityArgs,
                identityName: `${cfg.namePrefix}-${cfg.environment}-vault-init`,
                subjects: cfg.identities.vaultInit,
                roles: placeholders.map((secret) => ({ roleId: KEY_VAULT_SECRETS_OFFICER, scope: secret.id })),
            },
            child,
        );
        vaultInitPlaceholders = placeholders;
    }

    // The backup CronJob writes its dumps with this identity; the role reaches its own container, not
    // the account (nor another kind of backup's container).
    const mongoBackupScope = backupStorage?.containerIds[MONGO_BACKUP_CONTAINER];
    const mongoBackupIdentity =
        cfg.mongo.backup && backupStorage && mongoBackupScope
            ? new WorkloadIdentity(
                  "mongodb-backup-id",
                  {
                      ...identityArgs,
                      identityName: `${cfg.namePrefix}-${cfg.environment}-mongodb-backup`,
                      subjects: cfg.identities.mongoBackup,
                      roles: [{ roleId: STORAGE_BLOB_DATA_CONTRIBUTOR, scope: mongoBackupScope }],
                  },
                  child,
              )
            : undefined;
    const mongoBackup =
        backupStorage && mongoBackupIdentity
            ? {
                  blobEndpoint: backupStorage.blobEndpoint,
                  container: MONGO_BACKUP_CONTAINER,
                  identity: mongoBackupIdentity,
                  tenantId: client.tenantId,
              }
            : undefined;
    // The raft snapshot CronJob's identity: writes blobs of its one container, nothing else of the account.
    let vaultSnapshotIdentity: WorkloadIdentity | undefined;
    let vaultSnapshots: KeyVaultSecrets["vaultSnapshots"];
    if (cfg.identities.vaultSnapshot.length > 0) {
        if (!backupStorage) throw new Error("identities.vaultSnapshot: the snapshots need the backup storage account");
        vaultSnapshotIdentity = new WorkloadIdentity(
            "vault-snapshot-id",
            {
                ...identityArgs,
                identityName: `${cfg.namePrefix}-${cfg.environment}-vault-snapshot`,
                subjects: cfg.identities.vaultSnapshot,
                roles: [{ roleId: STORAGE_BLOB_DATA_CONTRIBUTOR, scope: backupStorage.containerIds[VAULT_SNAPSHOT_CONTAINER] }],
            },
            child,
        );
        vaultSnapshots = {
            accountName: backupStorage.reachableAccountName,
            containerName: VAULT_SNAPSHOT_CONTAINER,
            identity: vaultSnapshotIdentity,
        };
    }

    // Prod keeps its namespaces and MongoDB on destroy. pulumi-kubernetes creates with a plain create
    // since 4.29, so re-creating the stack would fail with AlreadyExists on each kept object
    // (provider/pkg/await/await.go, Creation). This second provider for the same cluster adopts them
    // (server-side apply over the existing object, `upsertExistingObjects`); it is used for exactly the
    // kept objects, so anything else that already exists still fails loudly.
    const retainedObjectsProvider = protect
        ? new k8s.Provider(
              "aks-k8s-retained",
              { kubeconfig: cluster.kubeconfig, upsertExistingObjects: true },
              { parent: cluster, dependsOn: cluster.kubernetesReady },
          )
        : undefined;

    let registry: Registry | undefined;
    if (cfg.registry.mode !== "none") {
        const privateRegistry = cfg.registry.mode === "create" && cfg.registry.privateEndpoint;
        registry = new Registry(
            "acr",
            {
                ...common,
                mode: cfg.registry.mode,
                registryName: createdRegistryName,
                existingId: cfg.registry.id,
                publicNetworkAccess: cfg.registry.publicNetworkAccess,
                privateEndpoint: privateRegistry
                    ? {
                          subnetId: endpointSubnet,
                          privateDnsZoneId: new PrivateDnsZone(
                              "acr-dns",
                              {
                                  zoneName: PRIVATE_LINK_ZONES.registry,
                                  resourceGroupName: group.name,
                                  vnetId: net.vnetId,
                                  tags,
                              },
                              child,
                          ).zoneId,
                      }
                    : undefined,
                kubeletObjectId: cluster.kubeletObjectId,
                subscriptionId: client.subscriptionId,
                tags,
            },
            child,
        );
    }

    // The services' images in the stack's registry (build, import); config names them as they are.
    const source = cfg.workloads.imageSource;
    let serviceImages: ServiceImages | undefined;
    if (source !== "config" && !cfg.workloads.argocd) {
        if (!registry) throw new Error(`services.imageSource ${source} needs the stack's registry`);
        serviceImages = new ServiceImages(
            "images",
            {
                source,
                registryId: registry.registryId,
                loginServer: registry.loginServer,
                tenantId: client.tenantId,
                buildTag: cfg.environment,
                sources: cfg.workloads.images,
                sourceCredentials: cfg.workloads.imageSourceCredentials,
                registryReady: registry.ready,
            },
            child,
        );
    }

    // The policies the add-on enforces in the cluster (issue 22 item 3). Images: the stack's registry, the
    // services' configured repositories and the pinned upstream ones (UPSTREAM_IMAGE_PREFIXES).
    if (cfg.governance.azurePolicy) {
        const serviceRepositories = Object.values(cfg.workloads.images ?? {}).map((image) => `${image.repository}:`);
        new ClusterPolicy(
            "cluster-policy",
            {
                clusterId: cluster.clusterId,
                effect: cfg.governance.azurePolicy.effect,
                exemptions: policyExemptions(
                    {
                        istioSystem: ISTIO_NAMESPACE,
                        istioCni: ISTIO_CNI_NAMESPACE,
                        ingress: cfg.identities.ingressTls[0].namespace,
                        vault: VAULT_NAMESPACE,
                        reloader: RELOADER_NAMESPACE,
                        argocd: ARGOCD_NAMESPACE,
                    },
                    // Behind the WAF the gateway's Service is an internal load balancer, which the policy admits.
                    { publicIngress: !cfg.ingress.waf },
                ),
                allowedImagePrefixes: pulumi
                    .all([registry?.loginServer ?? ""])
                    .apply(([server]) => [...(server ? [`${server}/`] : []), ...new Set(serviceRepositories), ...UPSTREAM_IMAGE_PREFIXES]),
            },
            child,
        );
    }

    // Where prod's workflows run: inside the VNet, so the API server's authorized ranges (the egress IPs)
    // and the private vaults and registry admit them.
    let ciRunner: CiRunner | undefined;
    if (cfg.ciRunner) {
        const runnerSubnet = net.subnetIds.runner;
        const { repository, githubToken } = cfg.ciRunner;
        if (!runnerSubnet || !repository || !githubToken)
            throw new Error("ciRunner.enabled needs the runner subnet, ciRunner.repository and ciRunner.githubToken");
        ciRunner = new CiRunner(
            "ci-runner",
            {
                ...common,
                tags,
                baseName: `${cfg.namePrefix}-${cfg.environment}-runner`,
                subnetId: runnerSubnet,
                repository,
                label: cfg.ciRunner.label,
                maxRunners: cfg.ciRunner.maxRunners,
                githubToken,
            },
            child,
        );
    }

    // Created after what they cover, so that destroy removes them first (components/azure/locks.ts).
    // On the stateful resources themselves, never the group: a lock is inherited by everything below
    // its scope, and the group holds the federated credentials, maintenance configurations, node pools
    // and role assignments that day-2 work deletes. Not on the cluster either, whose agent pools,
    // maintenance configurations and role assignments are such deletes (it is `protect`ed instead).
    if (cfg.resourceLocks) {
        new ResourceLocks(
            "locks",
            {
                resources: {
                    "app-kv": appVault.vaultId,
                    "unseal-kv": unsealVault.vaultId,
                    "unseal-key": unsealKey.keyId,
                    workspace: monitoring.workspaceId,
                    ...(backupStorage ? { backups: backupStorage.accountId } : {}),
                },
                notes: "Production platform: lift deliberately (docs/platform.md, Locks).",
                // Everything under a locked scope, above all the per-secret, per-key and per-container role
                // assignments of the workload identities: destroy, or an `up` that lifts the locks while
                // dropping one, deletes the locks before them (components/azure/locks.ts).
                covers: [
                    ...[monitoring, net, clusterIdentity, cluster, appVault, unsealVault, unsealKey, appSecrets, ingressTls],
                    ...[vaultUnsealIdentity, appSecretsIdentity, ingressTlsIdentity],
                    // The ingress WAF's PFX secret and its identity's role on it sit under app-kv's lock.
                    ...[
                        vaultTls,
                        vaultInitIdentity,
                        mongoBackupIdentity,
                        vaultSnapshotIdentity,
                        vaultTlsRenewIdentity,
                        backupStorage,
                        ingressWaf,
                    ].filter((r): r is NonNullable<typeof r> => r !== undefined),
                    ...vaultInitPlaceholders,
                    ...vaultEndpoints,
                ],
                nested: { "unseal-key": "unseal-kv" },
            },
            child,
        );
    }

    return {
        provider: cluster.provider,
        retainedObjectsProvider,
        secrets: {
            kind: "keyvault",
            tenantId: client.tenantId,
            appVaultName: reachable(appVault.vaultName),
            ingressTlsSecrets: INGRESS_TLS_SECRETS,
            unsealVaultName: reachable(unsealVault.vaultName),
            unsealKeyName: unsealKey.keyName,
            vaultInitSecrets: VAULT_INIT_SECRETS,
            vaultTls: vaultTls && {
                secretNames: VAULT_TLS_SECRETS,
                caCertificate: vaultTls.caCertificate,
                renewal: vaultTlsRenewIdentity && {
                    caKeySecret: VAULT_TLS_CA_KEY_SECRET,
                    subject: vaultServerSubject(VAULT_RELEASE, VAULT_NAMESPACE),
                    dnsNames: vaultTls.dnsNames,
                    ipAddresses: VAULT_SERVER_IP_ADDRESSES,
                    renewBeforeDays: VAULT_TLS_VALIDITY.renewBeforeDays,
                    validityDays: VAULT_TLS_VALIDITY.serverHours / 24,
                    alertDays: VAULT_TLS_VALIDITY.expiryAlertDays,
                    identity: vaultTlsRenewIdentity,
                },
            },
            vaultSnapshots,
            identities: {
                appSecrets: appSecretsIdentity,
                ingressTls: ingressTlsIdentity,
                vaultUnseal: vaultUnsealIdentity,
                vaultInit: vaultInitIdentity,
            },
        },
        mongoRootPassword: appSecrets.generatedValues[MONGO_ROOT_PASSWORD_SECRET],
        mongoBackup,
        serviceImages: serviceImages?.images,
        ciRunner,
        resourceGroupName: group.name,
        tenantId: client.tenantId,
        monitoring,
        network: net,
        cluster,
        registry,
        appVault,
        unsealVault,
        unsealKey,
        appSecrets,
        vaultUnsealIdentity,
        appSecretsIdentity,
        ingressTlsIdentity,
        ingressWaf,
        vaultInitIdentity,
        vaultTls,
        backupStorage,
        mongoBackupIdentity,
        vaultSnapshotIdentity,
        vaultTlsRenewIdentity,
    };
}

/**
 * The Azure layer as one component: the resources of AzureHandles are its children. Its args are the
 * settings it reads (AZURE_LAYER_CONFIG); each direct child keeps the URN it had as a resource of the
 * stack through an alias (components/layer.ts), so an existing stack moves under it and replaces nothing.
 */
// The class has exactly the handles' members (declaration merging), assigned from them in one step.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface AzureLayer extends AzureHandles {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class AzureLayer extends pulumi.ComponentResource {
    constructor(name: string, args: AzureLayerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:Layer", name, {}, opts);
        Object.assign(this, azureResources(args, layerChildOptions(this)));
        this.registerOutputs({ resourceGroupName: this.resourceGroupName, tenantId: this.tenantId });
    }
}
