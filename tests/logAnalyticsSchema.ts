// The Log Analytics tables and columns the audit alerts query, as the Azure Monitor table reference
// documents them (learn.microsoft.com/azure/azure-monitor/reference/tables/<table>: aksaudit,
// aksauditadmin, akscontrolplane, azurediagnostics, containerlogv2). Only the columns the program's
// queries may use are listed for AzureDiagnostics (its schema is open-ended: one column per field a
// resource provider emits, here Key Vault's AuditEvent fields). Adding a column a query needs means
// checking it in that reference first.

/** The resource-specific AKS audit tables share one schema. */
const AKS_AUDIT = [
    "TimeGenerated",
    "Level",
    "AuditId",
    "Stage",
    "RequestUri",
    "Verb",
    "User",
    "ImpersonatedUser",
    "SourceIps",
    "UserAgent",
    "ObjectRef",
    "ResponseStatus",
    "RequestObject",
    "ResponseObject",
    "RequestReceivedTime",
    "StageReceivedTime",
    "Annotations",
    "PodName",
    "_ResourceId",
    "Type",
    "TenantId",
] as const;

export const LOG_ANALYTICS_TABLES: Readonly<Record<string, readonly string[]>> = {
    AKSAudit: AKS_AUDIT,
    AKSAuditAdmin: AKS_AUDIT,
    AKSControlPlane: ["TimeGenerated", "Category", "Level", "Message", "PodName", "_ResourceId", "Type", "TenantId"],
    AzureDiagnostics: [
        "TimeGenerated",
        "ResourceProvider",
        "ResourceType",
        "Category",
        "Resource",
        "ResourceId",
        "OperationName",
        "ResultType",
        "ResultSignature",
        "DurationMs",
        "CallerIPAddress",
        "httpStatusCode_d",
        "id_s",
        "identity_claim_oid_g",
        "requestUri_s",
    ],
    ContainerLogV2: [
        "TimeGenerated",
        "Computer",
        "ContainerId",
        "ContainerName",
        "PodName",
        "PodNamespace",
        "LogMessage",
        "LogSource",
        "LogLevel",
        "KubernetesMetadata",
        "_ResourceId",
    ],
};

/** KQL operators, keywords and functions the queries may use (learn.microsoft.com/kusto/query). */
export const KQL_WORDS = new Set([
    "where",
    "project",
    "extend",
    "summarize",
    "by",
    "and",
    "or",
    "not",
    "in",
    "has",
    "has_any",
    "contains",
    "startswith",
    "endswith",
    "tostring",
    "toint",
    "count",
    "take_any",
    "ago",
    "true",
    "false",
]);
