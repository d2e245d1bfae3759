// The Azure Policy assignments on the cluster (enforced in-cluster by the Azure Policy add-on's
// Gatekeeper): the restricted pod security initiative, allowed images, internal load balancers only and
// container limits, each with the effect from config (deny in prod, audit in dev), and the namespaces
// each one exempts, every exemption with its reason. The built-in IDs and parameters are from
// Azure/azure-policy built-in-policies (policySetDefinitions/Kubernetes/PSPRestrictedStandard.json,
// policyDefinitions/Kubernetes/ContainerAllowedImages.json, LoadbalancerNoPublicIPs.json,
// ContainerResourceLimits.json).
import * as authorization from "@pulumi/azure-native/authorization";
import * as pulumi from "@pulumi/pulumi";
import type { POLICY_EFFECTS } from "../config";

/** One built-in policy or initiative the program assigns. */
export interface BuiltInPolicy {
    /** ARM ID of the built-in definition (policyDefinitions) or initiative (policySetDefinitions). */
    readonly id: string;
    readonly displayName: string;
}

const DEFINITION = "/providers/Microsoft.Authorization/policyDefinitions/";
const INITIATIVE = "/providers/Microsoft.Authorization/policySetDefinitions/";

/** The assignments, by key. */
const CLUSTER_POLICIES = {
    /** No privileged, escalation, host namespaces/paths; capabilities, volumes, users/groups, seccomp (initiative 2.5.0). */
    podSecurityRestricted: {
        id: `${INITIATIVE}42b8ef37-b724-4e24-bbc8-7a7708edfe00`,
        displayName: "Kubernetes cluster pod security restricted standards for Linux-based workloads",
    },
    /** container.image must match `allowedContainerImagesRegex` (definition 9.3.0). */
    allowedImages: {
        id: `${DEFINITION}febd0533-8e55-448f-b837-bd0e06f16469`,
        displayName: "Kubernetes cluster containers should only use allowed images",
    },
    /** A LoadBalancer Service must carry the internal annotation (definition 8.2.0). */
    internalLoadBalancers: {
        id: `${DEFINITION}3fc4dc25-5baf-40d8-9b05-7fe74c1bc64e`,
        displayName: "Kubernetes clusters should use internal load balancers",
    },
    /** Every container sets CPU and memory limits, at most `cpuLimit` / `memoryLimit` (definition 9.3.0). */
    containerLimits: {
        id: `${DEFINITION}e345eecc-fa47-480f-9e88-67dcc122b164`,
        displayName: "Kubernetes cluster containers CPU and memory resource limits should not exceed the specified limits",
    },
} as const satisfies Record<string, BuiltInPolicy>;
export type ClusterPolicyKey = keyof typeof CLUSTER_POLICIES;

/** Every built-in's own `excludedNamespaces` default: AKS's and the add-on's system namespaces. */
const POLICY_DEFAULT_EXCLUDED_NAMESPACES = ["kube-system", "gatekeeper-system", "azure-arc", "azure-extensions-usage-system"] as const;

/** The most one container may ask for under the container-limits policy (the largest limit the platform sets is 2 CPU / 4Gi). */
const CONTAINER_LIMIT_CAPS = { cpu: "4", memory: "8Gi" } as const;

/** One namespace a policy does not apply to, and why. */
export interface PolicyExemption {
    readonly namespace: string;
    readonly policies: readonly ClusterPolicyKey[];
    readonly why: string;
}

/** The namespaces of the stack the exemptions name. */
export interface ExemptionNamespaces {
    readonly istioSystem: string;
    readonly istioCni: string;
    readonly ingress: string;
    readonly vault: string;
    readonly reloader: string;
    readonly argocd: string;
}

/**
 * The exemptions: upstream charts whose pods the program does not template. Each names what in the
 * chart the policy refuses. The restricted initiative's AllowedUsersGroups requires runAsGroup,
 * supplementalGroups and fsGroup in 1-65535 (MustRunAs: a missing field is a violation,
 * open-policy-agent/gatekeeper-library pod-security-policy/users), and AllowedSeccompProfiles a
 * runtime/default profile. The application namespace is exempt from nothing.
 */
export function policyExemptions(ns: ExemptionNamespaces, options: { publicIngress: boolean }): PolicyExemption[] {
    return [
        {
            namespace: ns.istioCni,
            policies: ["podSecurityRestricted", "containerLimits"],
            why: "the Istio CNI node agent (chart cni 1.29.2) mounts host paths and adds NET_ADMIN and SYS_ADMIN as root to install the plugin that lets meshed pods run restricted",
        },
        {
            namespace: ns.istioSystem,
            policies: ["podSecurityRestricted", "containerLimits"],
            why: "istiod (chart istiod 1.29.2) sets no seccomp profile, supplementalGroups or fsGroup; the chart's resources are requests",
        },
        {
            namespace: ns.ingress,
            policies: [
                "podSecurityRestricted",
                // dev's gateway keeps a public load balancer (ingress.waf off; prod puts the WAF in front of an internal one).
                ...(options.publicIngress ? (["internalLoadBalancers"] as const) : []),
            ],
            why: `the gateway (chart gateway 1.29.2) sets the net.ipv4.ip_unprivileged_port_start sysctl and no seccomp profile or groups${options.publicIngress ? "; its Service is the public entry" : ""}`,
        },
        {
            namespace: ns.vault,
            policies: ["podSecurityRestricted", "containerLimits"],
            why: "vault-helm 0.32.0's server and injector set no seccomp profile or supplementalGroups, and the injector no limits",
        },
        {
            namespace: ns.reloader,
            policies: ["podSecurityRestricted", "containerLimits"],
            why: "Reloader (chart 2.2.16) sets no runAsGroup, supplementalGroups or fsGroup, and no limits",
        },
        {
            namespace: ns.argocd,
            policies: ["podSecurityRestricted", "containerLimits"],
            why: "argo-cd 9.5.17 sets no supplementalGroups or fsGroup, and no limits by default",
        },
    ];
}

/** The namespaces `policy` skips: the built-in's defaults plus the exemptions naming it. */
export function excludedNamespaces(policy: ClusterPolicyKey, exemptions: readonly PolicyExemption[]): string[] {
    return [...POLICY_DEFAULT_EXCLUDED_NAMESPACES, ...exemptions.filter((e) => e.policies.includes(policy)).map((e) => e.namespace)];
}

/** `^(p1|p2|...)` over image prefixes, regex-escaped: what allowedContainerImagesRegex matches against container.image. */
function allowedImagesRegex(prefixes: readonly string[]): string {
    const escaped = prefixes.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, (c) => (c === "/" ? "/" : `\\${c}`)));
    return `^(${escaped.join("|")})`;
}

export interface ClusterPolicyArgs {
    /** ARM ID of the AKS cluster: the assignments' scope. */
    readonly clusterId: pulumi.Input<string>;
    /** audit reports violations in Azure Policy compliance; deny rejects them at admission. */
    readonly effect: (typeof POLICY_EFFECTS)[number];
    /** Who is exempt from which policy, and why. */
    readonly exemptions: readonly PolicyExemption[];
    /** Image prefixes (registry/repository path) containers may use: the stack's registry and the pinned upstream ones. */
    readonly allowedImagePrefixes: pulumi.Input<string[]>;
}

/** The four assignments on one cluster. */
export class ClusterPolicy extends pulumi.ComponentResource {
    /** ARM IDs of the assignments, by policy. */
    readonly assignmentIds: Readonly<Record<ClusterPolicyKey, pulumi.Output<string>>>;

    constructor(name: string, args: ClusterPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:ClusterPolicy", name, {}, opts);
        const extra: Record<ClusterPolicyKey, Record<string, pulumi.Input<unknown>>> = {
            podSecurityRestricted: {},
            allowedImages: { allowedContainerImagesRegex: pulumi.output(args.allowedImagePrefixes).apply(allowedImagesRegex) },
            internalLoadBalancers: {},
            containerLimits: { cpuLimit: CONTAINER_LIMIT_CAPS.cpu, memoryLimit: CONTAINER_LIMIT_CAPS.memory },
        };
        const ids: Partial<Record<ClusterPolicyKey, pulumi.Output<string>>> = {};
        for (const key of Object.keys(CLUSTER_POLICIES) as ClusterPolicyKey[]) {
            const policy = CLUSTER_POLICIES[key];
            const parameters = Object.fromEntries(
                Object.entries({
                    effect: args.effect,
                    excludedNamespaces: excludedNamespaces(key, args.exemptions),
                    ...extra[key],
                }).map(([k, value]) => [k, { value }]),
            );
            const assignment = new authorization.PolicyAssignment(
                `${name}-${key}`,
                {
                    // Assignment names are at most 64 characters at a resource scope.
                    policyAssignmentName: `${name}-${key}`.slice(0, 64),
                    displayName: policy.displayName,
                    scope: args.clusterId,
                    policyDefinitionId: policy.id,
                    enforcementMode: "Default",
                    parameters,
                    description: exemptionNote(key, args.exemptions),
                },
                { parent: this },
            );
            ids[key] = assignment.id;
        }
        this.assignmentIds = ids as Record<ClusterPolicyKey, pulumi.Output<string>>;
        this.registerOutputs({ assignmentIds: this.assignmentIds });
    }
}

/** The assignment's description: each exempt namespace and why, as the portal shows it. */
function exemptionNote(key: ClusterPolicyKey, exemptions: readonly PolicyExemption[]): string {
    const own = exemptions.filter((e) => e.policies.includes(key));
    if (own.length === 0) return "No namespace exempt beyond the built-in's defaults.";
    return own.map((e) => `${e.namespace}: ${e.why}`).join(". ");
}
