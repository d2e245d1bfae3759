// Issue 12: the stack's own network, who reaches the API server, Key Vaults off the internet, the
// private registry and the prod locks, proved on the evaluated plans and their wiring.
import { strict as assert } from "assert";
import * as networkEnums from "@pulumi/azure-native/types/enums/network";
import { ACR_PULL, NETWORK_CONTRIBUTOR } from "../components/azure/roles";
import { API_SERVER_DELEGATION, SUBNET_NAMES } from "../components/azure/network";
import { dependencyEdges } from "../tools/plan";
import {
    DEV_NAT,
    evaluateStack,
    configProblems,
    itRejectsConfig,
    mockPublicIp,
    MOCK_FIREWALL_PRIVATE_IP,
    stackRaw,
    STAND_IN_IMAGES,
    TUNED,
    type Registration,
    type StackRun,
    withOverrides,
} from "./harness";
import { rawList, rawMember, rawString } from "./configRaw";
import type { Raw } from "../components/config";

const T = {
    group: "azure-native:resources:ResourceGroup",
    cluster: "azure-native:containerservice:ManagedCluster",
    vault: "azure-native:keyvault:Vault",
    vnet: "azure-native:network:VirtualNetwork",
    nsg: "azure-native:network:NetworkSecurityGroup",
    pip: "azure-native:network:PublicIPAddress",
    nat: "azure-native:network:NatGateway",
    routes: "azure-native:network:RouteTable",
    route: "azure-native:network:Route",
    firewall: "azure-native:network:AzureFirewall",
    firewallPolicy: "azure-native:network:FirewallPolicy",
    firewallRules: "azure-native:network:FirewallPolicyRuleCollectionGroup",
    diagnostics: "azure-native:monitor:DiagnosticSetting",
    workspace: "azure-native:operationalinsights:Workspace",
    endpoint: "azure-native:network:PrivateEndpoint",
    zoneGroup: "azure-native:network:PrivateDnsZoneGroup",
    zone: "azure-native:privatedns:PrivateZone",
    link: "azure-native:privatedns:VirtualNetworkLink",
    registry: "azure-native:containerregistry:Registry",
    role: "azure-native:authorization:RoleAssignment",
    identity: "azure-native:managedidentity:UserAssignedIdentity",
    groupLock: "azure-native:authorization:ManagementLockAtResourceGroupLevel",
    scopeLock: "azure-native:authorization:ManagementLockByScope",
};

const subnetId = (run: StackRun, role: keyof typeof SUBNET_NAMES) => `${run.get(T.vnet, "network").id}/subnets/${SUBNET_NAMES[role]}`;
const subnetOf = (run: StackRun, role: keyof typeof SUBNET_NAMES) =>
    run.get(T.vnet, "network").inputs.subnets.find((s: { name: string }) => s.name === SUBNET_NAMES[role]);
/**
 * Typical create times in seconds (Azure's and the charts' usual durations; an estimate, enough to
 * weigh seconds against minutes). Anything else counts 5 s.
 */
const ESTIMATED_SECONDS: Readonly<Record<string, number>> = {
    [T.cluster]: 480,
    "kubernetes:helm.sh/v3:Release": 120,
    "kubernetes:batch/v1:Job": 60,
    [T.nat]: 20,
    // Azure Firewall takes minutes to provision; it is necessarily before the cluster (AKS checks the
    // default route of a userDefinedRouting cluster's subnets), so it counts in the floor below.
    [T.firewall]: 420,
    [T.vnet]: 10,
    [T.endpoint]: 60,
    [T.vault]: 30,
};
const estimatedSeconds = (r: Registration) => ESTIMATED_SECONDS[r.type] ?? 5;
/** What the network adds in front of the cluster: its resources and the control plane's grant on the VNet. */
const NETWORK_STEP_TYPES: readonly string[] = [T.pip, T.nat, T.routes, T.nsg, T.vnet, T.role, T.identity];

/** The longest path through the deployed resources, each weighing `weight` seconds. */
function criticalPath(run: StackRun, weight: (r: Registration) => number): number {
    const incoming = new Map<string, Registration[]>();
    for (const [from, to] of dependencyEdges(run)) incoming.set(to.urn, [...(incoming.get(to.urn) ?? []), from]);
    const memo = new Map<string, number>();
    const finish = (r: Registration): number => {
        const known = memo.get(r.urn);
        if (known !== undefined) return known;
        const start = Math.max(0, ...(incoming.get(r.urn) ?? []).map(finish));
        memo.set(r.urn, start + weight(r));
        return start + weight(r);
    };
    return Math.max(...run.resources.filter((r) => r.custom).map(finish));
}

const pool = (cluster: Registration, name: string) => cluster.inputs.agentPoolProfiles.find((p: { name: string }) => p.name === name);

describe("network: prod", () => {
    let run: StackRun;
    let cluster: Registration;
    before(async () => {
        run = await evaluateStack("prod");
        cluster = run.get(T.cluster, "aks");
    });

    it("has a VNet of the configured range with NSG'd subnets for the pools, the private endpoints and the API server, and the firewall's subnet", () => {
        const vnet = run.get(T.vnet, "network");
        assert.deepEqual(vnet.inputs.addressSpace, { addressPrefixes: ["10.240.0.0/16"] });
        const subnets = vnet.inputs.subnets as { name: string; addressPrefix: string; networkSecurityGroup?: { id: string } }[];
        assert.deepEqual(
            subnets.map((s) => [s.name, s.addressPrefix]),
            [
                [SUBNET_NAMES.system, "10.240.0.0/22"],
                [SUBNET_NAMES.user, "10.240.4.0/22"],
                [SUBNET_NAMES.privateEndpoints, "10.240.8.0/24"],
                [SUBNET_NAMES.apiServer, "10.240.9.0/28"],
                // The CI runner's Container Apps environment (ciRunner.enabled, prod's default).
                [SUBNET_NAMES.runner, "10.240.10.0/24"],
                // Azure Firewall requires exactly this subnet name, /26 or larger.
                ["AzureFirewallSubnet", "10.240.12.0/26"],
                // The ingress WAF (issue 22 item 2): Application Gateway v2's dedicated /24 (Azure's
                // recommendation) and the gateway's internal load balancer frontend.
                [SUBNET_NAMES.appGateway, "10.240.14.0/24"],
                [SUBNET_NAMES.ingressLb, "10.240.13.0/28"],
            ],
        );
        const nsgIds = new Set(run.ofType(T.nsg).map((n) => n.id));
        for (const s of subnets.filter((s) => s.name !== "AzureFirewallSubnet"))
            assert.ok(s.networkSecurityGroup && nsgIds.has(s.networkSecurityGroup.id), `${s.name} has an NSG of this stack`);
        // Azure Firewall FAQ: NSGs are not supported on AzureFirewallSubnet.
        assert.equal(subnetOf(run, "firewall").networkSecurityGroup, undefined);
        assert.equal(subnetOf(run, "privateEndpoints").privateEndpointNetworkPolicies, "Enabled");
    });

    it("puts each pool on its own subnet", () => {
        assert.equal(pool(cluster, "system").vnetSubnetID, subnetId(run, "system"));
        assert.equal(run.get("azure-native:containerservice:AgentPool", "aks-user").inputs.vnetSubnetID, subnetId(run, "user"));
    });

    it("sends node egress through the stack's Azure Firewall: user-defined routing, 0.0.0.0/0 to its private IP, no NAT gateway", () => {
        const firewall = run.get(T.firewall, "network-firewall");
        const table = run.get(T.routes, "network-egress");
        const route = run.get(T.route, "network-default-route");
        assert.equal(table.inputs.routes, undefined, "no inline routes beside the standalone one");
        assert.equal(route.inputs.routeTableName, table.state.name);
        assert.equal(route.inputs.addressPrefix, "0.0.0.0/0");
        assert.equal(route.inputs.nextHopType, "VirtualAppliance");
        // The address Azure reports for the firewall, not one the program guesses.
        assert.equal(route.inputs.nextHopIpAddress, firewall.state.ipConfigurations[0].privateIPAddress);
        assert.equal(route.inputs.nextHopIpAddress, MOCK_FIREWALL_PRIVATE_IP);
        for (const role of ["system", "user"] as const) assert.deepEqual(subnetOf(run, role).routeTable, { id: table.id });
        // Not the Application Gateway's: v2 does not support a 0.0.0.0/0 route to a virtual appliance
        // (learn.microsoft.com/azure/application-gateway/configuration-infrastructure, "Supported user-defined routes").
        for (const role of ["privateEndpoints", "apiServer", "firewall", "appGateway", "ingressLb"] as const)
            assert.equal(subnetOf(run, role).routeTable, undefined, role);
        assert.equal(cluster.inputs.networkProfile.outboundType, "userDefinedRouting");
        assert.equal(run.ofType(T.nat).length, 0);
        // AKS checks the subnet's default route when it creates a userDefinedRouting cluster.
        assert.ok(run.dependsOn(cluster.urn, route.urn), "the cluster waits for the default route");
        assert.deepEqual(run.outputs.egressIps.value, [mockPublicIp("network-firewall-ip")]);
    });

    it("runs Azure Firewall Standard in AzureFirewallSubnet with a Standard policy, a static IP in the pools' zones, and its logs in Log Analytics", () => {
        const firewall = run.get(T.firewall, "network-firewall");
        const policy = run.get(T.firewallPolicy, "network-firewall-policy");
        const pip = run.get(T.pip, "network-firewall-ip");
        // azure-native 3.28.0 enums (types/enums/network): AzureFirewallSkuName AZFW_VNet, tier Standard.
        assert.deepEqual(firewall.inputs.sku, { name: "AZFW_VNet", tier: "Standard" });
        assert.deepEqual(firewall.inputs.firewallPolicy, { id: policy.id });
        assert.deepEqual(firewall.inputs.ipConfigurations, [
            { name: "egress", subnet: { id: subnetId(run, "firewall") }, publicIPAddress: { id: pip.id } },
        ]);
        assert.deepEqual(firewall.inputs.zones, ["1", "2", "3"]);
        assert.deepEqual(policy.inputs.sku, { tier: "Standard" });
        assert.equal(policy.inputs.threatIntelMode, "Deny");
        assert.deepEqual(pip.inputs.sku, { name: "Standard", tier: "Regional" });
        assert.equal(pip.inputs.publicIPAllocationMethod, "Static");
        assert.deepEqual(pip.inputs.zones, ["1", "2", "3"]);
        const diagnostics = run.ofType(T.diagnostics).find((d) => d.inputs.resourceUri === firewall.id);
        assert.ok(diagnostics, "the firewall has a diagnostic setting");
        assert.equal(diagnostics.inputs.workspaceId, run.ofType(T.workspace)[0].id);
        assert.equal(diagnostics.inputs.logAnalyticsDestinationType, "Dedicated");
        assert.deepEqual(diagnostics.inputs.logs, [{ categoryGroup: "allLogs", enabled: true }]);
        assert.ok(
            run.dependsOn(firewall.urn, run.get(T.firewallRules, "network-firewall-rules").urn),
            "rules before the firewall takes the policy",
        );
    });

    it("allows the node subnets exactly AKS's documented FQDNs, Entra ID, Azure Monitor, Azure Policy and the registries the images come from", () => {
        const group = run.get(T.firewallRules, "network-firewall-rules");
        assert.equal(group.inputs.ruleCollections.length, 1);
        const [collection] = group.inputs.ruleCollections;
        assert.deepEqual(collection.action, { type: "Allow" });
        const all = collection.rules as {
            name: string;
            ruleType: string;
            sourceAddresses: string[];
            targetFqdns?: string[];
            fqdnTags?: string[];
        }[];
        for (const rule of all) assert.equal(rule.ruleType, "ApplicationRule", "no network rule: nothing but FQDNs leaves");
        // The CI runner's own rule, from its subnet only: GitHub's list for a wildcard-capable firewall
        // ("Communicating with self-hosted runners") plus what its jobs download (npm, Node, Pulumi, the
        // Azure CLI installer, the pinned charts' repositories) and Container Apps' identity endpoints.
        const runnerRule = all.find((r) => r.name === "ci-runner")!;
        assert.deepEqual(runnerRule.sourceAddresses, ["10.240.10.0/24"]);
        assert.deepEqual(
            [...runnerRule.targetFqdns!].sort(),
            [
                "github.com",
                "*.github.com",
                "*.githubusercontent.com",
                "ghcr.io",
                "*.blob.core.windows.net",
                "registry.npmjs.org",
                "nodejs.org",
                "get.pulumi.com",
                "aka.ms",
                "*.identity.azure.net",
                "*.login.microsoftonline.com",
                "*.login.microsoft.com",
                "istio-release.storage.googleapis.com",
                "azure.github.io",
                "helm.releases.hashicorp.com",
                "stakater.github.io",
                "argoproj.github.io",
            ].sort(),
        );
        // Ubuntu's mirrors for the runner's Azure CLI install (apt over HTTP), from its subnet only.
        const aptRule = all.find((r) => r.name === "ci-runner-apt")! as (typeof all)[number] & { protocols: unknown };
        assert.deepEqual(aptRule.sourceAddresses, ["10.240.10.0/24"]);
        assert.deepEqual([...aptRule.targetFqdns!].sort(), ["archive.ubuntu.com", "ppa.launchpadcontent.net", "security.ubuntu.com"]);
        assert.deepEqual(aptRule.protocols, [
            { protocolType: "Http", port: 80 },
            { protocolType: "Https", port: 443 },
        ]);
        const rules = all.filter((r) => r !== runnerRule && r !== aptRule);
        // Node and runner subnets: the runner reaches ARM, Entra ID, the API server and the registries too.
        for (const rule of rules) assert.deepEqual(rule.sourceAddresses, ["10.240.0.0/22", "10.240.4.0/22", "10.240.10.0/24"]);
        assert.deepEqual(
            rules.flatMap((r) => r.fqdnTags ?? []),
            ["AzureKubernetesService"],
        );
        const registryName = run.ofType(T.registry)[0].inputs.registryName.toLowerCase();
        // Written from MicrosoftDocs/azure-aks-docs articles/aks/outbound-rules-control-egress.md (Azure
        // Global required FQDNs; Azure Monitor for containers; Azure Policy), the Application Insights
        // connection string's ingestion host, and the registries' documented pull hosts.
        const expected = [
            "*.hcp.eastus.azmk8s.io",
            "mcr.microsoft.com",
            "*.data.mcr.microsoft.com",
            "mcr-0001.mcr-msedge.net",
            "management.azure.com",
            "packages.microsoft.com",
            "acs-mirror.azureedge.net",
            "login.microsoftonline.com",
            "dc.services.visualstudio.com",
            "*.ods.opinsights.azure.com",
            "*.oms.opinsights.azure.com",
            "*.monitoring.azure.com",
            "eastus.ingest.monitor.azure.com",
            "eastus.handler.control.monitor.azure.com",
            "*.in.applicationinsights.azure.com",
            // Managed Prometheus (prod): "Access control service" and the metrics ingestion endpoint (DCE).
            "global.handler.control.monitor.azure.com",
            "*.metrics.ingest.monitor.azure.com",
            "data.policy.core.windows.net",
            "store.policy.core.windows.net",
            "registry-1.docker.io",
            "auth.docker.io",
            "production.cloudflare.docker.com",
            "ghcr.io",
            "pkg-containers.githubusercontent.com",
            // The stack's registry: its login server and dedicated data endpoint (MicrosoftDocs/azure-docs
            // articles/container-registry/container-registry-firewall-access-rules.md).
            `${registryName}.azurecr.io`,
            `${registryName}.eastus.data.azurecr.io`,
        ];
        assert.deepEqual(rules.flatMap((r) => r.targetFqdns ?? []).sort(), [...expected].sort());
    });

    it("lets every image the program deploys through: its registry's pull host is allowed", () => {
        const allowed = new Set(
            run.get(T.firewallRules, "network-firewall-rules").inputs.ruleCollections[0].rules.flatMap((r: any) => r.targetFqdns ?? []),
        );
        // The container runtime's normalization (distribution/reference): no host in the first path
        // component means Docker Hub, whose pull API is registry-1.docker.io.
        const pullHost = (image: string) => {
            const first = image.split("/")[0];
            const host = image.includes("/") && (first.includes(".") || first.includes(":")) ? first : "docker.io";
            return host === "docker.io" ? "registry-1.docker.io" : host;
        };
        const images = new Set<string>();
        const walk = (value: unknown, key?: string): void => {
            if (typeof value === "string" && key === "image" && value !== "auto") images.add(value);
            else if (key === "image" && value && typeof value === "object" && "repository" in value)
                images.add(String((value as any).repository));
            else if (Array.isArray(value)) value.forEach((v) => walk(v));
            else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, k);
        };
        for (const r of run.resources.filter((r) => r.type.startsWith("kubernetes:"))) walk(r.inputs);
        assert.ok(images.size >= 5, `found the program's images: ${[...images].join(", ")}`);
        for (const image of images) assert.ok(allowed.has(pullHost(image)), `${image}: ${pullHost(image)} is not allowed by the firewall`);
    });

    it("lets the firewall's IP through the Key Vault rules and the API server's authorized ranges", () => {
        const ip = `${mockPublicIp("network-firewall-ip")}/32`;
        for (const vault of run.ofType(T.vault)) assert.ok(vault.inputs.properties.networkAcls.ipRules.some((r: any) => r.value === ip));
        assert.deepEqual(cluster.inputs.apiServerAccessProfile.authorizedIPRanges, ["203.0.113.0/24", ip]);
        assert.equal(cluster.inputs.apiServerAccessProfile.enablePrivateCluster, false);
        assert.equal(cluster.inputs.apiServerAccessProfile.enableVnetIntegration, true);
    });

    it("runs the control plane as a user-assigned identity with Network Contributor on the VNet", () => {
        const identity = run.get(T.identity, "aks-identity");
        const grant = run.get(T.role, "aks-identity-network");
        assert.equal(grant.inputs.principalId, identity.state.principalId);
        assert.equal(grant.inputs.scope, run.get(T.vnet, "network").id);
        assert.match(grant.inputs.roleDefinitionId, new RegExp(`${NETWORK_CONTRIBUTOR}$`));
        assert.ok(run.dependsOn(cluster.urn, grant.urn), "the cluster waits for the grant");
    });

    it("puts both Key Vaults behind private endpoints in the endpoint subnet, the privatelink zone linked to the VNet", () => {
        const zone = run.get(T.zone, "kv-dns");
        assert.equal(zone.inputs.privateZoneName, "privatelink.vaultcore.azure.net");
        const link = run.get(T.link, "kv-dns-link");
        assert.equal(link.inputs.privateZoneName, "privatelink.vaultcore.azure.net");
        assert.deepEqual(link.inputs.virtualNetwork, { id: run.get(T.vnet, "network").id });
        assert.equal(link.inputs.registrationEnabled, false);
        for (const name of ["app-kv", "unseal-kv"]) {
            const vault = run.get(T.vault, name);
            assert.equal(vault.inputs.properties.publicNetworkAccess, "Disabled");
            const endpoint = run.get(T.endpoint, `${name}-pe`);
            assert.equal(endpoint.inputs.subnet.id, subnetId(run, "privateEndpoints"));
            assert.equal(endpoint.inputs.privateLinkServiceConnections[0].privateLinkServiceId, vault.id);
            assert.deepEqual(endpoint.inputs.privateLinkServiceConnections[0].groupIds, ["vault"]);
            const group = run.get(T.zoneGroup, `${name}-pe-dns`);
            assert.equal(group.inputs.privateEndpointName, endpoint.state.name);
            assert.deepEqual(group.inputs.privateDnsZoneConfigs, [{ name: "vault", privateDnsZoneId: zone.id }]);
        }
    });

    it("hands the vault names to the cluster's consumers only once the private endpoints resolve", () => {
        const unsealName = run.outputs.unsealKeyVaultName.value as string;
        const consumers = run.resources.filter(
            (r) => r.type.startsWith("kubernetes:") && r.custom && JSON.stringify(r.inputs).includes(unsealName),
        );
        assert.ok(consumers.length > 0, "something in the cluster reads the unseal vault's name");
        const group = run.get(T.zoneGroup, "unseal-kv-pe-dns");
        const link = run.get(T.link, "kv-dns-link");
        for (const r of consumers) {
            assert.ok(run.dependsOn(r.urn, group.urn), `${r.type} ${r.name} waits for the endpoint's DNS records`);
            assert.ok(run.dependsOn(r.urn, link.urn), `${r.type} ${r.name} waits for the VNet link`);
        }
    });

    it("creates the endpoints and DNS beside the cluster, not before it: the deploy's critical path barely grows", async () => {
        for (const type of [T.endpoint, T.zoneGroup, T.zone, T.link, T.groupLock, T.scopeLock]) {
            for (const r of run.ofType(type)) assert.ok(!run.dependsOn(cluster.urn, r.urn), `the cluster waits for ${type} ${r.name}`);
        }
        // In time, not in steps: the network resources take seconds, the cluster and the releases
        // minutes. With the network weighing nothing the longest path is the floor; with it, the
        // path may be at most 10% longer.
        const floor = criticalPath(run, (r) => (NETWORK_STEP_TYPES.includes(r.type) ? 0 : estimatedSeconds(r)));
        const actual = criticalPath(run, estimatedSeconds);
        assert.ok(actual <= floor * 1.1, `critical path ${actual}s against a floor of ${floor}s`);
        assert.ok(actual > floor, "the network is on the path at all (the estimate is not vacuous)");
    });

    it("locks the stateful resources (not the group) after everything they cover, and protects the group", () => {
        const group = run.get(T.group, "rg");
        assert.equal(group.protect, true);
        assert.equal(run.ofType(T.groupLock).length, 0, "no resource-group lock");
        const vaultLock = run.get(T.scopeLock, "locks-unseal-kv");
        assert.equal(vaultLock.inputs.level, "CanNotDelete");
        assert.equal(vaultLock.inputs.scope, run.get(T.vault, "unseal-kv").id);
        for (const covered of [cluster, run.get(T.vault, "unseal-kv"), run.get("azure-native:keyvault:Key", "unseal-key")]) {
            assert.ok(run.dependsOn(vaultLock.urn, covered.urn), `destroy removes the lock before ${covered.name}`);
        }
    });

    it("has Entra ID only: local accounts off, admin groups from config", () => {
        assert.equal(cluster.inputs.disableLocalAccounts, true);
        assert.equal(cluster.inputs.aadProfile.enableAzureRBAC, true);
        assert.deepEqual(cluster.inputs.aadProfile.adminGroupObjectIDs, ["8a3f1c52-6d0e-4b7a-9c21-5e4f3a2b1c0d"]);
    });
});

describe("network: dev stays cheap", () => {
    let run: StackRun;
    before(async () => {
        run = await evaluateStack("dev");
    });

    it("has the VNet and NSGs (free) but no NAT gateway, endpoints or locks; a Basic registry for its own images", () => {
        assert.equal(run.ofType(T.vnet).length, 1);
        for (const type of [T.nat, T.pip, T.endpoint, T.zone, T.groupLock, T.scopeLock]) assert.equal(run.ofType(type).length, 0, type);
        // The images dev builds go to its own registry (issue 17 item 5); without a private endpoint it
        // needs no Premium SKU.
        assert.equal(run.get(T.registry, "acr").inputs.sku.name, "Basic");
        assert.equal(run.get(T.registry, "acr").inputs.dataEndpointEnabled, undefined, "Premium only");
        const cluster = run.get(T.cluster, "aks");
        assert.equal(cluster.inputs.networkProfile.outboundType, "loadBalancer");
        assert.equal(pool(cluster, "system").vnetSubnetID, subnetId(run, "system"));
        assert.deepEqual(cluster.inputs.apiServerAccessProfile.authorizedIPRanges, ["203.0.113.0/24"], "dev's API server is not open");
        for (const vault of run.ofType(T.vault)) assert.equal(vault.inputs.properties.publicNetworkAccess, "Enabled");
        assert.deepEqual(run.outputs.egressIps.value, []);
        assert.equal(run.get(T.group, "rg").protect, false);
    });

    it("a deny firewall on a first deploy: the NAT gateway's IP is in the vault rules before the cluster exists", async () => {
        const denied = await evaluateStack("dev", DEV_NAT);
        const pip = denied.get(T.pip, "network-egress-1");
        const cluster = denied.get(T.cluster, "aks");
        for (const vault of denied.ofType(T.vault)) {
            assert.deepEqual(vault.inputs.properties.networkAcls.ipRules, [
                { value: "198.51.100.7/32" },
                { value: `${pip.state.ipAddress}/32` },
            ]);
            assert.ok(!denied.dependsOn(vault.urn, cluster.urn), "the vault does not wait for the cluster");
            assert.ok(denied.dependsOn(vault.urn, pip.urn));
        }
    });
});

describe("network: options", () => {
    it("egress through a NAT gateway without zoned pools: one gateway and static IP, in the authorized ranges, no firewall or route", async () => {
        // dev's pools have no zones: their nodes are anywhere in the region behind one subnet each, so
        // one NAT gateway without zones serves them (issue 22 item 6's per-zone egress is for zoned pools).
        const run = await evaluateStack("dev", DEV_NAT);
        const cluster = run.get(T.cluster, "aks");
        const nat = run.get(T.nat, "network-nat");
        const pip = run.get(T.pip, "network-egress-1");
        assert.equal(pip.inputs.publicIPAllocationMethod, "Static");
        assert.equal(nat.inputs.zones, undefined);
        assert.equal(pip.inputs.zones, undefined, "a NAT gateway without zones takes IPs without zones");
        assert.deepEqual(nat.inputs.publicIpAddresses, [{ id: pip.id }]);
        for (const role of ["system", "user"] as const) assert.deepEqual(subnetOf(run, role).natGateway, { id: nat.id });
        assert.equal(subnetOf(run, "privateEndpoints").natGateway, undefined);
        assert.equal(cluster.inputs.networkProfile.outboundType, "userAssignedNATGateway");
        assert.deepEqual(run.outputs.egressIps.value, [mockPublicIp("network-egress-1")]);
        for (const type of [T.routes, T.route, T.firewall, T.firewallPolicy]) assert.equal(run.ofType(type).length, 0, type);
        assert.equal(subnetOf(run, "firewall"), undefined);
        const ip = `${mockPublicIp("network-egress-1")}/32`;
        assert.deepEqual(cluster.inputs.apiServerAccessProfile.authorizedIPRanges, ["203.0.113.0/24", ip]);
    });

    it("the firewall (prod's default egress) spans every zone the pools use", async () => {
        const prod = await evaluateStack("prod");
        const raw = stackRaw("prod");
        const zones = [...new Set([...rawList(raw, "systemPool.zones")!, ...rawList(raw, "userPool.zones")!])].sort();
        assert.deepEqual(prod.get(T.firewall, "network-firewall").inputs.zones, zones);
    });
    it("API server VNet integration: a delegated subnet the API server sits in", async () => {
        const run = await evaluateStack("dev", TUNED.dev);
        const subnet = subnetOf(run, "apiServer");
        assert.equal(subnet.addressPrefix, "10.240.9.0/28");
        assert.deepEqual(subnet.delegations, [{ name: "aks-apiserver", serviceName: API_SERVER_DELEGATION }]);
        const profile = run.get(T.cluster, "aks").inputs.apiServerAccessProfile;
        assert.equal(profile.enableVnetIntegration, true);
        assert.equal(profile.subnetId, subnetId(run, "apiServer"));
    });

    it("a private cluster: no public endpoint, no ranges, a runner subnet inside the VNet as the way in", async () => {
        const run = await evaluateStack("prod", {
            "apiServer.private": true,
            "apiServer.authorizedIpRanges": [],
            "network.runnerSubnetCidr": "10.240.10.0/27",
        });
        const profile = run.get(T.cluster, "aks").inputs.apiServerAccessProfile;
        assert.equal(profile.enablePrivateCluster, true);
        assert.equal(profile.authorizedIPRanges, undefined);
        const runner = subnetOf(run, "runner");
        assert.equal(runner.addressPrefix, "10.240.10.0/27");
        assert.deepEqual(runner.routeTable, { id: run.get(T.routes, "network-egress").id }, "the runner leaves through the firewall too");
    });

    it("a registry the stack creates: Premium, admin user off, private endpoint, AcrPull for the kubelet identity on it", async () => {
        // registry.mode's default: prod's own run.
        const run = await evaluateStack("prod");
        const registry = run.get(T.registry, "acr");
        assert.equal(registry.inputs.sku.name, "Premium");
        assert.equal(registry.inputs.adminUserEnabled, false);
        assert.equal(registry.inputs.publicNetworkAccess, "Disabled");
        // The dedicated data endpoint the firewall's stack-registry rule names (<name>.<region>.data.azurecr.io).
        assert.equal(registry.inputs.dataEndpointEnabled, true);
        const endpoint = run.get(T.endpoint, "acr-pe");
        assert.equal(endpoint.inputs.privateLinkServiceConnections[0].privateLinkServiceId, registry.id);
        assert.deepEqual(endpoint.inputs.privateLinkServiceConnections[0].groupIds, ["registry"]);
        assert.equal(run.get(T.zone, "acr-dns").inputs.privateZoneName, "privatelink.azurecr.io");
        const pull = run.get(T.role, "acr-pull");
        assert.equal(pull.inputs.scope, registry.id);
        assert.equal(pull.inputs.principalId, run.get(T.cluster, "aks").state.identityProfile.kubeletidentity.objectId);
        assert.match(pull.inputs.roleDefinitionId, new RegExp(`${ACR_PULL}$`));
    });

    it("a created registry's endpoints follow the registry keys, not the Key Vault ones", async () => {
        const run = await evaluateStack("dev", {
            "registry.mode": "create",
            "registry.privateEndpoint": true,
            "registry.publicNetworkAccess": false,
            // A private registry takes the images by import (a push from where `up` runs needs the public endpoint).
            "services.imageSource": "import",
            ...STAND_IN_IMAGES,
        });
        const registry = run.get(T.registry, "acr");
        assert.equal(registry.inputs.publicNetworkAccess, "Disabled");
        const endpoints = run
            .ofType(T.endpoint)
            .filter((e) => e.inputs.privateLinkServiceConnections[0].privateLinkServiceId === registry.id);
        assert.equal(endpoints.length, 1);
        // dev's Key Vaults stay public without endpoints.
        assert.ok(run.ofType("azure-native:keyvault:Vault").every((v) => v.inputs.properties.publicNetworkAccess !== "Disabled"));
        const open = await evaluateStack("dev");
        assert.equal(open.get(T.registry, "acr").inputs.publicNetworkAccess, "Enabled");
    });

    it("an existing registry: AcrPull on exactly that registry, nothing created", async () => {
        const id =
            "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/shared/providers/Microsoft.ContainerRegistry/registries/sharedacr";
        const run = await evaluateStack("dev", { "registry.mode": "existing", "registry.id": id });
        assert.equal(run.ofType(T.registry).length, 0);
        const pull = run.get(T.role, "acr-pull");
        assert.equal(pull.inputs.scope, id);
        assert.equal(pull.inputs.principalId, run.get(T.cluster, "aks").state.identityProfile.kubeletidentity.objectId);
    });
});

describe("network: bad configuration is rejected before anything is registered", () => {
    itRejectsConfig([
        {
            name: "a subnet overlapping the pod CIDR",
            raw: { "network.podCidr": "10.240.0.0/16", "network.vnetAddressSpace": "10.240.0.0/16" },
            expect: ["network.vnetAddressSpace", '"10.240.0.0/16"', "network.podCidr", "disjoint"],
        },
        {
            name: "two subnets overlapping",
            raw: { "network.privateEndpointSubnetCidr": "10.240.1.0/24" },
            expect: ["network.privateEndpointSubnetCidr", '"10.240.1.0/24"', "network.systemSubnetCidr", "disjoint"],
        },
        {
            name: "a subnet outside the VNet",
            raw: { "network.systemSubnetCidr": "10.50.0.0/22" },
            expect: ["network.systemSubnetCidr", '"10.50.0.0/22"', "inside network.vnetAddressSpace"],
        },
        {
            name: "an authorized range that is not a CIDR",
            raw: { "apiServer.authorizedIpRanges": ["my-office"] },
            expect: ["apiServer.authorizedIpRanges", '"my-office"', "CIDR range"],
        },
        {
            name: "a private cluster without a way in",
            stack: "prod",
            raw: { "apiServer.private": true, "apiServer.authorizedIpRanges": [] },
            expect: ["network.runnerSubnetCidr", "apiServer.private", "inside the VNet"],
        },
        {
            name: "a firewall with the API server's public IP outside the VNet",
            stack: "prod",
            raw: { "apiServer.vnetIntegration": false },
            expect: ['network.egressType: "firewall"', "apiServer.vnetIntegration: true", "apiServer.private"],
        },
        {
            // The runner would leave from Container Apps' own address, outside the authorized ranges.
            name: "a CI runner without a static egress the API server admits",
            stack: "dev",
            raw: { "ciRunner.enabled": true },
            expect: ["ciRunner.enabled", '"natGateway"', '"firewall"', "authorized ranges"],
        },
        {
            // A Basic registry's layers come from *.blob.core.windows.net, which the firewall cannot name.
            name: "a firewall in front of a created registry without its private endpoint",
            stack: "dev",
            raw: { "network.egressType": "firewall", "apiServer.vnetIntegration": true },
            expect: ["registry.privateEndpoint", 'network.egressType "firewall"', "private endpoint"],
        },
        {
            name: "a firewall subnet smaller than Azure Firewall accepts",
            stack: "prod",
            raw: { "network.firewallSubnetCidr": "10.240.12.0/27" },
            expect: ["network.firewallSubnetCidr", '"10.240.12.0/27"', "/26"],
        },
        {
            name: "a firewall subnet overlapping another subnet",
            stack: "prod",
            raw: { "network.firewallSubnetCidr": "10.240.8.0/26" },
            expect: ["network.firewallSubnetCidr", '"10.240.8.0/26"', "network.privateEndpointSubnetCidr", "disjoint"],
        },
        {
            name: "dev's API server open to anyone",
            raw: { "apiServer.authorizedIpRanges": [] },
            expect: ["apiServer.authorizedIpRanges", "[]", "dev", "dig +short myip.opendns.com", "/32", "apiServer.private"],
        },
        {
            name: "prod without Entra ID",
            stack: "prod",
            raw: { "access.entraIdEnabled": false, "access.disableLocalAccounts": false },
            count: 2,
            expect: ["access.entraIdEnabled: false", "access.disableLocalAccounts: false", "prod", "Entra ID"],
        },
        {
            name: "prod with local accounts on",
            stack: "prod",
            raw: { "access.disableLocalAccounts": false },
            expect: ["access.disableLocalAccounts", "false", "prod"],
        },
        {
            name: "prod without an admin group",
            stack: "prod",
            raw: { "access.entraAdminGroupObjectIds": [] },
            expect: ["access.disableLocalAccounts", "access.entraAdminGroupObjectIds"],
        },
        {
            name: "prod's API server open to anyone",
            stack: "prod",
            raw: { "apiServer.authorizedIpRanges": [] },
            expect: ["apiServer.authorizedIpRanges", "[]", "prod", "apiServer.private"],
        },
        {
            name: "prod with public Key Vaults",
            stack: "prod",
            raw: { "keyVault.publicNetworkAccess": true, "keyVault.networkAclMode": "allow" },
            expect: ["keyVault.publicNetworkAccess", "true", "prod", "private endpoints"],
        },
        {
            name: "vaults with neither a public nor a private endpoint",
            raw: { "keyVault.publicNetworkAccess": false },
            expect: ["keyVault.publicNetworkAccess", "false", "keyVault.privateEndpoints"],
        },
        {
            name: "an API server subnet smaller than /28",
            raw: { "apiServer.vnetIntegration": true, "apiServer.subnetCidr": "10.240.9.0/29" },
            expect: ["apiServer.subnetCidr", '"10.240.9.0/29"', "/28"],
        },
        {
            name: "an existing registry without its ID",
            raw: { "registry.mode": "existing" },
            expect: ["registry.id", "registry.mode", "ARM resource ID"],
        },
        {
            name: "a created registry closed to the public with no private endpoint",
            raw: { "registry.mode": "create", "registry.publicNetworkAccess": false },
            // ...and dev's default build could not push to it either.
            count: 2,
            expect: [
                "registry.publicNetworkAccess: false",
                "registry.privateEndpoint: true",
                'services.imageSource: "build" needs registry.publicNetworkAccess: true',
            ],
        },
        {
            name: "a prod registry open to the public",
            stack: "prod",
            raw: { "registry.mode": "create", "registry.publicNetworkAccess": true },
            expect: ["registry.publicNetworkAccess: true", "prod", "private endpoint"],
        },
        {
            name: "a registry ID that is not one",
            raw: { "registry.mode": "existing", "registry.id": "myacr" },
            expect: ["registry.id", '"myacr"', "Microsoft.ContainerRegistry/registries"],
        },
        {
            name: "an egress type that does not exist",
            raw: { "network.egressType": "nat" },
            expect: ["network.egressType", '"nat"', "loadBalancer, natGateway, firewall"],
        },
    ]);
});

// Issue 22 item 6: egress that survives a zone's loss with network.egressType natGateway. Expectations from
// MicrosoftDocs/azure-docs articles/nat-gateway/nat-availability-zones.md (a NAT gateway lives in one
// zone; a "zonal stack" per zone, its VMs, subnet, NAT gateway and IPs in one zone, is what isolates a
// zone's loss; a zonal gateway takes IPs of its zone or zone-redundant ones) and MicrosoftDocs/
// azure-aks-docs articles/aks/nat-gateway.md (userAssignedNATGateway: the NAT gateway is on the node
// subnets before the cluster), and from the stack's own config, not from the program.
/** prod with per-zone NAT egress: natGateway egress, every pool split by zone. */
const PER_ZONE_NAT = { "network.egressType": "natGateway", "network.perZoneNodePools": true } as const;

describe("network: per-zone NAT egress (issue 22 item 6)", () => {
    const PREFIX_BITS = (cidr: string) => Number(cidr.split("/")[1]);
    const toRange = (cidr: string): [number, number] => {
        const [address] = cidr.split("/");
        const base = address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
        const size = 2 ** (32 - PREFIX_BITS(cidr));
        return [base - (base % size), base - (base % size) + size - 1];
    };
    const within = (inner: string, outer: string) => {
        const [a, b] = toRange(inner);
        const [c, d] = toRange(outer);
        return a >= c && b <= d;
    };
    const disjoint = (x: string, y: string) => {
        const [a, b] = toRange(x);
        const [c, d] = toRange(y);
        return b < c || d < a;
    };
    type Subnet = { name: string; addressPrefix: string; natGateway?: { id: string } };

    let run: StackRun;
    let raw: Raw;
    let subnets: Subnet[];
    let nats: Registration[];
    /** Every node pool the cluster gets: the inline system pool and the AgentPools, with mode, zones and subnet. */
    let pools: { name: string; mode: string; zones: string[]; subnetId: string; minCount: number; maxCount: number }[];
    const subnetById = (id: string) => subnets.find((s) => `${run.get(T.vnet, "network").id}/subnets/${s.name}` === id);
    before(async () => {
        run = await evaluateStack("prod", PER_ZONE_NAT);
        raw = stackRaw("prod");
        subnets = run.get(T.vnet, "network").inputs.subnets;
        nats = run.ofType(T.nat);
        const cluster = run.get(T.cluster, "aks");
        pools = [
            ...cluster.inputs.agentPoolProfiles.map((p: any) => ({ ...p, zones: p.availabilityZones, subnetId: p.vnetSubnetID })),
            ...run.ofType("azure-native:containerservice:AgentPool").map((p) => ({
                ...p.inputs,
                name: p.inputs.agentPoolName,
                zones: p.inputs.availabilityZones,
                subnetId: p.inputs.vnetSubnetID,
            })),
        ];
    });

    it("the pinned azure-native offers no zone-redundant NAT gateway SKU, so zonal stacks it is", () => {
        // azure-native 3.28.0 (API 2024-05-01): NatGatewaySkuName has only Standard, and the public IP
        // SKUs no StandardV2 (which a StandardV2 NAT gateway requires, azure-aks-docs nat-gateway.md). A
        // provider upgrade that adds them fails this test: the moment to consider one zone-redundant
        // gateway instead (components/azure/network.ts).
        assert.deepEqual(Object.values(networkEnums.NatGatewaySkuName), ["Standard"]);
        assert.deepEqual(Object.values(networkEnums.PublicIPAddressSkuName), ["Basic", "Standard"]);
    });

    it("one NAT gateway per zone, each in exactly one zone, with public IPs of its own zone", () => {
        // Every zone a pool may name (checkZones: 1, 2, 3), not only the pools' zones: see "day 2" below.
        const zones = ["1", "2", "3"];
        assert.deepEqual(
            nats.map((nat) => nat.inputs.zones?.length),
            zones.map(() => 1),
            "each gateway names exactly one zone (no zone means Azure's choice of one)",
        );
        assert.deepEqual(nats.map((nat) => nat.inputs.zones[0]).sort(), zones, "distinct zones, every zone");
        for (const nat of nats) {
            assert.equal(nat.inputs.sku.name, "Standard");
            assert.ok(nat.inputs.publicIpAddresses.length >= 1);
            for (const { id } of nat.inputs.publicIpAddresses) {
                const ip = run.ofType(T.pip).find((p) => p.id === id);
                assert.ok(ip, `${nat.name}'s IP ${id} is one the stack creates`);
                // Same zone or zone-redundant; another zone's or a no-zone IP is refused.
                const ipZones: string[] = ip.inputs.zones ?? [];
                assert.ok(
                    (ipZones.length === 1 && ipZones[0] === nat.inputs.zones[0]) || zones.every((z) => ipZones.includes(z)),
                    `${ip.name}: zones ${JSON.stringify(ipZones)} on a gateway in zone ${nat.inputs.zones[0]}`,
                );
            }
        }
    });

    it("every pool is pinned to one zone and sits on a subnet whose NAT gateway is in that zone", () => {
        for (const pool of pools) {
            assert.equal(pool.zones?.length, 1, `${pool.name}: a pool spanning zones would leave through one zone's gateway`);
            const subnet = subnetById(pool.subnetId);
            assert.ok(subnet, `${pool.name}'s subnet ${pool.subnetId} is one of the VNet's`);
            const nat = nats.find((n) => n.id === subnet.natGateway?.id);
            assert.ok(nat, `${subnet.name} has one of the stack's NAT gateways`);
            assert.deepEqual(nat.inputs.zones, pool.zones, `${pool.name} (zone ${pool.zones[0]}) leaves through ${nat.name}`);
        }
        // No two zones share a node subnet (a subnet has one NAT gateway, in one zone).
        const zonesBySubnet = new Map<string, Set<string>>();
        for (const pool of pools) zonesBySubnet.set(pool.subnetId, new Set([...(zonesBySubnet.get(pool.subnetId) ?? []), ...pool.zones]));
        for (const [id, zones] of zonesBySubnet) assert.equal(zones.size, 1, id);
    });

    it("every configured zone keeps its system and user nodes, and the pools' bounds add up to at least the configured ones", () => {
        for (const [mode, key, min, max] of [
            ["System", "systemPool.zones", "systemPool.minCount", "systemPool.maxCount"],
            ["User", "userPool.zones", "userPool.minCount", "userPool.maxCount"],
        ] as const) {
            const ofMode = pools.filter((p) => p.mode === mode);
            assert.deepEqual(ofMode.flatMap((p) => p.zones).sort(), [...rawList(raw, key)!].sort(), `${mode} pools, one per zone`);
            const sum = (f: (p: (typeof pools)[number]) => number) => ofMode.reduce((acc, p) => acc + f(p), 0);
            assert.ok(sum((p) => p.minCount) >= Number(rawMember(raw, min)), `${mode}: the zones' minimums cover ${min}`);
            assert.ok(sum((p) => p.maxCount) >= Number(rawMember(raw, max)), `${mode}: the zones' maximums cover ${max}`);
            for (const p of ofMode) assert.ok(p.minCount >= 1, `${p.name}: a zone with no node has no capacity after another zone's loss`);
        }
    });

    it("after any one zone's loss, the surviving zones' pools can still reach the configured maximum", () => {
        // A pool spanning the zones could grow to its maximum in the zones left; split by zone, only the
        // surviving zones' pools can grow (the lost zone's cannot place a VM).
        for (const [mode, key, max] of [
            ["System", "systemPool.zones", "systemPool.maxCount"],
            ["User", "userPool.zones", "userPool.maxCount"],
        ] as const) {
            for (const lost of rawList(raw, key)!) {
                const surviving = pools.filter((p) => p.mode === mode && p.zones[0] !== lost);
                const reach = surviving.reduce((acc, p) => acc + p.maxCount, 0);
                assert.ok(
                    reach >= Number(rawMember(raw, max)),
                    `${mode}: zone ${lost} lost, the others reach ${reach} < ${max} ${String(rawMember(raw, max))}`,
                );
            }
        }
    });

    it("claims no autoscaler balancing the per-zone pools could not get", () => {
        // kubernetes/autoscaler cluster-autoscaler-release-1.34 processors/nodegroupset: the Azure comparator
        // ignores the pool-name, zone and node-image labels only, and compareLabels wants every other label
        // equal; AKS labels each node with its subnet's name (kubernetes.azure.com/network-subnet), which
        // differs by zone, and AKS's autoscaler profile has no --balancing-ignore-label. So
        // balanceSimilarNodeGroups would not treat the zones' pools as one set. Sent as "false" (not left
        // out), so a stack that ran per-zone pools before the key, and sent "true", has it turned off.
        assert.deepEqual(run.get(T.cluster, "aks").inputs.autoScalerProfile, { balanceSimilarNodeGroups: "false" });
    });

    it("sends no autoscaler profile without per-zone pools: prod's and dev's cluster inputs stay as they were", async () => {
        for (const stack of ["prod", "dev"] as const)
            assert.equal((await evaluateStack(stack)).get(T.cluster, "aks").inputs.autoScalerProfile, undefined, stack);
    });

    it("the per-zone subnets lie inside the configured node ranges, are disjoint from every other subnet and hold a zone's pool with its surge", () => {
        const nodeSubnets = new Set(pools.map((p) => subnetById(p.subnetId)?.name));
        for (const pool of pools) {
            const subnet = subnetById(pool.subnetId)!;
            const configured =
                rawString(raw, pool.mode === "System" ? "network.systemSubnetCidr" : "network.userSubnetCidr") ??
                (pool.mode === "System" ? "10.240.0.0/22" : "10.240.4.0/22");
            // Inside the role's configured range: every NSG, firewall or policy rule naming it covers the zone's subnet.
            assert.ok(within(subnet.addressPrefix, configured), `${subnet.name} ${subnet.addressPrefix} in ${configured}`);
            assert.ok(PREFIX_BITS(subnet.addressPrefix) <= 29, "Azure's smallest subnet is a /29");
            // With Azure CNI overlay a node takes one subnet address; an upgrade surges maxSurge more.
            const surge = Math.ceil((pool.maxCount * Number(/^(\d+)%$/.exec((pool as any).upgradeSettings.maxSurge)![1])) / 100);
            assert.ok(2 ** (32 - PREFIX_BITS(subnet.addressPrefix)) - 5 >= pool.maxCount + surge, `${subnet.name} holds ${pool.name}`);
        }
        assert.equal(nodeSubnets.size, pools.length, "one subnet per pool");
        subnets.forEach((a, i) => {
            for (const b of subnets.slice(i + 1)) assert.ok(disjoint(a.addressPrefix, b.addressPrefix), `${a.name} and ${b.name} overlap`);
        });
        // The runner leaves through one of the NAT gateways too, so the authorized ranges admit it.
        assert.ok(nats.some((n) => n.id === subnets.find((s) => s.name === SUBNET_NAMES.runner)?.natGateway?.id));
    });

    it("every zone's egress IP is exported and admitted by the API server (and the Kubernetes provider waits for every pool)", () => {
        const addresses = nats.flatMap((nat) =>
            nat.inputs.publicIpAddresses.map(({ id }: { id: string }) => run.ofType(T.pip).find((p) => p.id === id)!.state.ipAddress),
        );
        assert.equal(addresses.length, nats.length * Number(rawMember(raw, "network.natGatewayPublicIpCount") ?? 1));
        assert.deepEqual([...run.outputs.egressIps.value].sort(), [...addresses].sort());
        const ranges: string[] = run.get(T.cluster, "aks").inputs.apiServerAccessProfile.authorizedIPRanges;
        for (const address of addresses) assert.ok(ranges.includes(`${address}/32`), `${address} admitted`);
        const provider = run.get("pulumi:providers:kubernetes", "aks-k8s");
        for (const pool of run.ofType("azure-native:containerservice:AgentPool"))
            assert.ok(run.dependsOn(provider.urn, pool.urn), pool.name);
    });

    it("a zone taken out of a pool removes that zone's pool only: the other zones' subnets, gateways and pools stay as they are", async () => {
        // Zone 1 leaves the user pool (the system pool keeps it, so its gateway stays).
        const two = await evaluateStack("prod", { ...PER_ZONE_NAT, "userPool.zones": ["2", "3"] });
        const keep = (r: StackRun) =>
            [T.nat, T.pip, "azure-native:containerservice:AgentPool"].flatMap((type) =>
                r
                    .ofType(type)
                    // The egress stacks and the pools (the WAF's zone-redundant IP follows the pools' zones by design).
                    .filter((x) => x.type !== T.pip || x.name.startsWith("network-egress"))
                    .map((x): [string, string] => [
                        x.urn,
                        JSON.stringify({ ...x.inputs, count: undefined, minCount: undefined, maxCount: undefined }),
                    ]),
            );
        const before = new Map(keep(run));
        const after = keep(two);
        assert.equal(after.length, before.size - 1, "one pool fewer");
        for (const [urn, inputs] of after)
            assert.equal(inputs, before.get(urn), `${urn} unchanged (zones, subnet and IPs cannot change in place)`);
        const ranges = (r: StackRun) =>
            new Map<string, string>(r.get(T.vnet, "network").inputs.subnets.map((x: Subnet) => [x.name, x.addressPrefix]));
        const all = ranges(run);
        for (const [name, prefix] of ranges(two))
            assert.equal(prefix, all.get(name), `${name} keeps its range (an in-use subnet's range cannot move)`);
    });
});

describe("network: per-zone pools, day 2 (issue 22 item 6 review)", () => {
    type Subnet = { name: string; addressPrefix: string; natGateway?: { id: string }; routeTable?: { id: string } };
    const subnetsOf = (run: StackRun): Subnet[] => run.get(T.vnet, "network").inputs.subnets;
    /** Every node pool: the inline system pool and the AgentPools, by name, with its subnet's name. */
    const poolsOf = (run: StackRun) => {
        const vnetId = run.get(T.vnet, "network").id;
        const subnetName = (id: string) => id.slice(`${vnetId}/subnets/`.length);
        return [
            ...run
                .get(T.cluster, "aks")
                .inputs.agentPoolProfiles.map((p: any) => ({ urn: "inline", name: p.name, subnet: subnetName(p.vnetSubnetID) })),
            ...run.ofType("azure-native:containerservice:AgentPool").map((p) => ({
                urn: p.urn,
                name: p.inputs.agentPoolName as string,
                subnet: subnetName(p.inputs.vnetSubnetID),
            })),
        ];
    };
    /**
     * Azure refuses to delete a subnet a NIC still uses (InUseSubnetCannotBeDeleted), and the VNet's update
     * (inline subnets) runs before the deletes of the same `up` (pulumi/pulumi pkg/resource/deploy/
     * deployment_executor.go: deletes last). So every subnet a pool of the old program sits on must still
     * be declared, with the same range, by the new one.
     */
    const assertKeepsInUseSubnets = (from: StackRun, to: StackRun, what: string) => {
        const after = new Map(subnetsOf(to).map((x) => [x.name, x.addressPrefix]));
        const before = new Map(subnetsOf(from).map((x) => [x.name, x.addressPrefix]));
        for (const pool of poolsOf(from)) {
            assert.ok(after.has(pool.subnet), `${what}: ${pool.name}'s subnet ${pool.subnet} is dropped while the pool still holds it`);
            assert.equal(after.get(pool.subnet), before.get(pool.subnet), `${what}: ${pool.subnet} keeps its range`);
        }
    };

    let all: StackRun;
    before(async () => {
        all = await evaluateStack("prod", PER_ZONE_NAT);
    });

    it("a zone taken out of both pools, then added back: every subnet a pool holds stays declared (no InUseSubnetCannotBeDeleted)", async () => {
        const two = await evaluateStack("prod", { ...PER_ZONE_NAT, "systemPool.zones": ["1", "2"], "userPool.zones": ["1", "2"] });
        assertKeepsInUseSubnets(all, two, "zone 3 removed");
        assertKeepsInUseSubnets(two, all, "zone 3 added back");
    });

    it("a pool's zone change touches no subnet's NAT gateway, no gateway or IP, the runner's egress nor the authorized ranges", async () => {
        // The VNet's update (which re-wires NAT associations) runs before the cluster's update, which AKS
        // refuses when the inline pool's zone changes, and before the removed zone's pools are deleted
        // (Pulumi runs deletes last: pulumi/pulumi pkg/resource/deploy/deployment_executor.go). So a zone
        // change must leave every subnet's egress, the runner's included, and every egress IP as it was:
        // otherwise a removed zone's still-running nodes (or the inline pool's subnet) lose their NAT
        // gateway, and a runner moved to a new gateway leaves from an IP the authorized ranges get only
        // through the cluster's update, which then fails: the runner locked out.
        const variants = [
            ["zones 1-3", all],
            [
                "zone 1 removed",
                await evaluateStack("prod", { ...PER_ZONE_NAT, "systemPool.zones": ["2", "3"], "userPool.zones": ["2", "3"] }),
            ],
            [
                "zone 3 removed",
                await evaluateStack("prod", { ...PER_ZONE_NAT, "systemPool.zones": ["1", "2"], "userPool.zones": ["1", "2"] }),
            ],
            ["user pool in zone 2 only", await evaluateStack("prod", { ...PER_ZONE_NAT, "userPool.zones": ["2"] })],
        ] as const;
        const egressOf = (run: StackRun) => {
            const natName = (id?: string) => run.ofType(T.nat).find((n) => n.id === id)?.inputs.natGatewayName;
            return {
                subnets: subnetsOf(run).map((x) => `${x.name} ${x.addressPrefix} via ${natName(x.natGateway?.id) ?? "none"}`),
                egressResources: [T.nat, T.pip].flatMap((type) =>
                    run
                        .ofType(type)
                        .filter((x) => x.type !== T.pip || x.name.startsWith("network-egress"))
                        .map((x) => `${x.urn} ${JSON.stringify(x.inputs)}`),
                ),
                egressIps: run.outputs.egressIps.value,
                authorizedIPRanges: run.get(T.cluster, "aks").inputs.apiServerAccessProfile.authorizedIPRanges,
            };
        };
        const expected = egressOf(all);
        // Every node subnet and the runner's leave through a NAT gateway of their own zone (zone 1's for the runner).
        for (const line of expected.subnets.filter((x) => /^snet-(system|user)-z\d|^snet-runner /.test(x))) {
            const zone = /-z(\d) /.exec(line)?.[1] ?? "1";
            assert.match(line, new RegExp(`via ng-[^ ]+-z${zone}$`), line);
        }
        for (const [what, run] of variants) assert.deepEqual(egressOf(run), expected, what);
    });

    it("switching network.egressType with per-zone pools changes only the subnets' NAT gateway or route, never a subnet or a pool", async () => {
        const firewall = await evaluateStack("prod", { "network.egressType": "firewall", "network.perZoneNodePools": true });
        // (prod's runner needs a static egress IP; off here, it plays no part in the pools' layout)
        const balancer = await evaluateStack("prod", {
            "network.egressType": "loadBalancer",
            "network.perZoneNodePools": true,
            "ciRunner.enabled": false,
        });
        for (const [a, b, what] of [
            [all, firewall, "natGateway to firewall"],
            [firewall, all, "firewall to natGateway"],
            [all, balancer, "natGateway to loadBalancer"],
            [balancer, all, "loadBalancer to natGateway"],
        ] as const) {
            assertKeepsInUseSubnets(a, b, what);
            const shape = (r: StackRun) =>
                subnetsOf(r)
                    .map((x) => `${x.name} ${x.addressPrefix}`)
                    .filter((x) => /^snet-(system|user)/.test(x))
                    .sort();
            assert.deepEqual(shape(b), shape(a), `${what}: the same node subnets`);
            // Same URN, same AKS name, same subnet: no pool is replaced.
            assert.deepEqual(poolsOf(b), poolsOf(a), `${what}: the same pools`);
        }
        // With the firewall, every zone's node subnet routes through it, and the pools wait for the route
        // (AKS's userDefinedRouting checks for the 0.0.0.0/0 route when a pool is created).
        const route = firewall.get(T.route, "network-default-route");
        for (const subnet of subnetsOf(firewall).filter((x) => /^snet-(system|user)-z/.test(x.name))) {
            assert.equal(subnet.routeTable?.id, firewall.get(T.routes, "network-egress").id, subnet.name);
            assert.equal(subnet.natGateway, undefined, subnet.name);
        }
        for (const pool of firewall.ofType("azure-native:containerservice:AgentPool"))
            assert.ok(firewall.dependsOn(pool.urn, route.urn), pool.name);
        assert.ok(firewall.dependsOn(firewall.get(T.cluster, "aks").urn, route.urn), "the inline pool waits for the route");
    });
});

describe("network: per-zone egress configuration", () => {
    // A node takes one subnet address with Azure CNI Overlay, an upgrade surges 33% more (the pools'
    // upgradeSettings.maxSurge, rounded up: azure-native AgentPoolUpgradeSettings.maxSurge) and Azure keeps
    // 5 addresses of every subnet. prod: userPool.maxCount 10 over 3 zones, each zone's pool up to
    // ceil(10 / 2) = 5 nodes (a zone's loss), + 2 surge + 5 = 12 addresses, so a /28 per zone, a /26 in all.
    itRejectsConfig([
        {
            name: "natGateway with zoned pools but without per-zone pools (e.g. a switch from firewall on an existing stack)",
            stack: "prod",
            raw: { "network.egressType": "natGateway" },
            // A stack that ran per-zone pools before the key existed updates in place once it sets it; only
            // one on whole-role subnets would be rebuilt.
            expect: [
                "network.egressType",
                '"natGateway"',
                "network.perZoneNodePools: true",
                "already on per-zone pools",
                "updates it in place",
                // How to tell which case a stack is in, and the older natGateway layout that rebuilds.
                "snet-system-z1",
                "one NAT gateway without zones",
                "whole-role subnets",
                "rebuilt",
            ],
        },
        {
            name: "per-zone pools with a pool without zones",
            stack: "prod",
            raw: { "network.perZoneNodePools": true, "userPool.zones": [] },
            expect: ["network.perZoneNodePools: true", "userPool.zones is []"],
        },
        {
            name: "a /27 node range: each zone gets a /29, 3 usable addresses, fewer than a zone's pool and its surge",
            stack: "prod",
            raw: { ...PER_ZONE_NAT, "network.userSubnetCidr": "10.240.4.0/27" },
            // Such a stack (per-zone pools before this rule) cannot grow its in-use node subnets in place.
            expect: [
                "network.userSubnetCidr",
                '"10.240.4.0/27"',
                "/29",
                "userPool.maxCount",
                "/26 or larger",
                "for a stack already deployed",
                "lowering userPool.maxCount is the in-place way",
            ],
        },
        {
            name: "a node range too small for its pool without per-zone pools",
            stack: "dev",
            // 4 nodes (no autoscaling), + 2 surge + 5 = 11 addresses, more than a /29's 8: a /28.
            raw: { "network.systemSubnetCidr": "10.240.0.0/29", "systemPool.autoscaling": false, "systemPool.nodeCount": 4 },
            expect: ["network.systemSubnetCidr", '"10.240.0.0/29"', "systemPool.nodeCount", "/28 or larger"],
        },
        {
            name: "a node range that holds the nodes but not their upgrade surge",
            stack: "dev",
            // 9 nodes + 5 Azure keeps = 14 fit a /28's 16; with the surge, ceil(9 x 33%) = 3, 17 do not.
            raw: { "network.systemSubnetCidr": "10.240.0.0/28", "systemPool.autoscaling": false, "systemPool.nodeCount": 9 },
            expect: ["network.systemSubnetCidr", '"10.240.0.0/28"', "systemPool.nodeCount", "3 surge nodes", "/27 or larger"],
        },
        {
            name: "a private cluster without VNet integration: its API server's endpoint takes an address of the system subnet",
            stack: "dev",
            // 8 nodes + 3 surge + 5 Azure keeps = 16 fill a /28; the private endpoint AKS puts "in the subnet
            // of the customer's AKS cluster" (terraform-provider-azurerm examples/kubernetes/private-api-server)
            // is one more.
            raw: {
                "apiServer.private": true,
                "apiServer.authorizedIpRanges": [],
                "network.runnerSubnetCidr": "10.240.12.0/24",
                "network.systemSubnetCidr": "10.240.0.0/28",
                "systemPool.autoscaling": false,
                "systemPool.nodeCount": 8,
            },
            expect: ["network.systemSubnetCidr", '"10.240.0.0/28"', "1 address for the private API server's endpoint", "/27 or larger"],
        },
    ]);

    it("the same private cluster with VNet integration (the API server in its own subnet) fits the /28, as do 8 public nodes", () => {
        const raw = withOverrides(stackRaw("dev"), {
            "network.systemSubnetCidr": "10.240.0.0/28",
            "systemPool.autoscaling": false,
            "systemPool.nodeCount": 8,
        });
        assert.deepEqual(configProblems(raw, "dev"), []);
        const integrated = withOverrides(raw, {
            "apiServer.private": true,
            "apiServer.vnetIntegration": true,
            "apiServer.authorizedIpRanges": [],
            "network.runnerSubnetCidr": "10.240.12.0/24",
        });
        assert.deepEqual(configProblems(integrated, "dev"), []);
    });

    it("names one zone in the singular", () => {
        const raw = withOverrides(stackRaw("prod"), {
            ...PER_ZONE_NAT,
            "userPool.zones": ["1"],
            "network.userSubnetCidr": "10.240.4.0/26",
        });
        const [problem, ...rest] = configProblems(raw, "prod");
        assert.deepEqual(rest, []);
        assert.match(problem, /userPool\.maxCount 10 over 1 zone is 10 nodes per zone/);
    });

    it("a /26 node range holds prod's user pool split over three zones", () => {
        const problems = configProblems(
            withOverrides(stackRaw("prod"), { ...PER_ZONE_NAT, "network.userSubnetCidr": "10.240.4.0/26" }),
            "prod",
        );
        assert.deepEqual(problems, []);
    });

    it("with a pool without zones, one NAT gateway without zones, as before", async () => {
        const run = await evaluateStack("prod", { "network.egressType": "natGateway", "userPool.zones": [] });
        assert.ok(!run.get(T.vnet, "network").inputs.subnets.some((x: { name: string }) => /-z\d$/.test(x.name)), "whole-role subnets");
        assert.equal(run.get(T.nat, "network-nat").inputs.zones, undefined);
        assert.equal(run.ofType(T.nat).length, 1);
    });
});
