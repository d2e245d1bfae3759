// The one place that reads stack configuration. It turns the raw strings of Pulumi.<stack>.yaml into
// one typed, validated PlatformConfig. Every check runs before index.ts registers a resource, and all
// problems are reported together, each naming the key, the value given and what is allowed.
import * as pulumi from "@pulumi/pulumi";

export const ENVIRONMENTS = ["dev", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

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
} as const;
export type ConfigKey = keyof typeof CONFIG_KEYS;
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

export function checkPool(key: string, pool: NodePoolConfig): string[] {
    const errors = [
        checkVmSize(`${key}VmSize`, pool.vmSize),
        checkIntRange(`${key}NodeCount`, pool.nodeCount, 1, 100),
        checkZones(`${key}Zones`, pool.zones),
    ];
    if (pool.autoscaling) {
        errors.push(checkIntRange(`${key}MinCount`, pool.minCount, 1, 100), checkIntRange(`${key}MaxCount`, pool.maxCount, 1, 100));
        if (pool.minCount > pool.maxCount) {
            errors.push(`${key}MinCount: ${pool.minCount} is greater than ${key}MaxCount ${pool.maxCount}; the minimum must be at most the maximum`);
        } else if (pool.nodeCount < pool.minCount || pool.nodeCount > pool.maxCount) {
            errors.push(`${key}NodeCount: ${pool.nodeCount} is outside ${key}MinCount..${key}MaxCount (${pool.minCount}..${pool.maxCount}); the initial count must lie within the autoscaler bounds`);
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
    const defaults = ENVIRONMENT_DEFAULTS[environment];

    const location = r.string("location", "eastus");
    const namePrefix = r.string("namePrefix", "gitops");
    r.check(checkRegion("location", location), checkNamePrefix("namePrefix", namePrefix));

    const extraTags = r.list("tags", []);
    r.check(extraTags.map((t) => checkTag("tags", t)));
    const tags: Record<string, string> = Object.fromEntries(extraTags.map((t) => [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)]));
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
    const suffixPlaceholder = "x".repeat(NAME_SUFFIX_LENGTH);
    r.check(
        checkKeyVaultName("namePrefix", `${names.appVaultStem}-${suffixPlaceholder}`),
        checkKeyVaultName("namePrefix", `${names.unsealVaultStem}-${suffixPlaceholder}`),
    );

    if (r.errors.length > 0) throw new ConfigError([...new Set(r.errors)]);

    const appNs = appNamespace(environment);
    return {
        project,
        stack,
        environment,
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
            vaultUnseal: [{ namespace: "vault", name: "vault" }],
            appSecrets: [
                { namespace: appNs, name: "product-service" },
                { namespace: appNs, name: "order-service" },
            ],
        },
        protectStatefulResources: environment === "prod",
    };
}

/** Reads this stack's configuration from the Pulumi runtime and validates it. */
export function loadConfig(): PlatformConfig {
    const project = pulumi.getProject();
    const prefix = `${project}:`;
    const raw: Record<string, string> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
    }
    return parseConfig(raw, project, pulumi.getStack());
}
