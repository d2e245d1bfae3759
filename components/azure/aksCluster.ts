import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as monitor from "@pulumi/azure-native/monitor";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type * as azureInputs from "@pulumi/azure-native/types/input";
import { createHash } from "crypto";
import {
    POOL_MAX_SURGE_PERCENT,
    surgeNodes,
    VERSION_OWNING_CHANNELS,
    zonalPoolCounts,
    type NetworkConfig,
    type NodePoolConfig,
    type PlatformConfig,
} from "../config";
import {
    AKS_RBAC_CLUSTER_ADMIN,
    AKS_RBAC_PROPAGATION_SECONDS,
    rbacPropagation,
    resourceGroupCustomRole,
    roleDefinitionId,
    roleAssignmentOptions,
} from "./roles";

/** Where the cluster sits in the stack's network (components/azure/network.ts). */
export interface ClusterNetwork {
    /** Subnet of the system pool's nodes (without per-zone egress). */
    readonly systemSubnetId?: pulumi.Input<string>;
    /** Subnet of the user pool's nodes (with a user pool, without per-zone egress). */
    readonly userSubnetId?: pulumi.Input<string>;
    /**
     * Per-zone egress (Network.zonalSubnetIds): each pool's node subnet by zone, each behind its zone's
     * NAT gateway. Every pool is then split into one pool per zone, pinned to that zone's subnet.
     */
    readonly zonalSubnetIds?: {
        readonly system: Readonly<Record<string, pulumi.Input<string>>>;
        readonly user?: Readonly<Record<string, pulumi.Input<string>>>;
    };
    /** Subnet delegated to the API server (API server VNet integration). */
    readonly apiServerSubnetId?: pulumi.Input<string>;
    /** How nodes leave the VNet. */
    readonly egressType: NetworkConfig["egress"]["type"];
    /** Static egress IPs (NAT gateway): added to the API server's authorized ranges, where those are set. */
    readonly egressIps: pulumi.Input<string[]>;
}

/** AKS's outboundType for each egress type of the config. */
const OUTBOUND_TYPES = {
    loadBalancer: containerservice.OutboundType.LoadBalancer,
    // A NAT gateway we create and associate to the node subnets; AKS's own (managedNATGateway) would
    // choose its IPs only once the cluster exists, too late for the Key Vault firewall's first deploy.
    natGateway: containerservice.OutboundType.UserAssignedNATGateway,
    firewall: containerservice.OutboundType.UserDefinedRouting,
} as const satisfies Record<NetworkConfig["egress"]["type"], string>;

export interface AksClusterArgs {
    /** Cluster resource name. */
    readonly clusterName: string;
    /** DNS prefix of the API server FQDN. */
    readonly dnsPrefix: string;
    /** Resource group of the cluster. */
    readonly resourceGroupName: pulumi.Input<string>;
    /** Azure region. */
    readonly location: pulumi.Input<string>;
    /** Entra ID tenant (used when Entra ID authentication is on). */
    readonly tenantId: pulumi.Input<string>;
    /** Validated cluster settings from the stack config. */
    readonly settings: PlatformConfig["cluster"];
    /** Log Analytics workspace that receives Container Insights data. */
    readonly workspaceId: pulumi.Input<string>;
    /** Tags on the cluster and its data collection rule. */
    readonly tags: pulumi.Input<Record<string, string>>;
    /** The Azure Policy add-on (Gatekeeper), which enforces policy assignments in the cluster. Default false. */
    readonly azurePolicy?: boolean;
    /** Defender for Containers' sensor, reporting to the workspace. Default false. */
    readonly defender?: boolean;
    /**
     * The managed Prometheus metrics add-on (azureMonitorProfile.metrics): its agent sends to the Azure
     * Monitor workspace of the data collection rule associated with the cluster (managedPrometheus.ts). Default false.
     */
    readonly prometheusMetrics?: boolean;
    /** Keep the cluster from being deleted (prod). Default false. */
    readonly protect?: boolean;
    /** ARM ID of the control plane's user-assigned identity (it holds Network Contributor on the VNet). */
    readonly identityId: pulumi.Input<string>;
    /** Subnets and egress of the stack's VNet. */
    readonly network: ClusterNetwork;
    /**
     * Object ID of the principal that runs `pulumi up` (config access.deployerObjectId, else the signed-in client): with
     * Entra ID it gets Azure Kubernetes Service RBAC Cluster Admin on the cluster.
     */
    readonly deployerObjectId: pulumi.Input<string>;
    /** Subscription of the role definition IDs. */
    readonly subscriptionId: pulumi.Input<string>;
}

/**
 * The dry-run role of the pull-request preview principal (Entra ID clusters). pulumi-kubernetes previews
 * with server-side apply, a PATCH with dryRun=All, which the API server authorizes as the PATCH itself
 * (kubernetes apiserver: dry-run requests go through the same authorization as the real verb); a
 * ClusterRole or Role in the program is checked for escalation too (the rbac registry's escalation
 * check). Azure RBAC maps get/list/watch to `<group>/<resource>/read`, create/update/patch to `/write`,
 * delete to `/delete`. Least privilege: read and write only, no delete (a preview never deletes), no
 * `/action`s (pods/exec, serviceaccounts/impersonate, RBAC's escalate and bind), and no write to
 * rbac.authorization.k8s.io at all: with `bind` or a ClusterRoleBinding write, the principal could bind
 * cluster-admin to itself. Its previews of the program's Roles, ClusterRoles and bindings therefore fail
 * authorization (403 on the dry run); docs/delivery.md says so. Kubernetes has no dry-run-only
 * permission: whoever can preview an object can write it.
 */
const PREVIEW_ROLE_PERMISSIONS = {
    actions: [
        "Microsoft.ContainerService/managedClusters/read",
        // The kubeconfig: what "Azure Kubernetes Service Cluster User Role" grants, on this cluster only.
        "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
    ],
    dataActions: ["Microsoft.ContainerService/managedClusters/*/read", "Microsoft.ContainerService/managedClusters/*/write"],
    notDataActions: ["Microsoft.ContainerService/managedClusters/rbac.authorization.k8s.io/*/write"],
} as const;

/**
 * The API server's access profile (ManagedCluster API version 2025-09-01): a private cluster has no
 * public endpoint; a public one admits only the configured ranges plus the nodes' static egress IPs (the
 * nodes reach a public API server from those), and no range at all means anyone (dev only: config
 * requires ranges or a private cluster in prod).
 */
export function apiServerAccessProfile(
    settings: PlatformConfig["cluster"]["apiServer"],
    network: Pick<ClusterNetwork, "apiServerSubnetId" | "egressIps">,
): azureInputs.containerservice.ManagedClusterAPIServerAccessProfileArgs {
    // Only the ranges wait for the IPs, so a preview knows the rest (and the policy pack can check it).
    const restricted = !settings.private && settings.authorizedIpRanges.length > 0;
    return {
        enablePrivateCluster: settings.private,
        authorizedIPRanges: restricted
            ? pulumi
                  .output(network.egressIps)
                  .apply((egressIps) => [...new Set([...settings.authorizedIpRanges, ...egressIps.map((ip) => `${ip}/32`)])])
            : undefined,
        enableVnetIntegration: settings.vnetIntegration ? true : undefined,
        subnetId: settings.vnetIntegration ? network.apiServerSubnetId : undefined,
        // No `az aks command invoke`: a way around the authorized ranges and the private endpoint that
        // runs a pod as cluster admin (mspnp/aks-baseline cluster-stamp.bicep disableRunCommand: true).
        // The way into a private cluster here is the runner subnet.
        disableRunCommand: true,
    };
}

/**
 * How a pool rolls its nodes in an upgrade: surge POOL_MAX_SURGE_PERCENT of the pool, and give each node's drain (pod
 * evictions, which honour PodDisruptionBudgets) 30 minutes, AKS's own default made explicit
 * (AgentPoolUpgradeSettings.drainTimeoutInMinutes, azure-native 3.28.0 types/input.d.ts). A drain that
 * a PDB still holds after that fails the upgrade rather than hanging it.
 */
const POOL_UPGRADE = { drainTimeoutMinutes: 30 } as const;

/** Minutes to bring a surge node up and Ready (allocate, boot, join); an estimate with margin. */
const NODE_READY_MINUTES = 15;
/** Minutes for AKS to upgrade the control plane, before it touches any pool; an estimate with margin. */
const CONTROL_PLANE_UPGRADE_MINUTES = 45;
/** Minutes for AKS to delete the control plane and the node resource group; an estimate with margin. */
const CONTROL_PLANE_DELETE_MINUTES = 45;
/** Minutes for AKS to delete one pool's scale set without draining it; an estimate with margin. */
const POOL_DELETE_MINUTES = 20;

/**
 * The longest a pool's roll can take: AKS surges ceil(maxSurge% of the pool) nodes per batch, and each
 * batch waits for its new nodes, then for the old ones' drains (up to drainTimeoutMinutes). azure-native
 * gives an operation two hours unless the resource says otherwise (provider.go, azureContext), too
 * little for a large pool whose drains wait on PodDisruptionBudgets.
 */
/** A pool's create, update and delete: each as long as its roll (poolRollMinutes). */
function poolTimeouts(pool: Pick<NodePoolConfig, "maxCount" | "nodeCount" | "autoscaling">): pulumi.CustomTimeouts {
    const roll = `${poolRollMinutes(pool)}m`;
    return { create: roll, update: roll, delete: roll };
}

function poolRollMinutes(pool: Pick<NodePoolConfig, "maxCount" | "nodeCount" | "autoscaling">): number {
    const nodes = pool.autoscaling ? pool.maxCount : pool.nodeCount;
    const surge = Math.max(1, surgeNodes(nodes));
    const batches = Math.ceil(nodes / surge);
    return batches * (NODE_READY_MINUTES + POOL_UPGRADE.drainTimeoutMinutes);
}

/**
 * customTimeouts for the cluster (control plane, then the inline system pool) and for the user AgentPool.
 * attachedPools: the pools the cluster's DELETE takes with it (default: the system pool and the user
 * pool if any; with per-zone egress, one pool per pool and zone).
 */
function upgradeTimeouts(
    settings: Pick<PlatformConfig["cluster"], "systemPool" | "userPool">,
    attachedPools = 1 + (settings.userPool ? 1 : 0),
): {
    readonly cluster: pulumi.CustomTimeouts;
    readonly userPool?: pulumi.CustomTimeouts;
} {
    const minutes = (m: number) => `${m}m`;
    const cluster = minutes(CONTROL_PLANE_UPGRADE_MINUTES + poolRollMinutes(settings.systemPool));
    // What the cluster's one DELETE removes, in sequence at worst: every pool still attached (the inline
    // system pool; the user AgentPool too, which is deletedWith the cluster, so a destroy does not drain
    // it first), then the control plane and the
    // node resource group. AKS deletes a cluster's pools with it, without draining them. 45 minutes was
    // the control plane alone; with a user pool it is one scale set more.
    return {
        cluster: {
            create: cluster,
            update: cluster,
            delete: minutes(CONTROL_PLANE_DELETE_MINUTES + attachedPools * POOL_DELETE_MINUTES),
        },
        // A pool's own delete (switched off, or the old pool of a replacement) drains it node by node,
        // honouring PDBs (AKS, unless ignore-pod-disruption-budget is set): as long as a roll.
        userPool: settings.userPool ? poolTimeouts(settings.userPool) : undefined,
    };
}

/**
 * The `ignoreChanges` paths of the inline pools' counts that the cluster autoscaler owns: `count` is
 * only the initial size of an autoscaled pool. The autoscaler then moves the live count, and AKS
 * refuses a cluster update whose autoscaled pool carries a count other than the current one ("Cannot
 * manually scale AgentPool ... with cluster autoscaler enabled", hashicorp/terraform-provider-azurerm#4543;
 * `az aks nodepool scale` is blocked for such pools, Azure/azure-cli#13996). With the path ignored,
 * Pulumi sends the count it last stored instead of the program's, and `pulumi refresh` (or
 * `up --refresh`) stores the live one: no stale count, and no diff after a refresh. The user pool, an
 * AgentPool of its own, ignores its `count` the same way.
 */
export function autoscaledCountPaths(pools: readonly NodePoolConfig[]): string[] {
    return pools.flatMap((pool, i) => (pool.autoscaling ? [`agentPoolProfiles[${i}].count`] : []));
}

/**
 * Version fields Pulumi stops sending once the cluster exists, when the auto-upgrade channel moves the
 * minor itself (stable, rapid): a later PUT would carry the minor the cluster was created with, and AKS
 * refuses to downgrade (the pattern of pulumi/pulumi-azure-native#2059). The channel owns the version
 * then; cluster.kubernetesVersion is the creation version only (docs/operations.md, "Upgrade Kubernetes").
 * The user AgentPool, which may be created long after the cluster (userPool.enabled turned on, or a new
 * pool for a new VM size), sends no version at all under these channels: ignoreChanges does nothing for
 * a resource with no state yet, so a configured 1.N would create the pool behind a control plane the
 * channel has moved to 1.N+1 (or fail once AKS stops offering 1.N), and AKS gives a pool without
 * orchestratorVersion the control plane's version (see userPoolVersion).
 */
export function channelOwnedVersionPaths(channel: PlatformConfig["cluster"]["autoUpgradeChannel"]): {
    readonly cluster: string[];
    readonly pool: string[];
} {
    return VERSION_OWNING_CHANNELS.includes(channel)
        ? { cluster: ["kubernetesVersion", "agentPoolProfiles[0].orchestratorVersion"], pool: ["orchestratorVersion"] }
        : { cluster: [], pool: [] };
}

/**
 * The user AgentPool's orchestratorVersion: none under an upgrade channel that moves the minor (stable,
 * rapid), so AKS picks it for a pool created after an auto-upgrade, at the control plane's version,
 * instead of the configured minor the channel has left behind (azure-native 3.28.0
 * containerservice/agentPool.d.ts, orchestratorVersion: optional; "The node pool version cannot be
 * greater than the control plane version", and "must be within two minors" of it). A pool PUT without
 * it is resolved to the control plane's version (Azure/terraform-azurerm-avm-res-containerservice-
 * managedcluster#267: a user pool sent with a null version came up at the cluster's 1.34), and
 * Azure/ARO-HCP#662 leaves its separately managed pools' versions unset for this reason. Under patch,
 * node-image and none the configured version is the cluster's minor and stays pinned, like
 * kubernetesVersion on the cluster.
 */
function userPoolVersion(settings: Pick<PlatformConfig["cluster"], "autoUpgradeChannel" | "kubernetesVersion">): string | undefined {
    return VERSION_OWNING_CHANNELS.includes(settings.autoUpgradeChannel) ? undefined : settings.kubernetesVersion;
}

/** How often Image Cleaner (eraser) scans the nodes, in hours (AKS allows 24-2160). */
const IMAGE_CLEANER_INTERVAL_HOURS = 120;

/** Container Insights' default stream set (the Microsoft-ContainerInsights-Group-Default group). */
const CONTAINER_INSIGHTS_STREAM = "Microsoft-ContainerInsights-Group-Default";

/** What AKS cannot change on an existing pool. */
export interface PoolIdentity {
    readonly vmSize: string;
    readonly zones: readonly string[];
    readonly subnetId: string;
    readonly osType: string;
    readonly osSku: string;
    /** OS disk type and size: fixed for a pool's life too (concepts-storage.md, "You can't change the OS disk size after ... node pool creation"). */
    readonly osDiskType?: NodePoolConfig["osDiskType"];
    readonly osDiskSizeGb?: number;
}

/**
 * The AKS name of the user pool: "user" and a digest of what AKS cannot change in place. VM size, zones
 * and subnet are fixed for a pool's life: AKS resizes or moves a pool only by creating another and
 * deleting the old one (MicrosoftDocs/azure-aks-docs articles/aks/resize-node-pool.md; azure-native
 * stopped replacing the whole cluster for such changes, pulumi/pulumi-azure-native#2774). A change to
 * any of them gives the pool a new name, which Pulumi carries out as a replacement, create before
 * delete: the new pool comes up, then the old one is deleted, which drains it honouring
 * PodDisruptionBudgets (AgentPools_Delete without ignore-pod-disruption-budget; azure-aks-docs
 * articles/aks/manage-node-pools.md, "Ignore PodDisruptionBudgets when removing an existing node pool").
 * Linux pool names are 1-12 lowercase letters and digits, starting with a letter.
 */
export function userPoolName(pool: PoolIdentity): string {
    return `user${poolDigest(pool)}`;
}

/**
 * The AKS name of a system-mode AgentPool (per-zone egress: the system pool's share in the zones after
 * the first, whose share is the inline pool "system"), named like the user pool from what AKS cannot
 * change: "system" and 6 hex digits, 12 characters.
 */
function systemPoolName(pool: PoolIdentity): string {
    return `system${poolDigest(pool)}`;
}

function poolDigest(pool: PoolIdentity): string {
    // The OS disk joins the digest only where it differs from what pools had before it was configurable
    // (a managed disk of AKS's default size), so that an existing pool keeps its name.
    const osDisk =
        (pool.osDiskType ?? "Managed") === "Managed" && pool.osDiskSizeGb === undefined ? [] : [pool.osDiskType, pool.osDiskSizeGb ?? null];
    const digest = createHash("sha256")
        .update(JSON.stringify([pool.vmSize, [...pool.zones].sort(), pool.subnetId.toLowerCase(), pool.osType, pool.osSku, ...osDisk]))
        .digest("hex");
    return digest.slice(0, 6);
}

/**
 * One pool's share in one zone, with network.perZoneNodePools: a pool has one subnet and a subnet one NAT
 * gateway, so a pool spanning zones would leave through one zone's gateway; instead each zone gets a
 * pool of its own (MicrosoftDocs/azure-docs articles/nat-gateway/nat-availability-zones.md, the
 * "zonal stack": the VMs, their subnet, the NAT gateway and its IPs in one zone). The counts are
 * zonalPoolCounts' (components/config/validators.ts): count and minimum divided among the zones, the
 * maximum among one zone fewer, so the surviving zones still reach it after a zone's loss.
 */
function zonalPool(pool: NodePoolConfig, zone: string): NodePoolConfig {
    if (!pool.zones.includes(zone)) throw new Error(`zone ${zone} is not one of the pool's zones ${JSON.stringify(pool.zones)}`);
    return { ...pool, zones: [zone], ...zonalPoolCounts(pool) };
}

const OS = { type: containerservice.OSType.Linux, sku: containerservice.OSSKU.AzureLinux } as const;

/**
 * What a pool's role (system or user) decides, the three together: its AKS mode, its taints, and the
 * name of its AgentPools (systemPoolName, userPoolName).
 */
interface PoolRole {
    readonly mode: "System" | "User";
    readonly taints: readonly string[];
    readonly poolName: (identity: PoolIdentity) => string;
}

/** The settings the inline system pool and the AgentPools share. */
function poolSettings(role: PoolRole, pool: NodePoolConfig, version: string | undefined, subnetId: pulumi.Input<string> | undefined) {
    return {
        mode: role.mode,
        vnetSubnetID: subnetId,
        vmSize: pool.vmSize,
        count: pool.nodeCount,
        enableAutoScaling: pool.autoscaling,
        minCount: pool.autoscaling ? pool.minCount : undefined,
        maxCount: pool.autoscaling ? pool.maxCount : undefined,
        availabilityZones: pool.zones.length > 0 ? [...pool.zones] : undefined,
        orchestratorVersion: version,
        osType: OS.type,
        osSKU: OS.sku,
        // mspnp/aks-baseline runs both pools on ephemeral OS disks (workload-team/cluster-stamp.bicep:
        // osDiskType 'Ephemeral' with an explicit osDiskSizeGB that fits the size's local disk).
        osDiskType: pool.osDiskType,
        osDiskSizeGB: pool.osDiskSizeGb,
        type: containerservice.AgentPoolType.VirtualMachineScaleSets,
        nodeTaints: role.taints.length > 0 ? [...role.taints] : undefined,
        upgradeSettings: { maxSurge: `${POOL_MAX_SURGE_PERCENT}%`, drainTimeoutInMinutes: POOL_UPGRADE.drainTimeoutMinutes },
    };
}

/**
 * An AKS cluster with the OIDC issuer and workload identity on, a user-assigned control-plane identity,
 * Azure CNI overlay with the Cilium dataplane and network policy, Container Insights, upgrade channels
 * with a maintenance window, and the Kubernetes provider every in-cluster resource of the program uses.
 */
export class AksCluster extends pulumi.ComponentResource {
    /** The cluster's name. */
    readonly clusterName: pulumi.Output<string>;
    /** ARM resource ID of the cluster. */
    readonly clusterId: pulumi.Output<string>;
    /** The OIDC issuer URL that federated credentials trust. */
    readonly oidcIssuerUrl: pulumi.Output<string>;
    /** Kubeconfig from the cluster's user credentials (secret). */
    readonly kubeconfig: pulumi.Output<string>;
    /** Kubernetes provider for this cluster; pass it explicitly to every Kubernetes resource. */
    readonly provider: k8s.Provider;
    /** Object ID of the kubelet identity AKS creates: what pulls images from a private registry. */
    readonly kubeletObjectId: pulumi.Output<string>;
    /**
     * What every Kubernetes provider of this cluster waits for: the deployer's cluster-admin grant and its
     * propagation (Entra ID), or nothing (local accounts: the kubeconfig's certificate is cluster admin).
     */
    readonly kubernetesAuthorized: pulumi.Resource[];
    /** What every Kubernetes provider of this cluster waits for: kubernetesAuthorized and every AgentPool. */
    readonly kubernetesReady: pulumi.Resource[];
    /** AKS name of the user pool (userPoolName), when there is one. */
    readonly userPoolName?: pulumi.Output<string>;

    constructor(name: string, args: AksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:AksCluster", name, {}, opts);
        const s = args.settings;

        // With a user pool, the system pool only runs critical add-ons and workloads go to the user pool.
        const poolRoles: Record<"system" | "user", PoolRole> = {
            system: { mode: "System", taints: s.userPool ? ["CriticalAddonsOnly=true:NoSchedule"] : [], poolName: systemPoolName },
            user: { mode: "User", taints: [], poolName: userPoolName },
        };
        const net = args.network;
        // Only the system pool is inline: AKS refuses to add a pool through a cluster PUT ("Adding agent
        // pools to an existing cluster is not allowed through managed cluster operations",
        // pulumi/pulumi-azure-nextgen#168), does not delete one left out of agentPoolProfiles, and puts
        // every pool into Scaling on any inline edit (pulumi/pulumi-azure-native#4264). The user pool
        // is an AgentPool of its own, below.
        // With network.perZoneNodePools every pool is split by zone (zonalPool): the inline system pool keeps the
        // lowest zone, system-mode AgentPools take the others (a cluster needs its system pool inline
        // at creation; AKS adds further pools only as AgentPools), and the user pool becomes one AgentPool
        // per zone. A zone added below the lowest (or the lowest removed) moves the inline pool's zone and
        // subnet, which AKS cannot change on an existing pool: a rebuild (docs/platform.md, "Per-zone pools").
        const zonal = net.zonalSubnetIds;
        const systemZones = zonal ? [...s.systemPool.zones].sort() : [];
        const userZones = zonal && s.userPool ? [...s.userPool.zones].sort() : [];
        const inlinePool = zonal ? zonalPool(s.systemPool, systemZones[0]) : s.systemPool;
        const inlineSubnet = zonal ? zonal.system[systemZones[0]] : net.systemSubnetId;
        if (!inlineSubnet) throw new pulumi.ResourceError(`${name}: the system pool needs the network's system subnet`, this);
        const pools = [{ name: "system", ...poolSettings(poolRoles.system, inlinePool, s.kubernetesVersion, inlineSubnet) }];
        const timeouts = upgradeTimeouts(s, zonal ? systemZones.length + userZones.length : undefined);
        const versionPaths = channelOwnedVersionPaths(s.autoUpgradeChannel);
        // No balanceSimilarNodeGroups for the per-zone pools: it would not balance them. The cluster
        // autoscaler's Azure comparator (kubernetes/autoscaler, branch cluster-autoscaler-release-1.34,
        // cluster-autoscaler/processors/nodegroupset/azure_nodegroups.go, CreateAzureNodeInfoComparator)
        // ignores the pool-name labels (agentpool, kubernetes.azure.com/agentpool), the zone labels and the
        // node image version, and compare_nodegroups.go's compareLabels requires every other label to be
        // equal; an AKS node carries its subnet's name as kubernetes.azure.com/network-subnet (AKS's node
        // bootstrap labels, Azure/karpenter-provider-azure pkg/providers/imagefamily/bootstrap/
        // aksbootstrap.go, vnetSubnetNameLabel), which differs from zone to zone (snet-user-z1, -z2, ...).
        // The flag that would ignore it, --balancing-ignore-label, is not in AKS's autoscaler profile
        // (azure-native 3.28.0 ManagedClusterPropertiesAutoScalerProfile). So each zone's pool scales on
        // its own: zonalPoolCounts sizes each for a zone's loss, and zone spread comes from the workloads'
        // topology spread constraints (docs/platform.md, "A zone's loss").
        // The flag is sent as "false" (a string: azure-native 3.28.0 ManagedClusterPropertiesAutoScalerProfile
        // balanceSimilarNodeGroups, "Valid values are 'true' and 'false'"), not left out: stacks that ran
        // per-zone pools before the network.perZoneNodePools key sent "true", and a profile left out of the PUT is
        // not known to reset a value AKS already holds (cluster-api-provider-azure copies the live
        // autoScalerProfile when its spec has none, azure/services/managedclusters/spec.go, rather than
        // trusting an omission). Only with per-zone pools and an autoscaled pool, where "true" was sent, so
        // no other stack's cluster inputs change; "false" is also the autoscaler's default there.
        const autoscaled = s.systemPool.autoscaling || (s.userPool?.autoscaling ?? false);

        const cluster = new containerservice.ManagedCluster(
            name,
            {
                resourceName: args.clusterName,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                dnsPrefix: args.dnsPrefix,
                kubernetesVersion: s.kubernetesVersion,
                sku: { name: containerservice.ManagedClusterSKUName.Base, tier: s.tier },
                // A managed identity: no service principal secret to rotate or leak. User-assigned, so that
                // it holds its rights on the VNet before the cluster is created.
                identity: {
                    type: containerservice.ResourceIdentityType.UserAssigned,
                    userAssignedIdentities: [args.identityId],
                },
                enableRBAC: true,
                agentPoolProfiles: pools,
                networkProfile: {
                    networkPlugin: containerservice.NetworkPlugin.Azure,
                    networkPluginMode: containerservice.NetworkPluginMode.Overlay,
                    networkDataplane: containerservice.NetworkDataplane.Cilium,
                    networkPolicy: containerservice.NetworkPolicy.Cilium,
                    podCidr: s.podCidr,
                    serviceCidr: s.serviceCidr,
                    dnsServiceIP: s.dnsServiceIp,
                    loadBalancerSku: containerservice.LoadBalancerSku.Standard,
                    outboundType: OUTBOUND_TYPES[net.egressType],
                },
                apiServerAccessProfile: apiServerAccessProfile(s.apiServer, net),
                autoScalerProfile: zonal && autoscaled ? { balanceSimilarNodeGroups: "false" } : undefined,
                oidcIssuerProfile: { enabled: true },
                securityProfile: {
                    workloadIdentity: { enabled: true },
                    // Image Cleaner removes unused images with known vulnerabilities from the nodes, every
                    // five days as in mspnp/aks-baseline (cluster-stamp.bicep imageCleaner intervalHours 120).
                    imageCleaner: { enabled: true, intervalHours: IMAGE_CLEANER_INTERVAL_HOURS },
                    defender: args.defender
                        ? { logAnalyticsWorkspaceResourceId: args.workspaceId, securityMonitoring: { enabled: true } }
                        : undefined,
                },
                aadProfile: s.entraId
                    ? {
                          managed: true,
                          enableAzureRBAC: true,
                          adminGroupObjectIDs: [...s.entraId.adminGroupObjectIds],
                          tenantID: args.tenantId,
                      }
                    : undefined,
                disableLocalAccounts: s.disableLocalAccounts,
                autoUpgradeProfile: { upgradeChannel: s.autoUpgradeChannel, nodeOSUpgradeChannel: s.nodeOsUpgradeChannel },
                // Managed Prometheus' metrics add-on, as mspnp/aks-baseline (cluster-stamp.bicep,
                // azureMonitorProfile.metrics): kube-state-metrics with no extra labels or annotations (a
                // wildcard there multiplies series). Off: nothing is sent, so AKS keeps it disabled.
                azureMonitorProfile: args.prometheusMetrics
                    ? { metrics: { enabled: true, kubeStateMetrics: { metricLabelsAllowlist: "", metricAnnotationsAllowList: "" } } }
                    : undefined,
                addonProfiles: {
                    // Container Insights with managed identity auth; the data collection rule below says what to collect.
                    omsagent: {
                        enabled: true,
                        config: { logAnalyticsWorkspaceResourceID: args.workspaceId, useAADAuth: "true" },
                    },
                    // Gatekeeper v3 with Azure Policy; "v2" is the add-on's config version for it.
                    azurepolicy: { enabled: args.azurePolicy ?? false, config: args.azurePolicy ? { version: "v2" } : undefined },
                },
                tags: args.tags,
            },
            {
                parent: this,
                protect: args.protect,
                ignoreChanges: [...autoscaledCountPaths([inlinePool]), ...versionPaths.cluster],
                // A version bump upgrades the control plane, then rolls the system pool in this one PUT.
                customTimeouts: timeouts.cluster,
            },
        );

        // The AgentPools: each a pool AKS cannot change in place (VM size, zones, subnet) under a name
        // derived from those (userPoolName, systemPoolName), so that a change is a replacement, create
        // before delete.
        const agentPool = (
            resourceName: string,
            role: PoolRole,
            pool: NodePoolConfig,
            subnetId: pulumi.Input<string>,
            rollTimeouts: pulumi.CustomTimeouts | undefined,
        ) => {
            const agentPoolName = pulumi.output(subnetId).apply((id) =>
                role.poolName({
                    vmSize: pool.vmSize,
                    zones: pool.zones,
                    subnetId: id,
                    osType: OS.type,
                    osSku: OS.sku,
                    osDiskType: pool.osDiskType,
                    osDiskSizeGb: pool.osDiskSizeGb,
                }),
            );
            const created = new containerservice.AgentPool(
                resourceName,
                {
                    resourceGroupName: args.resourceGroupName,
                    resourceName: cluster.name,
                    agentPoolName,
                    ...poolSettings(role, pool, userPoolVersion(s), subnetId),
                },
                {
                    parent: this,
                    // A new name is a replacement: the new pool first, then the old one drained and deleted.
                    deleteBeforeReplace: false,
                    // A pool created under a stable/rapid channel stores no version; one created before
                    // keeps the version it stored (a refresh stores the live one), never a downgrade.
                    ignoreChanges: [...(pool.autoscaling ? ["count"] : []), ...versionPaths.pool],
                    // When the cluster goes in the same operation, its DELETE takes the pool with it:
                    // no drain of a pool whose cluster is going (upgradeTimeouts counts it in).
                    deletedWith: cluster,
                    customTimeouts: rollTimeouts,
                },
            );
            return { pool: created, name: agentPoolName };
        };

        const agentPools: containerservice.AgentPool[] = [];
        if (zonal) {
            for (const zone of systemZones.slice(1)) {
                const subnetId = zonal.system[zone];
                if (!subnetId) throw new pulumi.ResourceError(`${name}: no system subnet for zone ${zone}`, this);
                const pool = zonalPool(s.systemPool, zone);
                agentPools.push(agentPool(`${name}-system-z${zone}`, poolRoles.system, pool, subnetId, poolTimeouts(pool)).pool);
            }
            for (const zone of userZones) {
                const subnetId = zonal.user?.[zone];
                if (!s.userPool || !subnetId) throw new pulumi.ResourceError(`${name}: no user subnet for zone ${zone}`, this);
                const pool = zonalPool(s.userPool, zone);
                agentPools.push(agentPool(`${name}-user-z${zone}`, poolRoles.user, pool, subnetId, poolTimeouts(pool)).pool);
            }
        } else if (s.userPool) {
            const subnetId = net.userSubnetId;
            if (!subnetId) throw new pulumi.ResourceError(`${name}: the user pool needs the network's user subnet`, this);
            const user = agentPool(`${name}-user`, poolRoles.user, s.userPool, subnetId, timeouts.userPool);
            this.userPoolName = user.name;
            agentPools.push(user.pool);
        }

        const collectionRule = new monitor.DataCollectionRule(
            `${name}-ci`,
            {
                dataCollectionRuleName: `MSCI-${args.clusterName}`,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                kind: "Linux",
                dataSources: {
                    extensions: [
                        {
                            name: "ContainerInsightsExtension",
                            extensionName: "ContainerInsights",
                            streams: [CONTAINER_INSIGHTS_STREAM],
                            extensionSettings: {
                                dataCollectionSettings: { interval: "1m", namespaceFilteringMode: "Off", enableContainerLogV2: true },
                            },
                        },
                    ],
                },
                destinations: { logAnalytics: [{ name: "workspace", workspaceResourceId: args.workspaceId }] },
                dataFlows: [{ streams: [CONTAINER_INSIGHTS_STREAM], destinations: ["workspace"] }],
                tags: args.tags,
            },
            { parent: this },
        );
        new monitor.DataCollectionRuleAssociation(
            `${name}-ci`,
            {
                associationName: "ContainerInsightsExtension",
                resourceUri: cluster.id,
                dataCollectionRuleId: collectionRule.id,
            },
            { parent: this },
        );

        // AKS reads these two fixed configuration names as the windows for its upgrade channels.
        const window = s.maintenanceWindow;
        const schedules: [string, boolean][] = [
            ["aksManagedAutoUpgradeSchedule", s.autoUpgradeChannel !== "none"],
            ["aksManagedNodeOSUpgradeSchedule", s.nodeOsUpgradeChannel !== "None" && s.nodeOsUpgradeChannel !== "Unmanaged"],
        ];
        for (const [configName] of schedules.filter(([, active]) => active)) {
            new containerservice.MaintenanceConfiguration(
                `${name}-${configName}`,
                {
                    configName,
                    resourceGroupName: args.resourceGroupName,
                    resourceName: cluster.name,
                    maintenanceWindow: {
                        schedule: { weekly: { dayOfWeek: window.dayOfWeek, intervalWeeks: 1 } },
                        startTime: `${String(window.startHour).padStart(2, "0")}:00`,
                        utcOffset: "+00:00",
                        durationHours: window.durationHours,
                    },
                },
                { parent: this },
            );
        }

        // With Entra ID the user kubeconfig runs kubelogin ("exec" format); without it, it carries the
        // local account's client certificate. Either way it is a credential.
        const credentials = containerservice.listManagedClusterUserCredentialsOutput({
            resourceGroupName: args.resourceGroupName,
            resourceName: cluster.name,
            format: s.entraId ? "exec" : undefined,
        });
        this.kubeconfig = pulumi.secret(
            credentials.apply((c) => {
                const first = c.kubeconfigs[0];
                if (!first) throw new pulumi.ResourceError(`AKS returned no user kubeconfig for cluster ${args.clusterName}`, this);
                return Buffer.from(first.value, "base64").toString("utf8");
            }),
        );

        this.kubernetesAuthorized = s.entraId ? this.authorizeDeployer(name, cluster, args) : [];
        // With a user pool, workloads can run nowhere else (the system pool is tainted
        // CriticalAddonsOnly): the in-cluster resources wait for it, so a first up's releases do not
        // time out on Pending pods, a destroy deletes them before the pool, and `destroy
        // --exclude-protected` keeps the pool under the objects it retains (prod's Vault and MongoDB).
        // With per-zone pools, every zone's pools: no release starts before each zone has nodes.
        this.kubernetesReady = [...this.kubernetesAuthorized, ...agentPools];
        if (s.entraId?.previewerObjectId) this.authorizePreviewer(name, cluster, args, s.entraId.previewerObjectId);
        this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig }, { parent: this, dependsOn: this.kubernetesReady });

        this.kubeletObjectId = cluster.identityProfile.apply((profile) => {
            const objectId = profile?.["kubeletidentity"]?.objectId;
            if (!objectId) throw new pulumi.ResourceError(`cluster ${args.clusterName} reports no kubelet identity`, this);
            return objectId;
        });
        this.clusterName = cluster.name;
        this.clusterId = cluster.id;
        this.oidcIssuerUrl = cluster.oidcIssuerProfile.apply((p) => {
            if (!p?.issuerURL) throw new pulumi.ResourceError(`cluster ${args.clusterName} reports no OIDC issuer URL`, this);
            return p.issuerURL;
        });
        this.registerOutputs({
            clusterName: this.clusterName,
            clusterId: this.clusterId,
            oidcIssuerUrl: this.oidcIssuerUrl,
            kubeconfig: this.kubeconfig,
            provider: this.provider,
            kubeletObjectId: this.kubeletObjectId,
            userPoolName: this.userPoolName,
        });
    }

    /**
     * Entra ID with Azure RBAC for Kubernetes: Owner, or Contributor with User Access Administrator, carry
     * no Kubernetes dataActions, so the principal running `pulumi up` gets "Azure Kubernetes Service RBAC
     * Cluster Admin" on this cluster (the AKS baseline does the same: mspnp/aks-baseline
     * cluster-stamp.bicep, clusterAdminRole). An assignment takes effect at the cluster's authorization
     * server up to five minutes after it is created (AKS_RBAC_PROPAGATION_SECONDS); pulumi-kubernetes does
     * not retry a 403, so the providers wait for a Sleep after the grant. The Sleep runs on create only,
     * and again only when the grant is replaced (its triggers): a second `up` does not wait.
     */
    private authorizeDeployer(name: string, cluster: containerservice.ManagedCluster, args: AksClusterArgs): pulumi.Resource[] {
        const admin = new authorization.RoleAssignment(
            `${name}-deployer-admin`,
            {
                principalId: args.deployerObjectId,
                roleDefinitionId: pulumi.output(args.subscriptionId).apply((sub) => roleDefinitionId(sub, AKS_RBAC_CLUSTER_ADMIN)),
                scope: cluster.id,
            },
            roleAssignmentOptions({ parent: this }),
        );
        const propagated = rbacPropagation(`${name}-deployer-admin-propagation`, admin, AKS_RBAC_PROPAGATION_SECONDS, { parent: this });
        return [admin, propagated];
    }

    /**
     * The pull-request preview principal: the dry-run role (PREVIEW_ROLE_PERMISSIONS), assigned on this
     * cluster only. The custom role itself is defined on the cluster's resource group
     * (resourceGroupCustomRole, which says why), as vaultTlsRenewRole's is. What the principal gets is
     * the assignment's scope, the cluster, not the group.
     *
     * Stacks whose definition sat on the cluster: the changed scope (a path parameter) replaces the
     * definition and so the assignment, each created before the old one is deleted. A custom role's
     * name is unique in the directory, so the new definition's name differs from the old
     * "<cluster> preview (dry-run apply)", which is deleted after its assignment. The name carries a
     * hash of the group's ID (customRoleName): the same cluster name in another subscription of the
     * tenant gets another role name; a stack whose role had the name without it is renamed in place.
     */
    private authorizePreviewer(name: string, cluster: containerservice.ManagedCluster, args: AksClusterArgs, principalId: string): void {
        const resourceGroupId = pulumi.interpolate`/subscriptions/${args.subscriptionId}/resourceGroups/${args.resourceGroupName}`;
        const role = resourceGroupCustomRole(
            `${name}-previewer-role`,
            {
                roleName: `${args.clusterName} dry-run preview`,
                description:
                    "Reads and writes (no delete, no exec) every Kubernetes object of this cluster: what a server-side-apply dry run needs.",
                resourceGroupId,
                permissions: PREVIEW_ROLE_PERMISSIONS,
            },
            { parent: this },
        );
        new authorization.RoleAssignment(
            `${name}-previewer`,
            { principalId, roleDefinitionId: role.id, scope: cluster.id },
            roleAssignmentOptions({ parent: this }),
        );
    }
}
