// The cross-key rules: what a member's own check (keys.ts) cannot see because it depends on another
// member. One function per concern, in the order of the groups (layout.ts), each headed by the groups it
// relates; parseConfig runs them all and reports every problem in one round. Messages name paths through
// `P` (paths.ts), never a path written out, so a renamed member leaves no stale message. A member whose
// own check failed is not compared again.
import {
    AZURE_RESERVED_SUBNET_ADDRESSES,
    CI_RUNNER_SUBNET_DEFAULT,
    IMAGE_SOURCES,
    POOL_MAX_SURGE_PERCENT,
    SERVICE_NAMES,
    VERSION_KEEPING_CHANNELS,
    type Cloud,
    type Environment,
    type ServiceName,
} from "./constants";
import { configSetCommand, P, type MemberPath } from "./paths";
import type { ImageRef, NodePoolConfig } from "./types";
import {
    checkHostName,
    checkOsDisk,
    checkPool,
    checkRecoverySplit,
    checkTlsPair,
    checkWafBackendChain,
    cidrsOverlap,
    cidrWithin,
    nodeSubnetPrefixFor,
    show,
    surgeNodes,
    zonalPoolCounts,
    ZONAL_SUBNET_PARTS,
    type PoolGroup,
} from "./validators";
import { specOf, type ConfigPath, type ConfigValues } from "./keys";

/** What every rule reads: the stack's values, which members it set, and what the members' own checks said. */
export interface RuleContext {
    readonly v: ConfigValues;
    /** Members the stack sets (as opposed to defaults). */
    readonly set: ReadonlySet<ConfigPath>;
    readonly environment: Environment;
    readonly cloud: Cloud;
    /** The problems readValues reported, each beginning with its member's path. */
    readonly reported: readonly string[];
    /** Members whose value was not of their type (readValues' `malformed`). */
    readonly malformed: ReadonlySet<ConfigPath>;
    /** Also require what a deploy needs beyond valid values (ParseOptions.deployable). */
    readonly deployable: boolean;
}

type Rule = (c: RuleContext) => string[];

/**
 * Whether `value` passes the member's own check (the key table's `check`, called with the path as its
 * key, as readValues calls it). The one place the rules ask the table: a member whose own check failed
 * is not compared again (readValues has reported it).
 */
function passesOwnCheck(c: RuleContext, path: ConfigPath, value: unknown): boolean {
    return specOf(path).check?.(path, value as never, c.environment) === undefined;
}

/** Whether `value` of `path` is present and passes the member's own check. */
function valid(c: RuleContext, path: ConfigPath, value: string | undefined): value is string {
    return value !== undefined && passesOwnCheck(c, path, value);
}

/**
 * Whether any of `paths` holds a value that was not of its type (readValues' `malformed`): a rule whose
 * condition reads such a member without naming it in its claim asks this itself (crossKeyProblems).
 */
function malformed(c: RuleContext, ...paths: readonly ConfigPath[]): boolean {
    return paths.some((path) => c.malformed.has(path));
}

/** Whether readValues reported a problem with any of `paths`. */
function reportedFor(c: RuleContext, ...paths: readonly ConfigPath[]): boolean {
    return c.reported.some((e) => paths.some((path) => e.startsWith(`${path}:`)));
}

// ---- cluster -----------------------------------------------------------------------------------------

/** cluster: a pinned patch release against the auto-upgrade channel that would move past it. */
function clusterRules({ v }: RuleContext): string[] {
    const { kubernetesVersion, autoUpgradeChannel } = v.cluster;
    if (!/^1\.\d+\.\d+$/.test(kubernetesVersion) || VERSION_KEEPING_CHANNELS.includes(autoUpgradeChannel as never)) return [];
    return [
        `${P.cluster.kubernetesVersion}: ${show(kubernetesVersion)} pins a patch release, but ${P.cluster.autoUpgradeChannel} ${show(autoUpgradeChannel)} upgrades the cluster past it, and the next pulumi up after a refresh would try to downgrade; use major.minor (e.g. "${kubernetesVersion.split(".").slice(0, 2).join(".")}") or ${P.cluster.autoUpgradeChannel} ${VERSION_KEEPING_CHANNELS.join(" or ")}`,
    ];
}

// ---- systemPool, userPool ----------------------------------------------------------------------------

/** A pool's OS disk type as sent to AKS: the stack's value when it set one, Ephemeral, or nothing (AKS chooses). */
function osDiskTypeSent(value: string, setByStack: boolean): NodePoolConfig["osDiskType"] {
    return setByStack || value === "Ephemeral" ? (value as NodePoolConfig["osDiskType"]) : undefined;
}

/** The node pool of group `group` as the cluster receives it. */
export function nodePoolConfig(v: ConfigValues, set: ReadonlySet<ConfigPath>, group: PoolGroup): NodePoolConfig {
    const pool = v[group];
    return {
        vmSize: pool.vmSize,
        nodeCount: pool.nodeCount,
        autoscaling: pool.autoscaling,
        minCount: pool.minCount,
        maxCount: pool.maxCount,
        zones: pool.zones,
        // Sent only when the stack sets it or it is Ephemeral (prod's default): unset, AKS chooses
        // (azure-native 3.28.0 types/input.d.ts ManagedClusterAgentPoolProfileArgs.osDiskType: "The default is
        // 'Ephemeral' if the VM supports it and has a cache disk larger than the requested OSDiskSizeGB.
        // Otherwise, defaults to 'Managed'"), as it did before the key existed.
        osDiskType: osDiskTypeSent(pool.osDiskType, set.has(P[group].osDiskType)),
        // Sent with Ephemeral (AKS would otherwise size it by vCPU count, not by the local disk) or when set.
        osDiskSizeGb: pool.osDiskType === "Ephemeral" || set.has(P[group].osDiskSizeGb) ? pool.osDiskSizeGb : undefined,
    };
}

/** systemPool, userPool: autoscaler bounds against the count, and an ephemeral OS disk against the VM size. */
function poolRules({ v, set }: RuleContext): string[] {
    const systemPool = nodePoolConfig(v, set, "systemPool");
    const userPool = nodePoolConfig(v, set, "userPool");
    return [
        ...checkPool("systemPool", systemPool),
        ...checkOsDisk("systemPool", systemPool),
        ...[...checkPool("userPool", userPool), ...checkOsDisk("userPool", userPool)].map((e) =>
            v.userPool.enabled ? e : `${e} (checked although ${P.userPool.enabled} is false)`,
        ),
    ];
}

// ---- network (with apiServer, ciRunner, ingress and the pools: the subnets they hold) ---------------

/** The subnet ranges the stack creates, by path: the optional ones only where they are used. */
export function subnetRanges(v: ConfigValues) {
    return {
        [P.network.systemSubnetCidr]: v.network.systemSubnetCidr,
        [P.network.userSubnetCidr]: v.userPool.enabled ? v.network.userSubnetCidr : undefined,
        [P.network.privateEndpointSubnetCidr]: v.network.privateEndpointSubnetCidr,
        [P.apiServer.subnetCidr]: v.apiServer.vnetIntegration ? v.apiServer.subnetCidr : undefined,
        [P.network.runnerSubnetCidr]: v.network.runnerSubnetCidr ?? (v.ciRunner.enabled ? CI_RUNNER_SUBNET_DEFAULT : undefined),
        [P.network.firewallSubnetCidr]: v.network.egressType === "firewall" ? v.network.firewallSubnetCidr : undefined,
        // Declared with the WAF off too: turning it off removes the Application Gateway at the end of the
        // `up` (Pulumi runs deletes after every create and update: pulumi/pulumi
        // pkg/resource/deploy/deployment_executor.go), but the VNet's update, which comes first, would drop
        // the subnet it still holds, and Azure refuses to delete a subnet in use (InUseSubnetCannotBeDeleted).
        // Empty, they cost nothing, and their NSG admits the internet to no resource.
        [P.ingress.appGatewaySubnetCidr]: v.ingress.appGatewaySubnetCidr,
        [P.ingress.lbSubnetCidr]: v.ingress.lbSubnetCidr,
    } as const satisfies Partial<Record<MemberPath, string | undefined>>;
}
type SubnetPath = keyof ReturnType<typeof subnetRanges>;

/** The ingress WAF's two subnets, which every Azure stack declares (also with ingress.waf off). */
const WAF_SUBNET_PATHS = [P.ingress.appGatewaySubnetCidr, P.ingress.lbSubnetCidr] as const satisfies readonly ConfigPath[];

/**
 * network: address ranges that fit together (pods, services, the VNet and every subnet), the firewall's
 * way to the API server, node subnets that hold their pools (per zone with network.perZoneNodePools), and
 * the DDoS plan.
 */
function networkRules(c: RuleContext): string[] {
    const { v, set } = c;
    const n = v.network;
    const problems: string[] = [];
    if (!reportedFor(c, P.network.podCidr, P.network.serviceCidr) && cidrsOverlap(n.podCidr, n.serviceCidr)) {
        problems.push(
            `${P.network.serviceCidr}: ${show(n.serviceCidr)} overlaps ${P.network.podCidr} ${show(n.podCidr)}; the two ranges must be disjoint`,
        );
    }

    const ranges = (Object.entries(subnetRanges(v)) as [SubnetPath, string | undefined][]).filter(([path, value]) =>
        valid(c, path, value),
    ) as [SubnetPath, string][];
    const space = P.network.vnetAddressSpace;
    if (valid(c, space, n.vnetAddressSpace)) {
        for (const [other, value] of [
            [P.network.podCidr, n.podCidr],
            [P.network.serviceCidr, n.serviceCidr],
        ] as const) {
            if (valid(c, other, value) && cidrsOverlap(n.vnetAddressSpace, value))
                problems.push(
                    `${space}: ${show(n.vnetAddressSpace)} overlaps ${other} ${show(value)}; the VNet, pod and service ranges must be disjoint`,
                );
        }
        for (const [path, range] of ranges) {
            if (cidrWithin(range, n.vnetAddressSpace)) continue;
            // A default left outside a stack's own address space: say so, and why the member matters even
            // when its feature is off (the ingress WAF's subnets, WAF_SUBNET_PATHS).
            const given = set.has(path) ? show(range) : `the default ${show(range)}`;
            const why = (WAF_SUBNET_PATHS as readonly string[]).includes(path)
                ? `; every Azure stack declares the ingress WAF's subnets, with ${P.ingress.waf} off too (switching it off must not remove a subnet in use), so a stack with its own ${space} sets ${path} to a free ${path === P.ingress.appGatewaySubnetCidr ? "/24" : "/29 or larger"} within it: ${configSetCommand(path)} <range>`
                : `; use a range within it${set.has(path) ? "" : `: ${configSetCommand(path)} <range>`}`;
            problems.push(`${path}: ${given} is not inside ${space} ${show(n.vnetAddressSpace)}${why}`);
        }
    }
    ranges.forEach(([path, range], i) => {
        for (const [otherPath, other] of ranges.slice(i + 1)) {
            if (cidrsOverlap(range, other))
                problems.push(`${otherPath}: ${show(other)} overlaps ${path} ${show(range)}; subnets must be disjoint`);
        }
    });

    const api = v.apiServer;
    // With a firewall, pods that call the API server through the in-cluster \`kubernetes\` Service
    // (istiod, Vault's TokenReview, Reloader) reach the public API server by IP, with no TLS SNI for
    // an application rule to match, and that IP is known only once the cluster exists ("Outbound
    // network and FQDN rules for AKS clusters": such pods need a network rule to the API server's IP,
    // MicrosoftDocs/azure-aks-docs articles/aks/outbound-rules-control-egress.md). With VNet
    // integration (or a private cluster) that traffic stays inside the VNet and never meets the firewall.
    if (n.egressType === "firewall" && !api.private && !api.vnetIntegration) {
        problems.push(
            `${P.network.egressType}: "firewall" needs ${P.apiServer.vnetIntegration}: true (or ${P.apiServer.private}: true); otherwise in-cluster clients of the API server (istiod, Vault, Reloader) reach its public IP through the firewall, which allows FQDNs only`,
        );
    }

    // Per-zone pools (network.perZoneNodePools, components/azure/network.ts and aksCluster.ts): each zoned
    // pool becomes one pool per zone on a node subnet of its own, a part of its role's range. The layout
    // is a member of its own, not a consequence of network.egressType: a pool's subnet cannot change in
    // place and Azure refuses to delete a subnet in use (InUseSubnetCannotBeDeleted), so an egressType
    // switch that moved the pools between the whole-role subnet and its quarters could never apply; with
    // the member fixed, a switch only changes the subnets' NAT gateway or route.
    type NodePool = { readonly group: PoolGroup; readonly subnet: SubnetPath; readonly range: string };
    const nodePools: NodePool[] = [
        { group: "systemPool", subnet: P.network.systemSubnetCidr, range: n.systemSubnetCidr },
        ...(v.userPool.enabled ? [{ group: "userPool", subnet: P.network.userSubnetCidr, range: n.userSubnetCidr } as const] : []),
    ];
    const zonesValid = (p: NodePool) => passesOwnCheck(c, P[p.group].zones, v[p.group].zones);
    if (nodePools.every(zonesValid)) {
        const unzoned = nodePools.filter((p) => v[p.group].zones.length === 0);
        const zonesText = nodePools.map((p) => `${P[p.group].zones} ${show(v[p.group].zones)}`).join(", ");
        const perZoneKey = P.network.perZoneNodePools;
        if (n.perZoneNodePools) {
            // A user pool switched on by a refused userPool.enabled ("no") is the default's, not the stack's.
            for (const p of unzoned.filter((q) => !(q.group === "userPool" && malformed(c, P.userPool.enabled))))
                problems.push(
                    `${perZoneKey}: true needs every node pool zoned, but ${P[p.group].zones} is []; name its zones (e.g. ["1","2","3"]) or set ${perZoneKey}: false`,
                );
        } else if (n.egressType === "natGateway" && unzoned.length === 0) {
            const egress = P.network.egressType;
            problems.push(
                `${egress}: "natGateway" with zoned pools (${zonesText}) needs ${perZoneKey}: true; a subnet has one NAT gateway, in one zone, so only a pool per zone on a subnet per zone keeps egress through a zone's loss. A stack already on per-zone pools (its VNet has the subnet snet-system-z1: az network vnet subnet list -g <group> --vnet-name <vnet>; natGateway with zoned pools split the pools by zone on its own for a while before this key existed) sets ${perZoneKey}: true and its next up updates it in place; a stack on whole-role subnets (snet-system, snet-user: ${egress} "firewall" or "loadBalancer", or an older natGateway stack whose zoned pools shared one NAT gateway without zones) would be rebuilt: keep its ${egress}, or follow "Moving a stack to per-zone pools" in docs/platform.md`,
            );
        }
        // Each node subnet holds its pool's maximum plus the upgrade surge plus Azure's reserved addresses;
        // the system subnet of a private cluster without API server VNet integration also the API server's
        // private endpoint, which AKS puts "in the subnet of the customer's AKS cluster" (hashicorp/
        // terraform-provider-azurerm examples/kubernetes/private-api-server/README.md; MicrosoftDocs/
        // azure-aks-docs articles/aks/private-clusters.md), the system pool's (with per-zone pools the
        // inline pool's zone, which may change: every zone's part counts it).
        const perZone = n.perZoneNodePools && unzoned.length === 0;
        const endpointInSystemSubnet = api.private && !api.vnetIntegration;
        for (const p of nodePools) {
            const { range } = p;
            const { nodeCount, minCount, maxCount, zones, autoscaling: autoscaled } = v[p.group];
            const pool = { nodeCount, minCount, maxCount, zones };
            if (!valid(c, p.subnet, range) || ![pool.nodeCount, pool.minCount, pool.maxCount].every(Number.isInteger)) continue;
            // The claim counts nodes per zone from members it does not all name: none of them may be a
            // best-effort value (crossKeyProblems).
            const reads = ["nodeCount", "minCount", "maxCount", "zones", "autoscaling"].map((m) => `${p.group}.${m}` as ConfigPath);
            if ([...reads, P.network.perZoneNodePools].some((path) => c.malformed.has(path))) continue;
            const share = perZone ? zonalPoolCounts(pool) : pool;
            const nodes = autoscaled ? share.maxCount : share.nodeCount;
            const countKey = autoscaled ? P[p.group].maxCount : P[p.group].nodeCount;
            const parts = perZone ? ZONAL_SUBNET_PARTS : 1;
            const bits = Number(range.split("/")[1]);
            const partBits = bits + Math.log2(parts);
            const endpoint = endpointInSystemSubnet && p.group === "systemPool" ? 1 : 0;
            const needed = nodeSubnetPrefixFor(nodes, endpoint);
            if (partBits <= needed) continue;
            const addresses = 2 ** (32 - partBits);
            const minimum = `/${needed - Math.log2(parts)}`;
            const zoneCount = pool.zones.length;
            const why = perZone
                ? `each zone's pool gets 1/${ZONAL_SUBNET_PARTS} of it, a /${partBits} of ${addresses} addresses, but ${countKey} ${pool[autoscaled ? "maxCount" : "nodeCount"]} over ${zoneCount} zone${zoneCount === 1 ? "" : "s"} is ${nodes} node${nodes === 1 ? "" : "s"} per zone${autoscaled && zoneCount > 1 ? ` (divided by one zone fewer, so that the surviving zones reach it after a zone's loss)` : ""}`
                : `it has ${addresses} addresses, but ${countKey} is ${nodes} node${nodes === 1 ? "" : "s"}`;
            const surge = surgeNodes(nodes);
            // A stack that ran per-zone pools before this rule existed cannot take a larger range in place:
            // it moves every zone's part (zonalSubnetRange), and Azure changes a subnet's address range only
            // while nothing is deployed in it (MicrosoftDocs/azure-docs articles/virtual-network/
            // virtual-network-manage-subnet.md, "Change subnet settings"). A lower count is an update.
            const inPlace = perZone
                ? ` (for a stack already deployed: its node subnets cannot grow in place, so lowering ${countKey} is the in-place way)`
                : "";
            problems.push(
                `${p.subnet}: ${show(range)} is too small: ${why}, plus ${surge} surge node${surge === 1 ? "" : "s"} in an upgrade (${POOL_MAX_SURGE_PERCENT}%)${endpoint ? `, 1 address for the private API server's endpoint (${P.apiServer.private} without ${P.apiServer.vnetIntegration})` : ""} and ${AZURE_RESERVED_SUBNET_ADDRESSES} addresses Azure keeps (Azure CNI Overlay: one address per node); use a ${minimum} or larger, or a lower ${countKey}${inPlace}`,
            );
        }
    }

    const ddos = P.network.ddosProtection;
    const planId = P.network.ddosProtectionPlanId;
    if (n.ddosProtection === "existing" && n.ddosProtectionPlanId === undefined && !set.has(planId)) {
        problems.push(`${planId}: is not set but ${ddos} is "existing"; set the ARM resource ID of the DDoS protection plan`);
    }
    if (n.ddosProtection !== "existing" && n.ddosProtectionPlanId !== undefined) {
        problems.push(`${planId}: is set but ${ddos} is ${show(n.ddosProtection)}; use ${ddos} "existing" or unset ${planId}`);
    }
    return problems;
}

// ---- apiServer ---------------------------------------------------------------------------------------

/** apiServer (with network.runnerSubnetCidr): one way in to the API server, and never open to all. */
function apiServerRules(c: RuleContext): string[] {
    const { v, set, environment } = c;
    const problems: string[] = [];
    const api = v.apiServer;
    const { authorizedIpRanges: rangesKey, private: privateKey } = P.apiServer;
    const runnerKey = P.network.runnerSubnetCidr;
    if (api.private && api.authorizedIpRanges.length > 0) {
        problems.push(
            `${rangesKey}: ${show(api.authorizedIpRanges)} is set but ${privateKey} is true; a private cluster has no public endpoint to restrict: unset one of them`,
        );
    }
    if (api.private && v.network.runnerSubnetCidr === undefined && !set.has(runnerKey)) {
        problems.push(
            `${runnerKey}: is not set but ${privateKey} is true; a private cluster is reachable only from inside the VNet: set the subnet of the runner that runs pulumi up and the workflows`,
        );
    }
    // Dev too (issue 22): an API server open to the internet is one leaked credential away from anyone.
    if (environment !== "local" && !api.private && api.authorizedIpRanges.length === 0 && !malformed(c, privateKey)) {
        problems.push(
            `${rangesKey}: [] is not allowed for environment ${environment}; list your own public address as <ip>/32 (find it with \`dig +short myip.opendns.com @resolver1.opendns.com\` or \`curl -s https://ifconfig.me\`) and the ranges of the deployer and the runners, or set ${privateKey}: true with ${runnerKey}`,
        );
    }
    return problems;
}

// ---- access ------------------------------------------------------------------------------------------

/** access: local accounts off only with Entra ID admins; prod on Entra ID and Azure RBAC only. */
function accessRules({ v, environment }: RuleContext): string[] {
    const problems: string[] = [];
    const a = v.access;
    if (a.disableLocalAccounts && (!a.entraIdEnabled || a.entraAdminGroupObjectIds.length === 0)) {
        problems.push(
            `${P.access.disableLocalAccounts}: true needs ${P.access.entraIdEnabled}: true and at least one ${P.access.entraAdminGroupObjectIds} entry; without them nobody could reach the cluster`,
        );
    }
    if (environment === "prod") {
        for (const member of ["entraIdEnabled", "disableLocalAccounts"] as const) {
            if (!a[member])
                problems.push(
                    `${P.access[member]}: false is not allowed for environment prod; prod authenticates with Entra ID and Azure RBAC only (set it to true, with ${P.access.entraAdminGroupObjectIds})`,
                );
        }
    }
    return problems;
}

// ---- monitoring --------------------------------------------------------------------------------------

/** monitoring: prod sends its audit alerts somewhere. */
function monitoringRules({ v, environment }: RuleContext): string[] {
    const { alertEmail, alertWebhookUrl } = P.monitoring;
    if (environment !== "prod" || v.monitoring.alertEmail !== undefined || v.monitoring.alertWebhookUrl !== undefined) return [];
    return [
        `${alertEmail}: is not set and neither is ${alertWebhookUrl}; environment prod sends its audit alerts to a receiver: ${configSetCommand(alertEmail)} <address> (or ${configSetCommand(alertWebhookUrl, { secret: true })} <https url>)`,
    ];
}

// ---- keyVault ----------------------------------------------------------------------------------------

/** keyVault (with network.egressType): vaults that stay reachable, and prod's locked down. */
function keyVaultRules(c: RuleContext): string[] {
    const { v, environment } = c;
    const problems: string[] = [];
    const kv = v.keyVault;
    const K = P.keyVault;
    if (!kv.publicNetworkAccess && !kv.privateEndpoints) {
        problems.push(
            `${K.publicNetworkAccess}: false needs ${K.privateEndpoints}: true; otherwise nothing, the cluster included, could reach the vaults`,
        );
    }
    if (environment === "prod" && kv.publicNetworkAccess) {
        problems.push(
            `${K.publicNetworkAccess}: true is not allowed for environment prod; prod Key Vaults are reached through their private endpoints only`,
        );
    }
    if (environment === "prod" && !kv.purgeProtection) {
        problems.push(`${K.purgeProtection}: false is not allowed for environment prod; prod Key Vaults keep purge protection on`);
    }
    const egressType = v.network.egressType;
    if (
        kv.networkAclMode === "deny" &&
        kv.publicNetworkAccess &&
        kv.allowedIpRanges.length === 0 &&
        !malformed(c, K.publicNetworkAccess, P.network.egressType)
    ) {
        problems.push(
            `${K.networkAclMode}: "deny" with no ${K.allowedIpRanges} would block the deployer${egressType !== "loadBalancer" ? "" : " and the cluster"}; list your own egress IP${egressType !== "loadBalancer" ? ` (the ${egressType === "natGateway" ? "NAT gateway's" : "firewall's"} IPs are added)` : ` and the cluster's (or use ${P.network.egressType} natGateway or firewall, whose IPs are added)`}`,
        );
    }
    return problems;
}

// ---- registry ----------------------------------------------------------------------------------------

/** registry (with network.egressType): nodes that can pull, prod's private, an existing one named. */
function registryRules(c: RuleContext): string[] {
    const { v, set, environment } = c;
    const problems: string[] = [];
    // Every rule below reads registry.mode: none judges a refused one's default.
    if (malformed(c, P.registry.mode)) return problems;
    const r = v.registry;
    const R = P.registry;
    // A Basic registry has no dedicated data endpoint: its layers come from a storage account under
    // *.blob.core.windows.net, which an FQDN allowlist cannot name (components/azure/registry.ts).
    if (v.network.egressType === "firewall" && r.mode === "create" && !r.privateEndpoint && !malformed(c, P.network.egressType)) {
        problems.push(
            `${R.privateEndpoint}: false is not allowed with ${P.network.egressType} "firewall"; the nodes pull the services' images through the registry's private endpoint (Premium, with a dedicated data endpoint), since the firewall allows no storage account by name`,
        );
    }
    if (r.mode === "create" && !r.publicNetworkAccess && !r.privateEndpoint) {
        problems.push(`${R.publicNetworkAccess}: false needs ${R.privateEndpoint}: true; otherwise no node could pull from the registry`);
    }
    if (environment === "prod" && r.mode === "create" && r.publicNetworkAccess) {
        problems.push(
            `${R.publicNetworkAccess}: true is not allowed for environment prod; a prod registry is reached through its private endpoint only`,
        );
    }
    if (r.mode === "existing" && r.id === undefined && !set.has(R.id)) {
        problems.push(`${R.id}: is not set but ${R.mode} is "existing"; set the ARM resource ID of the registry`);
    }
    if (r.mode !== "existing" && r.id !== undefined) {
        problems.push(`${R.id}: is set but ${R.mode} is ${show(r.mode)}; use ${R.mode} "existing" or unset ${R.id}`);
    }
    return problems;
}

// ---- backupStorage -----------------------------------------------------------------------------------

/** backupStorage: an account the backup jobs can reach, prod's private. */
function backupStorageRules({ v, environment }: RuleContext): string[] {
    const problems: string[] = [];
    const b = v.backupStorage;
    const B = P.backupStorage;
    if (!b.publicNetworkAccess && !b.privateEndpoint) {
        problems.push(
            `${B.publicNetworkAccess}: false needs ${B.privateEndpoint}: true; otherwise neither the backup jobs nor a restore could reach the account`,
        );
    }
    if (environment === "prod" && b.publicNetworkAccess) {
        problems.push(
            `${B.publicNetworkAccess}: true is not allowed for environment prod; prod's backups are reached through their private endpoint only`,
        );
    }
    return problems;
}

// ---- ingress -----------------------------------------------------------------------------------------

/** The members a deploy of `environment` still needs, one message each (prod: the ingress certificate and key). */
export function missingForDeploy(environment: Environment, ingressHost: string, tlsConfigured: boolean): string[] {
    if (environment !== "prod" || tlsConfigured) return [];
    return [
        [P.ingress.tlsCertificate, "cert.pem"],
        [P.ingress.tlsPrivateKey, "key.pem"],
    ].map(
        ([path, file]) =>
            `${path}: is not set; environment prod serves the certificate for ${P.ingress.host} ${show(ingressHost)} from Key Vault: ${configSetCommand(path as MemberPath, { secret: true })} < ${file}`,
    );
}

/**
 * ingress: the WAF's autoscale bounds and subnet, and the TLS pair (both or neither, matching the host,
 * a chain Application Gateway can trust); prod's deploy needs the pair.
 */
function ingressRules(c: RuleContext): string[] {
    const { v, environment, cloud } = c;
    const problems: string[] = [];
    const i = v.ingress;
    const I = P.ingress;
    // The ingress WAF (Application Gateway v2): autoscale bounds that fit together, and a subnet with an
    // address per instance besides the 5 Azure keeps (learn.microsoft.com/azure/application-gateway/
    // configuration-infrastructure, "Size of the subnet").
    if (i.waf) {
        const validInt = (path: ConfigPath, value: number) => passesOwnCheck(c, path, value);
        const bounds = [
            validInt(I.appGatewayMinCapacity, i.appGatewayMinCapacity),
            validInt(I.appGatewayMaxCapacity, i.appGatewayMaxCapacity),
        ];
        if (bounds.every(Boolean) && i.appGatewayMinCapacity > i.appGatewayMaxCapacity)
            problems.push(
                `${I.appGatewayMinCapacity}: ${i.appGatewayMinCapacity} is above ${I.appGatewayMaxCapacity} ${i.appGatewayMaxCapacity}; the lower autoscale bound must not exceed the upper`,
            );
        if (bounds[1] && valid(c, I.appGatewaySubnetCidr, i.appGatewaySubnetCidr)) {
            const addresses = 2 ** (32 - Number(i.appGatewaySubnetCidr.split("/")[1]));
            const needed = i.appGatewayMaxCapacity + AZURE_RESERVED_SUBNET_ADDRESSES;
            if (addresses < needed)
                problems.push(
                    `${I.appGatewaySubnetCidr}: ${show(i.appGatewaySubnetCidr)} has ${addresses} addresses, fewer than the ${needed} ${I.appGatewayMaxCapacity} ${i.appGatewayMaxCapacity} needs (one per instance, plus ${AZURE_RESERVED_SUBNET_ADDRESSES} Azure keeps); use a larger subnet (/24 recommended) or a lower ${I.appGatewayMaxCapacity}`,
                );
        }
    }

    const certificate = i.tlsCertificate;
    const privateKey = i.tlsPrivateKey;
    if (certificate !== undefined && privateKey !== undefined) {
        if (!checkHostName(I.host, i.host)) problems.push(...checkTlsPair(certificate, privateKey, i.host));
        if (i.waf && cloud === "azure") {
            try {
                const chain = checkWafBackendChain(certificate);
                if (chain !== undefined) problems.push(chain);
            } catch {
                // Not a certificate: checkTlsPair has said so.
            }
        }
    } else if (certificate !== undefined || privateKey !== undefined) {
        const [given, missing] = certificate !== undefined ? [I.tlsCertificate, I.tlsPrivateKey] : [I.tlsPrivateKey, I.tlsCertificate];
        problems.push(
            `${missing}: is not set but ${given} is; set both (${configSetCommand(missing, { secret: true })} < file.pem) or neither`,
        );
    } else if (c.deployable) {
        problems.push(...missingForDeploy(environment, i.host, false));
    }
    return problems;
}

// ---- mesh --------------------------------------------------------------------------------------------

/** mesh: prod requires STRICT mutual TLS. */
function meshRules({ v, environment }: RuleContext): string[] {
    return environment === "prod" && v.mesh.mtlsMode === "PERMISSIVE"
        ? [`${P.mesh.mtlsMode}: "PERMISSIVE" is not allowed for environment prod; the prod mesh requires STRICT mutual TLS`]
        : [];
}

// ---- vault -------------------------------------------------------------------------------------------

/** vault: the recovery key split, and TLS on prod. */
function vaultRules({ v, environment }: RuleContext): string[] {
    const problems: string[] = [];
    const split = checkRecoverySplit(v.vault.recoveryShares, v.vault.recoveryThreshold);
    if (split !== undefined) problems.push(split);
    if (environment === "prod" && !v.vault.tlsEnabled) {
        problems.push(
            `${P.vault.tlsEnabled}: false is not allowed for environment prod; tokens and database credentials must not cross the network in clear text`,
        );
    }
    return problems;
}

// ---- ciRunner ----------------------------------------------------------------------------------------

/** The runner's repository and token, which only the admin can set (the token encrypted). */
export function missingRunner(enabled: boolean, repository: string | undefined, token: string | undefined): string[] {
    if (!enabled) return [];
    const { enabled: enabledKey, repository: repositoryKey, githubToken: tokenKey } = P.ciRunner;
    return [
        ...(repository === undefined
            ? [`${repositoryKey}: is not set but ${enabledKey} is true; ${configSetCommand(repositoryKey)} <owner>/<name>`]
            : []),
        ...(token === undefined
            ? [
                  `${tokenKey}: is not set but ${enabledKey} is true; ${configSetCommand(tokenKey, { secret: true })} (a fine-grained token of that repository: Administration read/write, Actions read)`,
              ]
            : []),
    ];
}

/** ciRunner (with network.egressType, apiServer.private): a way to the API server; a deploy needs the repository and token. */
function ciRunnerRules({ v, cloud, deployable }: RuleContext): string[] {
    const problems: string[] = [];
    // The CI runner reaches a public API server from the stack's own egress addresses, which the program
    // adds to the authorized ranges: the NAT gateway's IPs or the firewall's. With loadBalancer egress the
    // runner's subnet has neither, and Container Apps' own outbound address is not among the ranges.
    if (v.ciRunner.enabled && !v.apiServer.private && v.network.egressType === "loadBalancer") {
        problems.push(
            `${P.ciRunner.enabled}: true needs ${P.network.egressType} "natGateway" or "firewall" (or ${P.apiServer.private}: true); with "loadBalancer" the runner leaves from an address the API server's authorized ranges do not hold`,
        );
    }
    if (deployable && cloud === "azure") problems.push(...missingRunner(v.ciRunner.enabled, v.ciRunner.repository, v.ciRunner.githubToken));
    return problems;
}

// ---- services ----------------------------------------------------------------------------------------

/** Each service's image members. */
/** Each service's image members: the one place that names them (the program, promotion and the GitOps reading). */
export const SERVICE_IMAGE_PATHS = {
    "product-service": { repository: P.services.productImage, tag: P.services.productTag },
    "order-service": { repository: P.services.orderImage, tag: P.services.orderTag },
} as const satisfies Record<ServiceName, { readonly repository: MemberPath; readonly tag: MemberPath }>;

/** Each service's image as the stack gives it: its members' values, and whether it gives any (a member set counts, even empty). */
function imagesGiven(v: ConfigValues, set: ReadonlySet<ConfigPath>) {
    const values = {
        "product-service": { repository: v.services.productImage, tag: v.services.productTag },
        "order-service": { repository: v.services.orderImage, tag: v.services.orderTag },
    } satisfies Record<ServiceName, unknown>;
    return SERVICE_NAMES.map((service) => {
        const { repository, tag } = values[service];
        const paths = SERVICE_IMAGE_PATHS[service];
        const given = repository !== undefined || tag !== undefined || set.has(paths.repository) || set.has(paths.tag);
        return { service, repository, tag, paths, given };
    });
}

/** The services' images as the stack gives them, and whether it gives any. */
export function serviceImages(v: ConfigValues, set: ReadonlySet<ConfigPath>): { images: Record<ServiceName, ImageRef>; anyImage: boolean } {
    const given = imagesGiven(v, set);
    const images = Object.fromEntries(given.map((i) => [i.service, { repository: i.repository ?? "", tag: i.tag ?? "" }]));
    return { images: images as Record<ServiceName, ImageRef>, anyImage: given.some((i) => i.given) };
}

/**
 * A prebuilt source (import, config) deploys the images the stack names; a stack file has them once
 * promotion wrote them (tools/promote.ts), or once set by hand before a first `up` (docs/delivery.md).
 * With Argo CD the services come from Git, and the program deploys none.
 */
export function missingImages(source: string, imagesGiven: boolean, argocd: boolean): string[] {
    if (source === "build" || imagesGiven || argocd) return [];
    return SERVICE_NAMES.map((service) => {
        const { repository, tag } = SERVICE_IMAGE_PATHS[service];
        return `${repository}, ${tag}: are not set but ${P.services.imageSource} is ${show(source)}; set the image the CI built, e.g. ${configSetCommand(repository)} ghcr.io/<owner>/${service} and ${configSetCommand(tag)} v1.0.0 (promotion writes both)`;
    });
}

/**
 * services (with registry, argocd): whole images, and an image source whose registry exists and, for a
 * push from where `up` runs, is reachable. The images: built by the program (build: no image members
 * needed; set, they are the GitOps path's), imported from the CI's registry (import) or named as they
 * are (config). The prebuilt images are the team's own builds (this repository's workflow pushes them):
 * no default, no placeholder.
 */
function servicesRules({ v, set, environment, cloud, deployable }: RuleContext): string[] {
    const problems: string[] = [];
    const s = v.services;
    const S = P.services;
    const { anyImage } = serviceImages(v, set);
    for (const { service, repository, tag, paths, given } of imagesGiven(v, set)) {
        // Half an image is a mistake in any mode; none at all with a prebuilt source is what a committed
        // stack file looks like before its first promotion (checkDeployable reports it with the secrets).
        if (!given) continue;
        if (repository === undefined && !set.has(paths.repository))
            problems.push(
                `${paths.repository}: is not set but ${paths.tag} is; set the ${service} image repository the CI pushes, e.g. ghcr.io/<owner>/${service}`,
            );
        if (tag === undefined && !set.has(paths.tag))
            problems.push(
                `${paths.tag}: is not set but ${paths.repository} is; set the pinned ${service} image tag or digest, e.g. v1.0.0 or sha256:<64 hex>`,
            );
    }

    const source = s.imageSource;
    if ((IMAGE_SOURCES as readonly string[]).includes(source)) {
        if (source !== "config" && cloud !== "azure") {
            problems.push(
                `${S.imageSource}: ${show(source)} is not allowed for environment ${environment}; without Azure there is no stack registry to ${source === "build" ? "push" : "import"} to: use "config" with images the cluster can pull`,
            );
        } else {
            if (source !== "config" && v.registry.mode === "none") {
                problems.push(
                    `${S.imageSource}: ${show(source)} needs the stack's registry (${P.registry.mode} "create" or "existing", got "none"); the images go there, and the kubelet identity pulls from it`,
                );
            }
            if (source === "build" && v.registry.mode === "create" && !v.registry.publicNetworkAccess) {
                problems.push(
                    `${S.imageSource}: "build" needs ${P.registry.publicNetworkAccess}: true; the Docker engine that builds at \`up\` pushes over the registry's public endpoint: use "import" for a private-only registry`,
                );
            }
            if ((s.imageSourceUsername === undefined) !== (s.imageSourceToken === undefined)) {
                const [missing, given] =
                    s.imageSourceUsername === undefined
                        ? [S.imageSourceUsername, S.imageSourceToken]
                        : [S.imageSourceToken, S.imageSourceUsername];
                problems.push(`${missing}: is not set but ${given} is; set both or neither`);
            }
            if (source !== "import" && (s.imageSourceUsername !== undefined || s.imageSourceToken !== undefined)) {
                problems.push(
                    `${S.imageSourceUsername}: is set but ${S.imageSource} is ${show(source)}; only "import" pulls from a source registry`,
                );
            }
        }
    }
    if (deployable) problems.push(...missingImages(source, anyImage, v.argocd.enabled));
    return problems;
}

// ---- argocd ------------------------------------------------------------------------------------------

/** argocd: the repository it deploys from. */
function argocdRules({ v, set }: RuleContext): string[] {
    return v.argocd.enabled && v.argocd.repoUrl === undefined && !set.has(P.argocd.repoUrl)
        ? [`${P.argocd.repoUrl}: is not set but ${P.argocd.enabled} is true; set the Git repository Argo CD deploys from`]
        : [];
}

// ---- local -------------------------------------------------------------------------------------------

/** local: the existing cluster's pod and service ranges are disjoint. */
function localRules(c: RuleContext): string[] {
    const { podCidr, serviceCidr } = c.v.local;
    if (reportedFor(c, P.local.podCidr, P.local.serviceCidr) || !cidrsOverlap(podCidr, serviceCidr)) return [];
    return [`${P.local.serviceCidr}: ${show(serviceCidr)} overlaps ${P.local.podCidr} ${show(podCidr)}; the two ranges must be disjoint`];
}

/** Every cross-key rule, in the order of the groups they relate. */
const CROSS_KEY_RULES: readonly Rule[] = [
    clusterRules,
    poolRules,
    networkRules,
    apiServerRules,
    accessRules,
    monitoringRules,
    keyVaultRules,
    registryRules,
    backupStorageRules,
    ingressRules,
    meshRules,
    vaultRules,
    ciRunnerRules,
    servicesRules,
    argocdRules,
    localRules,
];

/** `text` names `path`: the path not inside a longer word or path (`systemPool.zones` is not named by `systemPool.zonesX`, `systemPool.zones.x` or `xsystemPool.zones`; `minCount..systemPool.maxCount` names both); a list item `<path>[<i>]` names it. */
export function namesPath(text: string, path: string): boolean {
    const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return new RegExp(`(?<!\\w)${escaped}(?![\\w]|\\.\\w)`).test(text);
}

/**
 * What a problem says about the stack: its text up to the first "; " (what follows is advice: "set
 * apiServer.private: true", "with access.entraAdminGroupObjectIds"), without the note that a switched-off
 * feature's member was checked anyway.
 */
function claimOf(problem: string): string {
    const claim = problem.replace(/ \(checked although [^)]*\)/g, "");
    const end = claim.indexOf("; ");
    return end === -1 ? claim : claim.slice(0, end);
}

/**
 * Every cross-key problem of the stack, one message each. A problem whose claim (claimOf) names a
 * member whose value was not of its type is left out: readValues reported it, and its value here is
 * the stack's only in a best-effort form (a list with a bad item dropped) or the default, so the claim
 * would tell the stack something it did not say (e.g. `systemPool.zones is []` for a list whose one
 * item was refused, or a range checked against a maximum the stack did not set). A problem that names
 * such a member only in its advice is still reported (it holds whatever that member holds, e.g.
 * `access.entraIdEnabled: false is not allowed for environment prod; ... with
 * access.entraAdminGroupObjectIds`), and so is one about a member whose own rule failed: its value is
 * the stack's. A rule whose claim depends on a member it does not name checks `c.malformed` itself
 * (the node subnet sizes above).
 */
export function crossKeyProblems(c: RuleContext): string[] {
    const malformed = [...c.malformed];
    return CROSS_KEY_RULES.flatMap((rule) => rule(c)).filter((problem) => !malformed.some((path) => namesPath(claimOf(problem), path)));
}
