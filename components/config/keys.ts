// The one table of stack configuration keys. Parsing (read.ts), validation (validators.ts, parse.ts),
// Pulumi.yaml's `template.config` and docs/configuration.md's table all derive from it; a test
// checks that the two files are current (`npm run config:docs` rewrites them).
//
// Why the keys are not declared under Pulumi.yaml's `config:` (pulumi/pulumi
// sdk/go/common/workspace/config.go, `mergeConfig`): a key of the project's namespace declared there
// with neither `default` nor `value` is REQUIRED on every stack ("Stack 'dev' is missing configuration
// values ..."), whatever its `type`; a declared `default` is injected into every stack as if it had
// been set, so the program could no longer tell "unset" from "set", local would receive the Azure keys
// it must reject, and a default that differs between dev and prod cannot be written there at all; and
// a `secret: true` key with a default fails on every stack that does not set it encrypted
// (`validateStackConfigValue` checks the injected plain default too). `template.config` only
// documents keys for `pulumi new` (sdk/go/common/apitype/templates.go, ProjectTemplateConfigValue)
// and makes nothing required, so that is where the declarations live.
import {
    KEY_VAULT_NAME_MAX,
    DEFAULT_KUBERNETES_VERSION,
    MIN_KUBERNETES_MINOR,
    AKS_KUBERNETES_MINORS,
    CLUSTER_TIERS,
    EGRESS_TYPES,
    APP_GATEWAY_CAPACITY,
    WAF_MODES,
    KEY_VAULT_SKUS,
    MESH_MTLS_MODES,
    NETWORK_ACL_MODES,
    DDOS_PROTECTION_MODES,
    DEFAULT_OS_DISK_SIZE_GB,
    OS_DISK_SIZE_GB,
    OS_DISK_TYPES,
    NODE_OS_UPGRADE_CHANNELS,
    REGISTRY_MODES,
    IMAGE_SOURCES,
    POLICY_EFFECTS,
    UNSEAL_KEY_SIZES,
    UPGRADE_CHANNELS,
    VAULT_VOTER_COUNTS,
    LOCAL_VAULT_MODES,
    WEEK_DAYS,
    type Environment,
} from "./constants";
import { maxNamePrefixLength } from "./names";
import * as v from "./validators";
import { KIND_NETWORK } from "../topology";

export type ConfigType = "string" | "integer" | "boolean" | "array";
export type ValueOf<T extends ConfigType> = T extends "string"
    ? string
    : T extends "integer"
      ? number
      : T extends "boolean"
        ? boolean
        : readonly string[];

/**
 * Which stacks may set a key: `any` every stack; `azure` only stacks that create Azure (dev, prod: the
 * key configures an Azure resource or the Key Vault CSI path); `none` only stacks on an existing cluster
 * (local). A key set where nothing reads it is rejected: a setting that silently does nothing misleads.
 */
export type Scope = "any" | "azure" | "none";

/** A default: one value, one per environment (local falls back to dev's), or derived from the environment. */
export type Default<V> = V | { readonly dev: V; readonly prod: V; readonly local?: V } | ((environment: Environment) => V);

export interface KeySpec<T extends ConfigType = ConfigType> {
    readonly type: T;
    readonly scope: Scope;
    /** One sentence for docs/configuration.md and `pulumi new`. */
    readonly description: string;
    /** Absent: the key has no default (optional, or required where `required` says so). */
    readonly default?: Default<ValueOf<T>>;
    /** How docs/configuration.md states a derived or absent default. */
    readonly defaultText?: string;
    /** The value must arrive encrypted (`pulumi config set --secret`). */
    readonly secret?: boolean;
    /** A boolean key that turns the feature this key configures on; the key is validated either way. */
    readonly enabledBy?: string;
    /** The key's own rule (cross-key rules live in parse.ts): an error message, or undefined. */
    readonly check?: (key: string, value: ValueOf<T>, environment: Environment) => string | undefined | readonly (string | undefined)[];
}

/** A key of any type: a union, so that each entry's `check` is typed by its own `type`. */
export type AnyKeySpec = KeySpec<"string"> | KeySpec<"integer"> | KeySpec<"boolean"> | KeySpec<"array">;

/**
 * A pool's OS disk keys (type and size), the same for the system and the user pool; `enabledBy` where
 * the pool itself is optional.
 */
function osDiskKeys(pool: "system" | "user", enabledBy?: "userPoolEnabled") {
    return {
        type: {
            type: "string",
            scope: "azure",
            default: { dev: "Managed", prod: "Ephemeral" },
            defaultText:
                "dev: not sent (AKS chooses: Ephemeral where the VM size's cache or temporary disk holds the OS disk, else Managed; dev's sizes have no local disk), prod: Ephemeral",
            enabledBy,
            description: `OS disk of the ${pool} pool: Managed or Ephemeral (on the VM's local disk: faster node start and reimage, no disk to pay for; the VM size needs a local disk that holds it, e.g. Standard_D4ds_v5's 150 GiB). Sent only when the stack sets it or it is Ephemeral; otherwise AKS chooses. Fixed for a pool's life: an existing prod stack created before Ephemeral became the default keeps its pools with Managed and its old VM size (docs/operations.md, section Upgrade a prod stack from before Ephemeral OS disks).`,
            check: (key: string, value: string) => v.checkOneOf(key, value, OS_DISK_TYPES),
        },
        size: {
            type: "integer",
            scope: "azure",
            default: DEFAULT_OS_DISK_SIZE_GB,
            enabledBy,
            description: `OS disk size of the ${pool} pool in GiB, ${OS_DISK_SIZE_GB.min}-${OS_DISK_SIZE_GB.max}: sent with Ephemeral (at most the VM size's local disk) or when set; a Managed pool without it takes AKS's default for its VM size.`,
            check: (key: string, value: number) => v.checkIntRange(key, value, OS_DISK_SIZE_GB.min, OS_DISK_SIZE_GB.max),
        },
    } as const;
}
const SYSTEM_OS_DISK = osDiskKeys("system");
const USER_OS_DISK = osDiskKeys("user", "userPoolEnabled");

/** Every key this program reads, in docs/configuration.md's order. */
export const CONFIG_KEYS = {
    environment: {
        type: "string",
        scope: "any",
        description: "dev, prod or local (an existing cluster from the kubeconfig, no Azure).",
        defaultText: "the stack name when it is dev, prod or local",
    },
    location: {
        type: "string",
        scope: "azure",
        default: "eastus",
        description: "Azure region, lowercase programmatic name.",
        check: v.checkRegion,
    },
    namePrefix: {
        type: "string",
        scope: "azure",
        default: "gitops",
        check: (key, value, environment) =>
            v.checkNamePrefix(
                key,
                value,
                maxNamePrefixLength(environment),
                `the unseal Key Vault's name on ${environment} has at most ${KEY_VAULT_NAME_MAX} characters`,
            ),
        description: `Prefix of every resource name: lowercase letters and digits, starting with a letter, 2 up to ${maxNamePrefixLength("dev")} characters on dev and ${maxNamePrefixLength("prod")} on prod (the unseal Key Vault's name, \`<prefix>-<environment>-seal-<4 random>\`, has at most ${KEY_VAULT_NAME_MAX}).`,
    },
    tags: {
        type: "array",
        scope: "azure",
        default: [],
        description: "Extra tags as key=value strings; project, stack and environment are always set.",
        check: (key, tags) => tags.map((t) => v.checkTag(key, t)),
    },
    kubernetesVersion: {
        type: "string",
        scope: "azure",
        default: DEFAULT_KUBERNETES_VERSION,
        description: `Kubernetes version as major.minor (quote it in YAML), a minor AKS serves (1.${MIN_KUBERNETES_MINOR} to 1.${AKS_KUBERNETES_MINORS.newest}, AKS_KUBERNETES_MINORS); major.minor.patch only with autoUpgradeChannel none or node-image. With stable or rapid the channel owns the version after creation and this is the creation version only.`,
        check: v.checkKubernetesVersion,
    },
    clusterTier: {
        type: "string",
        scope: "azure",
        default: { dev: "Free", prod: "Standard" },
        description: "AKS pricing tier: Free, Standard or Premium.",
        check: (key, value) => v.checkOneOf(key, value, CLUSTER_TIERS),
    },
    systemPoolVmSize: {
        type: "string",
        scope: "azure",
        default: { dev: "Standard_D2s_v5", prod: "Standard_D4ds_v5" },
        description: "VM size of the system pool (prod's Standard_D4ds_v5 has the 150 GiB local disk its Ephemeral OS disk lives on).",
        check: v.checkVmSize,
    },
    systemPoolNodeCount: {
        type: "integer",
        scope: "azure",
        default: { dev: 2, prod: 3 },
        description: "System pool node count (initial count with autoscaling), 1-100.",
        check: (key, value) => v.checkIntRange(key, value, 1, 100),
    },
    systemPoolAutoscaling: {
        type: "boolean",
        scope: "azure",
        default: { dev: false, prod: true },
        description: "Cluster autoscaler on the system pool.",
    },
    systemPoolMinCount: {
        type: "integer",
        scope: "azure",
        default: { dev: 1, prod: 3 },
        description: "System pool autoscaler minimum, 1-100.",
        check: (key, value) => v.checkIntRange(key, value, 1, 100),
    },
    systemPoolMaxCount: {
        type: "integer",
        scope: "azure",
        default: { dev: 3, prod: 5 },
        description:
            "System pool autoscaler maximum, 1-100. With perZoneNodePools each zone's pool gets ceil(max / (zones - 1)), so that the surviving zones reach the maximum after a zone's loss: the ceiling while every zone is up is zones x ceil(max / (zones - 1)), e.g. 9 for prod's 5 over 3 zones (docs/platform.md, Per-zone pools).",
        check: (key, value) => v.checkIntRange(key, value, 1, 100),
    },
    systemPoolZones: {
        type: "array",
        scope: "azure",
        default: { dev: [], prod: ["1", "2", "3"] },
        description: 'Availability zones of the system pool, distinct values from "1", "2", "3" (quoted).',
        check: v.checkZones,
    },
    systemPoolOsDiskType: SYSTEM_OS_DISK.type,
    systemPoolOsDiskSizeGb: SYSTEM_OS_DISK.size,
    userPoolEnabled: {
        type: "boolean",
        scope: "azure",
        default: { dev: false, prod: true },
        description: "Add a user pool for workloads (the system pool is then tainted CriticalAddonsOnly).",
    },
    userPoolVmSize: {
        type: "string",
        scope: "azure",
        default: { dev: "Standard_D4s_v5", prod: "Standard_D4ds_v5" },
        enabledBy: "userPoolEnabled",
        description: "VM size of the user pool (prod's Standard_D4ds_v5 has the 150 GiB local disk its Ephemeral OS disk lives on).",
        check: v.checkVmSize,
    },
    userPoolNodeCount: {
        type: "integer",
        scope: "azure",
        default: 3,
        enabledBy: "userPoolEnabled",
        description: "User pool node count (initial count with autoscaling), 1-100.",
        check: (key, value) => v.checkIntRange(key, value, 1, 100),
    },
    userPoolAutoscaling: {
        type: "boolean",
        scope: "azure",
        default: true,
        enabledBy: "userPoolEnabled",
        description: "Cluster autoscaler on the user pool.",
    },
    userPoolMinCount: {
        type: "integer",
        scope: "azure",
        default: 3,
        enabledBy: "userPoolEnabled",
        description: "User pool autoscaler minimum, 1-100.",
        check: (key, value) => v.checkIntRange(key, value, 1, 100),
    },
    userPoolMaxCount: {
        type: "integer",
        scope: "azure",
        default: 10,
        enabledBy: "userPoolEnabled",
        description:
            "User pool autoscaler maximum, 1-100. With perZoneNodePools the real ceiling is zones x ceil(max / (zones - 1)), as for systemPoolMaxCount: e.g. 15 for prod's 10 over 3 zones.",
        check: (key, value) => v.checkIntRange(key, value, 1, 100),
    },
    userPoolZones: {
        type: "array",
        scope: "azure",
        default: ["1", "2", "3"],
        enabledBy: "userPoolEnabled",
        description: "Availability zones of the user pool.",
        check: v.checkZones,
    },
    userPoolOsDiskType: USER_OS_DISK.type,
    userPoolOsDiskSizeGb: USER_OS_DISK.size,
    podCidr: {
        type: "string",
        scope: "azure",
        default: "10.244.0.0/16",
        description: "Pod CIDR of the Azure CNI overlay.",
        check: v.checkCidr,
    },
    serviceCidr: {
        type: "string",
        scope: "azure",
        default: "10.0.0.0/16",
        description: "Kubernetes service CIDR, disjoint from podCidr; the DNS service IP is its 10th address.",
        check: v.checkCidr,
    },
    vnetAddressSpace: {
        type: "string",
        scope: "azure",
        default: "10.240.0.0/16",
        description: "Address space of the stack's VNet; every subnet lies inside it, disjoint from podCidr and serviceCidr.",
        check: v.checkCidrRange,
    },
    systemSubnetCidr: {
        type: "string",
        scope: "azure",
        default: "10.240.0.0/22",
        description:
            "Subnet of the system pool's nodes (overlay: pods take no subnet addresses); it must hold the pool's maximum plus its upgrade surge plus Azure's 5 reserved addresses. With perZoneNodePools zone N's nodes get its Nth quarter as a subnet of their own, and each quarter must hold that zone's pool.",
        check: v.checkCidrRange,
    },
    userSubnetCidr: {
        type: "string",
        scope: "azure",
        default: "10.240.4.0/22",
        enabledBy: "userPoolEnabled",
        description: "Subnet of the user pool's nodes; sized, and split by zone with perZoneNodePools, like systemSubnetCidr.",
        check: v.checkCidrRange,
    },
    privateEndpointSubnetCidr: {
        type: "string",
        scope: "azure",
        default: "10.240.8.0/24",
        description: "Subnet of the private endpoints (Key Vaults, registry).",
        check: v.checkCidrRange,
    },
    apiServerSubnetCidr: {
        type: "string",
        scope: "azure",
        default: "10.240.9.0/28",
        enabledBy: "apiServerVnetIntegration",
        description: "Subnet delegated to the API server with apiServerVnetIntegration, /28 or larger.",
        check: (key, value) =>
            v.checkCidrRange(key, value) ??
            (Number(value.split("/")[1]) > 28
                ? `${key}: ${JSON.stringify(value)} is too small; API server VNet integration needs a /28 or larger`
                : undefined),
    },
    runnerSubnetCidr: {
        type: "string",
        scope: "azure",
        defaultText: "none (required with apiServerPrivate); 10.240.10.0/24 with ciRunnerEnabled",
        description:
            "Subnet for the self-hosted runner or jump host that runs pulumi up and the workflows from inside the VNet (the way into a private cluster).",
        check: v.checkCidrRange,
    },
    egressType: {
        type: "string",
        scope: "azure",
        default: { dev: "loadBalancer", prod: "firewall" },
        description:
            "Node egress: loadBalancer (AKS picks the IP), natGateway (static public IPs created first, exported as egressIps; with zoned pools it needs perZoneNodePools: a NAT gateway and its IPs per zone) or firewall (an Azure Firewall the stack creates in firewallSubnetCidr, allowing only what AKS and the platform need; its public IP is exported as egressIps).",
        check: (key, value) => v.checkOneOf(key, value, EGRESS_TYPES),
    },
    natGatewayPublicIpCount: {
        type: "integer",
        scope: "azure",
        default: 1,
        description:
            "Static public IPs on each NAT gateway (egressType natGateway; one gateway per zone when the pools have zones), 1-16; each adds about 64,000 SNAT ports.",
        check: (key, value) => v.checkIntRange(key, value, 1, 16),
    },
    perZoneNodePools: {
        type: "boolean",
        scope: "azure",
        default: false,
        description:
            "Split every zoned pool into one pool per zone, each on a node subnet of its own (snet-<role>-z<N>, the Nth quarter of the role's range, declared for zones 1-3 whether or not a pool uses them yet). Required with egressType natGateway and zoned pools (one NAT gateway per zone); allowed with firewall and loadBalancer, so that switching egressType only changes the subnets' NAT gateway or route. Set it when a stack is created: turning it on or off later is a rebuild (docs/platform.md, section Per-zone pools), except on a stack that ran per-zone pools before this key existed (its VNet already has snet-system-z1), which sets it and updates in place; an older natGateway stack on snet-system and snet-user rebuilds.",
    },
    firewallSubnetCidr: {
        type: "string",
        scope: "azure",
        default: "10.240.12.0/26",
        defaultText: "10.240.12.0/26 (used with egressType firewall)",
        description: "AzureFirewallSubnet of the egress firewall (egressType firewall), /26 or larger as Azure Firewall requires.",
        check: (key, value) =>
            v.checkCidrRange(key, value) ??
            (Number(value.split("/")[1]) > 26
                ? `${key}: ${JSON.stringify(value)} is too small; Azure Firewall needs a /26 or larger AzureFirewallSubnet`
                : undefined),
    },
    ddosProtection: {
        type: "string",
        scope: "azure",
        default: "none",
        description:
            "DDoS Network Protection on the stack's VNet (mspnp/aks-baseline leaves it out for cost): none (Azure's infrastructure protection only), create (a plan in the stack, about $2,944 a month plus overage beyond 100 public IPs) or existing (ddosProtectionPlanId, a plan shared across a tenant's VNets; whoever runs `pulumi up` needs Microsoft.Network/ddosProtectionPlans/join/action on that plan, e.g. Network Contributor on it, which the stack cannot grant itself).",
        check: (key, value) => v.checkOneOf(key, value, DDOS_PROTECTION_MODES),
    },
    ddosProtectionPlanId: {
        type: "string",
        scope: "azure",
        defaultText: "none (required with ddosProtection existing)",
        description:
            "ARM resource ID of an existing DDoS protection plan (ddosProtection existing); the deployer needs Microsoft.Network/ddosProtectionPlans/join/action on it.",
        check: (key, value) => v.checkArmId(key, value, "Microsoft.Network/ddosProtectionPlans"),
    },
    ingressWaf: {
        type: "boolean",
        scope: "azure",
        default: { dev: false, prod: true },
        description:
            "Application Gateway WAF_v2 (OWASP/DRS managed rules) as the only public entry: the Istio ingress gateway's Service becomes an internal load balancer at the first usable address of ingressLbSubnetCidr, the gateway re-encrypting behind it; the Application Gateway's public IP is exported as ingressPublicIp.",
    },
    ingressWafMode: {
        type: "string",
        scope: "azure",
        enabledBy: "ingressWaf",
        default: { dev: "Detection", prod: "Prevention" },
        description: "WAF policy mode: Prevention (matching requests are blocked) or Detection (logged only).",
        check: (key, value) => v.checkOneOf(key, value, WAF_MODES),
    },
    appGatewaySubnetCidr: {
        type: "string",
        scope: "azure",
        default: "10.240.14.0/24",
        description:
            "Dedicated subnet of the Application Gateway (ingressWaf), declared with the WAF off too (empty) so that switching it off removes no subnet in use; Azure recommends a /24 for v2 and needs one address per instance plus 5 reserved, so at least appGatewayMaxCapacity + 5 addresses. A stack with its own vnetAddressSpace (upgrading from before the WAF, too) sets it to a free range inside that space.",
        check: v.checkCidrRange,
    },
    ingressLbSubnetCidr: {
        type: "string",
        scope: "azure",
        default: "10.240.13.0/28",
        description:
            "Subnet of the ingress gateway's internal load balancer frontend (ingressWaf), declared with the WAF off too, /29 or larger; its first usable address (the 5th) is the load balancer's static IP, the Application Gateway's backend. A stack with its own vnetAddressSpace (upgrading from before the WAF, too) sets it to a free range inside that space.",
        check: (key, value) =>
            v.checkCidrRange(key, value) ??
            (Number(value.split("/")[1]) > 29
                ? `${key}: ${JSON.stringify(value)} is too small; Azure keeps 5 addresses of every subnet, use a /29 or larger`
                : undefined),
    },
    appGatewayMinCapacity: {
        type: "integer",
        scope: "azure",
        enabledBy: "ingressWaf",
        default: { dev: 0, prod: 2 },
        description: `Application Gateway autoscale lower bound (instances), ${APP_GATEWAY_CAPACITY.min}-${APP_GATEWAY_CAPACITY.ceiling}; 2 or more keeps an instance through a zone's loss.`,
        check: (key, value) => v.checkIntRange(key, value, APP_GATEWAY_CAPACITY.min, APP_GATEWAY_CAPACITY.ceiling),
    },
    appGatewayMaxCapacity: {
        type: "integer",
        scope: "azure",
        enabledBy: "ingressWaf",
        default: { dev: 2, prod: 10 },
        description: `Application Gateway autoscale upper bound (instances), ${APP_GATEWAY_CAPACITY.maxFloor}-${APP_GATEWAY_CAPACITY.ceiling}, at least appGatewayMinCapacity.`,
        check: (key, value) => v.checkIntRange(key, value, APP_GATEWAY_CAPACITY.maxFloor, APP_GATEWAY_CAPACITY.ceiling),
    },
    autoUpgradeChannel: {
        type: "string",
        scope: "azure",
        default: "patch",
        description: "AKS auto-upgrade channel: none, patch, stable, rapid, node-image.",
        check: (key, value) => v.checkOneOf(key, value, UPGRADE_CHANNELS),
    },
    nodeOsUpgradeChannel: {
        type: "string",
        scope: "azure",
        default: "NodeImage",
        description: "Node OS upgrade channel: None, Unmanaged, NodeImage, SecurityPatch.",
        check: (key, value) => v.checkOneOf(key, value, NODE_OS_UPGRADE_CHANNELS),
    },
    maintenanceDay: {
        type: "string",
        scope: "azure",
        default: "Sunday",
        description: "Day of the weekly maintenance window, Monday-Sunday.",
        check: (key, value) => v.checkOneOf(key, value, WEEK_DAYS),
    },
    maintenanceStartHour: {
        type: "integer",
        scope: "azure",
        default: 2,
        description: "Start hour (UTC) of the maintenance window, 0-23.",
        check: (key, value) => v.checkIntRange(key, value, 0, 23),
    },
    maintenanceDurationHours: {
        type: "integer",
        scope: "azure",
        default: 4,
        description: "Length of the maintenance window in hours, 4-24 (AKS rejects shorter windows).",
        check: (key, value) => v.checkIntRange(key, value, 4, 24),
    },
    entraIdEnabled: {
        type: "boolean",
        scope: "azure",
        default: { dev: false, prod: true },
        description: "Entra ID authentication with Azure RBAC for Kubernetes (the kubeconfig then needs kubelogin); required in prod.",
    },
    entraAdminGroupObjectIds: {
        type: "array",
        scope: "azure",
        default: [],
        enabledBy: "entraIdEnabled",
        description: "Object IDs of Entra ID groups with cluster admin; at least one with disableLocalAccounts (so in prod).",
        check: (key, ids) => ids.map((id) => v.checkGuid(key, id)),
    },
    deployerObjectId: {
        type: "string",
        scope: "azure",
        enabledBy: "entraIdEnabled",
        defaultText: "the object ID of whoever runs `pulumi up` (getClientConfig)",
        description:
            "Object ID of the principal that runs `pulumi up` (the CI application's service principal): it gets Azure Kubernetes Service RBAC Cluster Admin on the cluster. Set it so that a workstation and CI do not replace each other's grant.",
        check: v.checkGuid,
    },
    previewerObjectId: {
        type: "string",
        scope: "azure",
        enabledBy: "entraIdEnabled",
        defaultText: "none: no preview principal is granted anything in the cluster",
        description:
            "Object ID of the pull-request preview principal: it gets the program's dry-run role on the cluster (read and write, no delete, no exec: a server-side-apply dry run is authorized as a write) and its user credentials.",
        check: v.checkGuid,
    },
    disableLocalAccounts: {
        type: "boolean",
        scope: "azure",
        default: { dev: false, prod: true },
        description:
            "Disable the cluster's local accounts (no certificate kubeconfig); needs entraIdEnabled and an admin group; required in prod.",
    },
    apiServerAuthorizedIpRanges: {
        type: "array",
        scope: "azure",
        default: [],
        description:
            "CIDR ranges allowed to reach the public API server (the deployer's and the runners' egress); required on dev and prod unless apiServerPrivate. The NAT gateway's or the firewall's public IPs are added.",
        check: (key, ranges) => ranges.map((range) => v.checkCidrRange(key, range)),
    },
    apiServerVnetIntegration: {
        type: "boolean",
        scope: "azure",
        default: { dev: false, prod: true },
        description:
            "API server VNet integration: the API server gets an internal IP in apiServerSubnetCidr; nodes and pods reach it inside the VNet (required with egressType firewall unless apiServerPrivate).",
    },
    apiServerPrivate: {
        type: "boolean",
        scope: "azure",
        default: false,
        description:
            "Private cluster: no public API server endpoint; needs runnerSubnetCidr (pulumi up and the workflows then run in the VNet).",
    },
    logRetentionDays: {
        type: "integer",
        scope: "azure",
        default: 30,
        description: "Log Analytics retention in days, 30-730.",
        check: (key, value) => v.checkIntRange(key, value, 30, 730),
    },
    kubeApiServerLogs: {
        type: "boolean",
        scope: "azure",
        default: false,
        description:
            "Also send the cluster's kube-apiserver log to Log Analytics (verbose and billed by volume; the audit categories are always sent).",
    },
    kubeAuditReads: {
        type: "boolean",
        scope: "azure",
        default: { dev: false, prod: true },
        description:
            "Send the full kube-audit category (reads included) instead of kube-audit-admin; the alert on secret reads in Vault's namespace needs it.",
    },
    alertEmail: {
        type: "string",
        scope: "azure",
        defaultText: "none (prod needs this or alertWebhookUrl)",
        description: "E-mail address the audit alerts' action group notifies.",
        check: v.checkEmail,
    },
    alertWebhookUrl: {
        type: "string",
        scope: "azure",
        secret: true,
        defaultText: "none (prod needs this or alertEmail)",
        description:
            "https webhook the audit alerts' action group calls (common alert schema): `pulumi config set --secret alertWebhookUrl <url>`.",
        check: v.checkWebhookUrl,
    },
    managedPrometheus: {
        type: "boolean",
        scope: "azure",
        default: { dev: false, prod: true },
        description:
            "Azure Monitor managed service for Prometheus (as mspnp/aks-baseline): an Azure Monitor workspace, a data collection endpoint and rule associated with the cluster, the metrics add-on, Microsoft's recommended node, pod and cluster alert rules plus an alert when kube-state-metrics' scrape stops arriving, node CPU and memory metric alerts and an Azure Advisor alert, notifying the audit alerts' action group; the DCR's errors to Log Analytics; and the add-on's settings ConfigMap (ama-metrics-settings-configmap in kube-system) keeping the few metrics those rules read beyond its minimal ingestion profile. Ingestion is billed per sample (docs/platform.md, Monthly cost).",
    },
    azurePolicyEnabled: {
        type: "boolean",
        scope: "azure",
        default: { dev: false, prod: true },
        description:
            "The Azure Policy add-on (Gatekeeper) with the built-in restricted pod security initiative, allowed images, internal load balancers and container limits assigned to the cluster.",
    },
    podSecurityPolicyEffect: {
        type: "string",
        scope: "azure",
        enabledBy: "azurePolicyEnabled",
        default: { dev: "audit", prod: "deny" },
        description:
            "Effect of the Azure Policy assignments on the cluster (restricted pod security, allowed images, internal load balancers, container limits): audit (report) or deny (reject at admission). Exemptions: docs/operations.md, Audit trail.",
        check: (key, value) => v.checkOneOf(key, value, POLICY_EFFECTS),
    },
    defenderEnabled: {
        type: "boolean",
        scope: "azure",
        default: { dev: false, prod: true },
        description: "Microsoft Defender for Containers' sensor on the cluster, reporting to the Log Analytics workspace.",
    },
    keyVaultSku: {
        type: "string",
        scope: "azure",
        default: "standard",
        description: "Key Vault SKU, standard or premium.",
        check: (key, value) => v.checkOneOf(key, value, KEY_VAULT_SKUS),
    },
    keyVaultRetentionDays: {
        type: "integer",
        scope: "azure",
        default: { dev: 7, prod: 90 },
        description: "Key Vault soft-delete retention in days, 7-90.",
        check: (key, value) => v.checkIntRange(key, value, 7, 90),
    },
    keyVaultPurgeProtection: {
        type: "boolean",
        scope: "azure",
        default: { dev: false, prod: true },
        description: "Key Vault purge protection (cannot be turned off once on; required in prod).",
    },
    keyVaultNetworkAclMode: {
        type: "string",
        scope: "azure",
        default: { dev: "allow", prod: "deny" },
        description:
            "Key Vault firewall default action on the public endpoint, allow or deny (deny needs keyVaultAllowedIpRanges; the NAT gateway's or the firewall's IPs are added).",
        check: (key, value) => v.checkOneOf(key, value, NETWORK_ACL_MODES),
    },
    keyVaultAllowedIpRanges: {
        type: "array",
        scope: "azure",
        default: [],
        description: "IPv4 addresses or CIDR ranges let through the Key Vault firewall.",
        check: (key, ranges) => ranges.map((ip) => v.checkCidr(key, ip)),
    },
    keyVaultPrivateEndpoints: {
        type: "boolean",
        scope: "azure",
        default: { dev: false, prod: true },
        description:
            "Private endpoints for both Key Vaults in privateEndpointSubnetCidr, with the privatelink.vaultcore.azure.net zone linked to the VNet.",
    },
    keyVaultPublicNetworkAccess: {
        type: "boolean",
        scope: "azure",
        default: { dev: true, prod: false },
        description: "Key Vaults' public endpoint; false needs keyVaultPrivateEndpoints and is required in prod.",
    },
    unsealKeySize: {
        type: "integer",
        scope: "azure",
        default: 3072,
        description:
            "RSA size of Vault's unseal key: 2048, 3072 or 4096. Create-only: a change fails the up with the migration steps (docs/operations.md).",
        check: (key, value) => v.checkOneOf(key, value, UNSEAL_KEY_SIZES),
    },
    unsealKeyRotationDays: {
        type: "integer",
        scope: "azure",
        default: 0,
        description: "Days between automatic unseal key rotations, 28-730, or 0 for none.",
        check: (key, value) => (value === 0 ? undefined : v.checkIntRange(key, value, 28, 730)),
    },
    registryMode: {
        type: "string",
        scope: "azure",
        default: "create",
        description:
            "Private registry: none, create (Premium ACR, admin user off, private endpoint with registryPrivateEndpoint; the services' images go here) or existing (registryId); the kubelet identity gets AcrPull on it.",
        check: (key, value) => v.checkOneOf(key, value, REGISTRY_MODES),
    },
    registryId: {
        type: "string",
        scope: "azure",
        defaultText: "none (required with registryMode existing)",
        description: "ARM resource ID of an existing container registry (registryMode existing).",
        check: (key, value) => v.checkArmId(key, value, "Microsoft.ContainerRegistry/registries"),
    },
    registryPrivateEndpoint: {
        type: "boolean",
        scope: "azure",
        default: { dev: false, prod: true },
        description:
            "A private endpoint for the registry the stack creates (registryMode create), in privateEndpointSubnetCidr, with the privatelink.azurecr.io zone linked to the VNet.",
    },
    registryPublicNetworkAccess: {
        type: "boolean",
        scope: "azure",
        default: { dev: true, prod: false },
        description: "The created registry's public endpoint; false needs registryPrivateEndpoint and is required in prod.",
    },
    backupStoragePrivateEndpoint: {
        type: "boolean",
        scope: "azure",
        default: { dev: false, prod: true },
        description:
            "A private endpoint (blob) for the backup storage account, in privateEndpointSubnetCidr, with the privatelink.blob.core.windows.net zone linked to the VNet.",
    },
    backupStoragePublicNetworkAccess: {
        type: "boolean",
        scope: "azure",
        default: { dev: true, prod: false },
        description:
            "The backup storage account's public endpoint; false needs backupStoragePrivateEndpoint (readers then work from inside the VNet) and is required in prod.",
    },
    resourceLocks: {
        type: "boolean",
        scope: "azure",
        default: { dev: false, prod: true },
        description:
            "CanNotDelete locks on both Key Vaults, the unseal key, the Log Analytics workspace and the backup storage (not the resource group); turn off only for a deliberate teardown (docs/platform.md).",
    },
    meshMtlsMode: {
        type: "string",
        scope: "any",
        default: "STRICT",
        description: "Mesh-wide Istio PeerAuthentication mode, STRICT or PERMISSIVE; prod must be STRICT.",
        check: (key, value) => v.checkOneOf(key, value, MESH_MTLS_MODES),
    },
    csiRotationPollInterval: {
        type: "string",
        // The CSI driver only exists to read Key Vault.
        scope: "azure",
        default: "2m",
        description: "How often the Secrets Store CSI driver re-reads Key Vault objects, a whole number of s, m or h.",
        check: v.checkPollInterval,
    },
    ingressHost: {
        type: "string",
        scope: "any",
        default: (environment) => `app.${environment}.example.com`,
        defaultText: "app.<environment>.example.com",
        description: "Host the Istio ingress gateway serves over HTTPS; a configured certificate must cover it.",
        check: v.checkHostName,
    },
    ingressTlsCertificate: {
        type: "string",
        scope: "any",
        secret: true,
        defaultText: "none (required in prod; dev generates a CA and a server certificate it signs)",
        description:
            "PEM certificate chain for ingressHost, the server's own certificate first (not a CA's), stored in Key Vault: `pulumi config set --secret ingressTlsCertificate < fullchain.pem`. With ingressWaf, a private CA's chain ends with that CA's root (the Application Gateway's trusted root for its hop to the ingress gateway); a public CA's needs no root.",
    },
    ingressTlsPrivateKey: {
        type: "string",
        scope: "any",
        secret: true,
        defaultText: "none (required in prod; dev generates one)",
        description: "Unencrypted PEM private key of ingressTlsCertificate: `pulumi config set --secret ingressTlsPrivateKey < key.pem`.",
    },
    vaultRecoveryShares: {
        type: "integer",
        scope: "any",
        default: 5,
        description: "Recovery key shares the prod Vault initialisation creates, 1-10 (read in prod only).",
    },
    vaultRecoveryThreshold: {
        type: "integer",
        scope: "any",
        default: 3,
        description: "Recovery keys needed to regenerate a root token, 2 up to vaultRecoveryShares (1 with one share).",
    },
    mongoBackupSchedule: {
        type: "string",
        scope: "azure",
        default: { dev: "30 2 * * *", prod: "0 */6 * * *" },
        description:
            "When the MongoDB backup CronJob dumps the database to the stack's backup storage: five cron fields, UTC (minute hour day-of-month month day-of-week).",
        check: v.checkCronSchedule,
    },
    mongoBackupRetentionDays: {
        type: "integer",
        scope: "azure",
        default: { dev: 7, prod: 35 },
        description:
            "Days a MongoDB backup (and any old version of it) is kept in the backup storage before the lifecycle policy deletes it, 1-3650.",
        check: (key, value) => v.checkIntRange(key, value, 1, 3650),
    },
    vaultTlsEnabled: {
        type: "boolean",
        scope: "azure",
        default: true,
        description:
            "TLS on the ha Vault's listener and raft joins, from the stack's internal CA through Key Vault (read in prod only, where it must be true; dev's in-memory dev server has no listener config).",
    },
    vaultVoters: {
        type: "integer",
        scope: "azure",
        default: 3,
        description: "Raft voters (server replicas) of the ha Vault, 3 or 5, spread across zones (read in prod only).",
        check: (key, value) => v.checkOneOf(key, value, VAULT_VOTER_COUNTS),
    },
    vaultSnapshotSchedule: {
        type: "string",
        scope: "azure",
        default: "0 */6 * * *",
        description:
            "Cron schedule (five fields, UTC) of the raft snapshot CronJob (prod), at least daily: an alert fires when the newest snapshot is older than twice its longest gap.",
        check: v.checkSnapshotSchedule,
    },
    vaultSnapshotRetentionDays: {
        type: "integer",
        scope: "azure",
        default: 30,
        description: "Days a raft snapshot blob is kept before the storage lifecycle rule deletes it, 1-3650 (prod).",
        check: (key, value) => v.checkIntRange(key, value, 1, 3650),
    },
    vaultSnapshotKeepLast: {
        type: "integer",
        scope: "azure",
        default: 7,
        description:
            "Newest raft snapshots the retention never removes, however old, 1-1000 (prod): a long run of failed snapshots cannot empty the container.",
        check: (key, value) => v.checkIntRange(key, value, 1, 1000),
    },
    vaultOperatorGroups: {
        type: "array",
        scope: "any",
        default: [],
        description:
            "Kubernetes groups (on AKS with Entra ID: group object IDs) bound to the vault-operator Role, which may run scripts/vault-rollout.sh (prod); empty: cluster admins only.",
    },
    ciRunnerEnabled: {
        type: "boolean",
        scope: "azure",
        default: { dev: false, prod: true },
        description:
            "Ephemeral self-hosted GitHub Actions runners inside the VNet: an Azure Container Apps job in runnerSubnetCidr (delegated to Microsoft.App/environments, egress through the stack's egress), started per queued job by KEDA's github-runner scaler. prod's deploy, preview and drift workflows run there, since its API server admits only the stack's egress IPs (docs/delivery.md).",
    },
    ciRunnerRepository: {
        type: "string",
        scope: "azure",
        enabledBy: "ciRunnerEnabled",
        defaultText: "none (required with ciRunnerEnabled)",
        description: "The GitHub repository (owner/name) whose workflow jobs the runners take.",
        check: v.checkGithubRepository,
    },
    ciRunnerGithubToken: {
        type: "string",
        scope: "azure",
        secret: true,
        enabledBy: "ciRunnerEnabled",
        defaultText: "none (required with ciRunnerEnabled)",
        description:
            "GitHub token of that repository for runner registration and the scaler's queue reads (fine-grained: Administration read/write, Actions read, Metadata read), a secret of the runner job: `pulumi config set --secret ciRunnerGithubToken`.",
    },
    ciRunnerMaxRunners: {
        type: "integer",
        scope: "azure",
        enabledBy: "ciRunnerEnabled",
        default: 3,
        description: "Runners at most at once, 1-20.",
        check: (key, value) => v.checkIntRange(key, value, 1, 20),
    },
    serviceImageSource: {
        type: "string",
        scope: "any",
        default: { dev: "build", prod: "import", local: "config" },
        description:
            "Where the services' images come from: build (the program builds services/Dockerfile with a Docker engine at `up` time, pushes to the stack's registry and deploys by digest), import (the program copies the CI-built <service>Image:<service>Tag into the stack's registry with ARM's importImage, which needs no public registry endpoint) or config (deploys <service>Image:<service>Tag as named).",
        check: (key, value) => v.checkOneOf(key, value, IMAGE_SOURCES),
    },
    imageSourceUsername: {
        type: "string",
        scope: "azure",
        defaultText: "none (an anonymous pull)",
        description: "User name for the registry serviceImageSource import copies from (GHCR: any user name with imageSourceToken).",
    },
    imageSourceToken: {
        type: "string",
        scope: "azure",
        secret: true,
        defaultText: "none (an anonymous pull)",
        description:
            "Token for that registry (GHCR: a token with read:packages, since packages are private by default): `pulumi config set --secret imageSourceToken`.",
    },
    productServiceImage: {
        type: "string",
        scope: "any",
        defaultText: "none (required with serviceImageSource config or import)",
        description:
            "Image repository of product-service, without tag, e.g. ghcr.io/<owner>/product-service: deployed (serviceImageSource config), imported (import) and the GitOps path's image.",
        check: v.checkImageRepository,
    },
    productServiceTag: {
        type: "string",
        scope: "any",
        defaultText: "none (required with productServiceImage)",
        description: "Pinned image tag of product-service (not latest), or its digest sha256:<64 hex> (deployed as repository@sha256:...).",
        check: v.checkImageTag,
    },
    orderServiceImage: {
        type: "string",
        scope: "any",
        defaultText: "none (required with serviceImageSource config or import)",
        description: "Image repository of order-service, without tag (as productServiceImage).",
        check: v.checkImageRepository,
    },
    orderServiceTag: {
        type: "string",
        scope: "any",
        defaultText: "none (required with orderServiceImage)",
        description: "Pinned image tag of order-service (not latest), or its digest sha256:<64 hex>.",
        check: v.checkImageTag,
    },
    argocdEnabled: {
        type: "boolean",
        scope: "any",
        default: false,
        description: "Install Argo CD and hand the services to it (app-of-apps) instead of deploying them as Helm releases.",
    },
    argocdRepoUrl: {
        type: "string",
        scope: "any",
        enabledBy: "argocdEnabled",
        defaultText: "none (required with argocdEnabled)",
        description: "Git repository Argo CD deploys from (https or ssh).",
        check: v.checkGitUrl,
    },
    argocdPath: {
        type: "string",
        scope: "any",
        enabledBy: "argocdEnabled",
        default: (environment) => `argocd/apps/${environment}`,
        defaultText: "argocd/apps/<environment>",
        description: "Folder of the environment's Application manifests in that repository.",
        check: v.checkRelativePath,
    },
    argocdRevision: {
        type: "string",
        scope: "any",
        enabledBy: "argocdEnabled",
        default: "main",
        description: "Branch, tag or commit Argo CD tracks.",
    },
    kubeconfigContext: {
        type: "string",
        scope: "none",
        defaultText: "the kubeconfig's current context at each pulumi up",
        description: "Kubeconfig context of the existing cluster the local stack deploys to, e.g. kind-kind, k3d-dev, minikube, microk8s.",
        check: v.checkKubeconfigContext,
    },
    localVaultMode: {
        type: "string",
        scope: "none",
        default: "dev",
        description:
            "Vault on the existing cluster: dev (one in-memory dev server) or ha (three raft voters with TLS from a generated CA, auto-unsealed by an in-cluster transit unsealer, initialised, bootstrapped and snapshotted by the same Jobs as prod; needs three schedulable nodes, docs/local.md).",
        check: (key, value) => v.checkOneOf(key, value, LOCAL_VAULT_MODES),
    },
    // The existing cluster's network, which its NetworkPolicies must name (workloads/networkPolicies.ts
    // clusterNetwork): the defaults are kind's; other local clusters differ (docs/local.md).
    localPodCidr: {
        type: "string",
        scope: "none",
        default: KIND_NETWORK.podSubnet,
        description:
            "Pod CIDR of the existing cluster (kind 10.244.0.0/16, k3d 10.42.0.0/16, minikube 10.244.0.0/16, MicroK8s 10.1.0.0/16): excluded from the addresses NetworkPolicies treat as nodes, the API server or the internet.",
        check: v.checkCidrRange,
    },
    localServiceCidr: {
        type: "string",
        scope: "none",
        default: KIND_NETWORK.serviceSubnet,
        description:
            "Service CIDR of the existing cluster (kind 10.96.0.0/16, k3d 10.43.0.0/16, minikube 10.96.0.0/12, MicroK8s 10.152.183.0/24), disjoint from localPodCidr.",
        check: v.checkCidrRange,
    },
    localApiServerPort: {
        type: "integer",
        scope: "none",
        default: KIND_NETWORK.apiServerPort,
        description:
            "Port of the existing cluster's API server behind the kubernetes Service, which NetworkPolicies see after DNAT (kind and k3d 6443, minikube 8443, MicroK8s 16443); 443 is allowed too.",
        check: (key, value) => v.checkIntRange(key, value, 1, 65535),
    },
} as const satisfies Record<string, AnyKeySpec>;

export type ConfigKey = keyof typeof CONFIG_KEYS;
export type Spec<K extends ConfigKey> = (typeof CONFIG_KEYS)[K];
/** The typed value of a key: undefined where it has no default and is unset. */
export type KeyValue<K extends ConfigKey> = ValueOf<Spec<K>["type"]> | (Spec<K> extends { default: unknown } ? never : undefined);
export type KeyValues = { readonly [K in ConfigKey]: KeyValue<K> };

export const KEY_NAMES = Object.keys(CONFIG_KEYS) as ConfigKey[];

export function specOf(key: ConfigKey): KeySpec {
    return CONFIG_KEYS[key] as KeySpec;
}

/** The default of `key` for `environment`, or undefined where it has none. */
export function defaultOf(key: ConfigKey, environment: Environment): unknown {
    const d = specOf(key).default;
    if (typeof d === "function") return d(environment);
    if (d !== null && typeof d === "object" && !Array.isArray(d) && "dev" in d) {
        const perEnvironment = d as { dev: unknown; prod: unknown; local?: unknown };
        return environment === "local" ? (perEnvironment.local ?? perEnvironment.dev) : perEnvironment[environment];
    }
    return d;
}
