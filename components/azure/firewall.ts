// The stack's egress firewall (azure-native network, API version 2024-05-01; monitor DiagnosticSetting
// 2021-05-01-preview): Azure Firewall Standard in AzureFirewallSubnet with a Standard firewall policy
// whose only rules allow named FQDNs, a static public IP, and its logs in Log Analytics. It is what
// mspnp/aks-baseline puts in the hub (networking/hub-regionA.bicep: AzureFirewallSubnet, a firewall policy
// with the AzureKubernetesService FQDN tag and the AKS FQDNs, diagnostics to the workspace);
// here it sits in the stack's own VNet, one per stack.
import * as monitor from "@pulumi/azure-native/monitor";
import * as network from "@pulumi/azure-native/network";
import * as pulumi from "@pulumi/pulumi";

/** One application rule: who (source ranges) may reach which FQDNs (or FQDN tags) on which ports. */
export interface FirewallApplicationRule {
    readonly name: string;
    /** Why the rule exists, kept on the rule in Azure. */
    readonly description: string;
    readonly sourceAddresses: pulumi.Input<readonly string[]>;
    readonly targetFqdns?: pulumi.Input<readonly string[]>;
    /** Azure-maintained FQDN sets (e.g. AzureKubernetesService). */
    readonly fqdnTags?: readonly string[];
    /** Default HTTPS 443 only. */
    readonly protocols?: readonly { readonly protocolType: "Http" | "Https"; readonly port: number }[];
}

export interface EgressFirewallArgs {
    /** Stem of the firewall's, its policy's and its IP's names. */
    readonly name: string;
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: pulumi.Input<string>;
    /** ARM ID of the VNet's AzureFirewallSubnet. */
    readonly subnetId: pulumi.Input<string>;
    /** Availability zones of the firewall and its IP ([] for a regional one). */
    readonly zones: readonly string[];
    /** Every rule; traffic no rule allows is denied (Azure Firewall's default). */
    readonly applicationRules: readonly FirewallApplicationRule[];
    /** Log Analytics workspace of the firewall's logs. */
    readonly workspaceId: pulumi.Input<string>;
    readonly tags: pulumi.Input<Record<string, string>>;
}

const HTTPS = [{ protocolType: "Https", port: 443 }] as const;
/** HTTP and HTTPS: for destinations that are reached over plain HTTP too (AKS's FQDN tag, apt mirrors). */
export const HTTP_AND_HTTPS: FirewallApplicationRule["protocols"] = [
    { protocolType: "Http", port: 80 },
    { protocolType: "Https", port: 443 },
];

/** The firewall's log categories, all of them, into resource-specific AZFW* tables. */
const FIREWALL_LOG_CATEGORY_GROUP = "allLogs";

export class EgressFirewall extends pulumi.ComponentResource {
    /** The address the node subnets' default route points to. */
    readonly privateIp: pulumi.Output<string>;
    /** The address the internet sees: the nodes' egress IP, and one of the API server's authorized ranges. */
    readonly publicIp: pulumi.Output<string>;
    readonly firewallId: pulumi.Output<string>;

    constructor(name: string, args: EgressFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:EgressFirewall", name, {}, opts);
        const common = { resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags };
        const zones = args.zones.length > 0 ? [...args.zones] : undefined;

        // Standard SKU, static: a firewall's public IP must be Standard; zonal with the firewall so
        // that the zones it spans each have the address.
        const ip = new network.PublicIPAddress(
            `${name}-ip`,
            {
                ...common,
                publicIpAddressName: `pip-${args.name}`,
                sku: { name: "Standard", tier: "Regional" },
                publicIPAllocationMethod: "Static",
                publicIPAddressVersion: "IPv4",
                zones,
            },
            { parent: this },
        );

        const policy = new network.FirewallPolicy(
            `${name}-policy`,
            {
                ...common,
                firewallPolicyName: `afwp-${args.name}`,
                sku: { tier: "Standard" },
                // Known-malicious addresses and domains are dropped, not only logged (the baseline's setting).
                threatIntelMode: "Deny",
            },
            { parent: this },
        );

        // Application rules only: FQDN filtering on TLS SNI / HTTP Host. No network rule is needed by
        // this cluster's shape (outbound-rules-control-egress.md, "Azure Global required network rules"):
        // UDP 1194 / TCP 9000 serve the node-to-control-plane tunnel, not used with API server VNet
        // integration or a private cluster (which config requires with a firewall); NTP (UDP 123) is
        // needed only by nodes provisioned before March 2021; no custom DNS server is configured.
        const rules = new network.FirewallPolicyRuleCollectionGroup(
            `${name}-rules`,
            {
                resourceGroupName: args.resourceGroupName,
                firewallPolicyName: policy.name,
                ruleCollectionGroupName: "egress",
                priority: 200,
                ruleCollections: [
                    {
                        ruleCollectionType: "FirewallPolicyFilterRuleCollection",
                        name: "allow-fqdns",
                        priority: 200,
                        action: { type: "Allow" },
                        rules: args.applicationRules.map((rule) => ({
                            ruleType: "ApplicationRule" as const,
                            name: rule.name,
                            description: rule.description,
                            sourceAddresses: rule.sourceAddresses as pulumi.Input<string[]>,
                            targetFqdns: rule.targetFqdns as pulumi.Input<string[]> | undefined,
                            fqdnTags: rule.fqdnTags ? [...rule.fqdnTags] : undefined,
                            protocols: (rule.protocols ?? HTTPS).map((p) => ({ ...p })),
                        })),
                    },
                ],
            },
            { parent: this },
        );

        const firewall = new network.AzureFirewall(
            name,
            {
                ...common,
                azureFirewallName: `afw-${args.name}`,
                sku: { name: "AZFW_VNet", tier: "Standard" },
                firewallPolicy: { id: policy.id },
                ipConfigurations: [{ name: "egress", subnet: { id: args.subnetId }, publicIPAddress: { id: ip.id } }],
                zones,
            },
            // A policy's rule groups are written before the firewall takes the policy: updating a
            // policy while its firewall updates fails with AnotherOperationInProgress.
            { parent: this, dependsOn: [rules] },
        );

        new monitor.DiagnosticSetting(
            name,
            {
                name: "firewall-to-log-analytics",
                resourceUri: firewall.id,
                workspaceId: args.workspaceId,
                // Resource-specific tables (AZFWApplicationRule, AZFWThreatIntel, ...) instead of AzureDiagnostics.
                logAnalyticsDestinationType: "Dedicated",
                logs: [{ categoryGroup: FIREWALL_LOG_CATEGORY_GROUP, enabled: true }],
            },
            { parent: this },
        );

        this.firewallId = firewall.id;
        this.privateIp = firewall.ipConfigurations.apply((configs) => {
            const address = configs?.[0]?.privateIPAddress;
            if (!address) throw new pulumi.ResourceError(`${name}: Azure reported no private IP for the firewall`, this);
            return address;
        });
        this.publicIp = ip.ipAddress.apply((address) => {
            if (!address) throw new pulumi.ResourceError(`${name}: Azure reported no address for the firewall's public IP`, this);
            return address;
        });
        this.registerOutputs({ firewallId: this.firewallId, privateIp: this.privateIp, publicIp: this.publicIp });
    }
}
