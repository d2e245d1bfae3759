// Issue 22, "Done when": the controls that closed the last absent and partial rows of the comparison with
// mspnp/aks-baseline (managed Prometheus with node and pod health alerts, ephemeral OS disks, a DDoS
// protection plan option), each on the evaluated plans, and the comparison table in docs/platform.md
// itself: no row absent, every file it names exists.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { ROOT, evaluateStack, itRejectsConfig, TUNED, type StackRun } from "./harness";

const T = {
    cluster: "azure-native:containerservice:ManagedCluster",
    pool: "azure-native:containerservice:AgentPool",
    amw: "azure-native:monitor:AzureMonitorWorkspace",
    dce: "azure-native:monitor:DataCollectionEndpoint",
    dcr: "azure-native:monitor:DataCollectionRule",
    dcra: "azure-native:monitor:DataCollectionRuleAssociation",
    ruleGroup: "azure-native:alertsmanagement:PrometheusRuleGroup",
    metricAlert: "azure-native:monitor:MetricAlert",
    actionGroup: "azure-native:monitor:ActionGroup",
    vnet: "azure-native:network:VirtualNetwork",
    ddos: "azure-native:network:DdosProtectionPlan",
    activityAlert: "azure-native:monitor:ActivityLogAlert",
    group: "azure-native:resources:ResourceGroup",
};

/**
 * The alert names of Microsoft's recommended Prometheus rules for Kubernetes, written from
 * MicrosoftDocs/azure-docs articles/azure-monitor/containers/kubernetes-metric-alerts.md ("Recommended
 * alert rule details": Node level alerts, Pod level alerts, Cluster level alerts) and the template it
 * links (Azure/prometheus-collector GeneratedMonitoringArtifacts/Default/recommendedMetricAlerts.json,
 * where KubeNodeNotReady is in the Node-level group and the names carry their exact punctuation): the
 * health ones this platform must page on.
 */
const EXPECTED_ALERTS = {
    // KubeNodeDiskUsageHigh: mspnp/aks-baseline's own node disk rule (workload-team/modules/alerts.bicep).
    node: ["KubeNodeUnreachable", "KubeNodeNotReady", "KubeNodeReadinessFlapping", "KubeNodeDiskUsageHigh"],
    pod: [
        "KubePodCrashLooping",
        "Pod container restarted in the last 1 hour",
        "Number of pods in failed state are greater than 0.",
        "KubePodNotReadyByController",
        "Ready state of pods is less than 80%. ",
        "KubeDeploymentReplicasMismatch",
        "KubeStatefulSetReplicasMismatch",
        "KubeStatefulSetGenerationMismatch",
        "KubeJobFailed",
        "KubeJobNotCompleted",
        "Average CPU usage per container is greater than 95%",
        "Average Memory usage per container is greater than 95%.",
        "Average PV usage is greater than 80%",
    ],
    cluster: [
        "Number of OOM killed containers is greater than 0",
        "KubeContainerWaiting",
        "KubePersistentVolumeFillingUp",
        "KubePersistentVolumeErrors",
        "KubeDaemonSetNotScheduled",
    ],
} as const;

/**
 * Node CPU and memory as AKS platform metrics (MicrosoftDocs/azure-docs
 * articles/aks/monitor-aks-reference.md, "Nodes"), with the thresholds of Microsoft's recommended
 * platform metric rules (kubernetes-metric-alerts.md: CPU 95, memory working set 100).
 */
const EXPECTED_NODE_METRICS = {
    node_cpu_usage_percentage: 95,
    node_memory_working_set_percentage: 100,
};

/**
 * Temporary (local) disk of VM sizes, GiB, from MicrosoftDocs/azure-docs
 * articles/virtual-machines/ddv5-ddsv5-series.md and dv5-dsv5-series.md ("Temp storage (SSD) GiB";
 * Dsv5 sizes: "Remote Storage Only"): what an ephemeral OS disk can live on.
 */
const LOCAL_DISK_GIB: Record<string, number> = {
    Standard_D2ds_v5: 75,
    Standard_D4ds_v5: 150,
    Standard_D8ds_v5: 300,
    Standard_D2s_v5: 0,
    Standard_D4s_v5: 0,
};

for (const stack of ["dev", "prod"] as const) {
    const prod = stack === "prod";
    describe(`baseline controls (${stack})`, () => {
        let run: StackRun;
        before(async () => {
            run = await evaluateStack(stack);
        });
        const cluster = () => run.get(T.cluster, "aks");

        it(`${prod ? "sends" : "does not send"} the cluster's Prometheus metrics to an Azure Monitor workspace through a DCE, a DCR and its association`, () => {
            if (!prod) {
                for (const type of [T.amw, T.dce, T.dcr, T.dcra, T.ruleGroup, T.metricAlert]) {
                    const managed = run.ofType(type).filter((r) => r.name.startsWith("prometheus"));
                    assert.deepEqual(
                        managed.map((r) => r.name),
                        [],
                        `dev stays cheap: no ${type}`,
                    );
                }
                assert.equal(cluster().inputs.azureMonitorProfile, undefined, "no metrics add-on on dev");
                return;
            }
            // The add-on on the cluster (mspnp/aks-baseline cluster-stamp.bicep azureMonitorProfile.metrics).
            assert.equal(cluster().inputs.azureMonitorProfile?.metrics?.enabled, true);
            const [amw] = run.ofType(T.amw);
            assert.ok(amw, "an Azure Monitor workspace");
            const [dce] = run.ofType(T.dce);
            assert.equal(dce.inputs.kind, "Linux");
            const dcr = run.ofType(T.dcr).find((r) => r.inputs.dataSources?.prometheusForwarder);
            assert.ok(dcr, "a DCR with a prometheusForwarder source");
            assert.equal(dcr.inputs.dataCollectionEndpointId, dce.id);
            // The stream and destination kind the metrics add-on needs (azure-native KnownPrometheusForwarderDataSourceStreams).
            assert.deepEqual(dcr.inputs.dataSources.prometheusForwarder[0].streams, ["Microsoft-PrometheusMetrics"]);
            const [destination] = dcr.inputs.destinations.monitoringAccounts;
            assert.equal(destination.accountResourceId, amw.id);
            assert.deepEqual(dcr.inputs.dataFlows, [{ streams: ["Microsoft-PrometheusMetrics"], destinations: [destination.name] }]);
            const association = run.ofType(T.dcra).find((a) => a.inputs.dataCollectionRuleId === dcr.id);
            assert.ok(association, "the DCR is associated");
            assert.equal(association.inputs.resourceUri, cluster().id, "with the cluster");
            assert.ok(run.dependsOn(association.urn, cluster().urn), "after the cluster exists");
        });

        it(`${prod ? "alerts" : "does not alert"} on node and pod health with Microsoft's recommended rules, notifying the audit alerts' receivers`, () => {
            const groups = run.ofType(T.ruleGroup);
            const alerts = run.ofType(T.metricAlert);
            if (!prod) {
                assert.equal(groups.length, 0);
                assert.equal(alerts.length, 0);
                return;
            }
            const [amw] = run.ofType(T.amw);
            const [actionGroup] = run.ofType(T.actionGroup);
            assert.ok(actionGroup, "prod has a receiver");
            const names = Object.fromEntries(groups.map((g) => [g.inputs.ruleGroupName, g.inputs.rules.map((r: any) => r.alert)] as const));
            assert.deepEqual(names, {
                "gitops-prod-node-alerts": EXPECTED_ALERTS.node,
                "gitops-prod-pod-alerts": EXPECTED_ALERTS.pod,
                "gitops-prod-cluster-alerts": EXPECTED_ALERTS.cluster,
            });
            for (const group of groups) {
                assert.deepEqual(group.inputs.scopes, [amw.id, cluster().id], `${group.name}: the workspace and the cluster`);
                assert.equal(group.inputs.clusterName, cluster().inputs.resourceName);
                assert.equal(group.inputs.enabled, true);
                for (const rule of group.inputs.rules) {
                    assert.deepEqual(rule.actions, [{ actionGroupId: actionGroup.id }], rule.alert);
                    assert.equal(rule.enabled, true);
                    assert.match(rule.for, /^PT\d+M$/);
                    // Balanced brackets: a truncated copy of Microsoft's PromQL would fail at ARM.
                    for (const [open, close] of ["()", "{}", "[]"]) {
                        assert.equal(
                            rule.expression.split(open).length,
                            rule.expression.split(close).length,
                            `${rule.alert}: ${open}${close}`,
                        );
                    }
                }
            }
            const metrics = Object.fromEntries(
                alerts.map((a) => {
                    assert.deepEqual(a.inputs.scopes, [cluster().id]);
                    assert.deepEqual(a.inputs.actions, [{ actionGroupId: actionGroup.id }]);
                    const [criterion] = a.inputs.criteria.allOf;
                    assert.equal(criterion.metricNamespace, "Microsoft.ContainerService/managedClusters");
                    assert.equal(criterion.operator, "GreaterThan");
                    return [criterion.metricName, criterion.threshold] as const;
                }),
            );
            assert.deepEqual(metrics, EXPECTED_NODE_METRICS);
        });

        it(`runs ${prod ? "both pools on Ephemeral OS disks that fit the VM size's local disk" : "its pool on a managed OS disk"}`, () => {
            const pools = [cluster().inputs.agentPoolProfiles[0], ...run.ofType(T.pool).map((p) => p.inputs)];
            assert.equal(pools.length, prod ? 2 : 1);
            for (const pool of pools) {
                if (!prod) {
                    assert.equal(pool.osDiskType, "Managed", pool.vmSize);
                    continue;
                }
                assert.equal(pool.osDiskType, "Ephemeral", pool.mode);
                const local = LOCAL_DISK_GIB[pool.vmSize];
                assert.ok(local > 0, `${pool.vmSize} has a local disk`);
                assert.ok(pool.osDiskSizeGB <= local, `${pool.osDiskSizeGB} GiB OS disk on ${pool.vmSize}'s ${local} GiB`);
            }
        });

        it("cleans vulnerable unused images off the nodes and allows no run command, as the baseline", () => {
            // mspnp/aks-baseline workload-team/cluster-stamp.bicep: imageCleaner { enabled, intervalHours: 120 },
            // apiServerAccessProfile.disableRunCommand: true.
            assert.deepEqual(cluster().inputs.securityProfile.imageCleaner, { enabled: true, intervalHours: 120 });
            assert.equal(cluster().inputs.apiServerAccessProfile.disableRunCommand, true);
        });

        it(`${prod ? "alerts" : "does not alert"} on new Azure Advisor recommendations for the stack's resource group`, () => {
            const alerts = run.ofType(T.activityAlert);
            if (!prod) return assert.equal(alerts.length, 0);
            assert.equal(alerts.length, 1);
            const [alert] = alerts;
            // The baseline's AllAzureAdvisorAlert (workload-team/modules/alerts.bicep).
            assert.deepEqual(alert.inputs.scopes, [run.get(T.group, "rg").id]);
            assert.deepEqual(alert.inputs.condition.allOf, [
                { field: "category", equals: "Recommendation" },
                { field: "operationName", equals: "Microsoft.Advisor/recommendations/available/action" },
            ]);
            assert.deepEqual(alert.inputs.actions.actionGroups, [{ actionGroupId: run.ofType(T.actionGroup)[0].id }]);
        });

        it("has no DDoS protection plan unless ddosProtection asks for one", () => {
            assert.equal(run.ofType(T.ddos).length, 0);
            const vnet = run.get(T.vnet, "network");
            assert.equal(vnet.inputs.ddosProtectionPlan, undefined);
            assert.notEqual(vnet.inputs.enableDdosProtection, true, "the SDK default, false, as before");
        });
    });
}

describe("baseline controls: options", () => {
    it("creates a DDoS protection plan and puts the VNet under it with ddosProtection create", async () => {
        assert.equal(TUNED.prod.ddosProtection, "create");
        const run = await evaluateStack("prod", TUNED.prod);
        const [plan] = run.ofType(T.ddos);
        assert.ok(plan, "a plan");
        const vnet = run.get(T.vnet, "network");
        assert.deepEqual(vnet.inputs.ddosProtectionPlan, { id: plan.id });
        assert.equal(vnet.inputs.enableDdosProtection, true);
    });

    it("uses an existing plan by ID with ddosProtection existing, creating none", async () => {
        const { ddosProtection, ddosProtectionPlanId: planId } = TUNED.dev;
        assert.equal(ddosProtection, "existing");
        const run = await evaluateStack("dev", TUNED.dev);
        assert.equal(run.ofType(T.ddos).length, 0);
        assert.deepEqual(run.get(T.vnet, "network").inputs.ddosProtectionPlan, { id: planId });
    });

    itRejectsConfig([
        {
            name: "refuses an Ephemeral OS disk on a v5 size without a local disk, naming the key and a size that has one",
            raw: { systemPoolOsDiskType: "Ephemeral", systemPoolVmSize: "Standard_D4s_v5" },
            expect: ["systemPoolOsDiskType", "Standard_D4s_v5", "Standard_D4ds_v5", "Managed"],
        },
        {
            name: "refuses an Ephemeral OS disk larger than the size's temporary disk",
            raw: {
                userPoolEnabled: "true",
                userPoolOsDiskType: "Ephemeral",
                userPoolVmSize: "Standard_D2ds_v5",
                userPoolOsDiskSizeGb: "128",
            },
            expect: ["userPoolOsDiskSizeGb", "128", "75 GiB", "Standard_D2ds_v5"],
        },
        {
            name: "refuses an OS disk type that is neither Managed nor Ephemeral",
            raw: { systemPoolOsDiskType: "Temporary" },
            expect: ["systemPoolOsDiskType", "Temporary", "Managed", "Ephemeral"],
        },
        {
            name: "refuses ddosProtection existing without the plan's ID",
            raw: { ddosProtection: "existing" },
            expect: ["ddosProtectionPlanId", "existing"],
        },
        {
            name: "refuses a DDoS plan ID without ddosProtection existing",
            raw: { ddosProtectionPlanId: TUNED.dev.ddosProtectionPlanId },
            expect: ["ddosProtectionPlanId", '"none"'],
        },
    ]);
});

/** The rows of the table under `heading` in a Markdown file: one record per row, keyed by the header cells. */
export function markdownTable(file: string, heading: string): Record<string, string>[] {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    const start = text.indexOf(`\n${heading}\n`);
    if (start < 0) throw new Error(`${file} has no heading ${JSON.stringify(heading)}`);
    const lines = text.slice(start).split("\n");
    const first = lines.findIndex((l) => l.startsWith("|"));
    const rows: string[][] = [];
    for (const line of lines.slice(first)) {
        if (!line.startsWith("|")) break;
        rows.push(
            line
                .slice(1, -1)
                .split(/(?<!\\)\|/)
                .map((c) => c.trim()),
        );
    }
    const [header, , ...body] = rows;
    return body.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ""])));
}

describe("docs/platform.md: against mspnp/aks-baseline, control by control", () => {
    const rows = markdownTable("docs/platform.md", "### Against mspnp/aks-baseline, control by control");

    it("has the table, with its four columns", () => {
        assert.ok(rows.length >= 30, `${rows.length} rows`);
        assert.deepEqual(Object.keys(rows[0]), ["Control (baseline)", "Here", "File", "Status"]);
    });

    it("leaves no control absent, and gives every status one of the legend's words", () => {
        for (const row of rows) {
            const status = row.Status;
            assert.doesNotMatch(status, /^absent/i, `${row["Control (baseline)"]}: absent`);
            assert.match(status, /^(present|different|partial|beyond)\b/, `${row["Control (baseline)"]}: ${status}`);
            // A status that points at open work ("issue 22 item 3") goes stale the day that work lands.
            assert.doesNotMatch(status, /issue \d+ item/, `${row["Control (baseline)"]}: ${status}`);
        }
    });

    it("names, for every control, files that exist", () => {
        for (const row of rows) {
            const files = [...row.File.matchAll(/`([^`]+)`/g)].map((m) => m[1]).filter((f) => /^[\w.-]+(\/[\w.-]+)+$/.test(f));
            assert.ok(files.length > 0, `${row["Control (baseline)"]}: names no file`);
            for (const file of files)
                assert.ok(fs.existsSync(path.join(ROOT, file)), `${row["Control (baseline)"]}: ${file} does not exist`);
        }
    });
});
