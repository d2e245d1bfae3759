// The policy pack's rules, called the way the analyzer calls them: each validateResource gets an args
// object shaped like @pulumi/policy's ResourceValidationArgs and a reportViolation collector. Every rule
// has resources that pass and resources that fail, and the real program must pass all of them.
import type {
    PolicyProviderResource,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "assert";
import { AZURE_INTERNAL_LB_ANNOTATION, createPolicies, isLocalChart, isPinnedImage, chartName, policies, TYPES } from "../policy/policies";
import { evaluateStack, PROJECT, type Registration, type StackRun } from "./harness";

interface FakeResource {
    readonly type: string;
    readonly props: Record<string, any>;
    readonly name?: string;
    /** The provider the engine hands the analyzer; null for none. Default: an explicit one named `aks`. */
    readonly provider?: PolicyProviderResource | null;
    /** The policy's config (policy pack config file). */
    readonly config?: object;
    /** The protect resource option. Default false. */
    readonly protect?: boolean;
}

function provider(name: string, pkg = "kubernetes"): PolicyProviderResource {
    return { type: `pulumi:providers:${pkg}`, name, urn: `urn:pulumi:dev::${PROJECT}::pulumi:providers:${pkg}::${name}`, props: {} };
}

const EXPLICIT = provider("aks");

function argsFor(resource: FakeResource): ResourceValidationArgs {
    const name = resource.name ?? "test";
    const config = resource.config ?? {};
    const args: ResourceValidationArgs = {
        type: resource.type,
        props: resource.props,
        urn: `urn:pulumi:dev::${PROJECT}::${resource.type}::${name}`,
        name,
        opts: {
            protect: resource.protect ?? false,
            ignoreChanges: [],
            aliases: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            additionalSecretOutputs: [],
        },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new Error(`not applicable: ${reason}`);
        },
    };
    if (resource.provider !== null) args.provider = resource.provider ?? EXPLICIT;
    return args;
}

/** The resource policies: the rules the engine runs on each resource before it is created or updated. */
function resourcePolicies(list: typeof policies): ResourceValidationPolicy[] {
    return list.filter((p): p is ResourceValidationPolicy => "validateResource" in p);
}

function findPolicy(list: typeof policies, name: string): ResourceValidationPolicy {
    const found = list.find((p) => p.name === name);
    assert.ok(found && "validateResource" in found && found.validateResource, `no resource policy ${name}`);
    return found;
}

/** The messages `policy` reports for `resource`, as the analyzer would collect them. */
async function violations(policy: ResourceValidationPolicy, resource: FakeResource): Promise<string[]> {
    const messages: string[] = [];
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
    for (const validate of validations) await validate(argsFor(resource), (message) => messages.push(message));
    return messages;
}

// ----------------------------------------------------------------------------------------------------
// Resources that pass and fail each rule.

const vault = (properties: object): FakeResource => ({ type: TYPES.keyVault, props: { vaultName: "kv", properties } });
const goodVault = { tenantId: "t", enableRbacAuthorization: true, enableSoftDelete: true, enablePurgeProtection: true };
const cluster = (props: object): FakeResource => ({ type: TYPES.managedCluster, props });
const release = (props: object, config?: object): FakeResource => ({ type: TYPES.helmRelease, props, config });
const service = (metadata: object, spec: object, config?: object): FakeResource => ({
    type: TYPES.service,
    props: { metadata, spec },
    config,
});
const container = (name: string, limits?: object) => ({ name, image: "nginx:1.27", resources: limits ? { limits } : {} });
const LIMITS = { cpu: "250m", memory: "128Mi" };
const deployment = (containers: object[], initContainers?: object[]): FakeResource => ({
    type: "kubernetes:apps/v1:Deployment",
    name: "api",
    props: { metadata: { name: "api" }, spec: { template: { spec: { containers, initContainers } } } },
});
const vaultRelease = (dev: unknown): FakeResource =>
    release({
        chart: "vault",
        version: "0.32.0",
        repositoryOpts: { repo: "https://helm.releases.hashicorp.com" },
        values: { server: { dev: { enabled: dev } } },
    });

interface Case {
    readonly title: string;
    readonly resource: FakeResource;
    /** The stack being previewed. Default dev. */
    readonly stack?: string;
    /** Each must match one reported message; none means the resource passes. */
    readonly expect?: readonly RegExp[];
}

const netpol = (namespace: string, spec: object): FakeResource => ({
    type: TYPES.networkPolicy,
    props: { metadata: { name: "p", namespace }, spec },
});

const CASES: Record<string, readonly Case[]> = {
    "networkpolicy-no-open-cidr": [
        {
            title: "the ingress gateway admits the internet",
            resource: netpol("istio-ingress", {
                podSelector: { matchLabels: { istio: "ingressgateway" } },
                ingress: [{ from: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ port: 443 }] }],
            }),
        },
        {
            // RFC 1918 (10/8, 172.16/12, 192.168/16) and RFC 6598 (100.64/10): where pods, Services, nodes and VNets live.
            title: "egress to the internet except every private range",
            resource: netpol("vault", {
                podSelector: {},
                egress: [
                    {
                        to: [
                            {
                                ipBlock: {
                                    cidr: "0.0.0.0/0",
                                    except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "198.18.0.0/15"],
                                },
                            },
                        ],
                    },
                ],
            }),
        },
        {
            title: "egress to the internet excepting only the stack's pod, Service and VNet ranges",
            resource: netpol("vault", {
                podSelector: {},
                egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.244.0.0/16", "10.0.0.0/16", "10.240.0.0/16"] } }] }],
            }),
            expect: [/without excepting the private ranges 10\.0\.0\.0\/8, 172\.16\.0\.0\/12, 192\.168\.0\.0\/16, 100\.64\.0\.0\/10/],
        },
        {
            title: "egress to 128.0.0.0/1 excepting the private ranges inside it",
            resource: netpol("vault", {
                podSelector: {},
                egress: [{ to: [{ ipBlock: { cidr: "128.0.0.0/1", except: ["172.16.0.0/12", "192.168.0.0/16"] } }] }],
            }),
        },
        {
            title: "egress to 0.0.0.0/1 and 128.0.0.0/1 (everything, in halves) without except",
            resource: netpol("app", {
                podSelector: {},
                egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/1" } }, { ipBlock: { cidr: "128.0.0.0/1" } }], ports: [{ port: 443 }] }],
            }),
            expect: [
                /egress to 0\.0\.0\.0\/1 without excepting the private ranges 10\.0\.0\.0\/8, 100\.64/,
                /egress to 128\.0\.0\.0\/1 without excepting the private ranges 172\.16/,
            ],
        },
        {
            title: "the injector admits 0.0.0.0/1 and 128.0.0.0/1 (everything, in halves)",
            resource: netpol("vault", {
                podSelector: { matchLabels: { component: "webhook" } },
                ingress: [{ from: [{ ipBlock: { cidr: "0.0.0.0/1" } }, { ipBlock: { cidr: "128.0.0.0/1" } }], ports: [{ port: 8080 }] }],
            }),
            expect: [/vault\/p admits every address on ingress/],
        },
        {
            title: "a deliberate public range on ingress (/8) is not everywhere",
            resource: netpol("vault", {
                podSelector: { matchLabels: { component: "webhook" } },
                ingress: [{ from: [{ ipBlock: { cidr: "20.0.0.0/8" } }], ports: [{ port: 8080 }] }],
            }),
        },
        {
            title: "the injector admits 0.0.0.0/0",
            resource: netpol("vault", {
                podSelector: { matchLabels: { component: "webhook" } },
                ingress: [{ from: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ port: 8080 }] }],
            }),
            expect: [/vault\/p admits every address on ingress/],
        },
        {
            title: "a gateway-labelled pod outside the gateway's namespace, and a rule without from",
            resource: netpol("app", { podSelector: { matchLabels: { istio: "ingressgateway" } }, ingress: [{ ports: [{ port: 80 }] }] }),
            expect: [/a rule without from/],
        },
        {
            title: "egress to 0.0.0.0/0 without except, and egress without to",
            resource: netpol("app", {
                podSelector: {},
                egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ port: 443 }] }, { ports: [{ port: 53 }] }],
            }),
            expect: [/without excepting the private ranges/, /without to/],
        },
        {
            title: "egress to 0.0.0.0/0 excepting only a public range",
            resource: netpol("app", { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["20.0.0.0/8"] } }] }] }),
            expect: [/without excepting the private ranges/],
        },
    ],
    "aks-entra-id-only-in-prod": [
        {
            title: "prod with Entra ID, Azure RBAC and no local accounts",
            stack: "prod",
            resource: cluster({ disableLocalAccounts: true, aadProfile: { managed: true, enableAzureRBAC: true } }),
        },
        {
            title: "prod with local accounts",
            stack: "prod",
            resource: cluster({ disableLocalAccounts: false, aadProfile: { managed: true, enableAzureRBAC: true } }),
            expect: [/disableLocalAccounts: true/],
        },
        { title: "prod without Entra ID", stack: "prod", resource: cluster({ disableLocalAccounts: true }), expect: [/aadProfile/] },
        { title: "dev with local accounts", resource: cluster({}) },
    ],
    "aks-api-server-restricted-in-prod": [
        { title: "prod private cluster", stack: "prod", resource: cluster({ apiServerAccessProfile: { enablePrivateCluster: true } }) },
        {
            title: "prod with authorized ranges",
            stack: "prod",
            resource: cluster({ apiServerAccessProfile: { enablePrivateCluster: false, authorizedIPRanges: ["203.0.113.0/24"] } }),
        },
        { title: "prod open to anyone", stack: "prod", resource: cluster({}), expect: [/authorizedIPRanges/] },
        {
            title: "prod authorizing the whole internet",
            stack: "prod",
            resource: cluster({ apiServerAccessProfile: { authorizedIPRanges: ["0.0.0.0/0"] } }),
            expect: [/0\.0\.0\.0\/0/],
        },
        { title: "dev open to anyone", resource: cluster({}) },
    ],
    "keyvault-no-public-access-in-prod": [
        { title: "prod, public access disabled", stack: "prod", resource: vault({ ...goodVault, publicNetworkAccess: "Disabled" }) },
        {
            title: "prod, public access enabled",
            stack: "prod",
            resource: vault({ ...goodVault, publicNetworkAccess: "Enabled" }),
            expect: [/publicNetworkAccess: "Disabled"/],
        },
        {
            title: "prod, public access not set (Azure enables it)",
            stack: "prod",
            resource: vault(goodVault),
            expect: [/publicNetworkAccess/],
        },
        { title: "dev, public access enabled", resource: vault({ ...goodVault, publicNetworkAccess: "Enabled" }) },
    ],
    "prod-resource-group-protected": [
        { title: "prod protected group", stack: "prod", resource: { type: TYPES.resourceGroup, props: {}, protect: true } },
        { title: "prod unprotected group", stack: "prod", resource: { type: TYPES.resourceGroup, props: {} }, expect: [/protect/] },
        { title: "prod CanNotDelete lock", stack: "prod", resource: { type: TYPES.groupLock, props: { level: "CanNotDelete" } } },
        {
            title: "prod ReadOnly lock",
            stack: "prod",
            resource: { type: TYPES.scopeLock, props: { level: "ReadOnly" } },
            expect: [/CanNotDelete/],
        },
        { title: "dev unprotected group", resource: { type: TYPES.resourceGroup, props: {} } },
    ],
    "registry-admin-user-off": [
        { title: "admin user off", resource: { type: TYPES.registry, props: { adminUserEnabled: false } } },
        {
            title: "admin user on",
            resource: { type: TYPES.registry, props: { adminUserEnabled: true } },
            expect: [/adminUserEnabled: false/],
        },
        { title: "admin user unset", resource: { type: TYPES.registry, props: {} }, expect: [/adminUserEnabled/] },
    ],
    "images-pinned-in-prod": [
        { title: "prod, a tag", stack: "prod", resource: deployment([container("api", LIMITS)]) },
        {
            title: "prod, a digest",
            stack: "prod",
            resource: deployment([{ ...container("api", LIMITS), image: `ghcr.io/o/api@sha256:${"a".repeat(64)}` }]),
        },
        {
            title: "prod, latest",
            stack: "prod",
            resource: deployment([{ ...container("api", LIMITS), image: "ghcr.io/o/api:latest" }]),
            expect: [/unpinned image "ghcr.io\/o\/api:latest"/],
        },
        {
            title: "prod, no tag behind a registry port",
            stack: "prod",
            resource: deployment([], [{ ...container("init", LIMITS), image: "registry:5000/o/api" }]),
            expect: [/unpinned/],
        },
        { title: "dev, latest", resource: deployment([{ ...container("api", LIMITS), image: "api:latest" }]) },
    ],
    "keyvault-rbac-and-soft-delete": [
        { title: "RBAC and soft delete on", resource: vault(goodVault) },
        {
            title: "access policies",
            resource: vault({ ...goodVault, enableRbacAuthorization: false }),
            expect: [/enableRbacAuthorization: true/],
        },
        {
            title: "RBAC not set",
            resource: vault({ ...goodVault, enableRbacAuthorization: undefined }),
            expect: [/enableRbacAuthorization/],
        },
        { title: "soft delete off", resource: vault({ ...goodVault, enableSoftDelete: false }), expect: [/enableSoftDelete: true/] },
        { title: "no properties at all", resource: vault({}), expect: [/enableRbacAuthorization/, /enableSoftDelete/] },
        { title: "another type", resource: cluster({}) },
    ],
    "keyvault-purge-protection-in-prod": [
        { title: "prod with purge protection", stack: "prod", resource: vault(goodVault) },
        {
            title: "prod without purge protection",
            stack: "prod",
            resource: vault({ ...goodVault, enablePurgeProtection: undefined }),
            expect: [/enablePurgeProtection: true/],
        },
        { title: "dev without purge protection", resource: vault({ ...goodVault, enablePurgeProtection: undefined }) },
        {
            title: "policy config says prod, whatever the stack name",
            stack: "blue",
            resource: { ...vault({ ...goodVault, enablePurgeProtection: false }), config: { environment: "prod" } },
            expect: [/enablePurgeProtection/],
        },
        {
            title: "policy config says dev on a stack named prod",
            stack: "prod",
            resource: { ...vault({}), config: { environment: "dev" } },
        },
    ],
    "aks-oidc-issuer-and-workload-identity": [
        {
            title: "both on",
            resource: cluster({ oidcIssuerProfile: { enabled: true }, securityProfile: { workloadIdentity: { enabled: true } } }),
        },
        {
            title: "no OIDC issuer",
            resource: cluster({ securityProfile: { workloadIdentity: { enabled: true } } }),
            expect: [/oidcIssuerProfile.enabled/],
        },
        {
            title: "workload identity off",
            resource: cluster({ oidcIssuerProfile: { enabled: true }, securityProfile: { workloadIdentity: { enabled: false } } }),
            expect: [/workloadIdentity.enabled/],
        },
        { title: "neither", resource: cluster({}), expect: [/oidcIssuerProfile/, /workloadIdentity/] },
    ],
    "kubernetes-explicit-provider": [
        { title: "explicit provider", resource: { type: "kubernetes:core/v1:Namespace", props: {} } },
        {
            title: "default provider",
            resource: { type: "kubernetes:core/v1:Namespace", props: {}, provider: provider("default_4_34_2") },
            expect: [/default Kubernetes provider \(default_4_34_2\)/],
        },
        {
            title: "unversioned default provider",
            resource: { type: TYPES.helmRelease, props: {}, provider: provider("default") },
            expect: [/default Kubernetes provider/],
        },
        {
            title: "no provider at all",
            resource: { type: "kubernetes:apps/v1:Deployment", props: {}, provider: null },
            expect: [/has no provider/],
        },
        {
            title: "a provider whose name merely starts with default",
            resource: { type: "kubernetes:core/v1:Namespace", props: {}, provider: provider("defaults-cluster") },
        },
        { title: "a local Kubernetes component", resource: { type: "kubernetes:yaml:ConfigFile", props: {}, provider: null } },
        {
            title: "an Azure resource on its default provider",
            resource: { ...vault(goodVault), provider: provider("default_3_28_0", "azure-native") },
        },
    ],
    "helm-chart-version-pinned": [
        {
            title: "exact version",
            resource: release({ chart: "vault", version: "0.32.0", repositoryOpts: { repo: "https://helm.releases.hashicorp.com" } }),
        },
        {
            title: "exact version with v prefix and pre-release",
            resource: release({ chart: "oci://registry.example/charts/app", version: "v1.2.3-rc.1" }),
        },
        { title: "local chart without version", resource: release({ chart: "./charts/microservice" }) },
        { title: "absolute local chart", resource: release({ chart: "/src/charts/microservice" }) },
        {
            title: "no version",
            resource: release({ chart: "base", repositoryOpts: { repo: "https://istio-release.storage.googleapis.com/charts" } }),
            expect: [/has no version/],
        },
        {
            title: "caret range",
            resource: release({ chart: "base", version: "^1.29.0", repositoryOpts: { repo: "https://x" } }),
            expect: [/range/],
        },
        {
            title: "wildcard",
            resource: release({ chart: "base", version: "1.29.x", repositoryOpts: { repo: "https://x" } }),
            expect: [/range/],
        },
        { title: "comparison", resource: release({ chart: "bitnami/mongodb", version: ">=16.0.0" }), expect: [/range/] },
        {
            title: "local-looking path with a repository is still remote",
            resource: release({ chart: "./vault", repositoryOpts: { repo: "https://x" } }),
            expect: [/has no version/],
        },
        {
            title: "v4 Chart without version",
            resource: { type: TYPES.helmChart, props: { chart: "oci://registry.example/app" } },
            expect: [/has no version/],
        },
    ],
    "vault-no-dev-mode-in-prod": [
        { title: "prod, dev mode off", stack: "prod", resource: vaultRelease(false) },
        {
            title: "prod, dev mode not set",
            stack: "prod",
            resource: release({ chart: "hashicorp/vault", version: "0.32.0", values: { server: { ha: { enabled: true } } } }),
        },
        { title: "prod, dev mode on", stack: "prod", resource: vaultRelease(true), expect: [/server.dev.enabled/] },
        {
            title: "prod, dev mode on as a string, OCI chart",
            stack: "prod",
            resource: release({
                chart: "oci://r.example/hashicorp/vault",
                version: "0.32.0",
                values: { server: { dev: { enabled: "true" } } },
            }),
            expect: [/server.dev.enabled/],
        },
        { title: "dev, dev mode on", resource: vaultRelease(true) },
        {
            title: "prod, another chart with a server.dev key",
            stack: "prod",
            resource: release({ chart: "other", version: "1.0.0", values: { server: { dev: { enabled: true } } } }),
        },
    ],
    "no-public-load-balancer": [
        { title: "ClusterIP", resource: service({ name: "api", namespace: "apps" }, { type: "ClusterIP" }) },
        {
            title: "internal LoadBalancer",
            resource: service(
                { name: "api", namespace: "apps", annotations: { [AZURE_INTERNAL_LB_ANNOTATION]: "true" } },
                { type: "LoadBalancer" },
            ),
        },
        {
            title: "the ingress gateway",
            resource: service({ name: "istio-ingressgateway", namespace: "istio-ingress" }, { type: "LoadBalancer" }),
        },
        {
            title: "public LoadBalancer",
            resource: service({ name: "api", namespace: "apps" }, { type: "LoadBalancer" }),
            expect: [/Service apps\/api is a public LoadBalancer/],
        },
        {
            title: "internal annotation set to false",
            resource: service(
                { name: "db", namespace: "data", annotations: { [AZURE_INTERNAL_LB_ANNOTATION]: "false" } },
                { type: "LoadBalancer" },
            ),
            expect: [/data\/db is a public LoadBalancer/],
        },
        {
            title: "gateway name in another namespace",
            resource: service({ name: "istio-ingressgateway", namespace: "apps" }, { type: "LoadBalancer" }),
            expect: [/apps\/istio-ingressgateway/],
        },
        {
            title: "a gateway allowed by the policy config",
            resource: service(
                { name: "edge", namespace: "ingress" },
                { type: "LoadBalancer" },
                { allowedPublicServices: ["ingress/edge"] },
            ),
        },
        {
            title: "the gateway's Helm release",
            resource: release({
                chart: "gateway",
                version: "1.29.2",
                name: "istio-ingressgateway",
                namespace: "istio-ingress",
                values: { service: { type: "LoadBalancer" } },
            }),
        },
        {
            title: "another Helm release asking for a public LoadBalancer",
            resource: release({
                chart: "mongodb",
                version: "16.5.0",
                name: "mongodb",
                namespace: "data",
                values: { service: { type: "LoadBalancer" } },
            }),
            expect: [/Helm release data\/mongodb is a public LoadBalancer/],
        },
    ],
    "containers-have-resource-limits": [
        { title: "limits on every container", resource: deployment([container("api", LIMITS)], [container("migrate", LIMITS)]) },
        { title: "no limits", resource: deployment([container("api")]), expect: [/container "api" has no cpu or memory limit/] },
        { title: "memory only", resource: deployment([container("api", { memory: "128Mi" })]), expect: [/"api" has no cpu limit/] },
        {
            title: "init container without limits",
            resource: deployment([container("api", LIMITS)], [container("migrate")]),
            expect: [/"migrate"/],
        },
        {
            title: "StatefulSet without limits",
            resource: {
                type: "kubernetes:apps/v1:StatefulSet",
                props: { spec: { template: { spec: { containers: [container("mongodb")] } } } },
            },
            expect: [/"mongodb"/],
        },
        {
            title: "Job without limits",
            resource: { type: "kubernetes:batch/v1:Job", props: { spec: { template: { spec: { containers: [container("seed")] } } } } },
            expect: [/"seed"/],
        },
        {
            title: "DaemonSet without limits",
            resource: {
                type: "kubernetes:apps/v1:DaemonSet",
                props: { spec: { template: { spec: { containers: [container("agent", { cpu: "100m" })] } } } },
            },
            expect: [/"agent" has no memory limit/],
        },
        {
            title: "memory required only, by policy config",
            resource: { ...deployment([container("api", { memory: "128Mi" })]), config: { requiredLimits: ["memory"] } },
        },
        { title: "a Service has no containers", resource: service({ name: "api" }, { type: "ClusterIP" }) },
    ],
};

describe("policy pack", () => {
    it("has a passing and a failing case for every rule, and no case for a rule that does not exist", () => {
        assert.deepEqual(
            Object.keys(CASES).sort(),
            resourcePolicies(policies)
                .map((p) => p.name)
                .sort(),
        );
        assert.deepEqual(
            policies.filter((p) => !("validateResource" in p)).map((p) => p.name),
            ["prod-locks-present"],
            "the one stack policy has its own tests below",
        );
        for (const [name, cases] of Object.entries(CASES)) {
            assert.ok(
                cases.some((c) => !c.expect),
                `${name} has no passing case`,
            );
            assert.ok(
                cases.some((c) => c.expect),
                `${name} has no failing case`,
            );
        }
    });

    it("makes every rule mandatory, with a unique name and a description", () => {
        assert.equal(new Set(policies.map((p) => p.name)).size, policies.length);
        for (const p of policies) {
            assert.equal(p.enforcementLevel, "mandatory", p.name);
            assert.ok(p.description.length > 20, p.name);
        }
    });

    for (const [name, cases] of Object.entries(CASES)) {
        describe(name, () => {
            for (const c of cases) {
                it(`${c.expect ? "fails" : "passes"}: ${c.title}`, async () => {
                    const policy = findPolicy(createPolicies({ stackName: () => c.stack ?? "dev" }), name);
                    const messages = await violations(policy, c.resource);
                    const expected = c.expect ?? [];
                    assert.equal(messages.length, expected.length, `messages: ${JSON.stringify(messages)}`);
                    for (const pattern of expected)
                        assert.ok(
                            messages.some((m) => pattern.test(m)),
                            `${pattern} not in ${JSON.stringify(messages)}`,
                        );
                });
            }
        });
    }

    it("reads the stack name from the Pulumi runtime when no stackName is given", async () => {
        const mocks = { newResource: () => ({ id: "id", state: {} }), call: () => ({}) };
        await pulumi.runtime.setMocks(mocks, PROJECT, "prod");
        const messages = await violations(
            findPolicy(createPolicies(), "keyvault-purge-protection-in-prod"),
            vault({ enableRbacAuthorization: true, enableSoftDelete: true }),
        );
        assert.equal(messages.length, 1);
        await pulumi.runtime.setMocks(mocks, PROJECT, "dev");
        assert.deepEqual(await violations(findPolicy(createPolicies(), "keyvault-purge-protection-in-prod"), vault({})), []);
    });

    it("tells local chart paths from repository charts and finds a chart's own name", () => {
        assert.equal(isLocalChart("./charts/microservice", undefined), true);
        assert.equal(isLocalChart("../charts/x", ""), true);
        assert.equal(isLocalChart("C:\\charts\\x", undefined), true);
        assert.equal(isLocalChart("charts/microservice", undefined), false, "repo/chart form");
        assert.equal(isLocalChart("./charts/x", "https://charts.example"), false);
        assert.equal(chartName("oci://r.example/hashicorp/vault"), "vault");
        assert.equal(chartName("hashicorp/vault"), "vault");
        assert.equal(chartName("./charts/vault/"), "vault");
    });
});

// ----------------------------------------------------------------------------------------------------
// The real program under every rule, the way the engine would hand its resources to the analyzer.

/** The provider the engine would report: the explicit one, or the default one it creates per package. */
function providerOf(r: Registration, stack: string): PolicyProviderResource | undefined {
    if (!r.custom) return undefined;
    if (r.provider) {
        const parts = r.provider.split("::");
        return { urn: r.provider, name: parts[parts.length - 1], type: parts[2].split("$").pop()!, props: {} };
    }
    const pkg = r.type.split(":")[0];
    return { ...provider("default", pkg), urn: `urn:pulumi:${stack}::${PROJECT}::pulumi:providers:${pkg}::default` };
}

async function programViolations(run: StackRun, stack: string, environment: string): Promise<string[]> {
    const found: string[] = [];
    for (const policy of resourcePolicies(createPolicies({ stackName: () => environment }))) {
        for (const r of run.resources) {
            const messages = await violations(policy, {
                type: r.type,
                name: r.name,
                props: r.inputs,
                provider: providerOf(r, stack) ?? null,
                protect: r.protect,
            });
            found.push(...messages.map((m) => `${policy.name} (${r.name}): ${m}`));
        }
    }
    return found;
}

describe("policy pack on the program", () => {
    const runs: Partial<Record<"dev" | "prod" | "local", StackRun>> = {};
    before(async () => {
        runs.dev = await evaluateStack("dev");
        runs.prod = await evaluateStack("prod");
        runs.local = await evaluateStack("local");
    });

    // The local stack's ha Vault (issue 20 item 8): the unsealer, its setup Job, the init and snapshot Jobs.
    it("passes every rule (local, local.vaultMode ha)", async () => {
        const run = await evaluateStack("local", { "local.vaultMode": "ha" });
        assert.ok(run.ofType("kubernetes:apps/v1:Deployment").some((d) => d.inputs.metadata?.name === "vault-unsealer"));
        assert.deepEqual(await programViolations(run, "local", "local"), []);
    });

    for (const stack of ["dev", "prod", "local"] as const) {
        it(`passes every rule (${stack})`, async () => {
            const run = runs[stack]!;
            // With Azure the Azure rules have something to check; local has no Azure resource at all.
            const azureResources = run.ofType(TYPES.keyVault).length > 0 && run.ofType(TYPES.managedCluster).length > 0;
            assert.equal(azureResources, stack !== "local");
            assert.deepEqual(await programViolations(run, stack, stack), []);
        });

        it(`would flag its Kubernetes resources on a default provider (${stack})`, async () => {
            const k8sResources = runs[stack]!.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
            assert.ok(k8sResources.length > 0, "the program registers Kubernetes resources");
            const policy = findPolicy(policies, "kubernetes-explicit-provider");
            for (const r of k8sResources) {
                const messages = await violations(policy, {
                    type: r.type,
                    name: r.name,
                    props: r.inputs,
                    provider: provider("default_4_34_2"),
                });
                assert.equal(messages.length, 1, `${r.type} ${r.name}`);
            }
        });
    }

    it("reports the dev Key Vaults' missing purge protection when dev is checked as prod", async () => {
        const found = await programViolations(runs.dev!, "dev", "prod");
        const purge = found.filter((m) => m.startsWith("keyvault-purge-protection-in-prod"));
        assert.equal(purge.length, runs.dev!.ofType(TYPES.keyVault).length);
        assert.ok(purge.length >= 2);
    });
});

describe("policy pack: prod-locks-present (a stack policy)", () => {
    const policy = (stack: string) =>
        createPolicies({ stackName: () => stack }).find((p) => p.name === "prod-locks-present") as StackValidationPolicy;
    const resource = (type: string, props: object): PolicyResource =>
        ({
            type,
            props,
            urn: `urn:pulumi:prod::${PROJECT}::${type}::x`,
            name: "x",
            opts: {},
            dependencies: [],
            propertyDependencies: {},
        }) as never;
    const check = async (stack: string, resources: PolicyResource[]) => {
        const messages: string[] = [];
        const args = { resources, getConfig: () => ({}) } as unknown as StackValidationArgs;
        await policy(stack).validateStack(args, (message) => messages.push(message));
        return messages;
    };
    const rgId = `/subscriptions/${"1".repeat(8)}-1111-1111-1111-${"1".repeat(12)}/resourceGroups/rg`;
    const vaultId = `${rgId}/providers/Microsoft.KeyVault/vaults/kv`;
    const workspaceId = `${rgId}/providers/Microsoft.OperationalInsights/workspaces/log`;
    const locks = [
        resource(TYPES.scopeLock, { level: "CanNotDelete", scope: workspaceId }),
        resource(TYPES.scopeLock, { level: "CanNotDelete", scope: vaultId }),
    ];

    it("passes with both locks", async () => assert.deepEqual(await check("prod", locks), []));
    it("fails without the workspace lock", async () => assert.match((await check("prod", [locks[1]])).join(), /workspace/));
    it("fails without a Key Vault lock", async () => assert.match((await check("prod", [locks[0]])).join(), /Key Vault/));
    it("fails with a resource-group lock, which blocks routine deletes", async () =>
        assert.match(
            (await check("prod", [...locks, resource(TYPES.groupLock, { level: "CanNotDelete", resourceGroupName: "rg" })])).join(),
            /locks its resource group.*routine deletes/,
        ));
    it("fails with ReadOnly locks only", async () => {
        const readOnly = locks.map((l) => ({ ...l, props: { ...l.props, level: "ReadOnly" } }));
        assert.equal((await check("prod", readOnly)).length, 2);
    });
    it("leaves dev alone", async () => assert.deepEqual(await check("dev", []), []));

    it("passes on the program's prod stack, whose locks cover its vaults and workspace", async () => {
        const run = await evaluateStack("prod");
        const resources = run.resources.map((r) => resource(r.type, { ...r.inputs, id: r.id }));
        assert.deepEqual(await check("prod", resources), []);
        const dev = await evaluateStack("dev");
        assert.equal(dev.ofType(TYPES.groupLock).length + dev.ofType(TYPES.scopeLock).length, 0, "dev stays lock-free");
    });
});

describe("policy pack: pinned images", () => {
    it("tells pinned references from unpinned ones", () => {
        for (const image of ["nginx:1.27", "ghcr.io/o/a:v1", "localhost:5000/a:1", `a@sha256:${"0".repeat(64)}`])
            assert.ok(isPinnedImage(image), image);
        for (const image of ["nginx", "nginx:latest", "localhost:5000/a", "a@sha256:abc"]) assert.ok(!isPinnedImage(image), image);
    });
});
