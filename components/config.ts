// The one place that reads stack configuration. It turns the raw strings of Pulumi.<stack>.yaml into
// one typed, validated PlatformConfig. Every check runs before index.ts registers a resource, and all
// problems are reported together, each naming the key, the value given and what is allowed.
import * as pulumi from "@pulumi/pulumi";
import { createPrivateKey, type KeyObject, X509Certificate } from "crypto";

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
export const NODE_OS_UPGRADE_CHANNELS = ["None", "Unmanaged", "NodeImage", "SecurityPatch"] as const;
export const WEEK_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"] as const;
export const UNSEAL_KEY_SIZES = [2048, 3072, 4096] as const;
export const NETWORK_ACL_MODES = ["allow", "deny"] as const;
export const KEY_VAULT_SKUS = ["standard", "premium"] as const;

/** Length of the random suffix that makes Key Vault names globally unique. */
export const NAME_SUFFIX_LENGTH = 4;
/** Oldest Kubernetes minor version we accept (AKS supports the newest three or four minors). */
export const MIN_KUBERNETES_MINOR = 31;
export const MESH_MTLS_MODES = ["STRICT", "PERMISSIVE"] as const;
/** AKS's built-in Premium SSD class (the azuredisk CSI driver): Vault's raft volumes in prod. */
export const PREMIUM_STORAGE_CLASS = "managed-csi-premium";
/** HashiCorp Vault's namespace: its server and, in prod, its initialisation Job run here. */
const VAULT_NAMESPACE = "vault";

/** The lab's two HTTP services. */
export const SERVICE_NAMES = ["product-service", "order-service"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

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
    /** The prod Vault initialisation Job: writes recovery keys and root token to Key Vault. Empty in dev (no Job). */
    readonly vaultInit: readonly ServiceAccountRef[];
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
}

export interface PlatformConfig {
    readonly project: string;
    readonly stack: string;
    readonly environment: Environment;
    /** azure: the stack creates its AKS cluster and Key Vaults; none: an existing cluster, no Azure at all. */
    readonly cloud: Cloud;
    /** cloud none: kubeconfig context of the existing cluster; undefined means the kubeconfig's current context. */
    readonly kubeconfigContext?: string;
    // From here to `unsealKey`: settings of the Azure resources, read only where cloud is azure (a stack
    // without Azure rejects their keys and holds the defaults, which nothing reads).
    readonly location: string;
    readonly namePrefix: string;
    readonly names: Names;
    /** Tags on every Azure resource that takes them: project, stack, environment, plus `tags`. */
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
        readonly entraId?: { readonly adminGroupObjectIds: readonly string[] };
        readonly disableLocalAccounts: boolean;
    };
    readonly monitoring: { readonly logRetentionDays: number };
    readonly keyVault: {
        readonly sku: (typeof KEY_VAULT_SKUS)[number];
        readonly softDeleteRetentionDays: number;
        readonly purgeProtection: boolean;
        readonly networkAclMode: (typeof NETWORK_ACL_MODES)[number];
        readonly allowedIpRanges: readonly string[];
    };
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
        /** Certificate and key (PEM, secret) from config; absent in dev means a generated self-signed pair. */
        readonly tls?: { readonly certificate: pulumi.Output<string>; readonly privateKey: pulumi.Output<string> };
    };
    readonly workloads: {
        /** Container images of the lab's two services, by service name. */
        readonly images: Readonly<Record<ServiceName, ImageRef>>;
        /** When set, Argo CD deploys the services from Git (app-of-apps) instead of this program. */
        readonly argocd?: { readonly repoUrl: string; readonly path: string; readonly revision: string };
    };
    readonly vault: {
        /** dev: a single in-memory dev server; ha: raft x3 auto-unsealed by the Key Vault key. */
        readonly mode: "dev" | "ha";
        /** Server replicas (ha). */
        readonly replicas: number;
        /** Storage class of the raft volumes (ha). */
        readonly storageClass: string;
        /** Recovery key shares and threshold `vault operator init` creates (ha). */
        readonly recoveryShares: number;
        readonly recoveryThreshold: number;
    };
}

/** Every key this program reads and its Pulumi config type; Pulumi.yaml declares the same (tested). */
export const CONFIG_KEYS = {
    environment: "string",
    location: "string",
    namePrefix: "string",
    tags: "array",
    kubernetesVersion: "string",
    clusterTier: "string",
    systemPoolVmSize: "string",
    systemPoolNodeCount: "integer",
    systemPoolAutoscaling: "boolean",
    systemPoolMinCount: "integer",
    systemPoolMaxCount: "integer",
    systemPoolZones: "array",
    userPoolEnabled: "boolean",
    userPoolVmSize: "string",
    userPoolNodeCount: "integer",
    userPoolAutoscaling: "boolean",
    userPoolMinCount: "integer",
    userPoolMaxCount: "integer",
    userPoolZones: "array",
    podCidr: "string",
    serviceCidr: "string",
    autoUpgradeChannel: "string",
    nodeOsUpgradeChannel: "string",
    maintenanceDay: "string",
    maintenanceStartHour: "integer",
    maintenanceDurationHours: "integer",
    entraIdEnabled: "boolean",
    entraAdminGroupObjectIds: "array",
    disableLocalAccounts: "boolean",
    logRetentionDays: "integer",
    keyVaultSku: "string",
    keyVaultRetentionDays: "integer",
    keyVaultPurgeProtection: "boolean",
    keyVaultNetworkAclMode: "string",
    keyVaultAllowedIpRanges: "array",
    unsealKeySize: "integer",
    unsealKeyRotationDays: "integer",
    meshMtlsMode: "string",
    csiRotationPollInterval: "string",
    ingressHost: "string",
    ingressTlsCertificate: "string",
    ingressTlsPrivateKey: "string",
    vaultRecoveryShares: "integer",
    vaultRecoveryThreshold: "integer",
    productServiceImage: "string",
    productServiceTag: "string",
    orderServiceImage: "string",
    orderServiceTag: "string",
    argocdEnabled: "boolean",
    argocdRepoUrl: "string",
    argocdPath: "string",
    argocdRevision: "string",
    kubeconfigContext: "string",
} as const;
export type ConfigKey = keyof typeof CONFIG_KEYS;

/**
 * Which stacks read each key: `any` every stack; `azure` only stacks that create Azure (the key
 * configures an Azure resource or the Key Vault CSI path); `none` only stacks on an existing cluster.
 * A key set where it is not read is rejected, like an unknown key: a setting that silently does nothing
 * (a kubernetesVersion on a kind cluster, a context on dev) misleads whoever set it. Typed over every
 * key, so a new key does not compile until it has a scope.
 */
export const KEY_CLOUDS: { readonly [K in ConfigKey]: Cloud | "any" } = {
    environment: "any",
    location: "azure",
    namePrefix: "azure",
    tags: "azure",
    kubernetesVersion: "azure",
    clusterTier: "azure",
    systemPoolVmSize: "azure",
    systemPoolNodeCount: "azure",
    systemPoolAutoscaling: "azure",
    systemPoolMinCount: "azure",
    systemPoolMaxCount: "azure",
    systemPoolZones: "azure",
    userPoolEnabled: "azure",
    userPoolVmSize: "azure",
    userPoolNodeCount: "azure",
    userPoolAutoscaling: "azure",
    userPoolMinCount: "azure",
    userPoolMaxCount: "azure",
    userPoolZones: "azure",
    podCidr: "azure",
    serviceCidr: "azure",
    autoUpgradeChannel: "azure",
    nodeOsUpgradeChannel: "azure",
    maintenanceDay: "azure",
    maintenanceStartHour: "azure",
    maintenanceDurationHours: "azure",
    entraIdEnabled: "azure",
    entraAdminGroupObjectIds: "azure",
    disableLocalAccounts: "azure",
    logRetentionDays: "azure",
    keyVaultSku: "azure",
    keyVaultRetentionDays: "azure",
    keyVaultPurgeProtection: "azure",
    keyVaultNetworkAclMode: "azure",
    keyVaultAllowedIpRanges: "azure",
    unsealKeySize: "azure",
    unsealKeyRotationDays: "azure",
    meshMtlsMode: "any",
    // The CSI driver only exists to read Key Vault.
    csiRotationPollInterval: "azure",
    ingressHost: "any",
    ingressTlsCertificate: "any",
    ingressTlsPrivateKey: "any",
    // Read in ha mode (prod) only; accepted everywhere, as dev always has.
    vaultRecoveryShares: "any",
    vaultRecoveryThreshold: "any",
    productServiceImage: "any",
    productServiceTag: "any",
    orderServiceImage: "any",
    orderServiceTag: "any",
    argocdEnabled: "any",
    argocdRepoUrl: "any",
    argocdPath: "any",
    argocdRevision: "any",
    kubeconfigContext: "none",
};
type KeyOfType<T extends string> = { [K in ConfigKey]: (typeof CONFIG_KEYS)[K] extends T ? K : never }[ConfigKey];

/** Raised for invalid stack configuration; `problems` holds one line per bad key. */
export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`Invalid stack configuration:\n  - ${problems.join("\n  - ")}`);
        this.name = "ConfigError";
    }
}

// ---------------------------------------------------------------------------------------------------
// Pure validators. Each returns an error message naming the key, the value and what is allowed, or
// undefined when the value is fine.

const show = (value: unknown): string => JSON.stringify(value);

export function checkOneOf<T>(key: string, value: T, allowed: readonly T[]): string | undefined {
    return allowed.includes(value) ? undefined : `${key}: ${show(value)} is not allowed; use one of ${allowed.join(", ")}`;
}

export function checkIntRange(key: string, value: number, min: number, max: number): string | undefined {
    return Number.isInteger(value) && value >= min && value <= max
        ? undefined
        : `${key}: ${show(value)} is not allowed; use a whole number from ${min} to ${max}`;
}

export function checkRegion(key: string, value: string): string | undefined {
    return /^[a-z][a-z0-9]{2,29}$/.test(value)
        ? undefined
        : `${key}: ${show(value)} is not an Azure region name; use the lowercase programmatic name, e.g. eastus or westeurope`;
}

export function checkNamePrefix(key: string, value: string): string | undefined {
    return /^[a-z][a-z0-9]{1,11}$/.test(value)
        ? undefined
        : `${key}: ${show(value)} is not allowed; use 2-12 lowercase letters and digits, starting with a letter`;
}

export function checkKubernetesVersion(key: string, value: string): string | undefined {
    const match = /^1\.(\d+)(\.\d+)?$/.exec(value);
    if (match && Number(match[1]) >= MIN_KUBERNETES_MINOR) return undefined;
    return `${key}: ${show(value)} is not allowed; use a supported AKS version 1.${MIN_KUBERNETES_MINOR} or newer, as major.minor or major.minor.patch`;
}

export function checkVmSize(key: string, value: string): string | undefined {
    return /^Standard_[A-Za-z0-9_]+$/.test(value)
        ? undefined
        : `${key}: ${show(value)} is not an Azure VM size; use a name like Standard_D4s_v5`;
}

export function checkZones(key: string, value: readonly string[]): string | undefined {
    const ok = value.every((z) => ["1", "2", "3"].includes(z)) && new Set(value).size === value.length;
    return ok ? undefined : `${key}: ${show(value)} is not allowed; use distinct zones from "1", "2", "3", or none`;
}

export function checkCidr(key: string, value: string): string | undefined {
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(\/(\d{1,2}))?$/.exec(value);
    const ok = match !== null && match.slice(1, 5).every((o) => Number(o) <= 255) && (match[6] === undefined || Number(match[6]) <= 32);
    return ok ? undefined : `${key}: ${show(value)} is not an IPv4 address or CIDR range, e.g. 10.0.0.0/16`;
}

export function checkGuid(key: string, value: string): string | undefined {
    return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)
        ? undefined
        : `${key}: ${show(value)} is not an object ID; use a GUID like 00000000-0000-0000-0000-000000000000`;
}

/** Key Vault names: 3-24 characters, letters, digits and hyphens, start with a letter, end with a letter or digit, no "--". */
export function checkKeyVaultName(key: string, value: string): string | undefined {
    const ok = /^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/.test(value) && !value.includes("--");
    return ok
        ? undefined
        : `${key}: makes the Key Vault name ${show(value)} (${value.length} characters); Key Vault names are 3-24 letters, digits and single hyphens, starting with a letter`;
}

export function checkTag(key: string, value: string): string | undefined {
    const match = /^([^=<>%&\\?/]{1,512})=(.{0,256})$/.exec(value);
    return match
        ? undefined
        : `${key}: ${show(value)} is not a tag; use key=value, a key of 1-512 characters without < > % & \\ ? / and a value of at most 256`;
}

/** The CSI driver's rotation poll interval: a whole number of seconds, minutes or hours, e.g. 2m. */
export function checkPollInterval(key: string, value: string): string | undefined {
    return /^[1-9]\d*[smh]$/.test(value)
        ? undefined
        : `${key}: ${show(value)} is not allowed; use a whole number followed by s, m or h, e.g. 2m`;
}

/** A DNS host name: two or more lowercase labels of letters, digits and inner hyphens. */
export function checkHostName(key: string, value: string): string | undefined {
    const label = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
    return value.length <= 253 && new RegExp(`^${label}(\\.${label})+$`).test(value)
        ? undefined
        : `${key}: ${show(value)} is not a host name; use lowercase DNS labels separated by dots, e.g. shop.example.com`;
}

/**
 * A PEM certificate and its private key for `host`: both parse, the key belongs to the certificate,
 * the certificate covers the host and has not expired. Messages never quote the PEM text (a secret).
 */
export function checkTlsPair(certificate: string, privateKey: string, host: string, now: Date = new Date()): string[] {
    const errors: string[] = [];
    const fromFile = (key: string, file: string) => `set it from the file with pulumi config set --secret ${key} < ${file}`;
    let cert: X509Certificate | undefined;
    let key: KeyObject | undefined;
    try {
        cert = new X509Certificate(certificate);
    } catch {
        errors.push(
            `ingressTlsCertificate: (value not shown) is not a PEM X.509 certificate; ${fromFile("ingressTlsCertificate", "cert.pem")}`,
        );
    }
    try {
        key = createPrivateKey(privateKey);
    } catch {
        errors.push(
            `ingressTlsPrivateKey: (value not shown) is not an unencrypted PEM private key; ${fromFile("ingressTlsPrivateKey", "key.pem")}`,
        );
    }
    if (cert) {
        const names = cert.subjectAltName ?? cert.subject.replace(/\n/g, ", ");
        if (new Date(cert.validTo) <= now)
            errors.push(`ingressTlsCertificate: (${names}) expired on ${cert.validTo}; use a current certificate`);
        if (!cert.checkHost(host)) {
            errors.push(
                `ingressTlsCertificate: (${names}) does not cover ingressHost ${show(host)}; use a certificate for that host or set ingressHost to a name it covers`,
            );
        }
        if (key && !cert.checkPrivateKey(key)) {
            errors.push("ingressTlsPrivateKey: (value not shown) is not the key of ingressTlsCertificate; set the matching private key");
        }
    }
    return errors;
}

/**
 * A kubeconfig context name as kubectl lists it (kind-kind, k3d-dev, minikube, microk8s, an EKS ARN):
 * anything printable, but not empty and without surrounding whitespace, which no tool writes.
 */
export function checkKubeconfigContext(key: string, value: string): string | undefined {
    const ok = value.length > 0 && value.length <= 253 && value.trim() === value && !/[\x00-\x1f\x7f]/.test(value);
    return ok
        ? undefined
        : `${key}: ${show(value)} is not a context name; use one from kubectl config get-contexts, e.g. kind-kind, or unset it for the current context`;
}

/** Vault's recovery key split: 1 of 1, or a threshold from 2 up to the number of shares (at most 10). */
/** A container image repository, e.g. ghcr.io/org/product-service (no tag: that is its own key). */
export function checkImageRepository(key: string, value: string): string | undefined {
    const part = "[a-z0-9]+(?:[._-][a-z0-9]+)*";
    return new RegExp(`^(?:[a-z0-9.-]+(?::\\d+)?/)?${part}(?:/${part})*$`).test(value)
        ? undefined
        : `${key}: ${show(value)} is not an image repository; use a lowercase reference without a tag, e.g. ghcr.io/my-org/product-service`;
}

/** An image tag that pins a build: not "latest", which would change under a running deployment. */
export function checkImageTag(key: string, value: string): string | undefined {
    if (value === "latest") return `${key}: "latest" is not allowed; pin a build tag such as v1.0.0 or dev-<sha>`;
    return /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(value)
        ? undefined
        : `${key}: ${show(value)} is not an image tag; use up to 128 letters, digits, '.', '_' or '-', e.g. v1.0.0`;
}

/** A Git repository URL Argo CD can clone: https:// or ssh (git@host:org/repo.git). */
export function checkGitUrl(key: string, value: string): string | undefined {
    return /^(https:\/\/[^\s/]+\/\S+|git@[^\s:]+:\S+|ssh:\/\/\S+)$/.test(value)
        ? undefined
        : `${key}: ${show(value)} is not a Git URL; use https://github.com/<org>/<repo>.git or git@github.com:<org>/<repo>.git`;
}

export function checkRecoverySplit(shares: number, threshold: number): string | undefined {
    const bad = checkIntRange("vaultRecoveryShares", shares, 1, 10);
    if (bad) return bad;
    if (shares === 1)
        return threshold === 1 ? undefined : `vaultRecoveryThreshold: ${show(threshold)} is not allowed with vaultRecoveryShares 1; use 1`;
    return checkIntRange("vaultRecoveryThreshold", threshold, 2, shares)
        ? `vaultRecoveryThreshold: ${show(threshold)} is not allowed with vaultRecoveryShares ${shares}; use a whole number from 2 to ${shares}`
        : undefined;
}

export function checkPool(key: string, pool: NodePoolConfig): string[] {
    const errors = [
        checkVmSize(`${key}VmSize`, pool.vmSize),
        checkIntRange(`${key}NodeCount`, pool.nodeCount, 1, 100),
        checkZones(`${key}Zones`, pool.zones),
    ];
    if (pool.autoscaling) {
        errors.push(checkIntRange(`${key}MinCount`, pool.minCount, 1, 100), checkIntRange(`${key}MaxCount`, pool.maxCount, 1, 100));
        if (pool.minCount > pool.maxCount) {
            errors.push(
                `${key}MinCount: ${pool.minCount} is greater than ${key}MaxCount ${pool.maxCount}; the minimum must be at most the maximum`,
            );
        } else if (pool.nodeCount < pool.minCount || pool.nodeCount > pool.maxCount) {
            errors.push(
                `${key}NodeCount: ${pool.nodeCount} is outside ${key}MinCount..${key}MaxCount (${pool.minCount}..${pool.maxCount}); the initial count must lie within the autoscaler bounds`,
            );
        }
    }
    return errors.filter((e): e is string => e !== undefined);
}

/** The first address of a CIDR plus `offset`, e.g. the cluster DNS service IP (base + 10). */
export function addressInCidr(cidr: string, offset: number): string {
    const [address] = cidr.split("/");
    const n = address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0) + offset;
    return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

function cidrsOverlap(a: string, b: string): boolean {
    const range = (cidr: string): [number, number] => {
        const [address, bits = "32"] = cidr.split("/");
        const base = address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
        const size = 2 ** (32 - Number(bits));
        const start = base - (base % size);
        return [start, start + size - 1];
    };
    const [aStart, aEnd] = range(a);
    const [bStart, bEnd] = range(b);
    return aStart <= bEnd && bStart <= aEnd;
}

// ---------------------------------------------------------------------------------------------------
// Parsing raw strings into typed values. Pulumi hands every config value to the program as a string;
// arrays arrive as JSON.

type Raw = Readonly<Record<string, string | undefined>>;

class Reader {
    readonly errors: string[] = [];
    constructor(private readonly raw: Raw) {}

    string<T extends string = string>(key: KeyOfType<"string">, fallback: T): T {
        return (this.raw[key] ?? fallback) as T;
    }

    /** A string key with no default; undefined when unset. */
    optional(key: KeyOfType<"string">): string | undefined {
        return this.raw[key];
    }

    int(key: KeyOfType<"integer">, fallback: number): number {
        const text = this.raw[key];
        if (text === undefined) return fallback;
        const value = Number(text);
        if (text.trim() === "" || !Number.isInteger(value)) {
            this.errors.push(`${key}: ${show(text)} is not a whole number`);
            return fallback;
        }
        return value;
    }

    bool(key: KeyOfType<"boolean">, fallback: boolean): boolean {
        const text = this.raw[key];
        if (text === undefined) return fallback;
        if (text === "true" || text === "false") return text === "true";
        this.errors.push(`${key}: ${show(text)} is not allowed; use true or false`);
        return fallback;
    }

    list(key: KeyOfType<"array">, fallback: readonly string[]): string[] {
        const text = this.raw[key];
        if (text === undefined) return [...fallback];
        try {
            const value: unknown = JSON.parse(text);
            if (Array.isArray(value)) return value.map(String);
        } catch {
            // reported below
        }
        this.errors.push(`${key}: ${show(text)} is not a list; write it as a YAML list of strings`);
        return [...fallback];
    }

    check(...results: (string | undefined | (string | undefined)[])[]): void {
        for (const result of results.flat()) if (result !== undefined) this.errors.push(result);
    }
}

/** Defaults that differ between environments, the lab's small dev and zoned, autoscaled prod. */
const ENVIRONMENT_DEFAULTS = {
    dev: {
        clusterTier: "Free",
        systemPool: { vmSize: "Standard_D2s_v5", nodeCount: 2, autoscaling: false, minCount: 1, maxCount: 3, zones: [] },
        userPoolEnabled: false,
        keyVaultRetentionDays: 7,
        keyVaultPurgeProtection: false,
    },
    prod: {
        clusterTier: "Standard",
        systemPool: { vmSize: "Standard_D4s_v5", nodeCount: 3, autoscaling: true, minCount: 3, maxCount: 5, zones: ["1", "2", "3"] },
        userPoolEnabled: true,
        keyVaultRetentionDays: 90,
        keyVaultPurgeProtection: true,
    },
} as const;

const USER_POOL_DEFAULTS: NodePoolConfig = {
    vmSize: "Standard_D4s_v5",
    nodeCount: 3,
    autoscaling: true,
    minCount: 3,
    maxCount: 10,
    zones: ["1", "2", "3"],
};

function readPool(r: Reader, key: "systemPool" | "userPool", defaults: NodePoolConfig): NodePoolConfig {
    const pool: NodePoolConfig = {
        vmSize: r.string(`${key}VmSize`, defaults.vmSize),
        nodeCount: r.int(`${key}NodeCount`, defaults.nodeCount),
        autoscaling: r.bool(`${key}Autoscaling`, defaults.autoscaling),
        minCount: r.int(`${key}MinCount`, defaults.minCount),
        maxCount: r.int(`${key}MaxCount`, defaults.maxCount),
        zones: r.list(`${key}Zones`, defaults.zones),
    };
    r.check(checkPool(key, pool));
    return pool;
}

/** The one service account of a binding that a single chart or Job runs as. */
export function singleServiceAccount(binding: readonly ServiceAccountRef[], what: string): ServiceAccountRef {
    if (binding.length !== 1) throw new Error(`${what}: expected exactly one service account, got ${binding.length}`);
    return binding[0];
}

/** The namespace the applications run in, one per environment as in the lab. */
export function appNamespace(environment: Environment): string {
    return `microservices-${environment}`;
}

/**
 * Parses and validates raw stack configuration (bare key -> string) for `stack` of `project`.
 * Throws ConfigError listing every problem; unknown keys are problems too (they are usually typos).
 */
export function parseConfig(raw: Raw, project: string, stack: string): PlatformConfig {
    const r = new Reader(raw);
    const unknown = Object.keys(raw).filter((k) => !(k in CONFIG_KEYS));
    for (const key of unknown) {
        r.errors.push(`${key}: is not a config key of this program; known keys are ${Object.keys(CONFIG_KEYS).join(", ")}`);
    }

    const stackEnvironment = (ENVIRONMENTS as readonly string[]).includes(stack) ? (stack as Environment) : undefined;
    const environmentText = raw.environment ?? stackEnvironment;
    if (environmentText === undefined) {
        throw new ConfigError([
            `environment: is not set and the stack name ${show(stack)} is not one of ${ENVIRONMENTS.join(", ")}; set it with pulumi config set environment dev`,
            ...r.errors,
        ]);
    }
    const badEnvironment = checkOneOf("environment", environmentText, ENVIRONMENTS as readonly string[]);
    if (badEnvironment) throw new ConfigError([badEnvironment, ...r.errors]);
    const environment = environmentText as Environment;
    const cloud = cloudOf(environment);
    // local rejects every key these defaults stand for, so dev's only keep its PlatformConfig total.
    const defaults = ENVIRONMENT_DEFAULTS[environment === "local" ? "dev" : environment];

    for (const [key, value] of Object.entries(raw)) {
        const scope = (KEY_CLOUDS as Record<string, Cloud | "any" | undefined>)[key];
        if (scope === "azure" && cloud === "none") {
            r.check(
                `${key}: ${show(value)} is not allowed for environment ${environment}, which creates no Azure resources (the key only configures Azure or its Key Vault CSI path); remove it with pulumi config rm ${key}`,
            );
        } else if (scope === "none" && cloud === "azure") {
            r.check(
                `${key}: ${show(value)} is not allowed for environment ${environment}, which deploys to the AKS cluster it creates through that cluster's own credentials, never a kubeconfig context; remove it with pulumi config rm ${key}`,
            );
        }
    }
    const kubeconfigContext = cloud === "none" ? r.optional("kubeconfigContext") : undefined;
    if (kubeconfigContext !== undefined) r.check(checkKubeconfigContext("kubeconfigContext", kubeconfigContext));

    const location = r.string("location", "eastus");
    const namePrefix = r.string("namePrefix", "gitops");
    r.check(checkRegion("location", location), checkNamePrefix("namePrefix", namePrefix));

    const extraTags = r.list("tags", []);
    r.check(extraTags.map((t) => checkTag("tags", t)));
    const tags: Record<string, string> = Object.fromEntries(
        extraTags.map((t) => [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)]),
    );
    Object.assign(tags, { project, stack, environment });

    const kubernetesVersion = r.string("kubernetesVersion", "1.33");
    const tier = r.string("clusterTier", defaults.clusterTier);
    r.check(checkKubernetesVersion("kubernetesVersion", kubernetesVersion), checkOneOf("clusterTier", tier, CLUSTER_TIERS));

    const systemPool = readPool(r, "systemPool", defaults.systemPool);
    const userPool = r.bool("userPoolEnabled", defaults.userPoolEnabled) ? readPool(r, "userPool", USER_POOL_DEFAULTS) : undefined;

    const podCidr = r.string("podCidr", "10.244.0.0/16");
    const serviceCidr = r.string("serviceCidr", "10.0.0.0/16");
    const badCidrs = [checkCidr("podCidr", podCidr), checkCidr("serviceCidr", serviceCidr)].filter(Boolean);
    r.check(...badCidrs);
    if (badCidrs.length === 0 && cidrsOverlap(podCidr, serviceCidr)) {
        r.check(`serviceCidr: ${show(serviceCidr)} overlaps podCidr ${show(podCidr)}; the two ranges must be disjoint`);
    }

    const autoUpgradeChannel = r.string("autoUpgradeChannel", "patch");
    const nodeOsUpgradeChannel = r.string("nodeOsUpgradeChannel", "NodeImage");
    const maintenanceWindow: MaintenanceWindowConfig = {
        dayOfWeek: r.string("maintenanceDay", "Sunday"),
        startHour: r.int("maintenanceStartHour", 2),
        durationHours: r.int("maintenanceDurationHours", 4),
    };
    r.check(
        checkOneOf("autoUpgradeChannel", autoUpgradeChannel, UPGRADE_CHANNELS),
        checkOneOf("nodeOsUpgradeChannel", nodeOsUpgradeChannel, NODE_OS_UPGRADE_CHANNELS),
        checkOneOf("maintenanceDay", maintenanceWindow.dayOfWeek, WEEK_DAYS),
        checkIntRange("maintenanceStartHour", maintenanceWindow.startHour, 0, 23),
        // AKS rejects planned maintenance windows shorter than four hours.
        checkIntRange("maintenanceDurationHours", maintenanceWindow.durationHours, 4, 24),
    );

    const entraIdEnabled = r.bool("entraIdEnabled", false);
    const adminGroupObjectIds = r.list("entraAdminGroupObjectIds", []);
    r.check(adminGroupObjectIds.map((id) => checkGuid("entraAdminGroupObjectIds", id)));
    const disableLocalAccounts = r.bool("disableLocalAccounts", false);
    if (disableLocalAccounts && (!entraIdEnabled || adminGroupObjectIds.length === 0)) {
        r.check(
            "disableLocalAccounts: true needs entraIdEnabled: true and at least one entraAdminGroupObjectIds entry; without them nobody could reach the cluster",
        );
    }

    const logRetentionDays = r.int("logRetentionDays", 30);
    r.check(checkIntRange("logRetentionDays", logRetentionDays, 30, 730));

    const keyVault = {
        sku: r.string("keyVaultSku", "standard"),
        softDeleteRetentionDays: r.int("keyVaultRetentionDays", defaults.keyVaultRetentionDays),
        purgeProtection: r.bool("keyVaultPurgeProtection", defaults.keyVaultPurgeProtection),
        networkAclMode: r.string("keyVaultNetworkAclMode", "allow"),
        allowedIpRanges: r.list("keyVaultAllowedIpRanges", []),
    } as PlatformConfig["keyVault"];
    r.check(
        checkOneOf("keyVaultSku", keyVault.sku, KEY_VAULT_SKUS),
        checkIntRange("keyVaultRetentionDays", keyVault.softDeleteRetentionDays, 7, 90),
        checkOneOf("keyVaultNetworkAclMode", keyVault.networkAclMode, NETWORK_ACL_MODES),
        keyVault.allowedIpRanges.map((ip) => checkCidr("keyVaultAllowedIpRanges", ip)),
    );
    if (environment === "prod" && !keyVault.purgeProtection) {
        r.check("keyVaultPurgeProtection: false is not allowed for environment prod; prod Key Vaults keep purge protection on");
    }
    if (keyVault.networkAclMode === "deny" && keyVault.allowedIpRanges.length === 0) {
        r.check(
            'keyVaultNetworkAclMode: "deny" with no keyVaultAllowedIpRanges would block the cluster; list the cluster egress IP and your own',
        );
    }

    const unsealKey = {
        size: r.int("unsealKeySize", 3072),
        rotationDays: r.int("unsealKeyRotationDays", 0),
    } as PlatformConfig["unsealKey"];
    r.check(checkOneOf("unsealKeySize", unsealKey.size, UNSEAL_KEY_SIZES));
    if (unsealKey.rotationDays !== 0) r.check(checkIntRange("unsealKeyRotationDays", unsealKey.rotationDays, 28, 730));

    // In-cluster platform.
    const mtlsMode = r.string<(typeof MESH_MTLS_MODES)[number]>("meshMtlsMode", "STRICT");
    r.check(checkOneOf("meshMtlsMode", mtlsMode, MESH_MTLS_MODES));
    if (environment === "prod" && mtlsMode === "PERMISSIVE") {
        r.check('meshMtlsMode: "PERMISSIVE" is not allowed for environment prod; the prod mesh requires STRICT mutual TLS');
    }
    const rotationPollInterval = r.string("csiRotationPollInterval", "2m");
    r.check(checkPollInterval("csiRotationPollInterval", rotationPollInterval));

    const ingressHost = r.string("ingressHost", `app.${environment}.example.com`);
    r.check(checkHostName("ingressHost", ingressHost));
    const certificate = r.optional("ingressTlsCertificate");
    const privateKey = r.optional("ingressTlsPrivateKey");
    if (certificate !== undefined && privateKey !== undefined) {
        if (!checkHostName("ingressHost", ingressHost)) r.check(checkTlsPair(certificate, privateKey, ingressHost));
    } else if (certificate !== undefined || privateKey !== undefined) {
        const [given, missing] =
            certificate !== undefined
                ? ["ingressTlsCertificate", "ingressTlsPrivateKey"]
                : ["ingressTlsPrivateKey", "ingressTlsCertificate"];
        r.check(`${missing}: is not set but ${given} is; set both (pulumi config set --secret ${missing} < file.pem) or neither`);
    }

    const recoveryShares = r.int("vaultRecoveryShares", 5);
    const recoveryThreshold = r.int("vaultRecoveryThreshold", 3);
    r.check(checkRecoverySplit(recoveryShares, recoveryThreshold));

    // Workloads. The images are the team's own builds (the lab's CI pushes them), so they have no default.
    const images = {} as Record<ServiceName, ImageRef>;
    for (const [service, stem] of [
        ["product-service", "productService"],
        ["order-service", "orderService"],
    ] as const) {
        const repository = r.optional(`${stem}Image`);
        const tag = r.optional(`${stem}Tag`);
        if (repository === undefined)
            r.check(`${stem}Image: is not set; set the ${service} image repository, e.g. ghcr.io/my-org/${service}`);
        else r.check(checkImageRepository(`${stem}Image`, repository));
        if (tag === undefined) r.check(`${stem}Tag: is not set; set the pinned ${service} image tag, e.g. v1.0.0`);
        else r.check(checkImageTag(`${stem}Tag`, tag));
        images[service] = { repository: repository ?? "", tag: tag ?? "" };
    }
    const argocdEnabled = r.bool("argocdEnabled", false);
    const argocdRepoUrl = r.optional("argocdRepoUrl");
    const argocdPath = r.string("argocdPath", `argocd/apps/${environment}`);
    const argocdRevision = r.string("argocdRevision", "main");
    if (argocdEnabled) {
        if (argocdRepoUrl === undefined)
            r.check("argocdRepoUrl: is not set but argocdEnabled is true; set the Git repository Argo CD deploys from");
        else r.check(checkGitUrl("argocdRepoUrl", argocdRepoUrl));
        if (argocdPath.startsWith("/") || argocdPath.split("/").includes("..")) {
            r.check(
                `argocdPath: ${show(argocdPath)} is not allowed; use a path relative to the repository root, e.g. argocd/apps/${environment}`,
            );
        }
    }

    const env = environment;
    const names: Names = {
        resourceGroup: `${namePrefix}-${env}-rg`,
        cluster: `${namePrefix}-${env}-aks`,
        dnsPrefix: `${namePrefix}-${env}`,
        logAnalytics: `${namePrefix}-${env}-logs`,
        appInsights: `${namePrefix}-${env}-appi`,
        appVaultStem: `${namePrefix}-${env}-app`,
        unsealVaultStem: `${namePrefix}-${env}-seal`,
        unsealKey: "vault-unseal",
    };
    // A valid prefix can still make the longest derived Key Vault name (the unseal vault's) too long:
    // one message for it, none when the prefix itself was already reported.
    const stems = [names.appVaultStem, names.unsealVaultStem];
    const longestVaultName = `${stems.reduce((a, b) => (b.length > a.length ? b : a))}-${"x".repeat(NAME_SUFFIX_LENGTH)}`;
    if (!checkNamePrefix("namePrefix", namePrefix)) r.check(checkKeyVaultName("namePrefix", longestVaultName));

    if (r.errors.length > 0) throw new ConfigError([...new Set(r.errors)]);

    const appNs = appNamespace(environment);
    return {
        project,
        stack,
        environment,
        cloud,
        kubeconfigContext,
        location,
        namePrefix,
        names,
        tags,
        cluster: {
            kubernetesVersion,
            tier,
            systemPool,
            userPool,
            podCidr,
            serviceCidr,
            dnsServiceIp: addressInCidr(serviceCidr, 10),
            autoUpgradeChannel,
            nodeOsUpgradeChannel,
            maintenanceWindow,
            entraId: entraIdEnabled ? { adminGroupObjectIds } : undefined,
            disableLocalAccounts,
        } as PlatformConfig["cluster"],
        monitoring: { logRetentionDays },
        keyVault,
        unsealKey,
        identities: {
            vaultUnseal: [{ namespace: VAULT_NAMESPACE, name: "vault" }],
            // Each service runs as its own service account, named after it.
            appSecrets: SERVICE_NAMES.map((name) => ({ namespace: appNs, name })),
            ingressTls: [{ namespace: "istio-ingress", name: "istio-ingressgateway" }],
            vaultInit: environment === "prod" ? [{ namespace: VAULT_NAMESPACE, name: "vault-init" }] : [],
        },
        protectStatefulResources: environment === "prod",
        highAvailability: environment === "prod",
        mesh: { mtlsMode },
        secretsStore: { rotationPollInterval },
        ingress: {
            host: ingressHost,
            serviceType: cloud === "azure" ? "LoadBalancer" : "NodePort",
            tls:
                certificate !== undefined && privateKey !== undefined
                    ? { certificate: pulumi.secret(certificate), privateKey: pulumi.secret(privateKey) }
                    : undefined,
        },
        workloads: {
            images,
            argocd: argocdEnabled && argocdRepoUrl ? { repoUrl: argocdRepoUrl, path: argocdPath, revision: argocdRevision } : undefined,
        },
        vault: {
            mode: environment === "prod" ? "ha" : "dev",
            replicas: 3,
            storageClass: PREMIUM_STORAGE_CLASS,
            recoveryShares,
            recoveryThreshold,
        },
    };
}

/**
 * What a stack must hold to be deployed beyond valid values: prod serves a real certificate, whose PEM
 * certificate and key only an encrypted stack file can carry (`pulumi config set --secret`). Kept out
 * of parseConfig so the committed Pulumi.prod.yaml, which cannot hold encrypted values, still parses.
 */
export function checkDeployable(cfg: PlatformConfig): string[] {
    if (cfg.environment !== "prod" || cfg.ingress.tls) return [];
    return ["ingressTlsCertificate", "ingressTlsPrivateKey"].map(
        (key) =>
            `${key}: is not set; environment prod serves the certificate for ingressHost ${show(cfg.ingress.host)} from Key Vault: pulumi config set --secret ${key} < ${key === "ingressTlsCertificate" ? "cert.pem" : "key.pem"}`,
    );
}

/**
 * Reads this stack's configuration from the Pulumi runtime and validates it. Secret keys arrive
 * decrypted like the others; parseConfig marks them secret (pulumi.secret) before anything uses them.
 */
export function loadConfig(): PlatformConfig {
    const project = pulumi.getProject();
    const prefix = `${project}:`;
    const raw: Record<string, string> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
    }
    const cfg = parseConfig(raw, project, pulumi.getStack());
    const missing = checkDeployable(cfg);
    if (missing.length > 0) throw new ConfigError(missing);
    return cfg;
}
