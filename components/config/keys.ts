// The one table of stack configuration: `environment` (a top-level scalar, `aks-platform:environment`)
// and one group per concern (`aks-platform:cluster`, `aks-platform:network`, ...), each member with its
// type, the stacks that may set it, its description and its own rule; every default in ONE object,
// DEFAULTS, below the table. The zod schema (schema.ts), the reader (read.ts), validation (validators.ts,
// parse.ts), Pulumi.yaml's `template.config` and docs/configuration.md all derive from it; a test checks
// that the two files are current (`npm run config:docs` rewrites them). Where each key of the old flat
// layout went: layout.ts.
//
// Why nothing is declared under Pulumi.yaml's `config:` (pulumi/pulumi pkg/workspace/config.go,
// `mergeConfig`): a key of the project's namespace declared there
// with neither `default` nor `value` is REQUIRED on every stack ("Stack 'dev' is missing configuration
// values ..."), whatever its `type`; a declared `default` is injected into every stack as if it had
// been set, so the program could no longer tell "unset" from "set", local would receive the Azure
// members it must reject, and a default that differs between dev and prod cannot be written there at
// all; and a `secret: true` key with a default fails on every stack that does not set it encrypted
// (`validateStackConfigValue` checks the injected plain default too). The same holds for a group
// declared as an object: `mergeConfig` looks the top-level key up on the stack and treats it like any
// other key (required without a default; without the group on the stack, the declared object is set
// whole; with the group on the stack at all, none of the declared default is merged in). `template.config` only documents keys for `pulumi new`
// (sdk/go/common/apitype/templates.go, ProjectTemplateConfigValue) and makes nothing required, so
// that is where the declarations live (docs.ts says what one holds for a group).
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
    cloudOf,
    type Environment,
} from "./constants";
import { maxNamePrefixLength } from "./names";
import * as v from "./validators";
import { FLAT_KEY_PATHS } from "./layout";
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
 * Which stacks may set a member: `any` every stack; `azure` only stacks that create Azure (dev, prod:
 * the member configures an Azure resource or the Key Vault CSI path); `none` only stacks on an existing
 * cluster (local). A member set where nothing reads it is rejected: a setting that silently does
 * nothing misleads.
 */
export type Scope = "any" | "azure" | "none";

export interface KeySpec<T extends ConfigType = ConfigType> {
    readonly type: T;
    readonly scope: Scope;
    /** One sentence for docs/configuration.md and `pulumi new`. */
    readonly description: string;
    /** How docs/configuration.md states a derived or absent default (the value itself is in DEFAULTS). */
    readonly defaultText?: string;
    /** The value must arrive encrypted (`pulumi config set --path --secret`). */
    readonly secret?: boolean;
    /** The path of a boolean member that turns the feature this member configures on; the member is validated either way. */
    readonly enabledBy?: string;
    /**
     * The member's own rule (cross-member rules live in parse.ts), called with the member's path (every
     * message begins with it): an error message, or undefined.
     */
    readonly check?: (path: string, value: ValueOf<T>, environment: Environment) => string | undefined | readonly (string | undefined)[];
}

/** A member of any type: a union, so that each entry's `check` is typed by its own `type`. */
export type AnyKeySpec = KeySpec<"string"> | KeySpec<"integer"> | KeySpec<"boolean"> | KeySpec<"array">;

/**
 * A pool's OS disk members (type and size), the same for the system and the user pool; `enabledBy`
 * where the pool itself is optional.
 */
function osDiskKeys(pool: "system" | "user", enabledBy?: "userPool.enabled") {
    return {
        type: {
            type: "string",
            scope: "azure",
            defaultText:
                "dev: not sent (AKS chooses: Ephemeral where the VM size's cache or temporary disk holds the OS disk, else Managed; dev's sizes have no local disk), prod: Ephemeral",
            enabledBy,
            description: `OS disk of the ${pool} pool: Managed or Ephemeral (on the VM's local disk: faster node start and reimage, no disk to pay for; the VM size needs a local disk that holds it, e.g. Standard_D4ds_v5's 150 GiB). Sent only when the stack sets it or it is Ephemeral; otherwise AKS chooses. Fixed for a pool's life: an existing prod stack created before Ephemeral became the default keeps its pools with Managed and its old VM size (docs/operations.md, section Upgrade a prod stack from before Ephemeral OS disks).`,
            check: (path: string, value: string) => v.checkOneOf(path, value, OS_DISK_TYPES),
        },
        size: {
            type: "integer",
            scope: "azure",
            enabledBy,
            description: `OS disk size of the ${pool} pool in GiB, ${OS_DISK_SIZE_GB.min}-${OS_DISK_SIZE_GB.max}: sent with Ephemeral (at most the VM size's local disk) or when set; a Managed pool without it takes AKS's default for its VM size.`,
            check: (path: string, value: number) => v.checkIntRange(path, value, OS_DISK_SIZE_GB.min, OS_DISK_SIZE_GB.max),
        },
    } as const;
}
const SYSTEM_OS_DISK = osDiskKeys("system");
const USER_OS_DISK = osDiskKeys("user", "userPool.enabled");

/** `aks-platform:environment`, the one top-level scalar: which kind of stack this is. */
export const ENVIRONMENT_SPEC = {
    type: "string",
    scope: "any",
    description: "dev, prod or local (an existing cluster from the kubeconfig, no Azure).",
    defaultText: "the stack name when it is dev, prod or local",
} as const satisfies KeySpec<"string">;

/**
 * Every group and its members, in docs/configuration.md's order (layout.ts's). A group is one
 * top-level key, `aks-platform:<group>`, whose value is a YAML mapping of its members.
 */
export const CONFIG_GROUPS = {
    azure: {
        location: {
            type: "string",
            scope: "azure",
            description: "Azure region, lowercase programmatic name.",
            check: v.checkRegion,
        },
        namePrefix: {
            type: "string",
            scope: "azure",
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
            description: "Extra tags as key=value strings; project, stack and environment are always set.",
            check: (key, tags) => tags.map((t) => v.checkTag(key, t)),
        },
    },
    cluster: {
        kubernetesVersion: {
            type: "string",
            scope: "azure",
            description: `Kubernetes version as major.minor (quote it in YAML), a minor AKS serves (1.${MIN_KUBERNETES_MINOR} to 1.${AKS_KUBERNETES_MINORS.newest}, AKS_KUBERNETES_MINORS); major.minor.patch only with cluster.autoUpgradeChannel none or node-image. With stable or rapid the channel owns the version after creation and this is the creation version only.`,
            check: v.checkKubernetesVersion,
        },
        tier: {
            type: "string",
            scope: "azure",
            description: "AKS pricing tier: Free, Standard or Premium.",
            check: (key, value) => v.checkOneOf(key, value, CLUSTER_TIERS),
        },
        autoUpgradeChannel: {
            type: "string",
            scope: "azure",
            description: "AKS auto-upgrade channel: none, patch, stable, rapid, node-image.",
            check: (key, value) => v.checkOneOf(key, value, UPGRADE_CHANNELS),
        },
        nodeOsUpgradeChannel: {
            type: "string",
            scope: "azure",
            description: "Node OS upgrade channel: None, Unmanaged, NodeImage, SecurityPatch.",
            check: (key, value) => v.checkOneOf(key, value, NODE_OS_UPGRADE_CHANNELS),
        },
        maintenanceDay: {
            type: "string",
            scope: "azure",
            description: "Day of the weekly maintenance window, Monday-Sunday.",
            check: (key, value) => v.checkOneOf(key, value, WEEK_DAYS),
        },
        maintenanceStartHour: {
            type: "integer",
            scope: "azure",
            description: "Start hour (UTC) of the maintenance window, 0-23.",
            check: (key, value) => v.checkIntRange(key, value, 0, 23),
        },
        maintenanceDurationHours: {
            type: "integer",
            scope: "azure",
            description: "Length of the maintenance window in hours, 4-24 (AKS rejects shorter windows).",
            check: (key, value) => v.checkIntRange(key, value, 4, 24),
        },
    },
    systemPool: {
        vmSize: {
            type: "string",
            scope: "azure",
            description: "VM size of the system pool (prod's Standard_D4ds_v5 has the 150 GiB local disk its Ephemeral OS disk lives on).",
            check: v.checkVmSize,
        },
        nodeCount: {
            type: "integer",
            scope: "azure",
            description: "System pool node count (initial count with autoscaling), 1-100.",
            check: (key, value) => v.checkIntRange(key, value, 1, 100),
        },
        autoscaling: {
            type: "boolean",
            scope: "azure",
            description: "Cluster autoscaler on the system pool.",
        },
        minCount: {
            type: "integer",
            scope: "azure",
            description: "System pool autoscaler minimum, 1-100.",
            check: (key, value) => v.checkIntRange(key, value, 1, 100),
        },
        maxCount: {
            type: "integer",
            scope: "azure",
            description:
                "System pool autoscaler maximum, 1-100. With network.perZoneNodePools each zone's pool gets ceil(max / (zones - 1)), so that the surviving zones reach the maximum after a zone's loss: the ceiling while every zone is up is zones x ceil(max / (zones - 1)), e.g. 9 for prod's 5 over 3 zones (docs/platform.md, Per-zone pools).",
            check: (key, value) => v.checkIntRange(key, value, 1, 100),
        },
        zones: {
            type: "array",
            scope: "azure",
            description: 'Availability zones of the system pool, distinct values from "1", "2", "3" (quoted).',
            check: v.checkZones,
        },
        osDiskType: SYSTEM_OS_DISK.type,
        osDiskSizeGb: SYSTEM_OS_DISK.size,
    },
    userPool: {
        enabled: {
            type: "boolean",
            scope: "azure",
            description: "Add a user pool for workloads (the system pool is then tainted CriticalAddonsOnly).",
        },
        vmSize: {
            type: "string",
            scope: "azure",
            enabledBy: "userPool.enabled",
            description: "VM size of the user pool (prod's Standard_D4ds_v5 has the 150 GiB local disk its Ephemeral OS disk lives on).",
            check: v.checkVmSize,
        },
        nodeCount: {
            type: "integer",
            scope: "azure",
            enabledBy: "userPool.enabled",
            description: "User pool node count (initial count with autoscaling), 1-100.",
            check: (key, value) => v.checkIntRange(key, value, 1, 100),
        },
        autoscaling: {
            type: "boolean",
            scope: "azure",
            enabledBy: "userPool.enabled",
            description: "Cluster autoscaler on the user pool.",
        },
        minCount: {
            type: "integer",
            scope: "azure",
            enabledBy: "userPool.enabled",
            description: "User pool autoscaler minimum, 1-100.",
            check: (key, value) => v.checkIntRange(key, value, 1, 100),
        },
        maxCount: {
            type: "integer",
            scope: "azure",
            enabledBy: "userPool.enabled",
            description:
                "User pool autoscaler maximum, 1-100. With network.perZoneNodePools the real ceiling is zones x ceil(max / (zones - 1)), as for systemPool.maxCount: e.g. 15 for prod's 10 over 3 zones.",
            check: (key, value) => v.checkIntRange(key, value, 1, 100),
        },
        zones: {
            type: "array",
            scope: "azure",
            enabledBy: "userPool.enabled",
            description: "Availability zones of the user pool.",
            check: v.checkZones,
        },
        osDiskType: USER_OS_DISK.type,
        osDiskSizeGb: USER_OS_DISK.size,
    },
    network: {
        podCidr: {
            type: "string",
            scope: "azure",
            description: "Pod CIDR of the Azure CNI overlay.",
            check: v.checkCidr,
        },
        serviceCidr: {
            type: "string",
            scope: "azure",
            description: "Kubernetes service CIDR, disjoint from network.podCidr; the DNS service IP is its 10th address.",
            check: v.checkCidr,
        },
        vnetAddressSpace: {
            type: "string",
            scope: "azure",
            description:
                "Address space of the stack's VNet; every subnet lies inside it, disjoint from network.podCidr and network.serviceCidr.",
            check: v.checkCidrRange,
        },
        systemSubnetCidr: {
            type: "string",
            scope: "azure",
            description:
                "Subnet of the system pool's nodes (overlay: pods take no subnet addresses); it must hold the pool's maximum plus its upgrade surge plus Azure's 5 reserved addresses. With network.perZoneNodePools zone N's nodes get its Nth quarter as a subnet of their own, and each quarter must hold that zone's pool.",
            check: v.checkCidrRange,
        },
        userSubnetCidr: {
            type: "string",
            scope: "azure",
            enabledBy: "userPool.enabled",
            description:
                "Subnet of the user pool's nodes; sized, and split by zone with network.perZoneNodePools, like network.systemSubnetCidr.",
            check: v.checkCidrRange,
        },
        privateEndpointSubnetCidr: {
            type: "string",
            scope: "azure",
            description: "Subnet of the private endpoints (Key Vaults, registry).",
            check: v.checkCidrRange,
        },
        runnerSubnetCidr: {
            type: "string",
            scope: "azure",
            defaultText: "none (required with apiServer.private); 10.240.10.0/24 with ciRunner.enabled",
            description:
                "Subnet for the self-hosted runner or jump host that runs pulumi up and the workflows from inside the VNet (the way into a private cluster).",
            check: v.checkCidrRange,
        },
        egressType: {
            type: "string",
            scope: "azure",
            description:
                "Node egress: loadBalancer (AKS picks the IP), natGateway (static public IPs created first, exported as egressIps; with zoned pools it needs network.perZoneNodePools: a NAT gateway and its IPs per zone) or firewall (an Azure Firewall the stack creates in network.firewallSubnetCidr, allowing only what AKS and the platform need; its public IP is exported as egressIps).",
            check: (key, value) => v.checkOneOf(key, value, EGRESS_TYPES),
        },
        natGatewayPublicIpCount: {
            type: "integer",
            scope: "azure",
            description:
                "Static public IPs on each NAT gateway (network.egressType natGateway; one gateway per zone when the pools have zones), 1-16; each adds about 64,000 SNAT ports.",
            check: (key, value) => v.checkIntRange(key, value, 1, 16),
        },
        perZoneNodePools: {
            type: "boolean",
            scope: "azure",
            description:
                "Split every zoned pool into one pool per zone, each on a node subnet of its own (snet-<role>-z<N>, the Nth quarter of the role's range, declared for zones 1-3 whether or not a pool uses them yet). Required with network.egressType natGateway and zoned pools (one NAT gateway per zone); allowed with firewall and loadBalancer, so that switching network.egressType only changes the subnets' NAT gateway or route. Set it when a stack is created: turning it on or off later is a rebuild (docs/platform.md, section Per-zone pools), except on a stack that ran per-zone pools before this key existed (its VNet already has snet-system-z1), which sets it and updates in place; an older natGateway stack on snet-system and snet-user rebuilds.",
        },
        firewallSubnetCidr: {
            type: "string",
            scope: "azure",
            defaultText: "10.240.12.0/26 (used with network.egressType firewall)",
            description:
                "AzureFirewallSubnet of the egress firewall (network.egressType firewall), /26 or larger as Azure Firewall requires.",
            check: (key, value) =>
                v.checkCidrRange(key, value) ??
                (Number(value.split("/")[1]) > 26
                    ? `${key}: ${JSON.stringify(value)} is too small; Azure Firewall needs a /26 or larger AzureFirewallSubnet`
                    : undefined),
        },
        ddosProtection: {
            type: "string",
            scope: "azure",
            description:
                "DDoS Network Protection on the stack's VNet (mspnp/aks-baseline leaves it out for cost): none (Azure's infrastructure protection only), create (a plan in the stack, about $2,944 a month plus overage beyond 100 public IPs) or existing (network.ddosProtectionPlanId, a plan shared across a tenant's VNets; whoever runs `pulumi up` needs Microsoft.Network/ddosProtectionPlans/join/action on that plan, e.g. Network Contributor on it, which the stack cannot grant itself).",
            check: (key, value) => v.checkOneOf(key, value, DDOS_PROTECTION_MODES),
        },
        ddosProtectionPlanId: {
            type: "string",
            scope: "azure",
            defaultText: "none (required with network.ddosProtection existing)",
            description:
                "ARM resource ID of an existing DDoS protection plan (network.ddosProtection existing); the deployer needs Microsoft.Network/ddosProtectionPlans/join/action on it.",
            check: (key, value) => v.checkArmId(key, value, "Microsoft.Network/ddosProtectionPlans"),
        },
    },
    apiServer: {
        authorizedIpRanges: {
            type: "array",
            scope: "azure",
            description:
                "CIDR ranges allowed to reach the public API server (the deployer's and the runners' egress); required on dev and prod unless apiServer.private. The NAT gateway's or the firewall's public IPs are added.",
            check: (key, ranges) => ranges.map((range) => v.checkCidrRange(key, range)),
        },
        vnetIntegration: {
            type: "boolean",
            scope: "azure",
            description:
                "API server VNet integration: the API server gets an internal IP in apiServer.subnetCidr; nodes and pods reach it inside the VNet (required with network.egressType firewall unless apiServer.private).",
        },
        private: {
            type: "boolean",
            scope: "azure",
            description:
                "Private cluster: no public API server endpoint; needs network.runnerSubnetCidr (pulumi up and the workflows then run in the VNet).",
        },
        subnetCidr: {
            type: "string",
            scope: "azure",
            enabledBy: "apiServer.vnetIntegration",
            description: "Subnet delegated to the API server with apiServer.vnetIntegration, /28 or larger.",
            check: (key, value) =>
                v.checkCidrRange(key, value) ??
                (Number(value.split("/")[1]) > 28
                    ? `${key}: ${JSON.stringify(value)} is too small; API server VNet integration needs a /28 or larger`
                    : undefined),
        },
    },
    access: {
        entraIdEnabled: {
            type: "boolean",
            scope: "azure",
            description: "Entra ID authentication with Azure RBAC for Kubernetes (the kubeconfig then needs kubelogin); required in prod.",
        },
        entraAdminGroupObjectIds: {
            type: "array",
            scope: "azure",
            enabledBy: "access.entraIdEnabled",
            description: "Object IDs of Entra ID groups with cluster admin; at least one with access.disableLocalAccounts (so in prod).",
            check: (key, ids) => ids.map((id) => v.checkGuid(key, id)),
        },
        deployerObjectId: {
            type: "string",
            scope: "azure",
            enabledBy: "access.entraIdEnabled",
            defaultText: "the object ID of whoever runs `pulumi up` (getClientConfig)",
            description:
                "Object ID of the principal that runs `pulumi up` (the CI application's service principal): it gets Azure Kubernetes Service RBAC Cluster Admin on the cluster. Set it so that a workstation and CI do not replace each other's grant.",
            check: v.checkGuid,
        },
        previewerObjectId: {
            type: "string",
            scope: "azure",
            enabledBy: "access.entraIdEnabled",
            defaultText: "none: no preview principal is granted anything in the cluster",
            description:
                "Object ID of the pull-request preview principal: it gets the program's dry-run role on the cluster (read and write, no delete, no exec: a server-side-apply dry run is authorized as a write) and its user credentials.",
            check: v.checkGuid,
        },
        disableLocalAccounts: {
            type: "boolean",
            scope: "azure",
            description:
                "Disable the cluster's local accounts (no certificate kubeconfig); needs access.entraIdEnabled and an admin group; required in prod.",
        },
    },
    monitoring: {
        logRetentionDays: {
            type: "integer",
            scope: "azure",
            description: "Log Analytics retention in days, 30-730.",
            check: (key, value) => v.checkIntRange(key, value, 30, 730),
        },
        kubeApiServerLogs: {
            type: "boolean",
            scope: "azure",
            description:
                "Also send the cluster's kube-apiserver log to Log Analytics (verbose and billed by volume; the audit categories are always sent).",
        },
        kubeAuditReads: {
            type: "boolean",
            scope: "azure",
            description:
                "Send the full kube-audit category (reads included) instead of kube-audit-admin; the alert on secret reads in Vault's namespace needs it.",
        },
        alertEmail: {
            type: "string",
            scope: "azure",
            defaultText: "none (prod needs this or monitoring.alertWebhookUrl)",
            description: "E-mail address the audit alerts' action group notifies.",
            check: v.checkEmail,
        },
        alertWebhookUrl: {
            type: "string",
            scope: "azure",
            secret: true,
            defaultText: "none (prod needs this or monitoring.alertEmail)",
            description:
                "https webhook the audit alerts' action group calls (common alert schema): `pulumi config set --path --secret monitoring.alertWebhookUrl <url>`.",
            check: v.checkWebhookUrl,
        },
        managedPrometheus: {
            type: "boolean",
            scope: "azure",
            description:
                "Azure Monitor managed service for Prometheus (as mspnp/aks-baseline): an Azure Monitor workspace, a data collection endpoint and rule associated with the cluster, the metrics add-on, Microsoft's recommended node, pod and cluster alert rules plus an alert when kube-state-metrics' scrape stops arriving, node CPU and memory metric alerts and an Azure Advisor alert, notifying the audit alerts' action group; the DCR's errors to Log Analytics; and the add-on's settings ConfigMap (ama-metrics-settings-configmap in kube-system) keeping the few metrics those rules read beyond its minimal ingestion profile. Ingestion is billed per sample (docs/platform.md, Monthly cost).",
        },
    },
    governance: {
        azurePolicyEnabled: {
            type: "boolean",
            scope: "azure",
            description:
                "The Azure Policy add-on (Gatekeeper) with the built-in restricted pod security initiative, allowed images, internal load balancers and container limits assigned to the cluster.",
        },
        podSecurityPolicyEffect: {
            type: "string",
            scope: "azure",
            enabledBy: "governance.azurePolicyEnabled",
            description:
                "Effect of the Azure Policy assignments on the cluster (restricted pod security, allowed images, internal load balancers, container limits): audit (report) or deny (reject at admission). Exemptions: docs/operations.md, Audit trail.",
            check: (key, value) => v.checkOneOf(key, value, POLICY_EFFECTS),
        },
        defenderEnabled: {
            type: "boolean",
            scope: "azure",
            description: "Microsoft Defender for Containers' sensor on the cluster, reporting to the Log Analytics workspace.",
        },
        resourceLocks: {
            type: "boolean",
            scope: "azure",
            description:
                "CanNotDelete locks on both Key Vaults, the unseal key, the Log Analytics workspace and the backup storage (not the resource group); turn off only for a deliberate teardown (docs/platform.md).",
        },
    },
    keyVault: {
        sku: {
            type: "string",
            scope: "azure",
            description: "Key Vault SKU, standard or premium.",
            check: (key, value) => v.checkOneOf(key, value, KEY_VAULT_SKUS),
        },
        retentionDays: {
            type: "integer",
            scope: "azure",
            description: "Key Vault soft-delete retention in days, 7-90.",
            check: (key, value) => v.checkIntRange(key, value, 7, 90),
        },
        purgeProtection: {
            type: "boolean",
            scope: "azure",
            description: "Key Vault purge protection (cannot be turned off once on; required in prod).",
        },
        networkAclMode: {
            type: "string",
            scope: "azure",
            description:
                "Key Vault firewall default action on the public endpoint, allow or deny (deny needs keyVault.allowedIpRanges; the NAT gateway's or the firewall's IPs are added).",
            check: (key, value) => v.checkOneOf(key, value, NETWORK_ACL_MODES),
        },
        allowedIpRanges: {
            type: "array",
            scope: "azure",
            description: "IPv4 addresses or CIDR ranges let through the Key Vault firewall.",
            check: (key, ranges) => ranges.map((ip) => v.checkCidr(key, ip)),
        },
        privateEndpoints: {
            type: "boolean",
            scope: "azure",
            description:
                "Private endpoints for both Key Vaults in network.privateEndpointSubnetCidr, with the privatelink.vaultcore.azure.net zone linked to the VNet.",
        },
        publicNetworkAccess: {
            type: "boolean",
            scope: "azure",
            description: "Key Vaults' public endpoint; false needs keyVault.privateEndpoints and is required in prod.",
        },
        unsealKeySize: {
            type: "integer",
            scope: "azure",
            description:
                "RSA size of Vault's unseal key: 2048, 3072 or 4096. Create-only: a change fails the up with the migration steps (docs/operations.md).",
            check: (key, value) => v.checkOneOf(key, value, UNSEAL_KEY_SIZES),
        },
        unsealKeyRotationDays: {
            type: "integer",
            scope: "azure",
            description: "Days between automatic unseal key rotations, 28-730, or 0 for none.",
            check: (key, value) => (value === 0 ? undefined : v.checkIntRange(key, value, 28, 730)),
        },
        csiRotationPollInterval: {
            type: "string",
            // The CSI driver only exists to read Key Vault.
            scope: "azure",
            description: "How often the Secrets Store CSI driver re-reads Key Vault objects, a whole number of s, m or h.",
            check: v.checkPollInterval,
        },
    },
    registry: {
        mode: {
            type: "string",
            scope: "azure",
            description:
                "Private registry: none, create (Premium ACR, admin user off, private endpoint with registry.privateEndpoint; the services' images go here) or existing (registry.id); the kubelet identity gets AcrPull on it.",
            check: (key, value) => v.checkOneOf(key, value, REGISTRY_MODES),
        },
        id: {
            type: "string",
            scope: "azure",
            defaultText: "none (required with registry.mode existing)",
            description: "ARM resource ID of an existing container registry (registry.mode existing).",
            check: (key, value) => v.checkArmId(key, value, "Microsoft.ContainerRegistry/registries"),
        },
        privateEndpoint: {
            type: "boolean",
            scope: "azure",
            description:
                "A private endpoint for the registry the stack creates (registry.mode create), in network.privateEndpointSubnetCidr, with the privatelink.azurecr.io zone linked to the VNet.",
        },
        publicNetworkAccess: {
            type: "boolean",
            scope: "azure",
            description: "The created registry's public endpoint; false needs registry.privateEndpoint and is required in prod.",
        },
    },
    backupStorage: {
        privateEndpoint: {
            type: "boolean",
            scope: "azure",
            description:
                "A private endpoint (blob) for the backup storage account, in network.privateEndpointSubnetCidr, with the privatelink.blob.core.windows.net zone linked to the VNet.",
        },
        publicNetworkAccess: {
            type: "boolean",
            scope: "azure",
            description:
                "The backup storage account's public endpoint; false needs backupStorage.privateEndpoint (readers then work from inside the VNet) and is required in prod.",
        },
    },
    ingress: {
        host: {
            type: "string",
            scope: "any",
            defaultText: "app.<environment>.example.com",
            description: "Host the Istio ingress gateway serves over HTTPS; a configured certificate must cover it.",
            check: v.checkHostName,
        },
        tlsCertificate: {
            type: "string",
            scope: "any",
            secret: true,
            defaultText: "none (required in prod; dev generates a CA and a server certificate it signs)",
            description:
                "PEM certificate chain for ingress.host, the server's own certificate first (not a CA's), stored in Key Vault: `pulumi config set --path --secret ingress.tlsCertificate < fullchain.pem`. With ingress.waf, a private CA's chain ends with that CA's root (the Application Gateway's trusted root for its hop to the ingress gateway); a public CA's needs no root.",
        },
        tlsPrivateKey: {
            type: "string",
            scope: "any",
            secret: true,
            defaultText: "none (required in prod; dev generates one)",
            description:
                "Unencrypted PEM private key of ingress.tlsCertificate: `pulumi config set --path --secret ingress.tlsPrivateKey < key.pem`.",
        },
        waf: {
            type: "boolean",
            scope: "azure",
            description:
                "Application Gateway WAF_v2 (OWASP/DRS managed rules) as the only public entry: the Istio ingress gateway's Service becomes an internal load balancer at the first usable address of ingress.lbSubnetCidr, the gateway re-encrypting behind it; the Application Gateway's public IP is exported as ingressPublicIp.",
        },
        wafMode: {
            type: "string",
            scope: "azure",
            enabledBy: "ingress.waf",
            description: "WAF policy mode: Prevention (matching requests are blocked) or Detection (logged only).",
            check: (key, value) => v.checkOneOf(key, value, WAF_MODES),
        },
        appGatewaySubnetCidr: {
            type: "string",
            scope: "azure",
            description:
                "Dedicated subnet of the Application Gateway (ingress.waf), declared with the WAF off too (empty) so that switching it off removes no subnet in use; Azure recommends a /24 for v2 and needs one address per instance plus 5 reserved, so at least ingress.appGatewayMaxCapacity + 5 addresses. A stack with its own network.vnetAddressSpace (upgrading from before the WAF, too) sets it to a free range inside that space.",
            check: v.checkCidrRange,
        },
        lbSubnetCidr: {
            type: "string",
            scope: "azure",
            description:
                "Subnet of the ingress gateway's internal load balancer frontend (ingress.waf), declared with the WAF off too, /29 or larger; its first usable address (the 5th) is the load balancer's static IP, the Application Gateway's backend. A stack with its own network.vnetAddressSpace (upgrading from before the WAF, too) sets it to a free range inside that space.",
            check: (key, value) =>
                v.checkCidrRange(key, value) ??
                (Number(value.split("/")[1]) > 29
                    ? `${key}: ${JSON.stringify(value)} is too small; Azure keeps 5 addresses of every subnet, use a /29 or larger`
                    : undefined),
        },
        appGatewayMinCapacity: {
            type: "integer",
            scope: "azure",
            enabledBy: "ingress.waf",
            description: `Application Gateway autoscale lower bound (instances), ${APP_GATEWAY_CAPACITY.min}-${APP_GATEWAY_CAPACITY.ceiling}; 2 or more keeps an instance through a zone's loss.`,
            check: (key, value) => v.checkIntRange(key, value, APP_GATEWAY_CAPACITY.min, APP_GATEWAY_CAPACITY.ceiling),
        },
        appGatewayMaxCapacity: {
            type: "integer",
            scope: "azure",
            enabledBy: "ingress.waf",
            description: `Application Gateway autoscale upper bound (instances), ${APP_GATEWAY_CAPACITY.maxFloor}-${APP_GATEWAY_CAPACITY.ceiling}, at least ingress.appGatewayMinCapacity.`,
            check: (key, value) => v.checkIntRange(key, value, APP_GATEWAY_CAPACITY.maxFloor, APP_GATEWAY_CAPACITY.ceiling),
        },
    },
    mesh: {
        mtlsMode: {
            type: "string",
            scope: "any",
            description: "Mesh-wide Istio PeerAuthentication mode, STRICT or PERMISSIVE; prod must be STRICT.",
            check: (key, value) => v.checkOneOf(key, value, MESH_MTLS_MODES),
        },
    },
    vault: {
        tlsEnabled: {
            type: "boolean",
            scope: "azure",
            description:
                "TLS on the ha Vault's listener and raft joins, from the stack's internal CA through Key Vault (read in prod only, where it must be true; dev's in-memory dev server has no listener config).",
        },
        voters: {
            type: "integer",
            scope: "azure",
            description: "Raft voters (server replicas) of the ha Vault, 3 or 5, spread across zones (read in prod only).",
            check: (key, value) => v.checkOneOf(key, value, VAULT_VOTER_COUNTS),
        },
        recoveryShares: {
            type: "integer",
            scope: "any",
            description: "Recovery key shares the prod Vault initialisation creates, 1-10 (read in prod only).",
        },
        recoveryThreshold: {
            type: "integer",
            scope: "any",
            description: "Recovery keys needed to regenerate a root token, 2 up to vault.recoveryShares (1 with one share).",
        },
        snapshotSchedule: {
            type: "string",
            scope: "azure",
            description:
                "Cron schedule (five fields, UTC) of the raft snapshot CronJob (prod), at least daily: an alert fires when the newest snapshot is older than twice its longest gap.",
            check: v.checkSnapshotSchedule,
        },
        snapshotRetentionDays: {
            type: "integer",
            scope: "azure",
            description: "Days a raft snapshot blob is kept before the storage lifecycle rule deletes it, 1-3650 (prod).",
            check: (key, value) => v.checkIntRange(key, value, 1, 3650),
        },
        snapshotKeepLast: {
            type: "integer",
            scope: "azure",
            description:
                "Newest raft snapshots the retention never removes, however old, 1-1000 (prod): a long run of failed snapshots cannot empty the container.",
            check: (key, value) => v.checkIntRange(key, value, 1, 1000),
        },
        operatorGroups: {
            type: "array",
            scope: "any",
            description:
                "Kubernetes groups (on AKS with Entra ID: group object IDs) bound to the vault-operator Role, which may run scripts/vault-rollout.sh (prod); empty: cluster admins only.",
        },
    },
    mongodb: {
        backupSchedule: {
            type: "string",
            scope: "azure",
            description:
                "When the MongoDB backup CronJob dumps the database to the stack's backup storage: five cron fields, UTC (minute hour day-of-month month day-of-week).",
            check: v.checkCronSchedule,
        },
        backupRetentionDays: {
            type: "integer",
            scope: "azure",
            description:
                "Days a MongoDB backup (and any old version of it) is kept in the backup storage before the lifecycle policy deletes it, 1-3650.",
            check: (key, value) => v.checkIntRange(key, value, 1, 3650),
        },
    },
    ciRunner: {
        enabled: {
            type: "boolean",
            scope: "azure",
            description:
                "Ephemeral self-hosted GitHub Actions runners inside the VNet: an Azure Container Apps job in network.runnerSubnetCidr (delegated to Microsoft.App/environments, egress through the stack's egress), started per queued job by KEDA's github-runner scaler. prod's deploy, preview and drift workflows run there, since its API server admits only the stack's egress IPs (docs/delivery.md).",
        },
        repository: {
            type: "string",
            scope: "azure",
            enabledBy: "ciRunner.enabled",
            defaultText: "none (required with ciRunner.enabled)",
            description: "The GitHub repository (owner/name) whose workflow jobs the runners take.",
            check: v.checkGithubRepository,
        },
        githubToken: {
            type: "string",
            scope: "azure",
            secret: true,
            enabledBy: "ciRunner.enabled",
            defaultText: "none (required with ciRunner.enabled)",
            description:
                "GitHub token of that repository for runner registration and the scaler's queue reads (fine-grained: Administration read/write, Actions read, Metadata read), a secret of the runner job: `pulumi config set --path --secret ciRunner.githubToken`.",
        },
        maxRunners: {
            type: "integer",
            scope: "azure",
            enabledBy: "ciRunner.enabled",
            description: "Runners at most at once, 1-20.",
            check: (key, value) => v.checkIntRange(key, value, 1, 20),
        },
    },
    services: {
        imageSource: {
            type: "string",
            scope: "any",
            description:
                "Where the services' images come from: build (the program builds services/Dockerfile with a Docker engine at `up` time, pushes to the stack's registry and deploys by digest), import (the program copies the CI-built <service>Image:<service>Tag into the stack's registry with ARM's importImage, which needs no public registry endpoint) or config (deploys <service>Image:<service>Tag as named).",
            check: (key, value) => v.checkOneOf(key, value, IMAGE_SOURCES),
        },
        imageSourceUsername: {
            type: "string",
            scope: "azure",
            defaultText: "none (an anonymous pull)",
            description:
                "User name for the registry services.imageSource import copies from (GHCR: any user name with services.imageSourceToken).",
        },
        imageSourceToken: {
            type: "string",
            scope: "azure",
            secret: true,
            defaultText: "none (an anonymous pull)",
            description:
                "Token for that registry (GHCR: a token with read:packages, since packages are private by default): `pulumi config set --path --secret services.imageSourceToken`.",
        },
        productImage: {
            type: "string",
            scope: "any",
            defaultText: "none (required with services.imageSource config or import)",
            description:
                "Image repository of product-service, without tag, e.g. ghcr.io/<owner>/product-service: deployed (services.imageSource config), imported (import) and the GitOps path's image.",
            check: v.checkImageRepository,
        },
        productTag: {
            type: "string",
            scope: "any",
            defaultText: "none (required with services.productImage)",
            description:
                "Pinned image tag of product-service (not latest), or its digest sha256:<64 hex> (deployed as repository@sha256:...).",
            check: v.checkImageTag,
        },
        orderImage: {
            type: "string",
            scope: "any",
            defaultText: "none (required with services.imageSource config or import)",
            description: "Image repository of order-service, without tag (as services.productImage).",
            check: v.checkImageRepository,
        },
        orderTag: {
            type: "string",
            scope: "any",
            defaultText: "none (required with services.orderImage)",
            description: "Pinned image tag of order-service (not latest), or its digest sha256:<64 hex>.",
            check: v.checkImageTag,
        },
    },
    argocd: {
        enabled: {
            type: "boolean",
            scope: "any",
            description: "Install Argo CD and hand the services to it (app-of-apps) instead of deploying them as Helm releases.",
        },
        repoUrl: {
            type: "string",
            scope: "any",
            enabledBy: "argocd.enabled",
            defaultText: "none (required with argocd.enabled)",
            description: "Git repository Argo CD deploys from (https or ssh).",
            check: v.checkGitUrl,
        },
        path: {
            type: "string",
            scope: "any",
            enabledBy: "argocd.enabled",
            defaultText: "argocd/apps/<environment>",
            description: "Folder of the environment's Application manifests in that repository.",
            check: v.checkRelativePath,
        },
        revision: {
            type: "string",
            scope: "any",
            enabledBy: "argocd.enabled",
            description: "Branch, tag or commit Argo CD tracks.",
        },
    },
    local: {
        kubeconfigContext: {
            type: "string",
            scope: "none",
            defaultText: "the kubeconfig's current context at each pulumi up",
            description:
                "Kubeconfig context of the existing cluster the local stack deploys to, e.g. kind-kind, k3d-dev, minikube, microk8s.",
            check: v.checkKubeconfigContext,
        },
        vaultMode: {
            type: "string",
            scope: "none",
            description:
                "Vault on the existing cluster: dev (one in-memory dev server) or ha (three raft voters with TLS from a generated CA, auto-unsealed by an in-cluster transit unsealer, initialised, bootstrapped and snapshotted by the same Jobs as prod; needs three schedulable nodes, docs/local.md).",
            check: (key, value) => v.checkOneOf(key, value, LOCAL_VAULT_MODES),
        },
        // The existing cluster's network, which its NetworkPolicies must name (workloads/networkPolicies.ts
        // clusterNetwork): the defaults are kind's; other local clusters differ (docs/local.md).
        podCidr: {
            type: "string",
            scope: "none",
            description:
                "Pod CIDR of the existing cluster (kind 10.244.0.0/16, k3d 10.42.0.0/16, minikube 10.244.0.0/16, MicroK8s 10.1.0.0/16): excluded from the addresses NetworkPolicies treat as nodes, the API server or the internet.",
            check: v.checkCidrRange,
        },
        serviceCidr: {
            type: "string",
            scope: "none",
            description:
                "Service CIDR of the existing cluster (kind 10.96.0.0/16, k3d 10.43.0.0/16, minikube 10.96.0.0/12, MicroK8s 10.152.183.0/24), disjoint from local.podCidr.",
            check: v.checkCidrRange,
        },
        apiServerPort: {
            type: "integer",
            scope: "none",
            description:
                "Port of the existing cluster's API server behind the kubernetes Service, which NetworkPolicies see after DNAT (kind and k3d 6443, minikube 8443, MicroK8s 16443); 443 is allowed too.",
            check: (key, value) => v.checkIntRange(key, value, 1, 65535),
        },
    },
} as const satisfies Record<string, Record<string, AnyKeySpec>>;

export type Groups = typeof CONFIG_GROUPS;
export type GroupName = keyof Groups;
export type MemberName<G extends GroupName> = keyof Groups[G] & string;
/** A member's path, `<group>.<member>` (what `pulumi config set --path` takes), or "environment". */
export type ConfigPath = "environment" | { [G in GroupName]: `${G}.${MemberName<G>}` }[GroupName];
/** What each group configures: the heading of its table in docs/configuration.md and its `pulumi new` prompt. */
export const GROUP_TITLES: { readonly [G in GroupName]: string } = {
    azure: "Azure placement and naming: region, name prefix, tags",
    cluster: "The AKS cluster: Kubernetes version, pricing tier, upgrade channels, maintenance window",
    systemPool: "The system node pool",
    userPool: "The optional user node pool for workloads",
    network: "The VNet, its subnets, the overlay CIDRs, node egress and DDoS protection",
    apiServer: "Access to the API server: authorized ranges, VNet integration, private cluster",
    access: "Entra ID authentication and the principals granted the cluster",
    monitoring: "Log Analytics, the audit alerts and managed Prometheus",
    governance: "Azure Policy, Defender for Containers and resource locks",
    keyVault: "The Key Vaults, their network access, and Vault's unseal key",
    registry: "The private container registry",
    backupStorage: "Network access of the backup storage account",
    ingress: "The ingress gateway's host and certificate, and the Application Gateway WAF",
    mesh: "The Istio mesh",
    vault: "HashiCorp Vault: TLS, raft voters, recovery keys, snapshots, operators",
    mongodb: "MongoDB backups",
    ciRunner: "Self-hosted GitHub Actions runners inside the VNet",
    services: "Where the services' images come from",
    argocd: "Argo CD (GitOps delivery of the services)",
    local: "The existing cluster of the local stack",
};

type MemberValue<S> = S extends { readonly type: infer T extends ConfigType } ? ValueOf<T> : never;

/** A default as DEFAULTS holds it: the value, or derived from the environment. */
export type DefaultValue<V> = V | ((environment: Environment) => V);
type DefaultsBlock = {
    readonly [G in GroupName]?: { readonly [M in MemberName<G>]?: DefaultValue<MemberValue<Groups[G][M]>> };
};
interface DefaultsTable {
    /** Every environment's default, unless its own block says otherwise. */
    readonly shared: DefaultsBlock;
    readonly dev: DefaultsBlock;
    readonly prod: DefaultsBlock;
    /** Where local differs from dev (local otherwise takes dev's). */
    readonly local: DefaultsBlock;
}

/**
 * Every default, in one place. A member is in `shared` or in both `dev` and `prod` (prod's block is
 * exactly where prod differs from dev); `local` takes dev's unless its own block says otherwise. A
 * member in none of them has no default (the table's `defaultText` says what happens then).
 */
export const DEFAULTS = {
    shared: {
        azure: { location: "eastus", namePrefix: "gitops", tags: [] },
        cluster: {
            kubernetesVersion: DEFAULT_KUBERNETES_VERSION,
            autoUpgradeChannel: "patch",
            nodeOsUpgradeChannel: "NodeImage",
            maintenanceDay: "Sunday",
            maintenanceStartHour: 2,
            maintenanceDurationHours: 4,
        },
        systemPool: { osDiskSizeGb: DEFAULT_OS_DISK_SIZE_GB },
        userPool: {
            osDiskSizeGb: DEFAULT_OS_DISK_SIZE_GB,
            nodeCount: 3,
            autoscaling: true,
            minCount: 3,
            maxCount: 10,
            zones: ["1", "2", "3"],
        },
        network: {
            podCidr: "10.244.0.0/16",
            serviceCidr: "10.0.0.0/16",
            vnetAddressSpace: "10.240.0.0/16",
            systemSubnetCidr: "10.240.0.0/22",
            userSubnetCidr: "10.240.4.0/22",
            privateEndpointSubnetCidr: "10.240.8.0/24",
            natGatewayPublicIpCount: 1,
            perZoneNodePools: false,
            firewallSubnetCidr: "10.240.12.0/26",
            ddosProtection: "none",
        },
        apiServer: { authorizedIpRanges: [], private: false, subnetCidr: "10.240.9.0/28" },
        access: { entraAdminGroupObjectIds: [] },
        monitoring: { logRetentionDays: 30, kubeApiServerLogs: false },
        keyVault: { sku: "standard", allowedIpRanges: [], unsealKeySize: 3072, unsealKeyRotationDays: 0, csiRotationPollInterval: "2m" },
        registry: { mode: "create" },
        ingress: {
            host: (environment) => `app.${environment}.example.com`,
            appGatewaySubnetCidr: "10.240.14.0/24",
            lbSubnetCidr: "10.240.13.0/28",
        },
        mesh: { mtlsMode: "STRICT" },
        vault: {
            tlsEnabled: true,
            voters: 3,
            recoveryShares: 5,
            recoveryThreshold: 3,
            snapshotSchedule: "0 */6 * * *",
            snapshotRetentionDays: 30,
            snapshotKeepLast: 7,
            operatorGroups: [],
        },
        ciRunner: { maxRunners: 3 },
        argocd: { enabled: false, path: (environment) => `argocd/apps/${environment}`, revision: "main" },
        local: {
            vaultMode: "dev",
            podCidr: KIND_NETWORK.podSubnet,
            serviceCidr: KIND_NETWORK.serviceSubnet,
            apiServerPort: KIND_NETWORK.apiServerPort,
        },
    },
    dev: {
        cluster: { tier: "Free" },
        systemPool: {
            vmSize: "Standard_D2s_v5",
            nodeCount: 2,
            autoscaling: false,
            minCount: 1,
            maxCount: 3,
            zones: [],
            osDiskType: "Managed",
        },
        userPool: { enabled: false, vmSize: "Standard_D4s_v5", osDiskType: "Managed" },
        network: { egressType: "loadBalancer" },
        apiServer: { vnetIntegration: false },
        access: { entraIdEnabled: false, disableLocalAccounts: false },
        monitoring: { kubeAuditReads: false, managedPrometheus: false },
        governance: { azurePolicyEnabled: false, podSecurityPolicyEffect: "audit", defenderEnabled: false, resourceLocks: false },
        keyVault: { retentionDays: 7, purgeProtection: false, networkAclMode: "allow", privateEndpoints: false, publicNetworkAccess: true },
        registry: { privateEndpoint: false, publicNetworkAccess: true },
        backupStorage: { privateEndpoint: false, publicNetworkAccess: true },
        ingress: { waf: false, wafMode: "Detection", appGatewayMinCapacity: 0, appGatewayMaxCapacity: 2 },
        mongodb: { backupSchedule: "30 2 * * *", backupRetentionDays: 7 },
        ciRunner: { enabled: false },
        services: { imageSource: "build" },
    },
    prod: {
        cluster: { tier: "Standard" },
        systemPool: {
            vmSize: "Standard_D4ds_v5",
            nodeCount: 3,
            autoscaling: true,
            minCount: 3,
            maxCount: 5,
            zones: ["1", "2", "3"],
            osDiskType: "Ephemeral",
        },
        userPool: { enabled: true, vmSize: "Standard_D4ds_v5", osDiskType: "Ephemeral" },
        network: { egressType: "firewall" },
        apiServer: { vnetIntegration: true },
        access: { entraIdEnabled: true, disableLocalAccounts: true },
        monitoring: { kubeAuditReads: true, managedPrometheus: true },
        governance: { azurePolicyEnabled: true, podSecurityPolicyEffect: "deny", defenderEnabled: true, resourceLocks: true },
        keyVault: { retentionDays: 90, purgeProtection: true, networkAclMode: "deny", privateEndpoints: true, publicNetworkAccess: false },
        registry: { privateEndpoint: true, publicNetworkAccess: false },
        backupStorage: { privateEndpoint: true, publicNetworkAccess: false },
        ingress: { waf: true, wafMode: "Prevention", appGatewayMinCapacity: 2, appGatewayMaxCapacity: 10 },
        mongodb: { backupSchedule: "0 */6 * * *", backupRetentionDays: 35 },
        ciRunner: { enabled: true },
        services: { imageSource: "import" },
    },
    local: {
        services: { imageSource: "config" },
    },
} as const satisfies DefaultsTable;

type DefaultedIn<B, G> = G extends keyof B ? keyof B[G] : never;
type Defaulted<G extends GroupName> = DefaultedIn<(typeof DEFAULTS)["shared"], G> | DefaultedIn<(typeof DEFAULTS)["dev"], G>;

/** The typed, defaulted configuration: undefined where a member has no default and is unset. */
export type ConfigValues = { readonly environment: Environment } & {
    readonly [G in GroupName]: {
        readonly [M in MemberName<G>]: MemberValue<Groups[G][M]> | (M extends Defaulted<G> ? never : undefined);
    };
};
/** The typed value at a path. */
export type PathValue<P extends ConfigPath> = P extends "environment"
    ? Environment
    : P extends `${infer G extends GroupName}.${infer M}`
      ? M extends keyof ConfigValues[G]
          ? ConfigValues[G][M]
          : never
      : never;

export const GROUP_NAMES = Object.keys(CONFIG_GROUPS) as GroupName[];

/** Every path, in docs/configuration.md's order: environment, then each group's members. */
export const CONFIG_PATHS: readonly ConfigPath[] = [
    "environment",
    ...GROUP_NAMES.flatMap((group) => membersOf(group).map((member) => `${group}.${member}` as ConfigPath)),
];

const PATH_SET: ReadonlySet<string> = new Set(CONFIG_PATHS);
export function isConfigPath(path: string): path is ConfigPath {
    return PATH_SET.has(path);
}

/** Whether a member may be set on `environment`'s stack: an Azure-only member not on local, a local-only one not on Azure. */
export function inScope(spec: KeySpec, environment: Environment): boolean {
    const cloud = cloudOf(environment);
    return !((spec.scope === "azure" && cloud === "none") || (spec.scope === "none" && cloud === "azure"));
}

/** Whether `group` has a secret member (its value may then be secret as a whole: the CLI marks the key). */
export function groupHoldsSecret(group: GroupName): boolean {
    return Object.values(CONFIG_GROUPS[group] as Record<string, KeySpec>).some((spec) => spec.secret === true);
}

/** The members of `group`, in table order. */
export function membersOf(group: GroupName): readonly string[] {
    return Object.keys(CONFIG_GROUPS[group]);
}

/** The group and member of a path (environment has no group). */
export function splitPath(path: ConfigPath): { group?: GroupName; member: string } {
    const dot = path.indexOf(".");
    return dot < 0 ? { member: path } : { group: path.slice(0, dot) as GroupName, member: path.slice(dot + 1) };
}

export function specOf(path: ConfigPath): KeySpec {
    const { group, member } = splitPath(path);
    if (group === undefined) return ENVIRONMENT_SPEC as KeySpec;
    return (CONFIG_GROUPS[group] as Record<string, KeySpec>)[member];
}

/** `path`'s entry in one block of DEFAULTS, if the block has one (docs.ts states each block's). */
export function defaultEntry(block: DefaultsBlock, path: ConfigPath): { value: unknown } | undefined {
    const { group, member } = splitPath(path);
    const members = group === undefined ? undefined : (block[group] as Record<string, unknown> | undefined);
    return members !== undefined && member in members ? { value: members[member] } : undefined;
}

/** Where `path`'s default for `environment` comes from: its environment's block (local: local's, then dev's), else shared. */
function rawDefault(path: ConfigPath, environment: Environment): unknown {
    const blocks: DefaultsBlock[] = environment === "local" ? [DEFAULTS.local, DEFAULTS.dev] : [DEFAULTS[environment]];
    for (const block of [...blocks, DEFAULTS.shared]) {
        const entry = defaultEntry(block, path);
        if (entry !== undefined) return entry.value;
    }
    return undefined;
}

/** The default of `path` for `environment`, or undefined where it has none. */
export function defaultOf(path: ConfigPath, environment: Environment): unknown {
    const d = rawDefault(path, environment);
    return typeof d === "function" ? (d as (e: Environment) => unknown)(environment) : d;
}

/** Where each key of the old flat layout went (layout.ts), for the message a stack file with one gets. */
export function flatKeyPath(key: string): ConfigPath | undefined {
    return Object.hasOwn(FLAT_KEY_PATHS, key) ? FLAT_KEY_PATHS[key as keyof typeof FLAT_KEY_PATHS] : undefined;
}
