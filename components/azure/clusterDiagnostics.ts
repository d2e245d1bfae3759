import * as monitor from "@pulumi/azure-native/monitor";
import * as pulumi from "@pulumi/pulumi";

/**
 * The AKS control-plane log categories and the resource-specific table each lands in with
 * `logAnalyticsDestinationType: Dedicated` (learn.microsoft.com, "Monitor AKS: resource logs",
 * and the Azure Monitor table reference for AKSAudit, AKSAuditAdmin, AKSControlPlane).
 */
export const CONTROL_PLANE_TABLES = {
    "kube-audit": "AKSAudit",
    "kube-audit-admin": "AKSAuditAdmin",
    guard: "AKSControlPlane",
    "cluster-autoscaler": "AKSControlPlane",
    "kube-apiserver": "AKSControlPlane",
} as const;
export type ControlPlaneCategory = keyof typeof CONTROL_PLANE_TABLES;

/** The categories a stack sends: always one audit category, Entra ID (guard) and the autoscaler. */
export function controlPlaneCategories(settings: {
    readonly kubeAuditReads: boolean;
    readonly kubeApiServerLogs: boolean;
}): ControlPlaneCategory[] {
    // kube-audit is a superset of kube-audit-admin (which drops get and list): never both, or every write is billed twice.
    const audit: ControlPlaneCategory = settings.kubeAuditReads ? "kube-audit" : "kube-audit-admin";
    return [audit, "guard", "cluster-autoscaler", ...(settings.kubeApiServerLogs ? (["kube-apiserver"] as const) : [])];
}

export interface ClusterDiagnosticsArgs {
    /** ARM ID of the AKS cluster. */
    readonly clusterId: pulumi.Input<string>;
    /** Log Analytics workspace the logs go to. */
    readonly workspaceId: pulumi.Input<string>;
    /** The categories to send (controlPlaneCategories). */
    readonly categories: readonly ControlPlaneCategory[];
}

/** The cluster's control-plane audit trail: a diagnostic setting into resource-specific Log Analytics tables. */
export class ClusterDiagnostics extends pulumi.ComponentResource {
    /** The audit table the alerts query: AKSAudit with reads, AKSAuditAdmin without. */
    readonly auditTable: "AKSAudit" | "AKSAuditAdmin";

    constructor(name: string, args: ClusterDiagnosticsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:ClusterDiagnostics", name, {}, opts);
        new monitor.DiagnosticSetting(
            name,
            {
                name: "control-plane-to-log-analytics",
                resourceUri: args.clusterId,
                workspaceId: args.workspaceId,
                // Resource-specific tables (typed columns, cheaper Basic-plan-eligible) instead of AzureDiagnostics.
                logAnalyticsDestinationType: "Dedicated",
                logs: args.categories.map((category) => ({ category, enabled: true })),
            },
            { parent: this },
        );
        this.auditTable = args.categories.includes("kube-audit") ? "AKSAudit" : "AKSAuditAdmin";
        this.registerOutputs({ auditTable: this.auditTable });
    }
}
