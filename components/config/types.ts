// The typed configuration the components receive. Only this folder reads stack config.
import type * as pulumi from "@pulumi/pulumi";
import type {
    CLUSTER_TIERS,
    EGRESS_TYPES,
    Cloud,
    Environment,
    KEY_VAULT_SKUS,
    MESH_MTLS_MODES,
    NETWORK_ACL_MODES,
    NODE_OS_UPGRADE_CHANNELS,
    OS_DISK_TYPES,
    REGISTRY_MODES,
    IMAGE_SOURCES,
    POLICY_EFFECTS,
    ServiceName,
    UNSEAL_KEY_SIZES,
    UPGRADE_CHANNELS,
    WAF_MODES,
    WEEK_DAYS,
} from "./constants";

/** A container image: repository and a pinned tag. */
export interface ImageRef {
    readonly repository: string;
    readonly tag: string;
}

export interface NodePoolConfig {
    /** Azure VM size of the pool's nodes. */
    readonly vmSize: string;
    /** Node count when autoscaling is off, initial count when it is on. */
    readonly nodeCount: number;
    /** Whether the cluster autoscaler manages the pool. */
    readonly autoscaling: boolean;
    /** Autoscaler bounds (equal to nodeCount when autoscaling is off). */
    readonly minCount: number;
    readonly maxCount: number;
    /** Availability zones the pool spreads across; empty for no zones. */
    readonly zones: readonly string[];
    /** Managed (a disk in Azure Storage) or Ephemeral (on the VM's local storage); undefined: not sent, AKS chooses. */
    readonly osDiskType?: (typeof OS_DISK_TYPES)[number];
    /** OS disk size in GiB; undefined: AKS's default for the VM size (managed disks only). */
    readonly osDiskSizeGb?: number;
}

export interface MaintenanceWindowConfig {
    readonly dayOfWeek: (typeof WEEK_DAYS)[number];
    /** Start hour, UTC. */
    readonly startHour: number;
    readonly durationHours: number;
}

/** A Kubernetes service account: the subject of one federated credential. */
export interface ServiceAccountRef {
    readonly namespace: string;
    readonly name: string;
}

/**
 * Where the Azure layer and the in-cluster layer meet. Each identity's federated subjects are defined
 * here once; the Azure side federates exactly these and the Kubernetes side creates exactly these.
 */
export interface IdentityBindings {
    /** HashiCorp Vault's server: unwraps its root key with the unseal key. */
    readonly vaultUnseal: readonly ServiceAccountRef[];
    /** The applications: read their secrets from the application Key Vault through the CSI driver. */
    readonly appSecrets: readonly ServiceAccountRef[];
    /** The Istio ingress gateway: reads its TLS certificate and key from the application Key Vault. */
    readonly ingressTls: readonly ServiceAccountRef[];
    /** The prod Vault initialisation Job: writes the recovery keys to Key Vault. Empty in dev (no Job). */
    readonly vaultInit: readonly ServiceAccountRef[];
    /** The MongoDB backup CronJob: writes dumps to its backup container. Empty without Azure (no backups). */
    readonly mongoBackup: readonly ServiceAccountRef[];
    /** The prod raft snapshot CronJob: writes snapshots to the backup storage container. Empty in dev. */
    readonly vaultSnapshot: readonly ServiceAccountRef[];
    /**
     * The Vault TLS renewal CronJob (prod with Vault TLS): signs the next server certificate with the
     * internal CA and writes it to Key Vault. Empty without Vault TLS.
     */
    readonly vaultTlsRenew: readonly ServiceAccountRef[];
}

export interface Names {
    readonly resourceGroup: string;
    readonly cluster: string;
    readonly dnsPrefix: string;
    readonly logAnalytics: string;
    readonly appInsights: string;
    /** Key Vault names without the random suffix; the suffix is appended by the Azure layer. */
    readonly appVaultStem: string;
    readonly unsealVaultStem: string;
    readonly unsealKey: string;
    /** Backup storage account name without the random suffix (no hyphens: storage names allow none). */
    readonly backupStorageStem: string;
}

/** Who can reach the API server. */
export interface ApiServerConfig {
    /** CIDR ranges allowed to the public endpoint (empty: any, dev only); the egress IPs are added. */
    readonly authorizedIpRanges: readonly string[];
    /** API server VNet integration in the network's apiServer subnet. */
    readonly vnetIntegration: boolean;
    /** No public endpoint (private cluster). */
    readonly private: boolean;
}

/** The stack's VNet: address ranges of its subnets (absent where not used) and how nodes leave it. */
export interface NetworkConfig {
    readonly addressSpace: string;
    readonly subnets: {
        readonly system: string;
        readonly user?: string;
        readonly privateEndpoints: string;
        readonly apiServer?: string;
        readonly runner?: string;
        /** AzureFirewallSubnet (egress type firewall). */
        readonly firewall?: string;
        /** The Application Gateway's dedicated subnet (ingress WAF). */
        readonly appGateway?: string;
        /** The ingress gateway's internal load balancer frontend (ingress WAF). */
        readonly ingressLb?: string;
    };
    /** The delegation the runner subnet carries (the CI runner's Container Apps environment needs one). */
    readonly runnerDelegation?: string;
    /**
     * The internet enters through the Application Gateway (ingress.waf), not the node subnets. Its two
     * subnets exist either way, so that turning the WAF off does not remove a subnet still in use.
     */
    readonly wafIngress: boolean;
    /**
     * perZoneNodePools: every zoned pool split into one pool per zone, each on its zone's node subnet
     * (snet-<role>-z<N> for every zone of AVAILABILITY_ZONES), whatever the egress type.
     */
    readonly perZoneNodePools: boolean;
    readonly egress: {
        readonly type: (typeof EGRESS_TYPES)[number];
        /** Static public IPs of the NAT gateway (type natGateway). */
        readonly natGatewayPublicIpCount: number;
    };
    /** DDoS Network Protection on the VNet: absent (none), a plan the stack creates, or an existing plan's ID. */
    readonly ddosProtection?: { readonly mode: "create" } | { readonly mode: "existing"; readonly planId: string };
}

/** The ingress WAF (ingress.waf): the Application Gateway and the internal load balancer behind it. */
export interface IngressWafConfig {
    readonly mode: (typeof WAF_MODES)[number];
    readonly minCapacity: number;
    readonly maxCapacity: number;
    /** The internal load balancer's static frontend address: the first usable one of the ingressLb subnet. */
    readonly internalLoadBalancerIp: string;
}

export interface PlatformConfig {
    readonly project: string;
    readonly stack: string;
    readonly environment: Environment;
    /** azure: the stack creates its AKS cluster and Key Vaults; none: an existing cluster, no Azure at all. */
    readonly cloud: Cloud;
    /** cloud none: kubeconfig context of the existing cluster; undefined means the kubeconfig's current context. */
    readonly kubeconfigContext?: string;
    /** cloud none: the existing cluster's pod and Service ranges and API server port (defaults: kind's). */
    readonly localCluster: { readonly podCidr: string; readonly serviceCidr: string; readonly apiServerPort: number };
    // From here to `unsealKey`: settings of the Azure resources, read only where cloud is azure (a stack
    // without Azure rejects their keys and holds the defaults, which nothing reads).
    readonly location: string;
    readonly namePrefix: string;
    readonly names: Names;
    /** Tags on every Azure resource that takes them: project, stack, environment, plus `azure.tags`. */
    readonly tags: Readonly<Record<string, string>>;
    readonly cluster: {
        readonly kubernetesVersion: string;
        readonly tier: (typeof CLUSTER_TIERS)[number];
        readonly systemPool: NodePoolConfig;
        /** Absent when the stack runs workloads on the system pool. */
        readonly userPool?: NodePoolConfig;
        readonly podCidr: string;
        readonly serviceCidr: string;
        readonly dnsServiceIp: string;
        readonly autoUpgradeChannel: (typeof UPGRADE_CHANNELS)[number];
        readonly nodeOsUpgradeChannel: (typeof NODE_OS_UPGRADE_CHANNELS)[number];
        readonly maintenanceWindow: MaintenanceWindowConfig;
        readonly entraId?: {
            readonly adminGroupObjectIds: readonly string[];
            /** The principal running `pulumi up`, when configured (else the signed-in client's object ID). */
            readonly deployerObjectId?: string;
            /** The pull-request preview principal, when configured. */
            readonly previewerObjectId?: string;
        };
        readonly disableLocalAccounts: boolean;
        readonly apiServer: ApiServerConfig;
    };
    readonly network: NetworkConfig;
    readonly monitoring: {
        readonly logRetentionDays: number;
        /** Send kube-apiserver's own log besides the audit categories. */
        readonly kubeApiServerLogs: boolean;
        /** kube-audit (reads included) instead of kube-audit-admin. */
        readonly kubeAuditReads: boolean;
        /** Who the audit alerts notify; absent (dev only) means the alerts fire without notifying anyone. */
        readonly alertReceiver?: { readonly email?: string; readonly webhookUrl?: pulumi.Output<string> };
        /** Azure Monitor managed Prometheus with the recommended node and pod alerts (monitoring.managedPrometheus). */
        readonly managedPrometheus: boolean;
    };
    readonly governance: {
        /** Azure Policy add-on plus the pod security initiative with this effect; absent when off. */
        readonly azurePolicy?: { readonly effect: (typeof POLICY_EFFECTS)[number] };
        readonly defender: boolean;
    };
    readonly keyVault: {
        readonly sku: (typeof KEY_VAULT_SKUS)[number];
        readonly softDeleteRetentionDays: number;
        readonly purgeProtection: boolean;
        readonly networkAclMode: (typeof NETWORK_ACL_MODES)[number];
        readonly allowedIpRanges: readonly string[];
        /** Private endpoints for both vaults, with the privatelink zone linked to the VNet. */
        readonly privateEndpoints: boolean;
        /** The vaults' public endpoint; false in prod. */
        readonly publicNetworkAccess: boolean;
    };
    readonly registry: {
        readonly mode: (typeof REGISTRY_MODES)[number];
        /** ARM ID of the existing registry (mode existing). */
        readonly id?: string;
        /** A created registry's private endpoint, and whether its public endpoint stays open. */
        readonly privateEndpoint: boolean;
        readonly publicNetworkAccess: boolean;
    };
    /**
     * Ephemeral self-hosted GitHub Actions runners in the VNet (ciRunner.enabled): the repository they serve,
     * the token (secret; undefined only before a deploy, which checkDeployable refuses), their label.
     */
    readonly ciRunner?: {
        readonly repository?: string;
        readonly githubToken?: pulumi.Output<string>;
        readonly label: string;
        readonly maxRunners: number;
    };
    /** CanNotDelete locks on the resource group and the unseal Key Vault (prod). */
    readonly resourceLocks: boolean;
    readonly unsealKey: {
        readonly size: (typeof UNSEAL_KEY_SIZES)[number];
        /** Days between automatic rotations; 0 turns rotation off. */
        readonly rotationDays: number;
    };
    readonly identities: IdentityBindings;
    /** Stateful Azure resources get `protect` (prod). */
    readonly protectStatefulResources: boolean;
    /** Platform components run several replicas with disruption budgets (prod). */
    readonly highAvailability: boolean;
    readonly mesh: {
        /** Mesh-wide PeerAuthentication mode; prod is always STRICT. */
        readonly mtlsMode: (typeof MESH_MTLS_MODES)[number];
    };
    readonly secretsStore: {
        /** How often the CSI driver re-reads mounted Key Vault objects, e.g. 2m. */
        readonly rotationPollInterval: string;
    };
    readonly ingress: {
        /** Host name the ingress gateway serves over HTTPS. */
        readonly host: string;
        /**
         * Type of the gateway's Service. AKS provisions a load balancer; an existing local cluster often
         * has none (kind, MicroK8s without MetalLB), and Helm would wait for its address until it timed out.
         */
        readonly serviceType: "LoadBalancer" | "NodePort";
        /** Certificate and key (PEM, secret) from config; absent in dev means a generated CA and the server certificate it signs. */
        readonly tls?: { readonly certificate: pulumi.Output<string>; readonly privateKey: pulumi.Output<string> };
        /** Application Gateway WAF_v2 in front of the gateway, whose Service is then an internal load balancer; absent: a public one. */
        readonly waf?: IngressWafConfig;
    };
    readonly workloads: {
        /** Where the services' images come from: built into the stack's registry, imported into it, or as named. */
        readonly imageSource: (typeof IMAGE_SOURCES)[number];
        /**
         * The prebuilt images, by service name: deployed as named (config), the import's source (import), the
         * GitOps path's images (any source). Absent with build when no image key is set.
         */
        readonly images?: Readonly<Record<ServiceName, ImageRef>>;
        /** Credentials for the import's source registry (import), the token a secret. */
        readonly imageSourceCredentials?: { readonly username: string; readonly token: pulumi.Output<string> };
        /** When set, Argo CD deploys the services from Git (app-of-apps) instead of this program. */
        readonly argocd?: { readonly repoUrl: string; readonly path: string; readonly revision: string };
    };
    /** The backup storage account's endpoints (it exists where backupContainers lists any container). */
    readonly backupStorage: {
        /** A blob private endpoint with the privatelink.blob.core.windows.net zone linked to the VNet. */
        readonly privateEndpoint: boolean;
        readonly publicNetworkAccess: boolean;
    };
    readonly mongo: {
        /** Scheduled dumps to the stack's backup storage; absent without Azure (local: no backups). */
        readonly backup?: {
            /** Cron schedule (five fields, UTC). */
            readonly schedule: string;
            /** Days the lifecycle policy keeps each dump. */
            readonly retentionDays: number;
        };
    };
    readonly vault: {
        /** dev: a single in-memory dev server; ha: raft x3 auto-unsealed by the Key Vault key. */
        readonly mode: "dev" | "ha";
        /** Server replicas (ha). */
        readonly replicas: number;
        /** Storage class of the raft volumes (ha): the zone-redundant class the platform layer creates. */
        readonly storageClass: string;
        /** TLS on the listener and raft joins (ha only: the dev server's listener is plain HTTP). */
        readonly tls: boolean;
        /**
         * Raft snapshots (ha): CronJob schedule, how long each snapshot is kept, and how many of the
         * newest the retention never removes.
         */
        readonly snapshot: { readonly schedule: string; readonly retentionDays: number; readonly keepLast: number };
        /** Kubernetes groups bound to the vault-operator Role (who may run scripts/vault-rollout.sh). */
        readonly operatorGroups: readonly string[];
        /** Recovery key shares and threshold `vault operator init` creates (ha). */
        readonly recoveryShares: number;
        readonly recoveryThreshold: number;
    };
}
