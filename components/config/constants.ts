// The enumerations and fixed names stack configuration is checked against.
import { appNamespace as topologyAppNamespace, NAMESPACES, RELEASES } from "../topology";

export const ENVIRONMENTS = ["dev", "prod", "local"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/**
 * Where a stack's cluster and secrets come from, derived from the environment (never a flag of its
 * own): azure (dev, prod) creates AKS, Key Vaults and workload identities; none (local) deploys into
 * an existing cluster of the kubeconfig, with Kubernetes Secrets where Key Vault would be.
 */
export type Cloud = "azure" | "none";
export function cloudOf(environment: Environment): Cloud {
    return environment === "local" ? "none" : "azure";
}

export const CLUSTER_TIERS = ["Free", "Standard", "Premium"] as const;
export const UPGRADE_CHANNELS = ["none", "patch", "stable", "rapid", "node-image"] as const;
/** Channels that never change the Kubernetes version, so a patch-level kubernetesVersion stays true. */
export const VERSION_KEEPING_CHANNELS: readonly (typeof UPGRADE_CHANNELS)[number][] = ["none", "node-image"];
/**
 * Channels that move the cluster to a newer minor on their own: once the cluster exists, the program
 * stops sending its version fields (components/azure/aksCluster.ts, channelOwnedVersionPaths).
 */
export const VERSION_OWNING_CHANNELS: readonly (typeof UPGRADE_CHANNELS)[number][] = ["stable", "rapid"];
export const NODE_OS_UPGRADE_CHANNELS = ["None", "Unmanaged", "NodeImage", "SecurityPatch"] as const;
export const WEEK_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"] as const;
export const UNSEAL_KEY_SIZES = [2048, 3072, 4096] as const;
export const NETWORK_ACL_MODES = ["allow", "deny"] as const;
export const KEY_VAULT_SKUS = ["standard", "premium"] as const;
export const MESH_MTLS_MODES = ["STRICT", "PERMISSIVE"] as const;
/**
 * How nodes reach the internet: the AKS load balancer (dev: no extra cost, egress IP chosen by AKS), a
 * NAT gateway with static public IPs this stack creates (known before the cluster exists), or an Azure
 * Firewall this stack creates, reached through a route table (user-defined routing; prod's default).
 */
export const EGRESS_TYPES = ["loadBalancer", "natGateway", "firewall"] as const;
/**
 * A node pool's OS disk (azure-native 3.28.0 containerservice OSDiskType): a managed disk replicated in
 * Azure Storage, or an ephemeral one on the VM's local storage (faster node start, scale and reimage; no
 * disk to pay for). MicrosoftDocs/azure-aks-docs articles/aks/concepts-storage.md, "Ephemeral OS disk".
 */
export const OS_DISK_TYPES = ["Managed", "Ephemeral"] as const;
/**
 * Local temporary storage (GiB) of the VM sizes whose ephemeral OS disk config can check exactly: the
 * Ddv5 and Ddsv5 series (MicrosoftDocs/azure-docs articles/virtual-machines/ddv5-ddsv5-series.md, "Temp
 * storage (SSD) GiB"). Since v5 the D-series have no dedicated cache, so an ephemeral OS disk sits on this
 * temporary disk and must fit in it (concepts-storage.md: "The latest generation of VM series doesn't
 * have a dedicated cache, but only temporary storage"). mspnp/aks-baseline runs Standard_D2d_v5 (64 GiB)
 * and Standard_D4d_v5 (120 GiB) ephemeral (workload-team/cluster-stamp.bicep).
 */
export const LOCAL_TEMP_DISK_GIB: Readonly<Record<string, number>> = Object.fromEntries(
    (
        [
            [2, 75],
            [4, 150],
            [8, 300],
            [16, 600],
            [32, 1200],
            [48, 1800],
            [64, 2400],
            [96, 2400],
        ] as const
    ).flatMap(([vcpu, gib]) => [
        [`Standard_D${vcpu}d_v5`, gib],
        [`Standard_D${vcpu}ds_v5`, gib],
    ]),
);
/** OS disk sizes AKS accepts for a Linux pool (azure-native containerservice osDiskSizeGB: 0-2048; 30 the smallest image). */
export const OS_DISK_SIZE_GB = { min: 30, max: 2048 } as const;
/**
 * The OS disk AKS gives a pool of 1-7 vCPUs when none is requested (concepts-storage.md, "Default OS disk
 * sizing": P10/128G): the size prod's ephemeral disks keep, so that a node has the room it had on a
 * managed disk (images, logs, emptyDir).
 */
export const DEFAULT_OS_DISK_SIZE_GB = 128;
/**
 * DDoS Network Protection on the stack's VNet: none (Azure's always-on infrastructure protection only),
 * a plan the stack creates, or an existing plan by ID (one plan covers the VNets of many subscriptions of
 * a tenant: MicrosoftDocs/azure-docs articles/ddos-protection/ddos-protection-overview.md).
 */
export const DDOS_PROTECTION_MODES = ["none", "create", "existing"] as const;
/** Web application firewall policy modes (azure-native network WebApplicationFirewallMode). */
export const WAF_MODES = ["Prevention", "Detection"] as const;
/**
 * Application Gateway v2 autoscale bounds (azure-native 3.28.0 network
 * ApplicationGatewayAutoscaleConfiguration: minCapacity "Lower bound on number of Application Gateway
 * capacity", minimum 0; maxCapacity "Upper bound", minimum 2) and the 125 instances a v2 gateway can
 * reach (learn.microsoft.com/azure/application-gateway/configuration-infrastructure, "Size of the subnet").
 */
export const APP_GATEWAY_CAPACITY = { min: 0, maxFloor: 2, ceiling: 125 } as const;
/** Addresses Azure keeps in every subnet: the first four and the last (configuration-infrastructure, "Size of the subnet"). */
export const AZURE_RESERVED_SUBNET_ADDRESSES = 5;
/**
 * The availability zones a pool may name (checkZones). With perZoneNodePools every one of them has its
 * node subnets, whether or not a pool uses it yet (components/azure/network.ts).
 */
export const AVAILABILITY_ZONES = ["1", "2", "3"] as const;
/**
 * Every node pool's upgrade surge, a percentage of the pool's size at the time of the upgrade, fractional
 * nodes rounded up (azure-native 3.28.0 containerservice AgentPoolUpgradeSettings.maxSurge: "If a
 * percentage is specified, it is the percentage of the total agent pool size at the time of the upgrade.
 * For percentages, fractional nodes are rounded up").
 */
export const POOL_MAX_SURGE_PERCENT = 33;
/** none: public images only; create: a Premium registry in the stack; existing: one referenced by ID. */
export const REGISTRY_MODES = ["none", "create", "existing"] as const;
/**
 * Where the services' images come from: built by the program from services/ into the stack's registry
 * (build), imported into it from a registry the CI pushed to (import), or named by config (config).
 */
export const IMAGE_SOURCES = ["build", "import", "config"] as const;

/** Length of the random suffix that makes Key Vault names globally unique. */
export const NAME_SUFFIX_LENGTH = 4;
/** Longest Key Vault name Azure accepts. */
export const KEY_VAULT_NAME_MAX = 24;
/**
 * The Kubernetes minors AKS serves, as of `asOf`. AKS supports three GA minors (N-2) for 12 months from
 * their AKS GA each, and creates clusters on no older one (MicrosoftDocs/azure-aks-docs
 * articles/aks/supported-kubernetes-versions.md, "Kubernetes version support policy", "Platform support
 * policy": cluster creation is not supported at N-3); AKS GA follows the upstream release by about three
 * months. Upstream end of life (kubernetes.io/releases): 1.33 on 2026-06-28, 1.34 on 2026-10-27, 1.35 on
 * 2027-02-28, 1.36 on 2027-06-28, so 1.34 left AKS support in 2026-11. Long-term support (Premium tier,
 * supportPlan AKSLongTermSupport) keeps older minors, but the program does not set it. Check with
 * `az aks get-versions --location <region>` and move these forward with the AKS release calendar.
 */
export const AKS_KUBERNETES_MINORS = { oldest: 35, newest: 36, asOf: "2026-12" } as const;
/** Oldest Kubernetes minor version we accept: the oldest AKS still supports. */
export const MIN_KUBERNETES_MINOR = AKS_KUBERNETES_MINORS.oldest;
/** A new stack's Kubernetes version: the newest minor AKS serves (and the e2e runs). */
export const DEFAULT_KUBERNETES_VERSION = `1.${AKS_KUBERNETES_MINORS.newest}`;
/**
 * The StorageClass the platform layer creates for Vault's raft volumes: Premium_ZRS through the Azure
 * Disk CSI driver, so a volume survives the loss of its zone (prod).
 */
export const VAULT_ZRS_STORAGE_CLASS = "vault-premium-zrs";
/** HashiCorp Vault's namespace: its server and, in prod, its initialisation Job run here (components/topology.ts). */
export const VAULT_NAMESPACE = NAMESPACES.vault;
/** Vault's Helm release name: the chart's fullname, which its Services, pods and service account follow. */
export const VAULT_RELEASE = RELEASES.vault;

/** The lab's two HTTP services (components/topology.ts). */
export { SERVICE_NAMES, type ServiceName } from "../topology";
/**
 * The one Dockerfile of both services, relative to the repository root (its build context, where the
 * workspace lockfile is), and the build argument naming the service. The images workflow, the e2e
 * workflow and the program's image build use these (tests/workflows.test.ts checks the workflows).
 */
export const SERVICE_DOCKERFILE = "services/Dockerfile";
/**
 * The runner subnet when ciRunner.enabled and network.runnerSubnetCidr is unset: inside the default VNet,
 * clear of the other default subnets, and larger than the /27 a Container Apps workload-profiles
 * environment needs.
 */
export const CI_RUNNER_SUBNET_DEFAULT = "10.240.10.0/24";
/** The delegation Container Apps requires on a workload-profiles environment's subnet (learn.microsoft.com, Container Apps networking). */
export const CONTAINER_APPS_DELEGATION = "Microsoft.App/environments";
/** The runner label of an environment's workflows: runs-on: [self-hosted, <this>] (the workflows spell it out; a test checks). */
export function ciRunnerLabel(environment: Environment): string {
    return `aks-platform-${environment}`;
}
export const SERVICE_BUILD_ARG = "SERVICE";

/** The namespace the applications run in, one per environment as in the lab (components/topology.ts). */
export function appNamespace(environment: Environment): string {
    return topologyAppNamespace(environment);
}

/** Effects of the Azure Policy pod security initiative assignment (audit reports, deny rejects at admission). */
export const POLICY_EFFECTS = ["audit", "deny"] as const;
/** Raft voter counts the ha Vault accepts: odd, so a quorum survives one (3) or two (5) lost voters. */
export const VAULT_VOTER_COUNTS: readonly number[] = [3, 5];
/**
 * How the local stack runs Vault: dev (one in-memory dev server, the default) or ha (raft voters with
 * TLS, auto-unsealed by an in-cluster transit unsealer, initialised by the prod init Job: the e2e
 * workflow's kind-vault-ha job).
 */
export const LOCAL_VAULT_MODES = ["dev", "ha"] as const;
