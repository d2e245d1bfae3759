// One storage account for the stack's backups (Vault raft snapshots, MongoDB dumps), one container per
// kind. Access is Entra ID only: no account keys, no SAS, no anonymous reads; workloads write through
// workload identities with Storage Blob Data Contributor on their own container. Azure REST API
// 2024-01-01 (azure-native 3.28.0 storage.StorageAccount, BlobServiceProperties, BlobContainer,
// ManagementPolicy).
import * as storage from "@pulumi/azure-native/storage";
import * as pulumi from "@pulumi/pulumi";
import { PrivateEndpoint } from "./privateEndpoint";

/** A backup container and how long its blobs (and their old versions) are kept. */
export interface BackupContainer {
    /** Container name: 3-63 lowercase letters, digits and single hyphens. */
    readonly name: string;
    /** Days after creation a blob, and a superseded version of it, is deleted by the lifecycle policy. */
    readonly retentionDays: number;
    /**
     * Set where the writer prunes by age itself, keeping its newest N good blobs whatever their age
     * (scripts/vault-snapshot.sh): the lifecycle policy then deletes only superseded versions, never a
     * current blob, so a long run of failed writes cannot empty the container. A lifecycle rule has no
     * "keep the last N" (Azure Storage lifecycle management: filters and age conditions only).
     */
    readonly writerPrunesKeepingLast?: number;
}

export interface BackupStorageArgs {
    /** Resource group of the account. */
    readonly resourceGroupName: pulumi.Input<string>;
    /** Azure region. */
    readonly location: pulumi.Input<string>;
    /** Globally unique account name, 3-24 lowercase letters and digits. */
    readonly accountName: pulumi.Input<string>;
    /** Tags on the account. */
    readonly tags: pulumi.Input<Record<string, string>>;
    /** The containers, each with its retention. */
    readonly containers: readonly BackupContainer[];
    /** Zone-redundant storage (Standard_ZRS, prod) rather than locally redundant (Standard_LRS). */
    readonly zoneRedundant: boolean;
    /** Days a deleted blob or container can still be restored (soft delete). Default 14. */
    readonly softDeleteDays?: number;
    /** Keep the account from being deleted (prod). Default false. */
    readonly protect?: boolean;
    /** The account's public endpoint; off needs `privateEndpoint`. Default true. */
    readonly publicNetworkAccess?: boolean;
    /** A blob private endpoint: its subnet and the privatelink.blob.core.windows.net zone. */
    readonly privateEndpoint?: {
        readonly subnetId: pulumi.Input<string>;
        readonly privateDnsZoneId: pulumi.Input<string>;
        /** Resolves once the zone is linked to the VNet (PrivateDnsZone.linked). */
        readonly zoneLinked: pulumi.Input<string>;
    };
}

/** Storage soft delete keeps deleted blobs and containers for 1-365 days. */
export const DEFAULT_SOFT_DELETE_DAYS = 14;

export class BackupStorage extends pulumi.ComponentResource {
    readonly accountName: pulumi.Output<string>;
    /** ARM ID of the account. */
    readonly accountId: pulumi.Output<string>;
    /** https://<account>.blob.core.windows.net/ */
    readonly blobEndpoint: pulumi.Output<string>;
    /** ARM ID of each container, by name: the scope of a writer's role assignment. */
    readonly containerIds: Readonly<Record<string, pulumi.Output<string>>>;
    /**
     * The account name, resolving once the blob endpoint's private DNS records exist (with a private
     * endpoint): what the in-cluster writers take, so none runs before the name resolves privately.
     */
    readonly reachableAccountName: pulumi.Output<string>;

    constructor(name: string, args: BackupStorageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:BackupStorage", name, {}, opts);
        const names = args.containers.map((c) => c.name);
        if (new Set(names).size !== names.length)
            throw new pulumi.ResourceError(`${name}: container names must be unique, got ${names.join(", ")}`, this);
        const softDeleteDays = args.softDeleteDays ?? DEFAULT_SOFT_DELETE_DAYS;

        const account = new storage.StorageAccount(
            name,
            {
                accountName: args.accountName,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                kind: storage.Kind.StorageV2,
                sku: { name: args.zoneRedundant ? storage.SkuName.Standard_ZRS : storage.SkuName.Standard_LRS },
                accessTier: storage.AccessTier.Cool,
                // Entra ID only: with shared keys off, neither account keys nor SAS tokens authorize.
                allowSharedKeyAccess: false,
                defaultToOAuthAuthentication: true,
                allowBlobPublicAccess: false,
                allowCrossTenantReplication: false,
                enableHttpsTrafficOnly: true,
                minimumTlsVersion: storage.MinimumTlsVersion.TLS1_2,
                // Prod: no public endpoint at all; the jobs in the cluster and the restore runbooks reach
                // the blob endpoint through the private endpoint (the VNet's privatelink zone answers
                // <account>.blob.core.windows.net with its private address).
                publicNetworkAccess:
                    args.publicNetworkAccess === false ? storage.PublicNetworkAccess.Disabled : storage.PublicNetworkAccess.Enabled,
                tags: args.tags,
            },
            { parent: this, protect: args.protect },
        );
        const common = { accountName: account.name, resourceGroupName: args.resourceGroupName };

        // Versioning keeps every overwritten snapshot; soft delete every deleted blob and container.
        const blobService = new storage.BlobServiceProperties(
            name,
            {
                ...common,
                blobServicesName: "default",
                isVersioningEnabled: true,
                deleteRetentionPolicy: { enabled: true, days: softDeleteDays },
                containerDeleteRetentionPolicy: { enabled: true, days: softDeleteDays },
            },
            { parent: this },
        );

        const containerIds: Record<string, pulumi.Output<string>> = {};
        for (const container of args.containers) {
            containerIds[container.name] = new storage.BlobContainer(
                `${name}-${container.name}`,
                { ...common, containerName: container.name, publicAccess: storage.PublicAccess.None },
                { parent: this, dependsOn: [blobService] },
            ).id;
        }

        // Retention, per container: base blobs and superseded versions older than its days go.
        if (args.containers.length > 0) {
            new storage.ManagementPolicy(
                name,
                {
                    ...common,
                    // The only name the API accepts.
                    managementPolicyName: "default",
                    policy: {
                        rules: args.containers.map((c) => ({
                            name: `retain-${c.name}`,
                            enabled: true,
                            type: storage.RuleType.Lifecycle,
                            definition: {
                                filters: { blobTypes: ["blockBlob"], prefixMatch: [`${c.name}/`] },
                                actions: {
                                    ...(c.writerPrunesKeepingLast === undefined
                                        ? { baseBlob: { delete: { daysAfterCreationGreaterThan: c.retentionDays } } }
                                        : {}),
                                    version: { delete: { daysAfterCreationGreaterThan: c.retentionDays } },
                                },
                            },
                        })),
                    },
                },
                { parent: this },
            );
        }

        let registered: pulumi.Output<string> | undefined;
        if (args.privateEndpoint) {
            registered = new PrivateEndpoint(
                `${name}-pe`,
                {
                    endpointName: pulumi.interpolate`pe-${account.name}-blob`,
                    resourceGroupName: args.resourceGroupName,
                    location: args.location,
                    subnetId: args.privateEndpoint.subnetId,
                    targetId: account.id,
                    // The blob sub-resource: the only one the backups use.
                    groupId: "blob",
                    privateDnsZoneId: args.privateEndpoint.privateDnsZoneId,
                    tags: args.tags,
                },
                { parent: this },
            ).registered;
            registered = pulumi.all([registered, args.privateEndpoint.zoneLinked]).apply(([r]) => r);
        }

        this.accountName = account.name;
        this.reachableAccountName = registered ? pulumi.all([account.name, registered]).apply(([n]) => n) : account.name;
        this.accountId = account.id;
        this.blobEndpoint = registered
            ? pulumi.all([account.primaryEndpoints, registered]).apply(([e]) => e.blob)
            : account.primaryEndpoints.apply((e) => e.blob);
        this.containerIds = containerIds;
        this.registerOutputs({ accountName: this.accountName, accountId: this.accountId, blobEndpoint: this.blobEndpoint, containerIds });
    }
}
