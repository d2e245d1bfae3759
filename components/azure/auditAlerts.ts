import * as monitor from "@pulumi/azure-native/monitor";
import * as pulumi from "@pulumi/pulumi";

/** One scheduled-query alert: what it watches, the table it reads and its KQL (docs/operations.md, "Audit trail"). */
export interface AuditAlert {
    /** Short name; the rule is `<component>-<name>`. */
    readonly name: string;
    readonly description: string;
    /** 0 critical ... 4 verbose. */
    readonly severity: 0 | 1 | 2 | 3 | 4;
    /** The one Log Analytics table the query reads. */
    readonly table: string;
    readonly query: string;
    /**
     * How the rule evaluates. Default: every 5 minutes over 5 minutes, fires on any row, never resolves
     * (each event is its own signal). An absence alert fires on fewer than one row over its window and
     * resolves once a row arrives. A stateful one fires once while rows keep matching and resolves when
     * they stop (a condition, not an event).
     */
    readonly evaluation?: { readonly frequency: string; readonly window: string; readonly absence?: true; readonly stateful?: true };
}

export interface AuditAlertFacts {
    /** AKSAudit (reads collected) or AKSAuditAdmin (writes only). */
    readonly auditTable: "AKSAudit" | "AKSAuditAdmin";
    /** HashiCorp Vault's namespace. */
    readonly vaultNamespace: string;
    /** Name of the Key Vault holding the unseal key. */
    readonly unsealVaultName: string;
    /**
     * Raft snapshots (prod): the alert fires when no snapshot was uploaded for this many minutes (twice
     * the schedule's longest gap). Absent: no snapshots, no alert.
     */
    readonly snapshotStaleMinutes?: number;
    /**
     * Vault's TLS (issue 20 item 3): the alert fires when a server serves a certificate within alertDays
     * of expiry, or when no served certificate was reported for reportStaleHours (the renewal CronJob,
     * which reports them, stopped). Absent: no TLS, no alert.
     */
    readonly vaultTlsExpiry?: {
        readonly alertDays: number;
        readonly reportStaleHours: number;
        /**
         * How long after Vault's namespace starts logging the first report is due (the schedule's
         * period and the run's slack): before that, a missing report is a new stack, not a fault.
         */
        readonly firstReportHours: number;
        /** The statuses of the script's `vault-tls served` line that fire the expiring alert. */
        readonly badStatuses: readonly string[];
    };
}

const kql = (...lines: string[]) => lines.join("\n");

/**
 * The alerts, pure so that a test checks each query against the committed table schema. A secret-read
 * alert needs the get/list events that only kube-audit carries, so it exists only with AKSAudit.
 */
export function auditAlerts(f: AuditAlertFacts): AuditAlert[] {
    const ns = JSON.stringify(f.vaultNamespace);
    const alerts: AuditAlert[] = [];
    if (f.auditTable === "AKSAudit") {
        alerts.push({
            name: "vault-secret-reads",
            description: `A person or a workload outside the platform read a Secret in namespace ${f.vaultNamespace}.`,
            severity: 2,
            table: "AKSAudit",
            query: kql(
                "AKSAudit",
                `| where ObjectRef.resource == "secrets" and ObjectRef.namespace == ${ns}`,
                '| where Verb in ("get", "list", "watch")',
                // Helm's release records (Pulumi reads them on every up) and the platform's own controllers.
                '| where not(tostring(ObjectRef.name) startswith "sh.helm.release.")',
                '| where not(tostring(User.username) startswith "system:serviceaccount:kube-system:")',
                `| where tostring(User.username) != "system:serviceaccount:${f.vaultNamespace}:vault-agent-injector"`,
                "| project TimeGenerated, Verb, SecretName = tostring(ObjectRef.name), UserName = tostring(User.username), SourceIps",
            ),
        });
    }
    alerts.push(
        {
            name: "vault-pod-exec",
            description: `Someone opened a shell (exec or attach) in a pod of namespace ${f.vaultNamespace}.`,
            severity: 1,
            table: f.auditTable,
            query: kql(
                f.auditTable,
                `| where ObjectRef.resource == "pods" and ObjectRef.namespace == ${ns}`,
                '| where ObjectRef.subresource in ("exec", "attach")',
                "| project TimeGenerated, Verb, PodName = tostring(ObjectRef.name), UserName = tostring(User.username), SourceIps, Code = toint(ResponseStatus.code)",
            ),
        },
        {
            name: "unseal-key-failures",
            description: `Key Vault ${f.unsealVaultName} refused to get or unwrap with Vault's unseal key: Vault pods cannot unseal.`,
            severity: 1,
            table: "AzureDiagnostics",
            query: kql(
                "AzureDiagnostics",
                '| where ResourceProvider == "MICROSOFT.KEYVAULT" and Category == "AuditEvent"',
                `| where Resource =~ ${JSON.stringify(f.unsealVaultName)}`,
                '| where OperationName in ("KeyUnwrap", "KeyGet") and httpStatusCode_d >= 400',
                "| project TimeGenerated, OperationName, ResultSignature, httpStatusCode_d, CallerIPAddress, id_s",
            ),
        },
        ...(f.snapshotStaleMinutes === undefined
            ? []
            : [
                  {
                      name: "vault-snapshot-stale",
                      description: `No raft snapshot of Vault was uploaded in the last ${Math.ceil(f.snapshotStaleMinutes / 60)} hours (twice the schedule): the newest good snapshot is getting old.`,
                      severity: 2 as const,
                      table: "ContainerLogV2",
                      // The line scripts/vault-snapshot.sh logs only after the upload's size was read back.
                      query: kql(
                          "ContainerLogV2",
                          `| where PodNamespace == ${ns} and ContainerName == "upload"`,
                          '| where tostring(LogMessage) has "uploaded vault-"',
                          "| project TimeGenerated, PodName, LogMessage",
                      ),
                      // Log alerts look back at most 48 hours (config refuses a slower schedule).
                      evaluation: { frequency: "PT15M", window: `PT${Math.ceil(f.snapshotStaleMinutes / 60)}H`, absence: true as const },
                  },
              ]),
        ...(f.vaultTlsExpiry === undefined
            ? []
            : [
                  {
                      name: "vault-tls-expiring",
                      description: `A Vault server serves a TLS certificate that expires within ${f.vaultTlsExpiry.alertDays} days, has expired, or does not verify against Vault's CA: the renewal or the reload failed (docs/operations.md, "Rotate Vault's TLS certificate").`,
                      severity: 1 as const,
                      table: "ContainerLogV2",
                      // The line scripts/vault-tls-renew.sh logs for each server it reached; only each
                      // server's latest line counts, so the alert resolves once the next run reports ok
                      // and stays firing while the latest report is bad.
                      query: kql(
                          "ContainerLogV2",
                          `| where PodNamespace == ${ns} and ContainerName == "renew"`,
                          '| where tostring(LogMessage) has "vault-tls served"',
                          '| extend Server = extract("vault-tls served ([^ ]+)", 1, tostring(LogMessage))',
                          "| summarize arg_max(TimeGenerated, LogMessage, PodName) by Server",
                          `| where tostring(LogMessage) has_any (${f.vaultTlsExpiry.badStatuses.map((st) => JSON.stringify(`status=${st}`)).join(", ")})`,
                          "| project TimeGenerated, Server, PodName, LogMessage",
                      ),
                      // Two daily runs: a window of one day could lose the last report when a run is
                      // late and resolve, then fire again at the next run. Log alerts look back at most
                      // 48 hours (components/config/validators.ts, checkSnapshotSchedule).
                      evaluation: { frequency: "PT1H", window: `PT${f.vaultTlsExpiry.reportStaleHours}H`, stateful: true as const },
                  },
                  {
                      name: "vault-tls-unreported",
                      description: `No Vault server's TLS certificate was checked in the last ${f.vaultTlsExpiry.reportStaleHours} hours although Vault's namespace has been logging for more than ${f.vaultTlsExpiry.firstReportHours}: the renewal CronJob is not running or cannot reach the servers.`,
                      severity: 2 as const,
                      table: "ContainerLogV2",
                      // Not an absence rule (fewer than one row fires): that fires from the moment the
                      // rule exists, on every new stack, until the first 03:17 run. It fires only when
                      // Vault's namespace logged earlier than firstReportHours ago (a stack older than
                      // one run) and no report came in the window. An empty input still gives summarize
                      // one row, whose min() is null, and null < ago() is false: no row.
                      query: kql(
                          "ContainerLogV2",
                          `| where PodNamespace == ${ns}`,
                          `| summarize Since = min(TimeGenerated), Reports = countif(ContainerName == "renew" and tostring(LogMessage) has "vault-tls served")`,
                          `| where Reports == 0 and Since < ago(${f.vaultTlsExpiry.firstReportHours}h)`,
                          "| project Since, Reports",
                      ),
                      evaluation: { frequency: "PT1H", window: `PT${f.vaultTlsExpiry.reportStaleHours}H`, stateful: true as const },
                  },
              ]),
        {
            name: "vault-sealed-or-peer-lost",
            description: "A Vault server logged that it is sealed or that it lost contact with a raft peer or the quorum.",
            severity: 1,
            table: "ContainerLogV2",
            query: kql(
                "ContainerLogV2",
                `| where PodNamespace == ${ns} and ContainerName == "vault"`,
                '| where tostring(LogMessage) has_any ("vault is sealed", "failed to contact quorum", "failed to heartbeat to")',
                "| summarize Lines = count(), Sample = take_any(tostring(LogMessage)) by PodName",
            ),
        },
    );
    return alerts;
}

/** Who an action group notifies: an e-mail address, a webhook, or both. */
export interface AlertReceiver {
    readonly email?: string;
    /** Secret: webhook URLs usually carry a token. */
    readonly webhookUrl?: pulumi.Input<string>;
}

export interface AuditAlertsArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: pulumi.Input<string>;
    /** The Log Analytics workspace the rules query. */
    readonly workspaceId: pulumi.Input<string>;
    /** Name stem of the action group and rules. */
    readonly namePrefix: string;
    readonly auditTable: AuditAlertFacts["auditTable"];
    readonly vaultNamespace: string;
    readonly unsealVaultName: pulumi.Input<string>;
    /** See AuditAlertFacts.snapshotStaleMinutes. Default none. */
    readonly snapshotStaleMinutes?: number;
    /** See AuditAlertFacts.vaultTlsExpiry. Default none. */
    readonly vaultTlsExpiry?: AuditAlertFacts["vaultTlsExpiry"];
    /** Who is notified; absent (dev only, config rejects it in prod) means the alerts fire in the portal only. */
    readonly receiver?: AlertReceiver;
    readonly tags: pulumi.Input<Record<string, string>>;
}

/** An action group and one scheduled-query rule per audit alert, every five minutes over the workspace. */
export class AuditAlerts extends pulumi.ComponentResource {
    /** ARM ID of the action group; absent without a receiver. */
    readonly actionGroupId?: pulumi.Output<string>;

    constructor(name: string, args: AuditAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:AuditAlerts", name, {}, opts);
        const receiver = args.receiver;
        const group =
            receiver &&
            new monitor.ActionGroup(
                `${name}-receivers`,
                {
                    actionGroupName: `${args.namePrefix}-audit`,
                    resourceGroupName: args.resourceGroupName,
                    // Action groups are global resources.
                    location: "Global",
                    // At most 12 characters: the sender name of e-mails.
                    groupShortName: "audit",
                    enabled: true,
                    emailReceivers: receiver.email ? [{ name: "email", emailAddress: receiver.email, useCommonAlertSchema: true }] : [],
                    webhookReceivers: receiver.webhookUrl
                        ? [{ name: "webhook", serviceUri: pulumi.secret(receiver.webhookUrl), useCommonAlertSchema: true }]
                        : [],
                    tags: args.tags,
                },
                { parent: this, additionalSecretOutputs: ["webhookReceivers"] },
            );

        // The unseal alert's query names the vault, an output; the set of rules does not depend on it.
        const facts = {
            auditTable: args.auditTable,
            vaultNamespace: args.vaultNamespace,
            snapshotStaleMinutes: args.snapshotStaleMinutes,
            vaultTlsExpiry: args.vaultTlsExpiry,
        };
        const queries = pulumi.output(args.unsealVaultName).apply((unsealVaultName) => auditAlerts({ ...facts, unsealVaultName }));
        auditAlerts({ ...facts, unsealVaultName: "" }).forEach((alert, i) => {
            const query = queries.apply((all) => all[i].query);
            new monitor.ScheduledQueryRule(
                `${name}-${alert.name}`,
                {
                    ruleName: `${args.namePrefix}-${alert.name}`,
                    resourceGroupName: args.resourceGroupName,
                    location: args.location,
                    kind: "LogAlert",
                    description: alert.description,
                    severity: alert.severity,
                    enabled: true,
                    scopes: [args.workspaceId],
                    // ARM resolves a LogAlert's KQL against the workspace at create time and fails with 400
                    // SEM0100 while a table has no data yet: AzureDiagnostics appears with the first Key Vault
                    // AuditEvent, the AKS audit tables and ContainerLogV2 minutes after the workspace (seen in
                    // CDCgov/prime-reportstream#11773). The queries are checked by our own tests against the
                    // tables' schemas instead (tests/governance-azure.test.ts, kqlProblems).
                    skipQueryValidation: true,
                    evaluationFrequency: alert.evaluation?.frequency ?? "PT5M",
                    windowSize: alert.evaluation?.window ?? "PT5M",
                    criteria: {
                        allOf: [
                            {
                                query,
                                timeAggregation: "Count",
                                operator: alert.evaluation?.absence ? "LessThan" : "GreaterThan",
                                threshold: alert.evaluation?.absence ? 1 : 0,
                                failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 },
                            },
                        ],
                    },
                    // Each event is its own signal: nothing resolves an exec or a read. An absence
                    // resolves when the missing rows arrive.
                    autoMitigate: (alert.evaluation?.absence || alert.evaluation?.stateful) ?? false,
                    actions: { actionGroups: group ? [group.id] : [] },
                    tags: args.tags,
                },
                { parent: this },
            );
        });
        this.actionGroupId = group?.id;
        this.registerOutputs({ actionGroupId: this.actionGroupId });
    }
}
