// Issue 22, "Done when": the controls that closed the last absent and partial rows of the comparison with
// mspnp/aks-baseline (managed Prometheus with node and pod health alerts, ephemeral OS disks, a DDoS
// protection plan option), each on the evaluated plans, and the comparison table in docs/platform.md
// itself: no row absent, every file it names exists.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { docSection } from "./docText";
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
 * Microsoft's recommended Prometheus alert rules for AKS: Azure/prometheus-collector
 * GeneratedMonitoringArtifacts/Default/recommendedMetricAlerts.json at commit
 * 917abcce9e3ff45830864eb67c0b5567a9846f13 (its last change, 2025-07-31); the fixture is an extract of the fields compared here.
 * MicrosoftDocs/azure-monitor-docs articles/azure-monitor/containers/kubernetes-metric-alerts.md and
 * mspnp/aks-baseline workload-team/modules/alerts.bicep use the same names (KubePodContainerRestart,
 * KubePodReadyStateLow, KubeJobStale, ...).
 */
const RECOMMENDED = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures/prometheus/recommendedMetricAlerts.json"), "utf8")) as {
    source: string;
    commit: string;
    resources: {
        name: string;
        properties: {
            rules: { alert: string; expression: string; for: string; severity: number; resolveConfiguration: { timeToResolve: string } }[];
        };
    }[];
};
/** The upstream group of each rule (the suffix of its prometheusRuleGroup's name) and ours. */
const GROUP_OF = { "Node-level": "node", "Pod-level": "pod", "Cluster-level": "cluster" } as const;
const UPSTREAM = new Map(
    RECOMMENDED.resources.flatMap((group) => {
        const level = /-(Node|Pod|Cluster)-level'\)\]$/.exec(group.name)![1];
        return group.properties.rules.map(
            (rule) => [rule.alert, { ...rule, group: GROUP_OF[`${level}-level` as keyof typeof GROUP_OF] }] as const,
        );
    }),
);
/**
 * What we deploy beyond the upstream file: the metrics pipeline's own health (nothing else fires when no
 * metric arrives). Written here, not read from the code.
 */
const OWN_RULES = ["KubeNodeNotReady", "KubeStateMetricsAbsent"];
/** ISO 8601 minutes: "PT05M" and "PT5M" are the same hold time. */
const minutes = (duration: string) => Number(/^PT(\d+)M$/.exec(duration)?.[1] ?? NaN);

/**
 * The metrics add-on's minimal ingestion profile, captured from Azure/prometheus-collector
 * otelcollector/shared/configmap/mp/tomlparser-default-targets-metrics-keep-list.go (commit named in the
 * fixture), with each target's job label from its default scrape config.
 */
const KEEP = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures/prometheus/minimalIngestionKeepList.json"), "utf8")) as {
    targets: Record<string, string>;
    jobNames: { jobs: Record<string, string> };
};
/** The scrape target whose keep list governs a metric, by the exporter that writes it. */
function targetOf(metric: string): string {
    if (metric.startsWith("kubelet_") || metric.startsWith("rest_client_")) return "kubelet";
    if (metric.startsWith("kube_")) return "kubestate";
    if (metric.startsWith("container_")) return "cadvisor";
    if (metric.startsWith("node_")) return "nodeexporter";
    throw new Error(`no scrape target known for ${metric}`);
}
/** The metric names a PromQL expression reads (quoted label values removed, label names skipped). */
function metricsOf(expression: string): string[] {
    const bare = expression.replace(/"[^"]*"/g, '""');
    const names = [...bare.matchAll(/\b((?:kube|kubelet|container|node|rest_client)_[A-Za-z0-9_]+)\b(?!\s*(?:=|!=|=~|!~))/g)].map(
        (m) => m[1],
    );
    // `up` is written by the scraper itself after metric relabelling (the keep list), so it is never dropped.
    return [...new Set(names)];
}

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
                assert.deepEqual(
                    run.ofType("kubernetes:core/v1:ConfigMap").filter((c) => c.inputs.metadata?.name === "ama-metrics-settings-configmap"),
                    [],
                    "no add-on settings without the add-on",
                );
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
            assert.deepEqual(groups.map((g) => g.inputs.ruleGroupName).sort(), [
                "gitops-prod-cluster-alerts",
                "gitops-prod-node-alerts",
                "gitops-prod-pod-alerts",
            ]);
            for (const group of groups) {
                assert.deepEqual(group.inputs.scopes, [amw.id, cluster().id], `${group.name}: the workspace and the cluster`);
                assert.equal(group.inputs.clusterName, cluster().inputs.resourceName);
                assert.equal(group.inputs.enabled, true);
                for (const rule of group.inputs.rules) {
                    assert.deepEqual(rule.actions, [{ actionGroupId: actionGroup.id }], rule.alert);
                    assert.equal(rule.enabled, true);
                    // The canonical form: no leading zero (upstream's "PT05M" is the same duration).
                    assert.match(rule.for, /^PT[1-9]\d*M$/, `${rule.alert}: ${rule.for}`);
                }
            }
        });

        if (prod) {
            it("deploys Microsoft's recommended rules as the pinned upstream file has them, rule by rule, leaving out only the named ones", async () => {
                const { OMITTED_RECOMMENDED_ALERTS, RECOMMENDED_ALERTS_SOURCE } = await import("../components/azure/managedPrometheus");
                // The fixture is the file the program names as its source, at the same commit.
                assert.equal(RECOMMENDED.source, `${RECOMMENDED_ALERTS_SOURCE.repository} ${RECOMMENDED_ALERTS_SOURCE.path}`);
                assert.equal(RECOMMENDED.commit, RECOMMENDED_ALERTS_SOURCE.commit);
                const deployed = run
                    .ofType(T.ruleGroup)
                    .flatMap((g) =>
                        g.inputs.rules.map((r: any) => ({ ...r, group: /-(node|pod|cluster)-alerts$/.exec(g.inputs.ruleGroupName)![1] })),
                    );
                const names = deployed.map((r) => r.alert);
                assert.equal(new Set(names).size, names.length, "no rule twice");
                for (const rule of deployed) {
                    const upstream = UPSTREAM.get(rule.alert);
                    if (!upstream) {
                        assert.ok(OWN_RULES.includes(rule.alert), `${rule.alert} is neither in the upstream file nor a named own rule`);
                        continue;
                    }
                    assert.equal(rule.group, upstream.group, `${rule.alert}: group`);
                    assert.equal(rule.expression, upstream.expression, `${rule.alert}: expression`);
                    assert.equal(minutes(rule.for), minutes(upstream.for), `${rule.alert}: for`);
                    assert.equal(rule.severity, upstream.severity, `${rule.alert}: severity`);
                    assert.equal(
                        rule.resolveConfiguration.timeToResolve,
                        upstream.resolveConfiguration.timeToResolve,
                        `${rule.alert}: timeToResolve`,
                    );
                }
                for (const name of UPSTREAM.keys()) {
                    if (names.includes(name)) continue;
                    assert.ok(OMITTED_RECOMMENDED_ALERTS[name], `upstream's ${name} is neither deployed nor left out with a reason`);
                }
                for (const name of OWN_RULES) assert.ok(names.includes(name), `own rule ${name}`);
            });

            it("alerts when kube-state-metrics' scrape stops reaching the workspace (the add-on's job label)", () => {
                const rule = run
                    .ofType(T.ruleGroup)
                    .flatMap((g) => g.inputs.rules)
                    .find((r: any) => r.alert === "KubeStateMetricsAbsent");
                assert.ok(rule);
                assert.equal(rule.expression, `absent(up{job="${KEEP.jobNames.jobs.kubestate}"} == 1)`);
            });

            it("alerts on a node that reports Ready=False (our own rule: #763 dropped KubeNodeNotReady upstream)", () => {
                const rule = run
                    .ofType(T.ruleGroup)
                    .flatMap((g) => g.inputs.rules)
                    .find((r: any) => r.alert === "KubeNodeNotReady");
                assert.ok(rule);
                // kube-state-metrics: one series per node and condition status, 1 for the status it has.
                assert.equal(
                    rule.expression,
                    `kube_node_status_condition{job="${KEEP.jobNames.jobs.kubestate}",condition="Ready",status="true"} == 0`,
                );
                assert.equal(rule.for, "PT15M");
            });

            it("keeps every metric a rule reads: the minimal ingestion profile plus the add-on settings ConfigMap it deploys", () => {
                const [configMap] = run
                    .ofType("kubernetes:core/v1:ConfigMap")
                    .filter((c) => c.inputs.metadata?.name === "ama-metrics-settings-configmap");
                assert.ok(configMap, "the metrics add-on's settings ConfigMap");
                // Name, namespace and schema of Azure/prometheus-collector otelcollector/configmaps/ama-metrics-settings-configmap-v1.yaml.
                assert.equal(configMap.inputs.metadata.namespace, "kube-system");
                assert.equal(configMap.inputs.data["schema-version"], "v1");
                assert.ok(configMap.provider.includes("::aks-k8s"), `on the cluster's provider: ${configMap.provider}`);
                const section = configMap.inputs.data["default-targets-metrics-keep-list"] as string;
                assert.match(section, /^minimalingestionprofile = true$/m, "the minimal profile stays on: ours are added to it");
                const added: Record<string, string> = Object.fromEntries(
                    [...section.matchAll(/^(\w+) = "([^"]*)"$/gm)].map((m) => [m[1], m[2]] as const),
                );
                const problems: string[] = [];
                for (const rule of run.ofType(T.ruleGroup).flatMap((g) => g.inputs.rules)) {
                    for (const metric of metricsOf(rule.expression)) {
                        const target = targetOf(metric);
                        // The add-on's keep regex: `<ours>|<minimal>`, matched against the whole name (Prometheus relabelling anchors it).
                        const keep = new RegExp(`^(?:${[added[target], KEEP.targets[target]].filter(Boolean).join("|")})$`);
                        if (!keep.test(metric)) problems.push(`${rule.alert}: ${metric} (${target})`);
                    }
                }
                assert.deepEqual(problems, []);
            });

            it("has a runbook for every alert it deploys, and says to delete a failed Job once handled (both Job alerts fire while it exists)", () => {
                const runbook = docSection("docs/operations.md", "## Prometheus alerts: what to do");
                const missing = run
                    .ofType(T.ruleGroup)
                    .flatMap((g) => g.inputs.rules.map((r: any) => r.alert as string))
                    .filter((name) => !runbook.includes(`\`${name}\``));
                assert.deepEqual(missing, []);
                // kube_job_failed stays 1 while the failed Job exists, and the CronJobs keep their failed Jobs.
                assert.match(runbook, /delete the failed Job once\s+handled/);
            });

            it("sends the data collection rule's errors to Log Analytics (LogErrors), as the baseline does for its DCRs", () => {
                const dcr = run.ofType(T.dcr).find((r) => r.inputs.dataSources?.prometheusForwarder)!;
                const setting = run.ofType("azure-native:monitor:DiagnosticSetting").find((d) => d.inputs.resourceUri === dcr.id);
                assert.ok(setting, "a diagnostic setting on the Prometheus DCR");
                assert.deepEqual(setting.inputs.logs, [{ category: "LogErrors", enabled: true }]);
                assert.equal(setting.inputs.workspaceId, run.ofType("azure-native:operationalinsights:Workspace")[0].id);
                assert.equal(dcr.inputs.dataSources.prometheusForwarder[0].labelIncludeFilter, undefined, "no empty filter to diff on");
            });
        }

        it("node CPU and memory metric alerts", () => {
            const alerts = run.ofType(T.metricAlert);
            if (!prod) return assert.equal(alerts.length, 0);
            const [actionGroup] = run.ofType(T.actionGroup);
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

        it(`runs ${prod ? "both pools on Ephemeral OS disks that fit the VM size's local disk" : "its pool on the OS disk AKS chooses (none sent)"}`, () => {
            const pools = [cluster().inputs.agentPoolProfiles[0], ...run.ofType(T.pool).map((p) => p.inputs)];
            assert.equal(pools.length, prod ? 2 : 1);
            for (const pool of pools) {
                if (!prod) {
                    // Not sent: AKS chooses, as before the key existed (azure-native 3.28.0 types/input.d.ts
                    // osDiskType: Ephemeral where the size's cache or local disk holds it, else Managed).
                    assert.equal(pool.osDiskType, undefined, pool.vmSize);
                    assert.equal(pool.osDiskSizeGB, undefined, pool.vmSize);
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

        it("has no DDoS protection plan unless network.ddosProtection asks for one", () => {
            assert.equal(run.ofType(T.ddos).length, 0);
            const vnet = run.get(T.vnet, "network");
            assert.equal(vnet.inputs.ddosProtectionPlan, undefined);
            assert.notEqual(vnet.inputs.enableDdosProtection, true, "the SDK default, false, as before");
        });
    });
}

describe("baseline controls: options", () => {
    it("creates a DDoS protection plan and puts the VNet under it with network.ddosProtection create", async () => {
        assert.equal(TUNED.prod["network.ddosProtection"], "create");
        const run = await evaluateStack("prod", TUNED.prod);
        const [plan] = run.ofType(T.ddos);
        assert.ok(plan, "a plan");
        const vnet = run.get(T.vnet, "network");
        assert.deepEqual(vnet.inputs.ddosProtectionPlan, { id: plan.id });
        assert.equal(vnet.inputs.enableDdosProtection, true);
    });

    it("uses an existing plan by ID with network.ddosProtection existing, creating none", async () => {
        const { "network.ddosProtection": ddosProtection, "network.ddosProtectionPlanId": planId } = TUNED.dev;
        assert.equal(ddosProtection, "existing");
        const run = await evaluateStack("dev", TUNED.dev);
        assert.equal(run.ofType(T.ddos).length, 0);
        assert.deepEqual(run.get(T.vnet, "network").inputs.ddosProtectionPlan, { id: planId });
    });

    it("sends a pool's OS disk type only when the stack sets it or it is Ephemeral, and the pool keeps its AKS name either way", async () => {
        const pools = (run: StackRun) => [
            run.get(T.cluster, "aks").inputs.agentPoolProfiles[0],
            ...run.ofType(T.pool).map((p) => p.inputs),
        ];
        const unset = pools(await evaluateStack("dev", { "userPool.enabled": true }));
        const managed = pools(
            await evaluateStack("dev", { "userPool.enabled": true, "systemPool.osDiskType": "Managed", "userPool.osDiskType": "Managed" }),
        );
        assert.deepEqual(
            unset.map((p) => p.osDiskType),
            [undefined, undefined],
            "not sent: AKS chooses (Managed on these sizes without a local disk)",
        );
        assert.deepEqual(
            managed.map((p) => p.osDiskType),
            ["Managed", "Managed"],
            "sent when set",
        );
        // The same disk in the end, so the same pool: no replacement for writing down what AKS chose.
        assert.deepEqual(
            managed.map((p) => p.agentPoolName ?? p.name),
            unset.map((p) => p.agentPoolName ?? p.name),
        );
    });

    it("cuts the DCE/DCR name to 44 characters without leaving a hyphen at its end", async () => {
        const { msPromName } = await import("../components/azure/managedPrometheus");
        // "MSProm-eastus-" and 29 letters are 43 characters; the 44th is the cluster name's hyphen.
        const name = msPromName("eastus", `${"a".repeat(29)}-prod`);
        // A data collection endpoint's name: at most 44 characters (Azure/ARO-HCP
        // dev-infrastructure/modules/metrics/datacollection.bicep), letters, digits and hyphens, starting
        // and ending with a letter or digit (ARM's naming rule for these names; not tried against Azure here).
        assert.ok(name.length <= 44, name);
        assert.match(name, /^[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]$/);
        assert.equal(name, `MSProm-eastus-${"a".repeat(29)}`);
    });

    itRejectsConfig([
        {
            name: "refuses an Ephemeral OS disk on a v5 size without a local disk, naming the key and a size that has one",
            raw: { "systemPool.osDiskType": "Ephemeral", "systemPool.vmSize": "Standard_D4s_v5" },
            expect: ["systemPool.osDiskType", "Standard_D4s_v5", "Standard_D4ds_v5", "Managed"],
        },
        {
            name: "refuses an Ephemeral OS disk larger than the size's temporary disk",
            raw: {
                "userPool.enabled": true,
                "userPool.osDiskType": "Ephemeral",
                "userPool.vmSize": "Standard_D2ds_v5",
                "userPool.osDiskSizeGb": 128,
            },
            expect: ["userPool.osDiskSizeGb", "128", "75 GiB", "Standard_D2ds_v5"],
        },
        {
            name: "refuses an OS disk type that is neither Managed nor Ephemeral",
            raw: { "systemPool.osDiskType": "Temporary" },
            expect: ["systemPool.osDiskType", "Temporary", "Managed", "Ephemeral"],
        },
        {
            name: "refuses network.ddosProtection existing without the plan's ID",
            raw: { "network.ddosProtection": "existing" },
            expect: ["network.ddosProtectionPlanId", "existing"],
        },
        {
            name: "refuses a DDoS plan ID without network.ddosProtection existing",
            raw: { "network.ddosProtectionPlanId": TUNED.dev["network.ddosProtectionPlanId"] },
            expect: ["network.ddosProtectionPlanId", '"none"'],
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

/**
 * The controls of mspnp/aks-baseline, written from its templates (not from our table): each must have a
 * row whose first cell matches. File names are the baseline's.
 */
const BASELINE_CONTROLS: readonly { readonly control: string; readonly source: string; readonly row: RegExp }[] = [
    { control: "hub-spoke network", source: "network-team/hub-default.bicep, spoke-BU0001A0008.bicep", row: /hub-spoke/i },
    {
        control: "egress through Azure Firewall with an FQDN allowlist",
        source: "network-team/hub-default.bicep",
        row: /Egress through Azure Firewall/,
    },
    { control: "Azure Firewall Premium: IDPS in Deny, DNS proxy", source: "network-team/hub-default.bicep", row: /IDPS/ },
    { control: "node subnets' default route to the firewall", source: "network-team/spoke-BU0001A0008.bicep", row: /0\.0\.0\.0\/0/ },
    { control: "firewall diagnostics", source: "network-team/hub-default.bicep", row: /Firewall logs/ },
    { control: "DDoS protection", source: "network-team/spoke-BU0001A0008.bicep", row: /DDoS/ },
    { control: "Application Gateway WAF_v2 in front", source: "network-team/spoke-BU0001A0008.bicep", row: /Application Gateway WAF/ },
    { control: "Bastion and jump box", source: "network-team/hub-default.bicep", row: /Bastion|jump box/ },
    { control: "API server: private, run command disabled", source: "workload-team/cluster-stamp.bicep", row: /API server/ },
    { control: "Entra ID, Azure RBAC, local accounts off", source: "workload-team/cluster-stamp.bicep", row: /Entra ID/ },
    { control: "managed identities", source: "workload-team/cluster-stamp.bicep", row: /Managed identities/ },
    { control: "workload identity", source: "workload-team/cluster-stamp.bicep", row: /Workload identity/ },
    { control: "Key Vault with the CSI driver", source: "workload-team/cluster-stamp.bicep", row: /Key Vault/ },
    {
        control: "private registry: Premium ACR, geo-replication, zone redundancy, retention, quarantine",
        source: "workload-team/acr-stamp.bicep",
        row: /registry/i,
    },
    { control: "allowed images", source: "workload-team/modules/policies.bicep", row: /allowed registries|allowed images/i },
    { control: "Azure Policy in deny", source: "workload-team/modules/policies.bicep", row: /Azure Policy in deny/ },
    { control: "Microsoft Defender for Containers", source: "workload-team/cluster-stamp.bicep", row: /Defender/ },
    { control: "Image Cleaner", source: "workload-team/cluster-stamp.bicep", row: /Image Cleaner/ },
    { control: "system / user pools", source: "workload-team/cluster-stamp.bicep", row: /System \/ user pool/ },
    { control: "availability zones", source: "workload-team/cluster-stamp.bicep", row: /zones/i },
    { control: "cluster autoscaler", source: "workload-team/cluster-stamp.bicep", row: /autoscaler/i },
    { control: "Azure Linux nodes", source: "workload-team/cluster-stamp.bicep", row: /Azure Linux/ },
    { control: "Ephemeral OS disks", source: "workload-team/cluster-stamp.bicep", row: /Ephemeral OS/ },
    { control: "uptime SLA", source: "workload-team/cluster-stamp.bicep", row: /Uptime SLA/ },
    {
        control: "upgrade channels, node OS updates, maintenance window",
        source: "workload-team/cluster-stamp.bicep",
        row: /maintenance window/,
    },
    { control: "network policy", source: "workload-team/cluster-stamp.bicep", row: /Network policy/ },
    { control: "Container Insights", source: "workload-team/cluster-stamp.bicep", row: /Container Insights/ },
    { control: "control-plane diagnostics", source: "workload-team/cluster-stamp.bicep", row: /Control-plane diagnostics/ },
    { control: "managed Prometheus", source: "workload-team/cluster-stamp.bicep", row: /managed Prometheus/i },
    {
        control: "recommended Prometheus alerts and the Advisor alert",
        source: "workload-team/modules/alerts.bicep",
        row: /Prometheus rule/,
    },
    { control: "GitOps bootstrap (Flux)", source: "workload-team/cluster-stamp.bicep", row: /GitOps/ },
];

describe("docs/platform.md: monthly cost of prod's defaults", () => {
    it("states a fixed total that the rows above it add up to", () => {
        const rows = markdownTable("docs/platform.md", "### Monthly cost of prod's defaults");
        const totalRow = rows.findIndex((r) => /Fixed total/.test(r["Item (prod default)"]));
        assert.ok(totalRow > 0, "a Fixed total row");
        // Each row's monthly figure: the result of a sum ("$323 + $210 = $533"), else its first dollar figure ("under $5" counts as $5).
        const sum = rows.slice(0, totalRow).reduce((acc, r) => {
            const figure = /= \$([\d,]+)/.exec(r["Per month"]) ?? /\$([\d,]+)/.exec(r["Per month"]);
            assert.ok(figure, `${r["Item (prod default)"]}: no monthly figure`);
            return acc + Number(figure[1].replace(/,/g, ""));
        }, 0);
        const stated = Number(/about \$([\d,]+)/.exec(rows[totalRow]["Per month"])![1].replace(/,/g, ""));
        assert.ok(Math.abs(stated - sum) <= 10, `stated about $${stated}, the rows add to $${sum}`);
    });
});

describe("docs/platform.md: against mspnp/aks-baseline, control by control", () => {
    const rows = markdownTable("docs/platform.md", "### Against mspnp/aks-baseline, control by control");

    it("has a row for each of the baseline's controls", () => {
        const missing = BASELINE_CONTROLS.filter((c) => !rows.some((r) => c.row.test(r["Control (baseline)"]))).map(
            (c) => `${c.control} (${c.source})`,
        );
        assert.deepEqual(missing, []);
    });

    it("marks the firewall, the registry and managed Prometheus by what the baseline has that we lack", () => {
        const row = (pattern: RegExp) => rows.find((r) => pattern.test(r["Control (baseline)"]))!;
        // hub-default.bicep: Azure Firewall Premium with IDPS in Deny and DNS proxy; ours is Standard.
        assert.match(row(/IDPS/).Status, /^(different|partial)\b/);
        // acr-stamp.bicep: geo-replication, zone redundancy, retention, quarantine.
        assert.match(row(/registry/i).Status, /^partial\b/);
        // cluster-manifests/kube-system/ama-metrics-settings-configmap.yaml: control-plane targets and
        // annotated pods we do not scrape.
        assert.match(row(/managed Prometheus/).Status, /settings differ[\s\S]*control-plane API server/);
    });

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
