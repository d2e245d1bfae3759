// Raw stack config into one typed, validated PlatformConfig. Every problem is reported together, each
// naming the key, the value given and what is allowed; nothing is registered before this has passed.
import * as pulumi from "@pulumi/pulumi";
import { NAMESPACES, SERVICE_ACCOUNTS } from "../topology";
import {
    appNamespace,
    cloudOf,
    AZURE_RESERVED_SUBNET_ADDRESSES,
    POOL_MAX_SURGE_PERCENT,
    CI_RUNNER_SUBNET_DEFAULT,
    CONTAINER_APPS_DELEGATION,
    ciRunnerLabel,
    ENVIRONMENTS,
    IMAGE_SOURCES,
    POLICY_EFFECTS,
    SERVICE_NAMES,
    VAULT_NAMESPACE,
    VAULT_ZRS_STORAGE_CLASS,
    VERSION_KEEPING_CHANNELS,
    type Environment,
    type ServiceName,
} from "./constants";
import { specOf, type ConfigKey } from "./keys";
import { namesFor } from "./names";
import { ConfigError, readValues, type Raw } from "./read";
import type { ImageRef, IngressWafConfig, NodePoolConfig, PlatformConfig, ServiceAccountRef } from "./types";
import {
    addressInCidr,
    checkOsDisk,
    checkPool,
    checkRecoverySplit,
    checkTlsPair,
    checkWafBackendChain,
    cidrsOverlap,
    cidrWithin,
    checkHostName,
    nodeSubnetPrefixFor,
    surgeNodes,
    zonalPoolCounts,
    show,
    ZONAL_SUBNET_PARTS,
} from "./validators";

/** The environment: the `environment` key, else the stack name when that is one. */
function environmentOf(raw: Raw, stack: string): Environment {
    const text = raw.environment ?? ((ENVIRONMENTS as readonly string[]).includes(stack) ? stack : undefined);
    if (text === undefined) {
        throw new ConfigError([
            `environment: is not set and the stack name ${show(stack)} is not one of ${ENVIRONMENTS.join(", ")}; set it with pulumi config set environment dev`,
        ]);
    }
    if (!(ENVIRONMENTS as readonly string[]).includes(text)) {
        throw new ConfigError([`environment: ${show(text)} is not allowed; use one of ${ENVIRONMENTS.join(", ")}`]);
    }
    return text as Environment;
}

type Values = ReturnType<typeof readValues>["values"];

/** The subnet ranges the stack creates, by config key: the optional ones only where they are used. */
function subnetKeys(v: Values): Partial<Record<SubnetKey, string>> {
    return {
        systemSubnetCidr: v.systemSubnetCidr,
        userSubnetCidr: v.userPoolEnabled ? v.userSubnetCidr : undefined,
        privateEndpointSubnetCidr: v.privateEndpointSubnetCidr,
        apiServerSubnetCidr: v.apiServerVnetIntegration ? v.apiServerSubnetCidr : undefined,
        runnerSubnetCidr: v.runnerSubnetCidr ?? (v.ciRunnerEnabled ? CI_RUNNER_SUBNET_DEFAULT : undefined),
        firewallSubnetCidr: v.egressType === "firewall" ? v.firewallSubnetCidr : undefined,
        // Declared with the WAF off too: turning it off removes the Application Gateway at the end of the
        // `up` (Pulumi runs deletes after every create and update: pulumi/pulumi
        // pkg/resource/deploy/deployment_executor.go), but the VNet's update, which comes first, would drop
        // the subnet it still holds, and Azure refuses to delete a subnet in use (InUseSubnetCannotBeDeleted).
        // Empty, they cost nothing, and their NSG admits the internet to no resource.
        appGatewaySubnetCidr: v.appGatewaySubnetCidr,
        ingressLbSubnetCidr: v.ingressLbSubnetCidr,
    };
}
type SubnetKey =
    | "systemSubnetCidr"
    | "userSubnetCidr"
    | "privateEndpointSubnetCidr"
    | "apiServerSubnetCidr"
    | "runnerSubnetCidr"
    | "firewallSubnetCidr"
    | "appGatewaySubnetCidr"
    | "ingressLbSubnetCidr";

function activeSubnets(v: Values): PlatformConfig["network"]["subnets"] {
    const s = subnetKeys(v);
    return {
        system: v.systemSubnetCidr,
        user: s.userSubnetCidr,
        privateEndpoints: v.privateEndpointSubnetCidr,
        apiServer: s.apiServerSubnetCidr,
        runner: s.runnerSubnetCidr,
        firewall: s.firewallSubnetCidr,
        appGateway: s.appGatewaySubnetCidr,
        ingressLb: s.ingressLbSubnetCidr,
    };
}

/** The ingress WAF's two subnets, which every Azure stack declares (also with ingressWaf off). */
export const WAF_SUBNET_KEYS = ["appGatewaySubnetCidr", "ingressLbSubnetCidr"] as const satisfies readonly ConfigKey[];

/**
 * The network's cross-key rules: address ranges that fit together, one way out, one way in to the API
 * server, and Key Vaults that stay reachable. A key whose own check failed is not compared again.
 */
function networkProblems(v: Values, set: ReadonlySet<ConfigKey>, environment: Environment): string[] {
    const problems: string[] = [];
    const valid = (key: ConfigKey, value: string | undefined): value is string =>
        value !== undefined && specOf(key).check?.(key, value as never, environment) === undefined;
    const ranges = Object.entries(subnetKeys(v)).filter(([key, value]) => valid(key as ConfigKey, value)) as [SubnetKey, string][];
    if (valid("vnetAddressSpace", v.vnetAddressSpace)) {
        for (const other of ["podCidr", "serviceCidr"] as const) {
            if (valid(other, v[other]) && cidrsOverlap(v.vnetAddressSpace, v[other]))
                problems.push(
                    `vnetAddressSpace: ${show(v.vnetAddressSpace)} overlaps ${other} ${show(v[other])}; the VNet, pod and service ranges must be disjoint`,
                );
        }
        for (const [key, range] of ranges) {
            if (cidrWithin(range, v.vnetAddressSpace)) continue;
            // A default left outside a stack's own address space: say so, and why the key matters even
            // when its feature is off (the ingress WAF's subnets, WAF_SUBNET_KEYS).
            const given = set.has(key) ? show(range) : `the default ${show(range)}`;
            const why = (WAF_SUBNET_KEYS as readonly string[]).includes(key)
                ? `; every Azure stack declares the ingress WAF's subnets, with ingressWaf off too (switching it off must not remove a subnet in use), so a stack with its own vnetAddressSpace sets ${key} to a free ${key === "appGatewaySubnetCidr" ? "/24" : "/29 or larger"} within it: pulumi config set ${key} <range>`
                : `; use a range within it${set.has(key) ? "" : `: pulumi config set ${key} <range>`}`;
            problems.push(`${key}: ${given} is not inside vnetAddressSpace ${show(v.vnetAddressSpace)}${why}`);
        }
    }
    ranges.forEach(([key, range], i) => {
        for (const [otherKey, other] of ranges.slice(i + 1)) {
            if (cidrsOverlap(range, other))
                problems.push(`${otherKey}: ${show(other)} overlaps ${key} ${show(range)}; subnets must be disjoint`);
        }
    });

    const api = { ranges: v.apiServerAuthorizedIpRanges, private: v.apiServerPrivate };
    if (api.private && api.ranges.length > 0) {
        problems.push(
            `apiServerAuthorizedIpRanges: ${show(api.ranges)} is set but apiServerPrivate is true; a private cluster has no public endpoint to restrict: unset one of them`,
        );
    }
    if (api.private && v.runnerSubnetCidr === undefined && !set.has("runnerSubnetCidr")) {
        problems.push(
            "runnerSubnetCidr: is not set but apiServerPrivate is true; a private cluster is reachable only from inside the VNet: set the subnet of the runner that runs pulumi up and the workflows",
        );
    }
    // The CI runner reaches a public API server from the stack's own egress addresses, which the program
    // adds to the authorized ranges: the NAT gateway's IPs or the firewall's. With loadBalancer egress the
    // runner's subnet has neither, and Container Apps' own outbound address is not among the ranges.
    if (v.ciRunnerEnabled && !api.private && v.egressType === "loadBalancer") {
        problems.push(
            'ciRunnerEnabled: true needs egressType "natGateway" or "firewall" (or apiServerPrivate: true); with "loadBalancer" the runner leaves from an address the API server\'s authorized ranges do not hold',
        );
    }
    // Dev too (issue 22): an API server open to the internet is one leaked credential away from anyone.
    if (environment !== "local" && !api.private && api.ranges.length === 0) {
        problems.push(
            `apiServerAuthorizedIpRanges: [] is not allowed for environment ${environment}; list your own public address as <ip>/32 (find it with \`dig +short myip.opendns.com @resolver1.opendns.com\` or \`curl -s https://ifconfig.me\`) and the ranges of the deployer and the runners, or set apiServerPrivate: true with runnerSubnetCidr`,
        );
    }
    // With a firewall, pods that call the API server through the in-cluster \`kubernetes\` Service
    // (istiod, Vault's TokenReview, Reloader) reach the public API server by IP, with no TLS SNI for
    // an application rule to match, and that IP is known only once the cluster exists ("Outbound
    // network and FQDN rules for AKS clusters": such pods need a network rule to the API server's IP,
    // MicrosoftDocs/azure-aks-docs articles/aks/outbound-rules-control-egress.md). With VNet
    // integration (or a private cluster) that traffic stays inside the VNet and never meets the firewall.
    if (v.egressType === "firewall" && !api.private && !v.apiServerVnetIntegration) {
        problems.push(
            'egressType: "firewall" needs apiServerVnetIntegration: true (or apiServerPrivate: true); otherwise in-cluster clients of the API server (istiod, Vault, Reloader) reach its public IP through the firewall, which allows FQDNs only',
        );
    }

    // A Basic registry has no dedicated data endpoint: its layers come from a storage account under
    // *.blob.core.windows.net, which an FQDN allowlist cannot name (components/azure/registry.ts).
    if (v.egressType === "firewall" && v.registryMode === "create" && !v.registryPrivateEndpoint) {
        problems.push(
            "registryPrivateEndpoint: false is not allowed with egressType \"firewall\"; the nodes pull the services' images through the registry's private endpoint (Premium, with a dedicated data endpoint), since the firewall allows no storage account by name",
        );
    }
    // The ingress WAF (Application Gateway v2): autoscale bounds that fit together, and a subnet with an
    // address per instance besides the 5 Azure keeps (learn.microsoft.com/azure/application-gateway/
    // configuration-infrastructure, "Size of the subnet").
    if (v.ingressWaf) {
        const validInt = (key: ConfigKey, value: number) => specOf(key).check?.(key, value as never, environment) === undefined;
        const bounds = [
            validInt("appGatewayMinCapacity", v.appGatewayMinCapacity),
            validInt("appGatewayMaxCapacity", v.appGatewayMaxCapacity),
        ];
        if (bounds.every(Boolean) && v.appGatewayMinCapacity > v.appGatewayMaxCapacity)
            problems.push(
                `appGatewayMinCapacity: ${v.appGatewayMinCapacity} is above appGatewayMaxCapacity ${v.appGatewayMaxCapacity}; the lower autoscale bound must not exceed the upper`,
            );
        if (bounds[1] && valid("appGatewaySubnetCidr", v.appGatewaySubnetCidr)) {
            const addresses = 2 ** (32 - Number(v.appGatewaySubnetCidr.split("/")[1]));
            const needed = v.appGatewayMaxCapacity + AZURE_RESERVED_SUBNET_ADDRESSES;
            if (addresses < needed)
                problems.push(
                    `appGatewaySubnetCidr: ${show(v.appGatewaySubnetCidr)} has ${addresses} addresses, fewer than the ${needed} appGatewayMaxCapacity ${v.appGatewayMaxCapacity} needs (one per instance, plus ${AZURE_RESERVED_SUBNET_ADDRESSES} Azure keeps); use a larger subnet (/24 recommended) or a lower appGatewayMaxCapacity`,
                );
        }
    }
    // Per-zone pools (perZoneNodePools, components/azure/network.ts and aksCluster.ts): each zoned pool
    // becomes one pool per zone on a node subnet of its own, a part of its role's range. The layout is a
    // key of its own, not a consequence of egressType: a pool's subnet cannot change in place and Azure
    // refuses to delete a subnet in use (InUseSubnetCannotBeDeleted), so an egressType switch that moved
    // the pools between the whole-role subnet and its quarters could never apply; with the key fixed, a
    // switch only changes the subnets' NAT gateway or route.
    type NodePool = {
        readonly prefix: "systemPool" | "userPool";
        readonly zonesKey: "systemPoolZones" | "userPoolZones";
        readonly subnetKey: "systemSubnetCidr" | "userSubnetCidr";
    };
    const nodePools: NodePool[] = [
        { prefix: "systemPool", zonesKey: "systemPoolZones", subnetKey: "systemSubnetCidr" },
        ...(v.userPoolEnabled ? [{ prefix: "userPool", zonesKey: "userPoolZones", subnetKey: "userSubnetCidr" } as const] : []),
    ];
    const zonesValid = (p: NodePool) => specOf(p.zonesKey).check?.(p.zonesKey, v[p.zonesKey] as never, environment) === undefined;
    if (nodePools.every(zonesValid)) {
        const unzoned = nodePools.filter((p) => v[p.zonesKey].length === 0);
        const zonesText = nodePools.map((p) => `${p.zonesKey} ${show(v[p.zonesKey])}`).join(", ");
        if (v.perZoneNodePools) {
            for (const p of unzoned)
                problems.push(
                    `perZoneNodePools: true needs every node pool zoned, but ${p.zonesKey} is []; name its zones (e.g. ["1","2","3"]) or set perZoneNodePools: false`,
                );
        } else if (v.egressType === "natGateway" && unzoned.length === 0) {
            problems.push(
                `egressType: "natGateway" with zoned pools (${zonesText}) needs perZoneNodePools: true; a subnet has one NAT gateway, in one zone, so only a pool per zone on a subnet per zone keeps egress through a zone's loss. A stack already on per-zone pools (its VNet has the subnet snet-system-z1: az network vnet subnet list -g <group> --vnet-name <vnet>; natGateway with zoned pools split the pools by zone on its own for a while before this key existed) sets perZoneNodePools: true and its next up updates it in place; a stack on whole-role subnets (snet-system, snet-user: egressType "firewall" or "loadBalancer", or an older natGateway stack whose zoned pools shared one NAT gateway without zones) would be rebuilt: keep its egressType, or follow "Moving a stack to per-zone pools" in docs/platform.md`,
            );
        }
        // Each node subnet holds its pool's maximum plus the upgrade surge plus Azure's reserved addresses;
        // the system subnet of a private cluster without API server VNet integration also the API server's
        // private endpoint, which AKS puts "in the subnet of the customer's AKS cluster" (hashicorp/
        // terraform-provider-azurerm examples/kubernetes/private-api-server/README.md; MicrosoftDocs/
        // azure-aks-docs articles/aks/private-clusters.md), the system pool's (with per-zone pools the
        // inline pool's zone, which may change: every zone's part counts it).
        const perZone = v.perZoneNodePools && unzoned.length === 0;
        const endpointInSystemSubnet = api.private && !v.apiServerVnetIntegration;
        for (const p of nodePools) {
            const range = v[p.subnetKey];
            const pool = {
                nodeCount: v[`${p.prefix}NodeCount`],
                minCount: v[`${p.prefix}MinCount`],
                maxCount: v[`${p.prefix}MaxCount`],
                zones: v[p.zonesKey],
            };
            if (!valid(p.subnetKey, range) || ![pool.nodeCount, pool.minCount, pool.maxCount].every(Number.isInteger)) continue;
            const share = perZone ? zonalPoolCounts(pool) : pool;
            const autoscaled = v[`${p.prefix}Autoscaling`];
            const nodes = autoscaled ? share.maxCount : share.nodeCount;
            const countKey = `${p.prefix}${autoscaled ? "MaxCount" : "NodeCount"}`;
            const parts = perZone ? ZONAL_SUBNET_PARTS : 1;
            const bits = Number(range.split("/")[1]);
            const partBits = bits + Math.log2(parts);
            const endpoint = endpointInSystemSubnet && p.prefix === "systemPool" ? 1 : 0;
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
                `${p.subnetKey}: ${show(range)} is too small: ${why}, plus ${surge} surge node${surge === 1 ? "" : "s"} in an upgrade (${POOL_MAX_SURGE_PERCENT}%)${endpoint ? ", 1 address for the private API server's endpoint (apiServerPrivate without apiServerVnetIntegration)" : ""} and ${AZURE_RESERVED_SUBNET_ADDRESSES} addresses Azure keeps (Azure CNI Overlay: one address per node); use a ${minimum} or larger, or a lower ${countKey}${inPlace}`,
            );
        }
    }
    if (!v.keyVaultPublicNetworkAccess && !v.keyVaultPrivateEndpoints) {
        problems.push(
            "keyVaultPublicNetworkAccess: false needs keyVaultPrivateEndpoints: true; otherwise nothing, the cluster included, could reach the vaults",
        );
    }
    if (v.registryMode === "create" && !v.registryPublicNetworkAccess && !v.registryPrivateEndpoint) {
        problems.push(
            "registryPublicNetworkAccess: false needs registryPrivateEndpoint: true; otherwise no node could pull from the registry",
        );
    }
    if (environment === "prod" && v.registryMode === "create" && v.registryPublicNetworkAccess) {
        problems.push(
            "registryPublicNetworkAccess: true is not allowed for environment prod; a prod registry is reached through its private endpoint only",
        );
    }
    if (!v.backupStoragePublicNetworkAccess && !v.backupStoragePrivateEndpoint) {
        problems.push(
            "backupStoragePublicNetworkAccess: false needs backupStoragePrivateEndpoint: true; otherwise neither the backup jobs nor a restore could reach the account",
        );
    }
    if (environment === "prod" && v.backupStoragePublicNetworkAccess) {
        problems.push(
            "backupStoragePublicNetworkAccess: true is not allowed for environment prod; prod's backups are reached through their private endpoint only",
        );
    }
    if (environment === "prod" && v.keyVaultPublicNetworkAccess) {
        problems.push(
            "keyVaultPublicNetworkAccess: true is not allowed for environment prod; prod Key Vaults are reached through their private endpoints only",
        );
    }
    if (v.registryMode === "existing" && v.registryId === undefined && !set.has("registryId")) {
        problems.push('registryId: is not set but registryMode is "existing"; set the ARM resource ID of the registry');
    }
    if (v.registryMode !== "existing" && v.registryId !== undefined) {
        problems.push(`registryId: is set but registryMode is ${show(v.registryMode)}; use registryMode "existing" or unset registryId`);
    }
    if (v.ddosProtection === "existing" && v.ddosProtectionPlanId === undefined && !set.has("ddosProtectionPlanId")) {
        problems.push(
            'ddosProtectionPlanId: is not set but ddosProtection is "existing"; set the ARM resource ID of the DDoS protection plan',
        );
    }
    if (v.ddosProtection !== "existing" && v.ddosProtectionPlanId !== undefined) {
        problems.push(
            `ddosProtectionPlanId: is set but ddosProtection is ${show(v.ddosProtection)}; use ddosProtection "existing" or unset ddosProtectionPlanId`,
        );
    }
    return problems;
}

/**
 * The image source's cross-key rules: build and import put the images in the stack's own registry,
 * which must exist and, for a push from where `up` runs, be reachable.
 */
function imageSourceProblems(v: Values, environment: Environment, cloud: string): string[] {
    const problems: string[] = [];
    const source = v.serviceImageSource;
    if (!(IMAGE_SOURCES as readonly string[]).includes(source)) return problems;
    if (source !== "config" && cloud !== "azure") {
        problems.push(
            `serviceImageSource: ${show(source)} is not allowed for environment ${environment}; without Azure there is no stack registry to ${source === "build" ? "push" : "import"} to: use "config" with images the cluster can pull`,
        );
        return problems;
    }
    if (source !== "config" && v.registryMode === "none") {
        problems.push(
            `serviceImageSource: ${show(source)} needs the stack's registry (registryMode "create" or "existing", got "none"); the images go there, and the kubelet identity pulls from it`,
        );
    }
    if (source === "build" && v.registryMode === "create" && !v.registryPublicNetworkAccess) {
        problems.push(
            `serviceImageSource: "build" needs registryPublicNetworkAccess: true; the Docker engine that builds at \`up\` pushes over the registry's public endpoint: use "import" for a private-only registry`,
        );
    }
    if ((v.imageSourceUsername === undefined) !== (v.imageSourceToken === undefined)) {
        problems.push(
            `${v.imageSourceUsername === undefined ? "imageSourceUsername" : "imageSourceToken"}: is not set but ${v.imageSourceUsername === undefined ? "imageSourceToken" : "imageSourceUsername"} is; set both or neither`,
        );
    }
    if (source !== "import" && (v.imageSourceUsername !== undefined || v.imageSourceToken !== undefined)) {
        problems.push(`imageSourceUsername: is set but serviceImageSource is ${show(source)}; only "import" pulls from a source registry`);
    }
    return problems;
}

export interface ParseOptions {
    /** Whether a key arrived encrypted; keys the table marks secret must. Default: every key did. */
    readonly isSecret?: (key: ConfigKey) => boolean;
    /**
     * Also require what a deploy needs beyond valid values (missingForDeploy: prod's certificate and
     * key), reported in the same round as every other problem. Default false: the offline plan and
     * the tests parse prod without them.
     */
    readonly deployable?: boolean;
}

/** A pool's OS disk type as sent to AKS: the stack's value when it set one, Ephemeral, or nothing (AKS chooses). */
function osDiskTypeSent(value: string, setByStack: boolean): NodePoolConfig["osDiskType"] {
    return setByStack || value === "Ephemeral" ? (value as NodePoolConfig["osDiskType"]) : undefined;
}

/**
 * Parses and validates raw stack configuration (bare key -> string) for `stack` of `project`.
 * Throws ConfigError listing every problem; unknown keys are problems too (they are usually typos).
 */

export function parseConfig(raw: Raw, project: string, stack: string, options: ParseOptions = {}): PlatformConfig {
    const environment = environmentOf(raw, stack);
    const cloud = cloudOf(environment);
    const { values: v, set, errors } = readValues(raw, environment, options.isSecret ?? (() => true));
    const check = (...results: (string | undefined | readonly (string | undefined)[])[]) => {
        for (const result of results.flat()) if (result !== undefined) errors.push(result);
    };

    const names = namesFor(v.namePrefix, environment);

    const tags: Record<string, string> = Object.fromEntries(v.tags.map((t) => [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)]));
    Object.assign(tags, { project, stack, environment });

    if (/^1\.\d+\.\d+$/.test(v.kubernetesVersion) && !VERSION_KEEPING_CHANNELS.includes(v.autoUpgradeChannel as never)) {
        check(
            `kubernetesVersion: ${show(v.kubernetesVersion)} pins a patch release, but autoUpgradeChannel ${show(v.autoUpgradeChannel)} upgrades the cluster past it, and the next pulumi up after a refresh would try to downgrade; use major.minor (e.g. "${v.kubernetesVersion.split(".").slice(0, 2).join(".")}") or autoUpgradeChannel ${VERSION_KEEPING_CHANNELS.join(" or ")}`,
        );
    }

    const systemPool: NodePoolConfig = {
        vmSize: v.systemPoolVmSize,
        nodeCount: v.systemPoolNodeCount,
        autoscaling: v.systemPoolAutoscaling,
        minCount: v.systemPoolMinCount,
        maxCount: v.systemPoolMaxCount,
        zones: v.systemPoolZones,
        // Sent only when the stack sets it or it is Ephemeral (prod's default): unset, AKS chooses
        // (azure-native 3.28.0 types/input.d.ts ManagedClusterAgentPoolProfileArgs.osDiskType: "The default is
        // 'Ephemeral' if the VM supports it and has a cache disk larger than the requested OSDiskSizeGB.
        // Otherwise, defaults to 'Managed'"), as it did before the key existed.
        osDiskType: osDiskTypeSent(v.systemPoolOsDiskType, set.has("systemPoolOsDiskType")),
        // Sent with Ephemeral (AKS would otherwise size it by vCPU count, not by the local disk) or when set.
        osDiskSizeGb: v.systemPoolOsDiskType === "Ephemeral" || set.has("systemPoolOsDiskSizeGb") ? v.systemPoolOsDiskSizeGb : undefined,
    };
    const userPool: NodePoolConfig = {
        vmSize: v.userPoolVmSize,
        nodeCount: v.userPoolNodeCount,
        autoscaling: v.userPoolAutoscaling,
        minCount: v.userPoolMinCount,
        maxCount: v.userPoolMaxCount,
        zones: v.userPoolZones,
        osDiskType: osDiskTypeSent(v.userPoolOsDiskType, set.has("userPoolOsDiskType")),
        osDiskSizeGb: v.userPoolOsDiskType === "Ephemeral" || set.has("userPoolOsDiskSizeGb") ? v.userPoolOsDiskSizeGb : undefined,
    };
    check(checkPool("systemPool", systemPool), checkOsDisk("systemPool", systemPool));
    check(
        [...checkPool("userPool", userPool), ...checkOsDisk("userPool", userPool)].map((e) =>
            v.userPoolEnabled ? e : `${e} (checked although userPoolEnabled is false)`,
        ),
    );

    if (!errors.some((e) => /^(podCidr|serviceCidr):/.test(e)) && cidrsOverlap(v.podCidr, v.serviceCidr)) {
        check(`serviceCidr: ${show(v.serviceCidr)} overlaps podCidr ${show(v.podCidr)}; the two ranges must be disjoint`);
    }

    if (!errors.some((e) => /^(localPodCidr|localServiceCidr):/.test(e)) && cidrsOverlap(v.localPodCidr, v.localServiceCidr)) {
        check(
            `localServiceCidr: ${show(v.localServiceCidr)} overlaps localPodCidr ${show(v.localPodCidr)}; the two ranges must be disjoint`,
        );
    }

    if (v.disableLocalAccounts && (!v.entraIdEnabled || v.entraAdminGroupObjectIds.length === 0)) {
        check(
            "disableLocalAccounts: true needs entraIdEnabled: true and at least one entraAdminGroupObjectIds entry; without them nobody could reach the cluster",
        );
    }
    if (environment === "prod") {
        for (const key of ["entraIdEnabled", "disableLocalAccounts"] as const) {
            if (!v[key])
                check(
                    `${key}: false is not allowed for environment prod; prod authenticates with Entra ID and Azure RBAC only (set it to true, with entraAdminGroupObjectIds)`,
                );
        }
    }
    check(networkProblems(v, set, environment));
    if (environment === "prod" && !v.keyVaultPurgeProtection) {
        check("keyVaultPurgeProtection: false is not allowed for environment prod; prod Key Vaults keep purge protection on");
    }
    if (v.keyVaultNetworkAclMode === "deny" && v.keyVaultPublicNetworkAccess && v.keyVaultAllowedIpRanges.length === 0) {
        check(
            `keyVaultNetworkAclMode: "deny" with no keyVaultAllowedIpRanges would block the deployer${v.egressType !== "loadBalancer" ? "" : " and the cluster"}; list your own egress IP${v.egressType !== "loadBalancer" ? ` (the ${v.egressType === "natGateway" ? "NAT gateway's" : "firewall's"} IPs are added)` : " and the cluster's (or use egressType natGateway or firewall, whose IPs are added)"}`,
        );
    }
    if (environment === "prod" && v.meshMtlsMode === "PERMISSIVE") {
        check('meshMtlsMode: "PERMISSIVE" is not allowed for environment prod; the prod mesh requires STRICT mutual TLS');
    }

    if (environment === "prod" && v.alertEmail === undefined && v.alertWebhookUrl === undefined) {
        check(
            "alertEmail: is not set and neither is alertWebhookUrl; environment prod sends its audit alerts to a receiver: pulumi config set alertEmail <address> (or pulumi config set --secret alertWebhookUrl <https url>)",
        );
    }

    const certificate = v.ingressTlsCertificate;
    const privateKey = v.ingressTlsPrivateKey;
    if (certificate !== undefined && privateKey !== undefined) {
        if (!checkHostName("ingressHost", v.ingressHost)) check(checkTlsPair(certificate, privateKey, v.ingressHost));
        if (v.ingressWaf && cloud === "azure") {
            try {
                check(checkWafBackendChain(certificate));
            } catch {
                // Not a certificate: checkTlsPair has said so.
            }
        }
    } else if (certificate !== undefined || privateKey !== undefined) {
        const [given, missing] =
            certificate !== undefined
                ? ["ingressTlsCertificate", "ingressTlsPrivateKey"]
                : ["ingressTlsPrivateKey", "ingressTlsCertificate"];
        check(`${missing}: is not set but ${given} is; set both (pulumi config set --secret ${missing} < file.pem) or neither`);
    } else if (options.deployable) {
        check(missingForDeploy(environment, v.ingressHost, false));
    }
    check(checkRecoverySplit(v.vaultRecoveryShares, v.vaultRecoveryThreshold));
    if (environment === "prod" && !v.vaultTlsEnabled) {
        check(
            "vaultTlsEnabled: false is not allowed for environment prod; tokens and database credentials must not cross the network in clear text",
        );
    }

    // The images: built by the program (build: no image keys needed; set, they are the GitOps path's),
    // imported from the CI's registry (import) or named as they are (config). The prebuilt images are
    // the team's own builds (this repository's workflow pushes them): no default, no placeholder.
    const imageSource = v.serviceImageSource as (typeof IMAGE_SOURCES)[number];
    const images = {} as Record<ServiceName, ImageRef>;
    let anyImage = false;
    for (const [service, repositoryKey, tagKey] of [
        ["product-service", "productServiceImage", "productServiceTag"],
        ["order-service", "orderServiceImage", "orderServiceTag"],
    ] as const) {
        const repository = v[repositoryKey];
        const tag = v[tagKey];
        const given = repository !== undefined || tag !== undefined || set.has(repositoryKey) || set.has(tagKey);
        anyImage ||= given;
        // Half an image is a mistake in any mode; none at all with a prebuilt source is what a committed
        // stack file looks like before its first promotion (checkDeployable reports it with the secrets).
        if (given && repository === undefined && !set.has(repositoryKey))
            check(
                `${repositoryKey}: is not set but ${tagKey} is; set the ${service} image repository the CI pushes, e.g. ghcr.io/<owner>/${service}`,
            );
        if (given && tag === undefined && !set.has(tagKey))
            check(
                `${tagKey}: is not set but ${repositoryKey} is; set the pinned ${service} image tag or digest, e.g. v1.0.0 or sha256:<64 hex>`,
            );
        images[service] = { repository: repository ?? "", tag: tag ?? "" };
    }
    check(imageSourceProblems(v, environment, cloud));
    if (options.deployable) check(missingImages(imageSource, anyImage, v.argocdEnabled));
    if (options.deployable && cloud === "azure") check(missingRunner(v.ciRunnerEnabled, v.ciRunnerRepository, v.ciRunnerGithubToken));
    if (v.argocdEnabled && v.argocdRepoUrl === undefined && !set.has("argocdRepoUrl")) {
        check("argocdRepoUrl: is not set but argocdEnabled is true; set the Git repository Argo CD deploys from");
    }

    if (errors.length > 0) throw new ConfigError([...new Set(errors)]);

    const appNs = appNamespace(environment);
    // Vault raft x3 with TLS, initialised by the init Job: prod, and the local stack in ha mode (issue 20 item 8).
    const vaultHa = environment === "prod" || (cloud === "none" && v.localVaultMode === "ha");
    return {
        project,
        stack,
        environment,
        cloud,
        kubeconfigContext: v.kubeconfigContext,
        localCluster: { podCidr: v.localPodCidr, serviceCidr: v.localServiceCidr, apiServerPort: v.localApiServerPort },
        location: v.location,
        namePrefix: v.namePrefix,
        names,
        tags,
        cluster: {
            kubernetesVersion: v.kubernetesVersion,
            tier: v.clusterTier,
            systemPool,
            userPool: v.userPoolEnabled ? userPool : undefined,
            podCidr: v.podCidr,
            serviceCidr: v.serviceCidr,
            dnsServiceIp: addressInCidr(v.serviceCidr, 10),
            autoUpgradeChannel: v.autoUpgradeChannel,
            nodeOsUpgradeChannel: v.nodeOsUpgradeChannel,
            maintenanceWindow: {
                dayOfWeek: v.maintenanceDay,
                startHour: v.maintenanceStartHour,
                durationHours: v.maintenanceDurationHours,
            },
            entraId: v.entraIdEnabled
                ? {
                      adminGroupObjectIds: v.entraAdminGroupObjectIds,
                      deployerObjectId: v.deployerObjectId,
                      previewerObjectId: v.previewerObjectId,
                  }
                : undefined,
            disableLocalAccounts: v.disableLocalAccounts,
            apiServer: {
                authorizedIpRanges: v.apiServerAuthorizedIpRanges,
                vnetIntegration: v.apiServerVnetIntegration,
                private: v.apiServerPrivate,
            },
        } as PlatformConfig["cluster"],
        network: {
            addressSpace: v.vnetAddressSpace,
            subnets: activeSubnets(v),
            runnerDelegation: v.ciRunnerEnabled ? CONTAINER_APPS_DELEGATION : undefined,
            wafIngress: v.ingressWaf,
            perZoneNodePools: v.perZoneNodePools,
            egress: { type: v.egressType, natGatewayPublicIpCount: v.natGatewayPublicIpCount },
            ddosProtection:
                v.ddosProtection === "create"
                    ? { mode: "create" }
                    : v.ddosProtection === "existing" && v.ddosProtectionPlanId !== undefined
                      ? { mode: "existing", planId: v.ddosProtectionPlanId }
                      : undefined,
        } as PlatformConfig["network"],
        monitoring: {
            logRetentionDays: v.logRetentionDays,
            kubeApiServerLogs: v.kubeApiServerLogs,
            kubeAuditReads: v.kubeAuditReads,
            alertReceiver:
                v.alertEmail !== undefined || v.alertWebhookUrl !== undefined
                    ? { email: v.alertEmail, webhookUrl: v.alertWebhookUrl === undefined ? undefined : pulumi.secret(v.alertWebhookUrl) }
                    : undefined,
            managedPrometheus: v.managedPrometheus,
        },
        governance: {
            azurePolicy: v.azurePolicyEnabled ? { effect: v.podSecurityPolicyEffect as (typeof POLICY_EFFECTS)[number] } : undefined,
            defender: v.defenderEnabled,
        },
        keyVault: {
            sku: v.keyVaultSku,
            softDeleteRetentionDays: v.keyVaultRetentionDays,
            purgeProtection: v.keyVaultPurgeProtection,
            networkAclMode: v.keyVaultNetworkAclMode,
            allowedIpRanges: v.keyVaultAllowedIpRanges,
            privateEndpoints: v.keyVaultPrivateEndpoints,
            publicNetworkAccess: v.keyVaultPublicNetworkAccess,
        } as PlatformConfig["keyVault"],
        registry: {
            mode: v.registryMode,
            id: v.registryId,
            privateEndpoint: v.registryPrivateEndpoint,
            publicNetworkAccess: v.registryPublicNetworkAccess,
        } as PlatformConfig["registry"],
        backupStorage: { privateEndpoint: v.backupStoragePrivateEndpoint, publicNetworkAccess: v.backupStoragePublicNetworkAccess },
        resourceLocks: v.resourceLocks,
        ciRunner:
            cloud === "azure" && v.ciRunnerEnabled
                ? {
                      repository: v.ciRunnerRepository,
                      githubToken: v.ciRunnerGithubToken === undefined ? undefined : pulumi.secret(v.ciRunnerGithubToken),
                      label: ciRunnerLabel(environment),
                      maxRunners: v.ciRunnerMaxRunners,
                  }
                : undefined,
        unsealKey: { size: v.unsealKeySize, rotationDays: v.unsealKeyRotationDays } as PlatformConfig["unsealKey"],
        identities: {
            vaultUnseal: [{ namespace: VAULT_NAMESPACE, name: "vault" }],
            // Each service runs as its own service account, named after it.
            appSecrets: SERVICE_NAMES.map((name) => ({ namespace: appNs, name })),
            ingressTls: [{ namespace: NAMESPACES.ingress, name: SERVICE_ACCOUNTS.ingressGateway }],
            vaultInit: vaultHa ? [{ namespace: VAULT_NAMESPACE, name: "vault-init" }] : [],
            // Beside MongoDB, whose root Secret it reads; only where there is backup storage (Azure).
            mongoBackup: cloud === "azure" ? [{ namespace: appNs, name: "mongodb-backup" }] : [],
            vaultSnapshot: vaultHa ? [{ namespace: VAULT_NAMESPACE, name: "vault-snapshot" }] : [],
            vaultTlsRenew: environment === "prod" && v.vaultTlsEnabled ? [{ namespace: VAULT_NAMESPACE, name: "vault-tls-renew" }] : [],
        },
        protectStatefulResources: environment === "prod",
        highAvailability: environment === "prod",
        mesh: { mtlsMode: v.meshMtlsMode as PlatformConfig["mesh"]["mtlsMode"] },
        secretsStore: { rotationPollInterval: v.csiRotationPollInterval },
        ingress: {
            host: v.ingressHost,
            serviceType: cloud === "azure" ? "LoadBalancer" : "NodePort",
            tls:
                certificate !== undefined && privateKey !== undefined
                    ? { certificate: pulumi.secret(certificate), privateKey: pulumi.secret(privateKey) }
                    : undefined,
            waf:
                cloud === "azure" && v.ingressWaf
                    ? {
                          mode: v.ingressWafMode as IngressWafConfig["mode"],
                          minCapacity: v.appGatewayMinCapacity,
                          maxCapacity: v.appGatewayMaxCapacity,
                          // Azure keeps a subnet's first four addresses: the fifth is the first a frontend may take.
                          internalLoadBalancerIp: addressInCidr(v.ingressLbSubnetCidr, AZURE_RESERVED_SUBNET_ADDRESSES - 1),
                      }
                    : undefined,
        },
        workloads: {
            imageSource,
            images: anyImage ? images : undefined,
            imageSourceCredentials:
                imageSource === "import" && v.imageSourceUsername !== undefined && v.imageSourceToken !== undefined
                    ? { username: v.imageSourceUsername, token: pulumi.secret(v.imageSourceToken) }
                    : undefined,
            argocd:
                v.argocdEnabled && v.argocdRepoUrl
                    ? { repoUrl: v.argocdRepoUrl, path: v.argocdPath, revision: v.argocdRevision }
                    : undefined,
        },
        mongo: {
            backup: cloud === "azure" ? { schedule: v.mongoBackupSchedule.trim(), retentionDays: v.mongoBackupRetentionDays } : undefined,
        },
        vault: {
            mode: vaultHa ? "ha" : "dev",
            replicas: v.vaultVoters,
            storageClass: VAULT_ZRS_STORAGE_CLASS,
            // local ha: always (vaultTlsEnabled configures Key Vault's certificate and is an Azure key).
            tls: (environment === "prod" && v.vaultTlsEnabled) || (vaultHa && cloud === "none"),
            snapshot: { schedule: v.vaultSnapshotSchedule, retentionDays: v.vaultSnapshotRetentionDays, keepLast: v.vaultSnapshotKeepLast },
            operatorGroups: v.vaultOperatorGroups,
            recoveryShares: v.vaultRecoveryShares,
            recoveryThreshold: v.vaultRecoveryThreshold,
        },
    };
}

/**
 * What a stack must hold to be deployed beyond valid values: prod serves a real certificate, whose PEM
 * certificate and key only an encrypted stack file can carry (`pulumi config set --secret`).
 */
export function checkDeployable(cfg: PlatformConfig): string[] {
    return [
        ...missingForDeploy(cfg.environment, cfg.ingress.host, cfg.ingress.tls !== undefined),
        ...missingImages(cfg.workloads.imageSource, cfg.workloads.images !== undefined, cfg.workloads.argocd !== undefined),
        ...missingRunner(cfg.ciRunner !== undefined, cfg.ciRunner?.repository, cfg.ciRunner?.githubToken === undefined ? undefined : "set"),
    ];
}

/** The keys a deploy of `environment` still needs, one message each (prod: the ingress certificate and key). */
function missingForDeploy(environment: Environment, ingressHost: string, tlsConfigured: boolean): string[] {
    if (environment !== "prod" || tlsConfigured) return [];
    return ["ingressTlsCertificate", "ingressTlsPrivateKey"].map(
        (key) =>
            `${key}: is not set; environment prod serves the certificate for ingressHost ${show(ingressHost)} from Key Vault: pulumi config set --secret ${key} < ${key === "ingressTlsCertificate" ? "cert.pem" : "key.pem"}`,
    );
}

/** The runner's repository and token, which only the admin can set (the token encrypted). */
function missingRunner(enabled: boolean, repository: string | undefined, token: string | undefined): string[] {
    if (!enabled) return [];
    return [
        ...(repository === undefined
            ? ["ciRunnerRepository: is not set but ciRunnerEnabled is true; pulumi config set ciRunnerRepository <owner>/<name>"]
            : []),
        ...(token === undefined
            ? [
                  "ciRunnerGithubToken: is not set but ciRunnerEnabled is true; pulumi config set --secret ciRunnerGithubToken (a fine-grained token of that repository: Administration read/write, Actions read)",
              ]
            : []),
    ];
}

/**
 * A prebuilt source (import, config) deploys the images the stack names; a stack file has them once
 * promotion wrote them (tools/promote.ts), or once set by hand before a first `up` (docs/delivery.md).
 * With Argo CD the services come from Git, and the program deploys none.
 */
function missingImages(source: string, imagesGiven: boolean, argocd: boolean): string[] {
    if (source === "build" || imagesGiven || argocd) return [];
    return SERVICE_NAMES.map((service) => {
        const stem = service.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
        return `${stem}Image, ${stem}Tag: are not set but serviceImageSource is ${show(source)}; set the image the CI built, e.g. pulumi config set ${stem}Image ghcr.io/<owner>/${service} and pulumi config set ${stem}Tag v1.0.0 (promotion writes both)`;
    });
}

/** The one service account of a binding that a single chart or Job runs as. */
export function singleServiceAccount(binding: readonly ServiceAccountRef[], what: string): ServiceAccountRef {
    if (binding.length !== 1) throw new Error(`${what}: expected exactly one service account, got ${binding.length}`);
    return binding[0];
}
