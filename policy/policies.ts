// The platform's guardrails as plain policy objects. index.ts serves them as a policy pack; the tests
// import this module and call each validateResource directly, without starting the analyzer.
//
// Every rule is a resource policy: the engine runs those before it creates or updates the resource, in
// `pulumi preview` and in `pulumi up` alike, so a mandatory violation stops the resource from being
// made. Stack policies only run once an update has finished. A rule reads only the inputs it needs: an
// input that is unknown during a preview turns the rule into an advisory "can't run during preview".
import type {
    Policies,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import * as pulumi from "@pulumi/pulumi";
import { NAMESPACES, POD_LABELS, PRIVATE_RANGES } from "../components/topology";

/** Resource types the rules look at. */
export const TYPES = {
    keyVault: "azure-native:keyvault:Vault",
    managedCluster: "azure-native:containerservice:ManagedCluster",
    helmRelease: "kubernetes:helm.sh/v3:Release",
    helmChart: "kubernetes:helm.sh/v4:Chart",
    service: "kubernetes:core/v1:Service",
    resourceGroup: "azure-native:resources:ResourceGroup",
    groupLock: "azure-native:authorization:ManagementLockAtResourceGroupLevel",
    scopeLock: "azure-native:authorization:ManagementLockByScope",
    registry: "azure-native:containerregistry:Registry",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
} as const;

/** The only lock level prod accepts: deletes refused, everything else goes on. */
export const PROD_LOCK_LEVEL = "CanNotDelete";

/** Helm resources that name a chart and a version (a v4 Chart renders its objects one by one, a Release keeps them in Helm). */
const HELM_TYPES: readonly string[] = [TYPES.helmRelease, TYPES.helmChart];

/**
 * The Kubernetes SDK's component resources. A component has no provider of its own: the engine records
 * none for it, and its children carry the provider and are checked one by one.
 */
export const KUBERNETES_COMPONENT_TYPES: ReadonlySet<string> = new Set([
    "kubernetes:helm.sh/v3:Chart",
    "kubernetes:helm.sh/v4:Chart",
    "kubernetes:yaml:ConfigFile",
    "kubernetes:yaml:ConfigGroup",
    "kubernetes:yaml/v2:ConfigFile",
    "kubernetes:yaml/v2:ConfigGroup",
    "kubernetes:kustomize:Directory",
    "kubernetes:kustomize/v2:Directory",
]);

/** Where each workload kind keeps its pod spec. */
export const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
    "kubernetes:apps/v1:Deployment": ["spec", "template", "spec"],
    "kubernetes:apps/v1:StatefulSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:DaemonSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:ReplicaSet": ["spec", "template", "spec"],
    "kubernetes:batch/v1:Job": ["spec", "template", "spec"],
    "kubernetes:batch/v1:CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
    "kubernetes:core/v1:Pod": ["spec"],
};

/** The annotation that puts an AKS LoadBalancer Service on the internal load balancer. */
export const AZURE_INTERNAL_LB_ANNOTATION = "service.beta.kubernetes.io/azure-load-balancer-internal";

/** `<namespace>/<name>` of the one Service that may face the internet: the Istio ingress gateway. */
export const DEFAULT_PUBLIC_SERVICES: readonly string[] = ["istio-ingress/istio-ingressgateway"];

/** The pods that may admit the whole internet: the ingress gateway's, in its namespace (components/topology.ts). */
export const OPEN_INGRESS_PODS: { readonly namespace: string; readonly matchLabels: Readonly<Record<string, string>> } = {
    namespace: NAMESPACES.ingress,
    matchLabels: POD_LABELS.ingressGateway,
};

function ipv4ToInt(ip: string): number | undefined {
    const parts = ip.split(".").map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
    return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

/** Whether IPv4 range `inner` lies inside range `outer` (both CIDR). */
export function cidrInside(inner: string, outer: string): boolean {
    const [ia, ib] = inner.split("/");
    const [oa, ob] = outer.split("/");
    const i = ipv4ToInt(ia);
    const o = ipv4ToInt(oa);
    const ibits = Number(ib ?? 32);
    const obits = Number(ob ?? 32);
    if (i === undefined || o === undefined || ibits < obits) return false;
    const mask = obits === 0 ? 0 : (~0 << (32 - obits)) >>> 0;
    return (i & mask) >>> 0 === (o & mask) >>> 0;
}

/**
 * Everywhere, or half of it: a prefix of /1 or shorter (0.0.0.0/0, ::/0, or 0.0.0.0/1 and 128.0.0.0/1,
 * which together are everything). A longer prefix is a deliberate range.
 */
const isEverywhere = (cidr: unknown) => typeof cidr === "string" && /^[0-9a-fA-F.:]+\/[01]$/.test(cidr);

/** Limits every container must declare unless the policy config says otherwise. */
export const DEFAULT_REQUIRED_LIMITS: readonly string[] = ["cpu", "memory"];

/** A whole semantic version, `1.2.3` or `v1.2.3` with an optional pre-release or build suffix; no ranges. */
const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** Engine-created providers are named `default` or `default_<version>` (default_4_34_2). */
const DEFAULT_PROVIDER_NAME = /^default(_|$)/;

export interface PolicyOptions {
    /** The current stack's name; default pulumi.getStack() (the stack being previewed or updated). */
    readonly stackName?: () => string;
}

/** Policy config shared by the rules that differ in prod. */
interface EnvironmentConfig {
    /** dev, prod or local; default: the stack name. */
    readonly environment?: string;
}

const ENVIRONMENT_SCHEMA: PolicyConfigSchema = {
    properties: {
        environment: { type: "string", description: "dev, prod or local. Default: the stack name." },
    },
};

/** A policy config schema with one list-of-strings property. */
function stringListSchema(key: string, description: string, defaults: readonly string[]): PolicyConfigSchema {
    return { properties: { [key]: { type: "array", items: { type: "string" }, description, default: [...defaults] } } };
}

type Validate = (args: ResourceValidationArgs, report: ReportViolation) => void;

/**
 * Whether an image reference pins what runs: a digest (`repo@sha256:<64 hex>`) or a tag that is not
 * `latest` (`repo:tag`; a port in the registry host is not a tag).
 */
export function isPinnedImage(image: string): boolean {
    if (image.includes("@")) return /@sha256:[0-9a-f]{64}$/.test(image);
    const lastSegment = image.split("/").pop() ?? image;
    const colon = lastSegment.lastIndexOf(":");
    return colon > 0 && lastSegment.slice(colon + 1) !== "latest" && lastSegment.slice(colon + 1) !== "";
}

function mandatory(name: string, description: string, validate: Validate, configSchema?: PolicyConfigSchema): ResourceValidationPolicy {
    return { name, description, enforcementLevel: "mandatory", configSchema, validateResource: validate };
}

/** The value at `path` inside `value`, or undefined where a step is missing. */
function at(value: unknown, path: readonly string[]): unknown {
    let current = value;
    for (const key of path) {
        if (current === null || typeof current !== "object") return undefined;
        current = (current as Record<string, unknown>)[key];
    }
    return current;
}

/** Helm and Kubernetes values may be booleans or their strings. */
function isTrue(value: unknown): boolean {
    return value === true || value === "true";
}

/** A chart given as a path on disk: it carries its own version in its Chart.yaml. */
export function isLocalChart(chart: string, repo: unknown): boolean {
    if (typeof repo === "string" && repo !== "") return false;
    return /^(\.{1,2}[\\/]|\/|[A-Za-z]:[\\/])/.test(chart);
}

/** The chart's own name: the last segment of `repo/name`, `oci://registry/path/name` or a local path. */
export function chartName(chart: string): string {
    return (
        chart
            .replace(/[\\/]+$/, "")
            .split(/[\\/]/)
            .pop() ?? chart
    );
}

/** Builds the rules. `options` exists for tests; the pack uses the defaults. */
export function createPolicies(options: PolicyOptions = {}): Policies {
    const stackName = options.stackName ?? (() => pulumi.getStack());
    const isProd = (args: ResourceValidationArgs) => (args.getConfig<EnvironmentConfig>().environment ?? stackName()) === "prod";

    return [
        mandatory(
            "keyvault-rbac-and-soft-delete",
            "Key Vaults authorize data-plane access with Azure RBAC (no access policies) and keep soft delete on.",
            (args, report) => {
                if (args.type !== TYPES.keyVault) return;
                const properties = args.props.properties;
                if (at(properties, ["enableRbacAuthorization"]) !== true) {
                    report(
                        "Key Vault must set properties.enableRbacAuthorization: true; access policies grant whole-vault rights and are not audited per role.",
                    );
                }
                if (at(properties, ["enableSoftDelete"]) !== true) {
                    report("Key Vault must set properties.enableSoftDelete: true, so a deleted vault or secret can be recovered.");
                }
            },
        ),
        mandatory(
            "keyvault-purge-protection-in-prod",
            "Key Vaults of the prod environment have purge protection, so nobody can destroy a deleted vault's keys before retention ends.",
            (args, report) => {
                if (args.type !== TYPES.keyVault || !isProd(args)) return;
                if (at(args.props.properties, ["enablePurgeProtection"]) !== true) {
                    report(
                        "Key Vault in prod must set properties.enablePurgeProtection: true; losing the unseal key makes Vault's data unrecoverable.",
                    );
                }
            },
            ENVIRONMENT_SCHEMA,
        ),
        mandatory(
            "aks-oidc-issuer-and-workload-identity",
            "AKS clusters run the OIDC issuer and workload identity: pods reach Azure through federated identities, never stored credentials.",
            (args, report) => {
                if (args.type !== TYPES.managedCluster) return;
                if (at(args.props, ["oidcIssuerProfile", "enabled"]) !== true) {
                    report(
                        "AKS cluster must set oidcIssuerProfile.enabled: true; federated identity credentials trust the cluster's issuer URL.",
                    );
                }
                if (at(args.props, ["securityProfile", "workloadIdentity", "enabled"]) !== true) {
                    report(
                        "AKS cluster must set securityProfile.workloadIdentity.enabled: true; the webhook projects the federated token into pods.",
                    );
                }
            },
        ),
        mandatory(
            "kubernetes-explicit-provider",
            "Every Kubernetes resource names an explicit provider; the default one deploys into whatever cluster the local kubeconfig points at.",
            (args, report) => {
                if (!args.type.startsWith("kubernetes:") || KUBERNETES_COMPONENT_TYPES.has(args.type)) return;
                const provider = args.provider;
                if (!provider) {
                    report(`${args.type} ${args.name} has no provider; pass the cluster's k8s.Provider explicitly.`);
                } else if (DEFAULT_PROVIDER_NAME.test(provider.name)) {
                    report(
                        `${args.type} ${args.name} uses the default Kubernetes provider (${provider.name}); pass the cluster's k8s.Provider explicitly.`,
                    );
                }
            },
        ),
        mandatory(
            "helm-chart-version-pinned",
            "Helm charts from a repository are pinned to one exact version; a missing version or a range changes what deploys without a code change.",
            (args, report) => {
                if (!HELM_TYPES.includes(args.type)) return;
                const chart = String(args.props.chart ?? "");
                if (isLocalChart(chart, at(args.props, ["repositoryOpts", "repo"]))) return;
                const version = args.props.version;
                if (typeof version !== "string" || version === "") {
                    report(`Helm chart ${chart} has no version; set version to an exact chart version (e.g. 1.2.3).`);
                } else if (!EXACT_VERSION.test(version)) {
                    report(
                        `Helm chart ${chart} version ${JSON.stringify(version)} is a range or not a version; set an exact chart version (e.g. 1.2.3).`,
                    );
                }
            },
        ),
        mandatory(
            "vault-no-dev-mode-in-prod",
            "HashiCorp Vault in the prod environment does not run in dev mode (in-memory storage, unsealed, root token `root`).",
            (args, report) => {
                if (!HELM_TYPES.includes(args.type) || !isProd(args)) return;
                if (chartName(String(args.props.chart ?? "")) !== "vault") return;
                if (isTrue(at(args.props.values, ["server", "dev", "enabled"]))) {
                    report(
                        "Vault in prod must not set server.dev.enabled: true; dev mode keeps data in memory and serves an unsealed root token.",
                    );
                }
            },
            ENVIRONMENT_SCHEMA,
        ),
        mandatory(
            "aks-entra-id-only-in-prod",
            "AKS clusters of the prod environment authenticate with Entra ID and Azure RBAC only: local accounts (a certificate kubeconfig nobody can revoke) are off.",
            (args, report) => {
                if (args.type !== TYPES.managedCluster || !isProd(args)) return;
                if (args.props.disableLocalAccounts !== true) {
                    report(
                        "AKS cluster in prod must set disableLocalAccounts: true; a local-account kubeconfig bypasses Entra ID and cannot be revoked per user.",
                    );
                }
                const aad = args.props.aadProfile;
                if (at(aad, ["managed"]) !== true || at(aad, ["enableAzureRBAC"]) !== true) {
                    report(
                        "AKS cluster in prod must set aadProfile.managed: true and aadProfile.enableAzureRBAC: true (Entra ID with Azure RBAC).",
                    );
                }
            },
            ENVIRONMENT_SCHEMA,
        ),
        mandatory(
            "aks-api-server-restricted-in-prod",
            "The prod API server is private, or public only to authorized IP ranges (never 0.0.0.0/0).",
            (args, report) => {
                if (args.type !== TYPES.managedCluster || !isProd(args)) return;
                const profile = args.props.apiServerAccessProfile;
                if (at(profile, ["enablePrivateCluster"]) === true) return;
                const ranges = at(profile, ["authorizedIPRanges"]);
                if (!Array.isArray(ranges) || ranges.length === 0) {
                    report(
                        "AKS cluster in prod must set apiServerAccessProfile.enablePrivateCluster: true or list apiServerAccessProfile.authorizedIPRanges; otherwise the API server is reachable from anywhere.",
                    );
                } else if (ranges.some((range) => /^0\.0\.0\.0(\/0)?$/.test(String(range)))) {
                    report("AKS cluster in prod must not authorize 0.0.0.0/0 on its API server; list the deployer's and runners' ranges.");
                }
            },
            ENVIRONMENT_SCHEMA,
        ),
        mandatory(
            "keyvault-no-public-access-in-prod",
            "Key Vaults of the prod environment are reached through private endpoints only: public network access is disabled.",
            (args, report) => {
                if (args.type !== TYPES.keyVault || !isProd(args)) return;
                if (at(args.props.properties, ["publicNetworkAccess"]) !== "Disabled") {
                    report(
                        'Key Vault in prod must set properties.publicNetworkAccess: "Disabled"; the cluster reaches it through its private endpoint.',
                    );
                }
            },
            ENVIRONMENT_SCHEMA,
        ),
        mandatory(
            "prod-resource-group-protected",
            "The prod resource group is protected in Pulumi and its locks refuse deletes (CanNotDelete), so no single command removes the platform.",
            (args, report) => {
                if (!isProd(args)) return;
                if (args.type === TYPES.resourceGroup && args.opts.protect !== true) {
                    report(
                        "Resource group in prod must have the protect resource option; pulumi destroy would otherwise delete everything in it.",
                    );
                }
                if ((args.type === TYPES.groupLock || args.type === TYPES.scopeLock) && args.props.level !== PROD_LOCK_LEVEL) {
                    report(
                        `Management lock in prod must have level ${PROD_LOCK_LEVEL}; ${JSON.stringify(args.props.level)} is not allowed (ReadOnly blocks cluster operations).`,
                    );
                }
            },
            ENVIRONMENT_SCHEMA,
        ),
        mandatory(
            "registry-admin-user-off",
            "Container registries have the admin user off: pulls and pushes authenticate with Entra ID, never a shared password.",
            (args, report) => {
                if (args.type !== TYPES.registry) return;
                if (args.props.adminUserEnabled !== false)
                    report("Container registry must set adminUserEnabled: false; the admin user is one shared password with push rights.");
            },
        ),
        pinnedImagesPolicy(isProd),
        prodLocksPresentPolicy(isProd),
        publicLoadBalancerPolicy(),
        containerLimitsPolicy(),
        networkPolicyOpenCidrPolicy(),
    ];
}

interface PublicServicesConfig {
    /** `<namespace>/<name>` of the Services (or Helm releases) allowed a public load balancer. */
    readonly allowedPublicServices?: readonly string[];
}

/**
 * A LoadBalancer Service without the internal annotation gets a public IP. Only the ingress gateway may
 * have one. Helm releases are checked by the usual `service.type` / `service.annotations` values (the
 * Istio gateway chart's keys); their Services are created by Helm, out of the engine's sight.
 */
function publicLoadBalancerPolicy(): ResourceValidationPolicy {
    const check = (what: string, id: string, spec: unknown, annotations: unknown, allowed: readonly string[], report: ReportViolation) => {
        if (at(spec, ["type"]) !== "LoadBalancer") return;
        if (isTrue(at(annotations, [AZURE_INTERNAL_LB_ANNOTATION]))) return;
        if (allowed.includes(id)) return;
        report(
            `${what} ${id} is a public LoadBalancer; annotate it ${AZURE_INTERNAL_LB_ANNOTATION}: "true" or route it through the ingress gateway (allowed: ${allowed.join(", ")}).`,
        );
    };
    return mandatory(
        "no-public-load-balancer",
        "Only the ingress gateway gets a public load balancer; every other LoadBalancer Service is internal.",
        (args, report) => {
            const allowed = args.getConfig<PublicServicesConfig>().allowedPublicServices ?? DEFAULT_PUBLIC_SERVICES;
            if (args.type === TYPES.service) {
                const metadata = args.props.metadata;
                const id = `${at(metadata, ["namespace"]) ?? "default"}/${at(metadata, ["name"]) ?? args.name}`;
                check("Service", id, args.props.spec, at(metadata, ["annotations"]), allowed, report);
            } else if (args.type === TYPES.helmRelease) {
                const id = `${args.props.namespace ?? "default"}/${args.props.name ?? args.name}`;
                const service = at(args.props.values, ["service"]);
                check("Helm release", id, service, at(service, ["annotations"]), allowed, report);
            }
        },
        stringListSchema(
            "allowedPublicServices",
            "namespace/name of the Services allowed a public load balancer.",
            DEFAULT_PUBLIC_SERVICES,
        ),
    );
}

interface LimitsConfig {
    /** Resource names every container must limit. */
    readonly requiredLimits?: readonly string[];
}

/** Every container of a workload's pod template declares CPU and memory limits. */
function containerLimitsPolicy(): ResourceValidationPolicy {
    return mandatory(
        "containers-have-resource-limits",
        "Every container (and init container) of a workload declares resource limits, so one pod cannot starve its node.",
        (args, report) => {
            const path = POD_SPEC_PATHS[args.type];
            if (!path) return;
            const required = args.getConfig<LimitsConfig>().requiredLimits ?? DEFAULT_REQUIRED_LIMITS;
            const podSpec = at(args.props, path);
            for (const field of ["initContainers", "containers"]) {
                const containers = at(podSpec, [field]);
                if (!Array.isArray(containers)) continue;
                for (const container of containers) {
                    const missing = required.filter((limit) => at(container, ["resources", "limits", limit]) === undefined);
                    if (missing.length > 0) {
                        report(
                            `${args.type} ${args.name}: container ${JSON.stringify(at(container, ["name"]))} has no ${missing.join(" or ")} limit (resources.limits).`,
                        );
                    }
                }
            }
        },
        stringListSchema("requiredLimits", "Resource names every container must limit.", DEFAULT_REQUIRED_LIMITS),
    );
}

/** In prod, every container of a workload runs a pinned image: a digest or a tag other than latest. */
function pinnedImagesPolicy(isProd: (args: ResourceValidationArgs) => boolean): ResourceValidationPolicy {
    return mandatory(
        "images-pinned-in-prod",
        "Containers of the prod environment run pinned images (repo:tag other than latest, or repo@sha256:digest), so a push never changes what runs.",
        (args, report) => {
            const path = POD_SPEC_PATHS[args.type];
            if (!path || !isProd(args)) return;
            const podSpec = at(args.props, path);
            for (const field of ["initContainers", "containers"]) {
                const containers = at(podSpec, [field]);
                if (!Array.isArray(containers)) continue;
                for (const container of containers) {
                    const image = at(container, ["image"]);
                    if (typeof image === "string" && !isPinnedImage(image)) {
                        report(
                            `${args.type} ${args.name}: container ${JSON.stringify(at(container, ["name"]))} runs the unpinned image ${JSON.stringify(image)}; use repo:tag (not latest) or repo@sha256:digest.`,
                        );
                    }
                }
            }
        },
        ENVIRONMENT_SCHEMA,
    );
}

/**
 * Prod holds CanNotDelete locks on its stateful resources (a Key Vault, the Log Analytics workspace),
 * and none on its resource group: a group lock is inherited by every child and extension resource and
 * refuses the routine deletes of day-2 work (components/azure/locks.ts). A stack policy, as only the
 * whole stack shows that a lock is missing; it runs once the update is done, so it reports a removed
 * lock rather than preventing the removal.
 */
function prodLocksPresentPolicy(isProd: (args: ResourceValidationArgs) => boolean): StackValidationPolicy {
    return {
        name: "prod-locks-present",
        description:
            "The prod stack holds CanNotDelete locks on its Key Vaults and its Log Analytics workspace, and none on its resource group.",
        enforcementLevel: "mandatory",
        configSchema: ENVIRONMENT_SCHEMA,
        validateStack: (args: StackValidationArgs, report) => {
            // isProd reads only the policy config and the stack name.
            if (!isProd({ getConfig: args.getConfig } as ResourceValidationArgs)) return;
            const locks = (type: string) => args.resources.filter((r) => r.type === type && r.props.level === PROD_LOCK_LEVEL);
            if (args.resources.some((r) => r.type === TYPES.groupLock))
                report(
                    `The prod stack locks its resource group (${TYPES.groupLock}): the lock is inherited by every federated credential, maintenance configuration and role assignment in it and refuses their routine deletes; lock the stateful resources instead.`,
                );
            const on = (pattern: RegExp) => locks(TYPES.scopeLock).filter((r) => pattern.test(String(r.props.scope)));
            if (on(/\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+$/i).length === 0)
                report(
                    `The prod stack has no ${PROD_LOCK_LEVEL} lock on a Key Vault (${TYPES.scopeLock}); set the config governance.resourceLocks: true.`,
                );
            if (on(/\/providers\/Microsoft\.OperationalInsights\/workspaces\/[^/]+$/i).length === 0)
                report(
                    `The prod stack has no ${PROD_LOCK_LEVEL} lock on its Log Analytics workspace (${TYPES.scopeLock}); set the config governance.resourceLocks: true.`,
                );
        },
    };
}

/** The rules as the pack serves them. */
export const policies: Policies = createPolicies();

/** The rules of a NetworkPolicy in one direction, as plain objects. */
function rulesOf(spec: unknown, direction: "ingress" | "egress"): Record<string, unknown>[] {
    const rules = at(spec, [direction]);
    return Array.isArray(rules) ? (rules as Record<string, unknown>[]) : [];
}

/**
 * NetworkPolicies never open the cluster to every address, except at the ingress gateway: an ingress
 * peer of 0.0.0.0/0 (or a rule with no peers, which means the same) is allowed only on the gateway's
 * pods in its namespace; an egress peer of 0.0.0.0/0 must `except` the private ranges pods, Services,
 * nodes and the VNet live in, or on an IP-matching enforcer (kind's kube-network-policies) it admits
 * every pod of the cluster on that port.
 */
function networkPolicyOpenCidrPolicy(): ResourceValidationPolicy {
    return mandatory(
        "networkpolicy-no-open-cidr",
        "NetworkPolicies admit 0.0.0.0/0 on ingress only at the ingress gateway, and egress to 0.0.0.0/0 only with the private ranges excepted.",
        (args, report) => {
            if (args.type !== TYPES.networkPolicy) return;
            const metadata = args.props.metadata;
            const id = `${at(metadata, ["namespace"]) ?? "default"}/${at(metadata, ["name"]) ?? args.name}`;
            const spec = args.props.spec;
            const selected = (at(spec, ["podSelector", "matchLabels"]) ?? {}) as Record<string, unknown>;
            const atGateway =
                at(metadata, ["namespace"]) === OPEN_INGRESS_PODS.namespace &&
                Object.entries(OPEN_INGRESS_PODS.matchLabels).every(([k, v]) => selected[k] === v);
            for (const rule of rulesOf(spec, "ingress")) {
                const peers = Array.isArray(rule.from) ? (rule.from as unknown[]) : [];
                const open = peers.length === 0 || peers.some((peer) => isEverywhere(at(peer, ["ipBlock", "cidr"])));
                if (open && !atGateway)
                    report(
                        `NetworkPolicy ${id} admits every address on ingress (${peers.length === 0 ? "a rule without from" : "an ipBlock of /1 or wider"}); only the ingress gateway (${OPEN_INGRESS_PODS.namespace}) may.`,
                    );
            }
            for (const rule of rulesOf(spec, "egress")) {
                const peers = Array.isArray(rule.to) ? (rule.to as unknown[]) : [];
                if (peers.length === 0) {
                    report(`NetworkPolicy ${id} has an egress rule without to (every address); name the peers.`);
                    continue;
                }
                for (const peer of peers) {
                    const cidr = at(peer, ["ipBlock", "cidr"]);
                    if (!isEverywhere(cidr)) continue;
                    const except = at(peer, ["ipBlock", "except"]);
                    const excepted = Array.isArray(except) ? except.map(String) : [];
                    // Every private range the peer spans must be excepted whole: one private except (the
                    // pod range, say) still leaves the nodes, the VNet and the other private ranges open.
                    const open = PRIVATE_RANGES.filter(
                        (range) => cidrInside(range, String(cidr)) && !excepted.some((e) => cidrInside(range, e)),
                    );
                    if (open.length > 0)
                        report(
                            `NetworkPolicy ${id} allows egress to ${String(cidr)} without excepting the private ranges ${open.join(", ")} (all of ${PRIVATE_RANGES.join(", ")} must be): the cluster's pods, Services and nodes would match it.`,
                        );
                }
            }
        },
    );
}
