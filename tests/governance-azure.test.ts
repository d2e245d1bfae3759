// Issue 13 items 1 and 2 on the evaluated plans: the control-plane audit trail (diagnostic settings),
// the audit alerts and their receivers, each alert's KQL against the tables it reads, the Azure Policy
// add-on with the pod security initiative, and Defender for Containers.
import { strict as assert } from "assert";
import { auditAlerts } from "../components/azure/auditAlerts";
import { CONTROL_PLANE_TABLES } from "../components/azure/clusterDiagnostics";
import { EvaluationError, evaluateStack, isSecretValue, plainText, TUNED, type StackRun } from "./harness";
import { KQL_WORDS, LOG_ANALYTICS_TABLES } from "./logAnalyticsSchema";

const T = {
    cluster: "azure-native:containerservice:ManagedCluster",
    workspace: "azure-native:operationalinsights:Workspace",
    diagnostic: "azure-native:monitor:DiagnosticSetting",
    rule: "azure-native:monitor:ScheduledQueryRule",
    actionGroup: "azure-native:monitor:ActionGroup",
    assignment: "azure-native:authorization:PolicyAssignment",
    vault: "azure-native:keyvault:Vault",
};

/** Problems of one KQL query against the schema: unknown table, or a word that is neither a column, a bound name nor KQL. */
export function kqlProblems(query: string, tables: Readonly<Record<string, readonly string[]>> = LOG_ANALYTICS_TABLES): string[] {
    const text = query.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\s+/g, " ");
    const [source, ...stages] = text.split("|").map((s) => s.trim());
    const columns = tables[source];
    if (!columns) return [`${source} is not a table of the schema`];
    const known = new Set(columns);
    // Names a stage binds (`Name = expr`, not == or =~) are columns of what follows.
    for (const stage of stages) for (const m of stage.matchAll(/\b([A-Za-z_]\w*)\s*=(?![=~])/g)) known.add(m[1]);
    const problems: string[] = [];
    for (const stage of stages) {
        for (const [, dot, word] of stage.matchAll(/(\.)?\b([A-Za-z_]\w*)\b/g)) {
            // A property of a dynamic column (ObjectRef.namespace) is the column's business.
            if (dot || KQL_WORDS.has(word) || known.has(word)) continue;
            problems.push(`${source}: ${word} is neither a column of the table nor a KQL word`);
        }
    }
    return problems;
}

describe("KQL checker", () => {
    it("accepts a query on real columns and flags an unknown table, column or function", () => {
        assert.deepEqual(kqlProblems('AKSAudit | where Verb == "get" | project TimeGenerated, Who = tostring(User.username)'), []);
        assert.deepEqual(kqlProblems("AKSAudits | where Verb == 1"), ["AKSAudits is not a table of the schema"]);
        assert.deepEqual(kqlProblems("AKSAudit | where Namespace == 1"), [
            "AKSAudit: Namespace is neither a column of the table nor a KQL word",
        ]);
        assert.deepEqual(kqlProblems("ContainerLogV2 | where parse_json(LogMessage)"), [
            "ContainerLogV2: parse_json is neither a column of the table nor a KQL word",
        ]);
    });

    for (const auditTable of ["AKSAudit", "AKSAuditAdmin"] as const) {
        it(`every alert query names only real tables and columns (${auditTable})`, () => {
            for (const alert of auditAlerts({
                auditTable,
                vaultNamespace: "vault",
                unsealVaultName: "gitops-prod-seal-ab12",
                snapshotStaleMinutes: 720,
                vaultTlsExpiry: { alertDays: 14, reportStaleHours: 48, firstReportHours: 26, badStatuses: ["EXPIRING", "EXPIRED"] },
            })) {
                assert.equal(alert.query.split("\n")[0], alert.table, `${alert.name} reads the table it declares`);
                assert.deepEqual(kqlProblems(alert.query), [], alert.name);
            }
        });
    }
});

for (const stack of ["dev", "prod"] as const) {
    const prod = stack === "prod";
    describe(`audit trail and governance (${stack})`, () => {
        let run: StackRun;
        before(async () => {
            run = await evaluateStack(stack);
        });
        const cluster = () => run.get(T.cluster, "aks");
        const workspaceId = () => run.get(T.workspace, "monitoring-logs").id;

        it("sends the control-plane audit categories to resource-specific tables of the workspace", () => {
            const setting = run.ofType(T.diagnostic).find((d) => d.inputs.resourceUri === cluster().id);
            assert.ok(setting, "a diagnostic setting on the cluster");
            assert.equal(setting.inputs.workspaceId, workspaceId());
            assert.equal(setting.inputs.logAnalyticsDestinationType, "Dedicated");
            const categories = setting.inputs.logs.map((l: any) => (assert.equal(l.enabled, true), l.category)).sort();
            // prod collects reads (the secret-read alert needs them); dev the cheaper writes-only category.
            assert.deepEqual(categories, [prod ? "kube-audit" : "kube-audit-admin", "cluster-autoscaler", "guard"].sort());
        });

        it("keeps Key Vault metrics next to its AuditEvent log", () => {
            const vaults = run.ofType(T.vault);
            assert.equal(vaults.length, 2);
            for (const vault of vaults) {
                const setting = run.ofType(T.diagnostic).find((d) => d.inputs.resourceUri === vault.id);
                assert.ok(setting, vault.name);
                assert.deepEqual(setting.inputs.logs, [{ categoryGroup: "audit", enabled: true }]);
                assert.deepEqual(setting.inputs.metrics, [{ category: "AllMetrics", enabled: true }]);
                assert.equal(setting.inputs.workspaceId, workspaceId());
            }
        });

        it("alerts on the workspace, each query reading a table this stack fills, notifying the configured receiver", () => {
            const rules = run.ofType(T.rule);
            const names = rules.map((r) => r.inputs.ruleName).sort();
            const expected = [
                "unseal-key-failures",
                "vault-pod-exec",
                "vault-sealed-or-peer-lost",
                ...(prod ? ["vault-secret-reads", "vault-snapshot-stale", "vault-tls-expiring", "vault-tls-unreported"] : []),
            ];
            assert.deepEqual(names, expected.map((n) => `gitops-${stack}-${n}`).sort());
            const sent = run
                .ofType(T.diagnostic)
                .find((d) => d.inputs.resourceUri === cluster().id)!
                .inputs.logs.map((l: any) => l.category);
            const filled = new Set([
                ...sent.map((c: keyof typeof CONTROL_PLANE_TABLES) => CONTROL_PLANE_TABLES[c]),
                // Key Vault's setting has no destination type: AzureDiagnostics. The data collection rule turns ContainerLogV2 on.
                "AzureDiagnostics",
                "ContainerLogV2",
            ]);
            const groups = run.ofType(T.actionGroup);
            assert.equal(groups.length, prod ? 1 : 0, "prod always has a receiver; dev has none configured");
            const unsealVault = run.get(T.vault, "unseal-kv").inputs.vaultName;
            for (const rule of rules) {
                assert.deepEqual(rule.inputs.scopes, [workspaceId()]);
                // The tables fill only after the first data lands: ARM must not resolve the KQL at create
                // time (issue 17 item 1); kqlProblems below checks it against the schema instead.
                assert.equal(rule.inputs.skipQueryValidation, true, `${rule.inputs.ruleName} skips ARM's query validation`);
                const [criterion] = rule.inputs.criteria.allOf;
                const table = criterion.query.split("\n")[0];
                assert.ok(filled.has(table), `${rule.inputs.ruleName} reads ${table}, which this stack does not fill`);
                assert.deepEqual(kqlProblems(criterion.query), [], rule.inputs.ruleName);
                // The snapshot staleness alert fires on an absence (tests/platform-vault-day2.test.ts); every
                // other on rows (the TLS report one too: tests/vault-tls-renewal.test.ts).
                const absence = rule.inputs.ruleName.endsWith("vault-snapshot-stale");
                assert.equal(criterion.operator, absence ? "LessThan" : "GreaterThan");
                assert.equal(criterion.threshold, absence ? 1 : 0);
                assert.deepEqual(
                    rule.inputs.actions.actionGroups,
                    groups.map((g) => g.id),
                );
                if (rule.inputs.ruleName.endsWith("unseal-key-failures"))
                    assert.ok(criterion.query.includes(`"${unsealVault}"`), "names the unseal vault");
            }
            if (prod)
                assert.deepEqual(
                    groups[0].inputs.emailReceivers.map((r: any) => r.emailAddress),
                    ["platform-team@example.com"],
                );
        });

        it(`${prod ? "has" : "has no"} the Azure Policy add-on with the pod security baseline initiative, and Defender`, () => {
            const c = cluster().inputs;
            assert.equal(c.addonProfiles.azurepolicy.enabled, prod);
            const assignments = run.ofType(T.assignment);
            // The assignments themselves are tests/cluster-policy.test.ts's subject.
            assert.equal(assignments.length, prod ? 4 : 0);
            if (prod) {
                assert.deepEqual(c.securityProfile.defender, {
                    logAnalyticsWorkspaceResourceId: workspaceId(),
                    securityMonitoring: { enabled: true },
                });
            } else {
                assert.equal(c.securityProfile.defender, undefined);
            }
            assert.deepEqual(c.securityProfile.workloadIdentity, { enabled: true });
        });
    });
}

describe("audit trail configuration", () => {
    it("rejects prod without an alert receiver before any resource is registered, naming the key", async () => {
        const error = await evaluateStack("prod", { "monitoring.alertEmail": undefined }).then(
            () => undefined,
            (e: unknown) => e,
        );
        assert.ok(error instanceof EvaluationError, String(error));
        assert.match(error.message, /monitoring\.alertEmail: is not set and neither is monitoring\.alertWebhookUrl/);
        assert.equal(error.resources.length, 0);
    });

    it("calls a webhook as a secret, and sends the kube-apiserver log when asked", async () => {
        const run = await evaluateStack("prod", TUNED.prod);
        const [group] = run.ofType(T.actionGroup);
        assert.deepEqual(group.inputs.emailReceivers, []);
        assert.equal(group.inputs.webhookReceivers[0].serviceUri, "https://hooks.example.com/t0ken");
        assert.ok(isSecretValue(group.rawInputs.webhookReceivers), "the receivers travel as a secret");
        assert.ok(!plainText(group.rawInputs).includes("t0ken"));
        const cluster = run.get(T.cluster, "aks");
        const setting = run.ofType(T.diagnostic).find((d) => d.inputs.resourceUri === cluster.id)!;
        assert.ok(setting.inputs.logs.some((l: any) => l.category === "kube-apiserver"));
    });
});
