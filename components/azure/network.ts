// The stack's own VNet (azure-native network, API version 2024-05-01). Subnets are declared inline on
// the VNet, so the cluster waits for one network resource, not a chain of subnets created one by one;
// azure-native's VirtualNetwork docs warn against mixing inline subnets with standalone Subnet
// resources, and there are none.
import * as network from "@pulumi/azure-native/network";
import type * as azureInputs from "@pulumi/azure-native/types/input";
import * as pulumi from "@pulumi/pulumi";
import { AVAILABILITY_ZONES, natGatewayZones, zonalSubnetRange, type NetworkConfig } from "../config";
import { EgressFirewall, type FirewallApplicationRule } from "./firewall";
import { PORTS } from "../topology";

/** Subnet names inside the VNet, one per role. */
export const SUBNET_NAMES = {
    system: "snet-system",
    user: "snet-user",
    privateEndpoints: "snet-private-endpoints",
    apiServer: "snet-apiserver",
    runner: "snet-runner",
    // The name Azure Firewall requires of its subnet.
    firewall: "AzureFirewallSubnet",
    // The ingress WAF's Application Gateway (a dedicated subnet: nothing else may be deployed in it).
    appGateway: "snet-appgateway",
    // The ingress gateway's internal load balancer frontend (the Service's azure-load-balancer-internal-subnet).
    ingressLb: "snet-ingress-lb",
} as const;
export type SubnetRole = keyof typeof SUBNET_NAMES;

/**
 * Subnets without an NSG: Azure Firewall's subnet carries none (Azure Firewall FAQ: NSGs are not
 * required on AzureFirewallSubnet and are disabled there, the firewall being the filter itself).
 */
const NO_NSG_SUBNETS: readonly SubnetRole[] = ["firewall"];

/**
 * The subnets whose machines leave the VNet through the egress path (NAT gateway or firewall route).
 * Not the Application Gateway's: v2 does not support a 0.0.0.0/0 route to a virtual appliance (its
 * management and health traffic would fail: configuration-infrastructure, "Supported user-defined
 * routes"; the private deployment that lifts it is a preview feature), nor does it need a NAT gateway,
 * having its own public IP.
 */
const EGRESS_SUBNETS: readonly SubnetRole[] = ["system", "user", "runner"];
/**
 * The ports the internet reaches the ingress gateway's load balancer on: HTTPS, and HTTP for the
 * gateway's redirect to HTTPS (components/platform/ingressGateway.ts serves both).
 */
const INGRESS_PUBLIC_PORTS = [PORTS.gatewayHttp.service, PORTS.gatewayHttps.service] as const;
/** The subnets whose nodes may run the ingress gateway, which the internet reaches on INGRESS_PUBLIC_PORTS. */
const NODE_SUBNETS: readonly SubnetRole[] = ["system", "user"];

/** The delegation AKS requires on the API server subnet (API server VNet integration). */
export const API_SERVER_DELEGATION = "Microsoft.ContainerService/managedClusters";

export interface NetworkArgs {
    /** VNet name; NSGs, NAT gateway, IPs and route table derive theirs from it. */
    readonly vnetName: string;
    /** Resource group of the network. */
    readonly resourceGroupName: pulumi.Input<string>;
    /** Azure region. */
    readonly location: pulumi.Input<string>;
    /** Validated address ranges and egress settings from the stack config. */
    readonly settings: NetworkConfig;
    /** Tags on every network resource. */
    readonly tags: pulumi.Input<Record<string, string>>;
    /** With egress type firewall: what the firewall allows, where it logs, the zones it spans. */
    readonly firewall?: {
        /** The rules, each naming its sources (use sourceRanges for the egress subnets). */
        readonly applicationRules: readonly FirewallApplicationRule[];
        readonly workspaceId: pulumi.Input<string>;
        readonly zones: readonly string[];
    };
}

/** The address ranges of the subnets whose traffic leaves through the egress path (the firewall's rule sources). */
export function egressSourceRanges(settings: NetworkConfig): string[] {
    return EGRESS_SUBNETS.flatMap((role) => {
        const range = settings.subnets[role];
        return range === undefined ? [] : [range];
    });
}

/**
 * The ports the Application Gateway (ingress WAF) takes from the internet: its HTTPS listener and the
 * HTTP listener that redirects to it (components/azure/appGateway.ts).
 */
export const APP_GATEWAY_PUBLIC_PORTS = INGRESS_PUBLIC_PORTS;
/**
 * What Application Gateway v2's subnet NSG must admit besides its clients: Azure's infrastructure
 * communication from the GatewayManager service tag on 65200-65535 (v2), and Azure Load Balancer's
 * probes ("Application Gateway infrastructure configuration", Network security groups:
 * learn.microsoft.com/azure/application-gateway/configuration-infrastructure). Outbound to the
 * internet must stay open, which the NSG's default rules do.
 */
const APP_GATEWAY_MANAGER_PORTS = "65200-65535";

/**
 * The NSG rules of one subnet role: the platform's defaults deny inbound from the internet already.
 * With the ingress WAF the internet reaches only the Application Gateway's subnet; without it, the
 * node subnets, where the gateway's public load balancer sends it.
 */
function securityRules(role: SubnetRole, settings: NetworkConfig): azureInputs.network.SecurityRuleArgs[] {
    const waf = settings.wafIngress;
    if (role === "appGateway") {
        return [
            {
                name: "allow-https-http-to-app-gateway",
                priority: 100,
                direction: "Inbound",
                access: "Allow",
                protocol: "Tcp",
                sourceAddressPrefix: "Internet",
                sourcePortRange: "*",
                destinationAddressPrefix: "*",
                destinationPortRanges: APP_GATEWAY_PUBLIC_PORTS.map(String),
            },
            {
                name: "allow-gateway-manager",
                priority: 110,
                direction: "Inbound",
                access: "Allow",
                protocol: "Tcp",
                sourceAddressPrefix: "GatewayManager",
                sourcePortRange: "*",
                destinationAddressPrefix: "*",
                destinationPortRange: APP_GATEWAY_MANAGER_PORTS,
            },
            {
                name: "allow-azure-load-balancer",
                priority: 120,
                direction: "Inbound",
                access: "Allow",
                protocol: "*",
                sourceAddressPrefix: "AzureLoadBalancer",
                sourcePortRange: "*",
                destinationAddressPrefix: "*",
                destinationPortRange: "*",
            },
            // Nothing else: Azure's default AllowVnetInBound (65000) would admit every VNet source on every
            // port (mspnp/aks-baseline network-team/spoke-BU0001A0008.bicep: DenyAllInBound at 1000 on the
            // Application Gateway subnet's NSG, after the same allows).
            {
                name: "deny-all-inbound",
                priority: 1000,
                direction: "Inbound",
                access: "Deny",
                protocol: "*",
                sourceAddressPrefix: "*",
                sourcePortRange: "*",
                destinationAddressPrefix: "*",
                destinationPortRange: "*",
            },
        ];
    }
    if (waf || !NODE_SUBNETS.includes(role)) return [];
    // The subnet NSG is evaluated before the NIC-level one AKS manages: without this rule the ingress
    // gateway's public load balancer would be unreachable.
    return [
        {
            name: "allow-http-https-to-ingress",
            priority: 100,
            direction: "Inbound",
            access: "Allow",
            protocol: "Tcp",
            sourceAddressPrefix: "Internet",
            sourcePortRange: "*",
            destinationAddressPrefix: "*",
            destinationPortRanges: INGRESS_PUBLIC_PORTS.map(String),
        },
    ];
}

/**
 * A VNet with one subnet per role (node pools, private endpoints, the API server with VNet
 * integration, a runner, the firewall), an NSG on each but the firewall's, and node egress through a
 * NAT gateway with static public IPs or a route table to the stack's Azure Firewall (mspnp/aks-baseline
 * network-team: spoke with NSG'd subnets, egress via UDR to the hub firewall; the AKS AVM waf-aligned
 * example: NAT gateway / UDR outbound). A new subnet role is one entry in SUBNET_NAMES (plus its config
 * key in components/config/parse.ts) and, where it differs, in EGRESS_SUBNETS, NODE_SUBNETS or
 * NO_NSG_SUBNETS.
 */
export class Network extends pulumi.ComponentResource {
    /** ARM ID of the VNet: what the private DNS zones link to. */
    readonly vnetId: pulumi.Output<string>;
    /** ARM IDs of the subnets that exist, by role. */
    readonly subnetIds: Readonly<Partial<Record<SubnetRole, pulumi.Output<string>>>>;
    /**
     * The nodes' static public egress IPs, known before the cluster exists: the NAT gateway's, or the
     * firewall's ([] with the load balancer, whose IP AKS picks and adds to authorized ranges itself).
     */
    readonly egressIps: pulumi.Output<string[]>;
    /** The egress firewall (egress type firewall). */
    readonly firewall?: EgressFirewall;
    /**
     * network.perZoneNodePools: the node subnets' ARM IDs by role and zone, for every zone of AVAILABILITY_ZONES.
     * The system and user roles are then absent from subnetIds: a pool is pinned to one zone's subnet.
     */
    readonly zonalSubnetIds?: {
        readonly system: Readonly<Record<string, pulumi.Output<string>>>;
        readonly user?: Readonly<Record<string, pulumi.Output<string>>>;
    };

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:Network", name, {}, opts);
        const s = args.settings;
        const common = { resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags };
        const roles = (Object.keys(SUBNET_NAMES) as SubnetRole[]).filter((role) => s.subnets[role] !== undefined);

        // Per-zone egress: a "zonal stack" per zone, its NAT gateway, public IPs and node subnets all in
        // that zone, is what survives a zone's loss with NAT gateway (MicrosoftDocs/azure-docs
        // articles/nat-gateway/nat-availability-zones.md, "Zonal NAT gateway resource for each zone in a
        // region to create zone-resiliency"; a single NAT gateway, zonal or "no zone", lives in one zone,
        // and its zone's loss cuts outbound for every subnet it serves). The zone-redundant alternative,
        // a StandardV2 NAT gateway with StandardV2 public IPs (which AKS's userAssignedNATGateway accepts:
        // MicrosoftDocs/azure-aks-docs articles/aks/nat-gateway.md), is not reachable at the azure-native
        // version we pin: 3.28.0's NatGateway is API 2024-05-01, whose NatGatewaySkuName is only
        // "Standard" and PublicIPAddressSkuName only "Basic" | "Standard" (node_modules/@pulumi/
        // azure-native types/enums/network/index.d.ts; network/natGateway.d.ts). Azure/azure-rest-api-specs
        // Microsoft.Network/stable/2025-07-01/natGateway.json adds "StandardV2", and 3.28.0 lists 2025-07-01
        // among NatGateway's "other available API versions", reachable only through a locally generated
        // SDK (`pulumi package add azure-native network 2025-07-01`), not the pinned package. When the
        // default version carries StandardV2, one zone-redundant NAT gateway replaces these stacks.
        // With per-zone pools, every zone's NAT gateway and IPs, used by a pool or not (natGatewayZones).
        const zones = natGatewayZones(s.egress.type, s.perZoneNodePools);
        const publicIps = (stem: string, ipZones: string[] | undefined) =>
            Array.from(
                { length: s.egress.natGatewayPublicIpCount },
                (_, i) =>
                    new network.PublicIPAddress(
                        `${name}-${stem}-${i + 1}`,
                        {
                            ...common,
                            publicIpAddressName: `pip-${args.vnetName}-${stem}-${i + 1}`,
                            sku: { name: "Standard", tier: "Regional" },
                            publicIPAllocationMethod: "Static",
                            publicIPAddressVersion: "IPv4",
                            // A NAT gateway takes IPs of its own zone (or zone-redundant ones); a NAT gateway
                            // without zones takes IPs without zones (nat-availability-zones.md, "Zonal").
                            zones: ipZones,
                        },
                        { parent: this },
                    ),
            );
        const addressesOf = (ips: network.PublicIPAddress[]) =>
            pulumi.all(ips.map((ip) => ip.ipAddress)).apply((addresses) =>
                addresses.map((address, i) => {
                    if (!address) throw new pulumi.ResourceError(`${name}: Azure reported no address for egress IP ${i + 1}`, this);
                    return address;
                }),
            );

        // One NAT gateway and its public IPs. Without a zone (whole-role subnets): a regional gateway, its
        // IPs without zones too, a zonal IP serving only a NAT gateway of its own zone. With a zone (per-zone
        // pools): gateway and IPs in that zone, whose zones cannot change after creation
        // (nat-availability-zones.md, "Limitations"): a new zone is a new gateway.
        const natGatewayWithIps = (zone?: string) => {
            const suffix = zone ? `-z${zone}` : "";
            const ips = publicIps(`egress${suffix}`, zone ? [zone] : undefined);
            const gateway = new network.NatGateway(
                `${name}-nat${suffix}`,
                {
                    ...common,
                    natGatewayName: `ng-${args.vnetName}${suffix}`,
                    sku: { name: "Standard" },
                    zones: zone ? [zone] : undefined,
                    idleTimeoutInMinutes: 4,
                    publicIpAddresses: ips.map((ip) => ({ id: ip.id })),
                },
                { parent: this },
            );
            return { gateway, addresses: addressesOf(ips) };
        };

        let natGateway: network.NatGateway | undefined;
        const zonalNat = new Map<string, network.NatGateway>();
        let egressIps: pulumi.Output<string[]> = pulumi.output([]);
        if (s.egress.type === "natGateway" && !s.perZoneNodePools) {
            const nat = natGatewayWithIps();
            natGateway = nat.gateway;
            egressIps = nat.addresses;
        } else if (s.egress.type === "natGateway") {
            const perZone = zones.map((zone) => {
                const nat = natGatewayWithIps(zone);
                zonalNat.set(zone, nat.gateway);
                return nat.addresses;
            });
            egressIps = pulumi.all(perZone).apply((lists) => lists.flat());
        }

        // The route table exists before the VNet (the subnets reference it) and before the firewall, whose
        // private IP its one route needs; so the route is a standalone Route created once the firewall
        // reports that IP, and the table declares no inline routes. azure-native keeps standalone
        // sub-resources through updates of their parent when the parent leaves the property unset
        // (pulumi/pulumi-azure-native provider/pkg/resources: MaintainSubResourcePropertiesIfNotSet,
        // the "Sub-resources" pattern), the same contract as subnets on a VNet.
        const routeTable =
            s.egress.type === "firewall"
                ? new network.RouteTable(
                      `${name}-egress`,
                      {
                          ...common,
                          routeTableName: `rt-${args.vnetName}-egress`,
                          // Keeps routes a gateway learns over BGP from bypassing the firewall.
                          disableBgpRoutePropagation: true,
                      },
                      { parent: this },
                  )
                : undefined;

        // With per-zone egress the runner's subnet, which takes one NAT gateway like any subnet, leaves
        // through zone 1's, whatever zones the pools use: pinned, so that no pool zone change moves the
        // runner to another gateway (and another IP, which would join the API server's authorized ranges
        // only through the cluster's update, after the runner had lost its way in). The runner (prod's
        // CI) serves no traffic and its jobs retry, so a loss of zone 1 stops deployments until it is
        // back, not the platform.
        const runnerNat = zones.length > 0 ? zonalNat.get(AVAILABILITY_ZONES[0]) : natGateway;
        // network.perZoneNodePools: a node subnet for every zone, used by a pool or not. The subnets are inline in
        // the VNet, whose update comes before the deletes of the same `up` (Pulumi runs deletes after
        // every create and update: pulumi/pulumi pkg/resource/deploy/deployment_executor.go), so a zone
        // taken out of a pool would drop the subnet its pool, deleted only at the end, still holds, and
        // Azure refuses to delete a subnet in use (InUseSubnetCannotBeDeleted); the same for a zone added
        // back. Empty, a subnet costs nothing; with natGateway each keeps its zone's gateway (zonalNat
        // holds every zone), so a pool's zone change never re-wires a subnet's egress.
        const zonesOf = (role: SubnetRole): readonly string[] =>
            s.perZoneNodePools && (role === "system" || role === "user") ? AVAILABILITY_ZONES : [];
        const subnetName = (role: SubnetRole, zone?: string) => (zone ? `${SUBNET_NAMES[role]}-z${zone}` : SUBNET_NAMES[role]);
        const subnets = roles.flatMap((role) => {
            // One NSG per role, on each of its subnets (the per-zone node subnets share their role's).
            const nsg = NO_NSG_SUBNETS.includes(role)
                ? undefined
                : new network.NetworkSecurityGroup(
                      `${name}-${role}`,
                      { ...common, networkSecurityGroupName: `nsg-${args.vnetName}-${role}`, securityRules: securityRules(role, s) },
                      { parent: this },
                  );
            const egress = EGRESS_SUBNETS.includes(role);
            const subnet = (zone?: string) => {
                const nat = zone ? zonalNat.get(zone) : role === "runner" ? runnerNat : natGateway;
                const range = s.subnets[role];
                return {
                    name: subnetName(role, zone),
                    // A zone's node subnet is its part of the role's configured range (config/validators.ts
                    // zonalSubnetRange), so every rule that names the role's range covers it.
                    addressPrefix: zone && range ? zonalSubnetRange(range, zone) : range,
                    networkSecurityGroup: nsg ? { id: nsg.id } : undefined,
                    natGateway: egress && nat ? { id: nat.id } : undefined,
                    routeTable: egress && routeTable ? { id: routeTable.id } : undefined,
                    // NSGs apply to the private endpoints too (off by default on a subnet).
                    privateEndpointNetworkPolicies: role === "privateEndpoints" ? "Enabled" : undefined,
                    // Nothing in these two subnets needs the internet; Azure's implicit outbound is retired anyway.
                    defaultOutboundAccess: role === "privateEndpoints" || role === "apiServer" ? false : undefined,
                    delegations:
                        role === "apiServer"
                            ? [{ name: "aks-apiserver", serviceName: API_SERVER_DELEGATION }]
                            : role === "runner" && s.runnerDelegation
                              ? [{ name: "runner", serviceName: s.runnerDelegation }]
                              : undefined,
                };
            };
            const roleZones = zonesOf(role);
            return roleZones.length > 0 ? roleZones.map((zone) => subnet(zone)) : [subnet()];
        });

        // DDoS Network Protection (network.ddosProtection): mspnp/aks-baseline leaves it out for cost and says its
        // public IPs "would be best behind a DDoS Policy" (network-team/spoke-BU0001A0008.bicep); here it is
        // an option, a plan on the VNet (azure-native 3.28.0 network VirtualNetwork ddosProtectionPlan,
        // enableDdosProtection), which covers the public IPs in it. Off, nothing is sent, so the VNet of an
        // existing stack sees no change.
        const ddos = s.ddosProtection;
        const ddosPlanId =
            ddos?.mode === "create"
                ? new network.DdosProtectionPlan(
                      `${name}-ddos`,
                      { ...common, ddosProtectionPlanName: `ddos-${args.vnetName}` },
                      { parent: this },
                  ).id
                : ddos?.planId;
        const vnet = new network.VirtualNetwork(
            name,
            {
                ...common,
                virtualNetworkName: args.vnetName,
                addressSpace: { addressPrefixes: [s.addressSpace] },
                subnets,
                ...(ddosPlanId ? { ddosProtectionPlan: { id: ddosPlanId }, enableDdosProtection: true } : {}),
            },
            { parent: this },
        );

        const subnetIdOf = (role: SubnetRole, zone?: string) => pulumi.interpolate`${vnet.id}/subnets/${subnetName(role, zone)}`;
        // Egress through the firewall: the firewall, then the default route to it. Whoever takes an
        // egress subnet's ID (the cluster's pools) gets it only once that route exists: AKS's
        // userDefinedRouting checks for a 0.0.0.0/0 route when the cluster is created.
        let egressReady: pulumi.Output<string> | undefined;
        if (s.egress.type === "firewall" && routeTable) {
            if (!args.firewall)
                throw new pulumi.ResourceError(`${name}: egress type firewall needs the firewall's rules and workspace`, this);
            if (!s.subnets.firewall) throw new pulumi.ResourceError(`${name}: egress type firewall needs the firewall subnet`, this);
            this.firewall = new EgressFirewall(
                `${name}-firewall`,
                {
                    ...common,
                    name: args.vnetName.replace(/^vnet-/, ""),
                    subnetId: subnetIdOf("firewall"),
                    zones: args.firewall.zones,
                    applicationRules: args.firewall.applicationRules,
                    workspaceId: args.firewall.workspaceId,
                },
                { parent: this },
            );
            const route = new network.Route(
                `${name}-default-route`,
                {
                    resourceGroupName: args.resourceGroupName,
                    routeTableName: routeTable.name,
                    routeName: "default-via-firewall",
                    addressPrefix: "0.0.0.0/0",
                    nextHopType: "VirtualAppliance",
                    nextHopIpAddress: this.firewall.privateIp,
                },
                { parent: this, dependsOn: [vnet] },
            );
            egressReady = route.id;
            egressIps = this.firewall.publicIp.apply((ip) => [ip]);
        }

        this.vnetId = vnet.id;
        // An egress subnet's ID, once its egress is ready (the firewall's default route).
        const egressSubnetId = (role: SubnetRole, zone?: string) =>
            egressReady && EGRESS_SUBNETS.includes(role)
                ? pulumi.all([subnetIdOf(role, zone), egressReady]).apply(([id]) => id)
                : subnetIdOf(role, zone);
        const zonalIds = (role: SubnetRole) => Object.fromEntries(zonesOf(role).map((zone) => [zone, egressSubnetId(role, zone)]));
        if (s.perZoneNodePools) {
            this.zonalSubnetIds = { system: zonalIds("system"), user: s.subnets.user ? zonalIds("user") : undefined };
        }
        this.subnetIds = Object.fromEntries(roles.filter((role) => zonesOf(role).length === 0).map((role) => [role, egressSubnetId(role)]));
        this.egressIps = egressIps;
        this.registerOutputs({
            vnetId: this.vnetId,
            subnetIds: this.subnetIds,
            ...(this.zonalSubnetIds ? { zonalSubnetIds: this.zonalSubnetIds } : {}),
            egressIps: this.egressIps,
        });
    }
}
