import * as authorization from "@pulumi/azure-native/authorization";
import * as pulumi from "@pulumi/pulumi";
import type { POLICY_EFFECTS } from "../config";

/**
 * The built-in initiative "Kubernetes cluster pod security baseline standards for Linux-based workloads"
 * (Azure/azure-policy built-in-policies/policySetDefinitions/Kubernetes/Kubernetes_PSPBaselineStandard.json):
 * no privileged containers, host network, PID/IPC, hostPath, and only baseline capabilities.
 */
export const POD_SECURITY_BASELINE_INITIATIVE =
    "/providers/Microsoft.Authorization/policySetDefinitions/a8640138-9b0a-4a28-b8cb-1666c838647d";

/** The initiative's own default exclusions (its `excludedNamespaces` parameter default). */
export const POLICY_DEFAULT_EXCLUDED_NAMESPACES = ["kube-system", "gatekeeper-system", "azure-arc"] as const;

export interface PodSecurityPolicyArgs {
    /** ARM ID of the AKS cluster: the assignment's scope. */
    readonly clusterId: pulumi.Input<string>;
    /** audit reports violations in Azure Policy compliance; deny rejects them at admission (Gatekeeper). */
    readonly effect: (typeof POLICY_EFFECTS)[number];
    /**
     * Namespaces whose pods need what baseline forbids (the meshed application namespace: istio-init
     * adds NET_ADMIN). Excluded under deny only, so audit still reports them.
     */
    readonly denyExemptNamespaces: readonly string[];
}

/** The pod security baseline initiative assigned to one cluster (the Azure Policy add-on enforces it in-cluster). */
export class PodSecurityPolicy extends pulumi.ComponentResource {
    /** ARM ID of the assignment. */
    readonly assignmentId: pulumi.Output<string>;

    constructor(name: string, args: PodSecurityPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:PodSecurityPolicy", name, {}, opts);
        const excluded = [...POLICY_DEFAULT_EXCLUDED_NAMESPACES, ...(args.effect === "deny" ? args.denyExemptNamespaces : [])];
        const assignment = new authorization.PolicyAssignment(
            name,
            {
                policyAssignmentName: `${name}-baseline`,
                displayName: "Kubernetes pod security baseline (Linux)",
                scope: args.clusterId,
                policyDefinitionId: POD_SECURITY_BASELINE_INITIATIVE,
                enforcementMode: "Default",
                parameters: { effect: { value: args.effect }, excludedNamespaces: { value: excluded } },
            },
            { parent: this },
        );
        this.assignmentId = assignment.id;
        this.registerOutputs({ assignmentId: this.assignmentId });
    }
}
