// Azure Monitor managed service for Prometheus, as mspnp/aks-baseline enables it
// (workload-team/cluster-stamp.bicep: an Azure Monitor workspace, a data collection endpoint, a data
// collection rule with a prometheusForwarder source for the Microsoft-PrometheusMetrics stream, its
// association with the cluster, and the cluster's azureMonitorProfile.metrics), the rule's errors to Log
// Analytics, plus Microsoft's recommended alert rules for the node and pod health the rest of the
// platform does not watch and an alert on the metrics pipeline itself. The add-on's keep list for those
// rules is an in-cluster ConfigMap, deployed by the platform layer (components/platform/metricsSettings.ts).
import * as alertsmanagement from "@pulumi/azure-native/alertsmanagement";
import * as monitor from "@pulumi/azure-native/monitor";
import * as pulumi from "@pulumi/pulumi";

/** The stream the metrics add-on sends and the DCR forwards (azure-native KnownPrometheusForwarderDataSourceStreams). */
const PROMETHEUS_STREAM = "Microsoft-PrometheusMetrics";

/** Where a rule comes from: Microsoft's recommended set (checked against its fixture), or this program. */
export type PrometheusAlertSource = "recommended" | "own";

/** One Prometheus alert rule: its name, PromQL, hold time and severity. */
export interface PrometheusAlert {
    readonly alert: string;
    readonly expression: string;
    /** ISO 8601 hold time before it fires. */
    readonly for: string;
    /** 0 critical ... 4 verbose. */
    readonly severity: 0 | 1 | 2 | 3 | 4;
    readonly description: string;
    /** ISO 8601 time after which a rule that stopped matching resolves. */
    readonly timeToResolve: string;
    /** recommended: copied from RECOMMENDED_ALERTS_SOURCE; own: this program's addition (named in its comment). */
    readonly source: PrometheusAlertSource;
}

/** A rule group: one PrometheusRuleGroup resource. */
export interface PrometheusAlertGroup {
    /** Suffix of the group's name, `<prefix>-<suffix>`. */
    readonly name: "node" | "pod" | "cluster";
    readonly description: string;
    readonly rules: readonly PrometheusAlert[];
}

/**
 * Where the recommended rules are copied from: Microsoft's ARM template of recommended Prometheus alerts,
 * at the commit of its last change (#1249, 2025-07-31). Since the copy this replaces (72a9604c7, 2024-02),
 * #763 (fafaa3b43) renamed the rules (KubePodContainerRestart, KubePodReadyStateLow, ...), dropped
 * KubeNodeNotReady, KubeJobNotCompleted, KubeVersionMismatch and the kubelet certificate rules, and
 * replaced "Job did not complete in time" by KubeJobStale; #950 added KubeNodeDiskUsageHigh; #1141 fixed KubePodReadyStateLow's
 * DaemonSet half (it summed by deployment, a label DaemonSets do not have). The same names are in
 * MicrosoftDocs/azure-monitor-docs articles/azure-monitor/containers/kubernetes-metric-alerts.md
 * and mspnp/aks-baseline workload-team/modules/alerts.bicep. tests/fixtures/prometheus/recommendedMetricAlerts.json
 * is this file at this commit.
 */
export const RECOMMENDED_ALERTS_SOURCE = {
    repository: "Azure/prometheus-collector",
    path: "GeneratedMonitoringArtifacts/Default/recommendedMetricAlerts.json",
    commit: "917abcce9e3ff45830864eb67c0b5567a9846f13",
} as const;

/**
 * The recommended rules left out, each with its reason. Everything else in RECOMMENDED_ALERTS_SOURCE is
 * deployed as it is there (a test holds the two lists to the upstream file).
 */
export const OMITTED_RECOMMENDED_ALERTS: Readonly<Record<string, string>> = {
    KubeCPUQuotaOvercommit: "the program creates no ResourceQuota (kube_resourcequota has no series to divide)",
    KubeMemoryQuotaOvercommit: "the program creates no ResourceQuota",
    KubeQuotaAlmostFull: "the program creates no ResourceQuota",
};

// Rules that were in Microsoft's set before #763 (or are in the community kubernetes-mixin) and stay
// out: KubeVersionMismatch (AKS's upgrade channels move control plane and pools, and the skew during an
// upgrade is expected), KubeQuotaExceeded and KubeQuotaFullyUsed (the program creates no ResourceQuota).

/** The add-on's scrape job names (Azure/prometheus-collector otelcollector/configmapparser/default-prom-configs: kubestateDefault.yml `job_name: kube-state-metrics`). */
const KSM_JOB = "kube-state-metrics";
const KSM = `job="${KSM_JOB}"`;
const ownerController = 'label_replace(kube_pod_owner, "controller", "$1", "owner_name", "(.*)")';

/**
 * The recommended Prometheus alert rules Microsoft publishes for AKS, copied rule by rule (name, PromQL,
 * `for`, severity, time to resolve) from RECOMMENDED_ALERTS_SOURCE, in its three groups; only `for` is
 * normalised (its "PT05M" is "PT5M", the same duration), and the descriptions are ours. Left out:
 * OMITTED_RECOMMENDED_ALERTS. Own additions are marked `source: "own"`. Every metric a rule reads must
 * survive the metrics add-on's minimal ingestion profile, or be added to its keep list
 * (platform/metricsSettings.ts METRICS_KEEP_LIST_ADDITIONS): a test checks each against the add-on's
 * keep list. Pure, so that a test checks it against the upstream file.
 */
export function prometheusAlertGroups(): PrometheusAlertGroup[] {
    const rec = "recommended" as const;
    return [
        {
            name: "node",
            description:
                "Node health: unreachable, flapping readiness, OS disk filling up (Microsoft's recommended Node-level rules), and the metrics pipeline itself.",
            rules: [
                {
                    alert: "KubeNodeUnreachable",
                    expression: `(kube_node_spec_taint{${KSM},key="node.kubernetes.io/unreachable",effect="NoSchedule"} unless ignoring(key,value) kube_node_spec_taint{${KSM},key=~"ToBeDeletedByClusterAutoscaler|cloud.google.com/impending-node-termination|aws-node-termination-handler/spot-itn"}) == 1`,
                    for: "PT15M",
                    severity: 3,
                    description: "{{ $labels.node }} in {{ $labels.cluster }} is unreachable and some workloads may be rescheduled.",
                    timeToResolve: "PT10M",
                    source: rec,
                },
                {
                    alert: "KubeNodeReadinessFlapping",
                    expression: 'sum(changes(kube_node_status_condition{status="true",condition="Ready"}[15m])) by (cluster, node) > 2',
                    for: "PT15M",
                    severity: 3,
                    description: "The readiness of node {{ $labels.node }} in {{ $labels.cluster }} changed more than twice in 15 minutes.",
                    timeToResolve: "PT10M",
                    source: rec,
                },
                // node-exporter's root filesystem: the OS disk, ephemeral in prod.
                {
                    alert: "KubeNodeDiskUsageHigh",
                    expression:
                        '100 - ((node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes{mountpoint="/"}) * 100) > 80',
                    for: "PT15M",
                    severity: 3,
                    description: "The OS disk of node {{ $labels.instance }} is more than 80% full.",
                    timeToResolve: "PT10M",
                    source: rec,
                },
                // Own addition: #763 (fafaa3b43) dropped KubeNodeNotReady, and KubeNodeUnreachable matches
                // only the `unreachable` taint, so a node whose kubelet answers but reports Ready=False (a
                // broken runtime or CNI: the `not-ready` taint) would page nobody; AKS's node auto-repair is
                // then the only backstop. kube_node_status_condition is in the minimal keep list.
                {
                    alert: "KubeNodeNotReady",
                    expression: `kube_node_status_condition{${KSM},condition="Ready",status="true"} == 0`,
                    for: "PT15M",
                    severity: 3,
                    description: "{{ $labels.node }} in {{ $labels.cluster }} has not been Ready for 15 minutes.",
                    timeToResolve: "PT10M",
                    source: "own",
                },
                // Own addition: nothing above can fire when the metrics stop arriving (the add-on's agent
                // down, the DCR association gone, the workspace refusing ingestion), so the absence of
                // kube-state-metrics' scrape is itself an alert. `up` is written by the scraper for every
                // target, after the keep list (metric relabelling) is applied; `== 1` makes a target that
                // answers but fails its scrape count as absent too.
                {
                    alert: "KubeStateMetricsAbsent",
                    expression: `absent(up{${KSM}} == 1)`,
                    for: "PT15M",
                    severity: 2,
                    description:
                        "No successful kube-state-metrics scrape has reached the Azure Monitor workspace for 15 minutes: every other Prometheus alert of this cluster is blind.",
                    timeToResolve: "PT10M",
                    source: "own",
                },
            ],
        },
        {
            name: "pod",
            description:
                "Pod and workload health: crash loops, restarts, failed and pending pods, jobs, replicas, HPAs, CPU, memory, start-up latency and volumes (Microsoft's recommended Pod-level rules).",
            rules: [
                {
                    alert: "KubePodCrashLooping",
                    expression: `max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", ${KSM}}[5m]) >= 1`,
                    for: "PT15M",
                    severity: 4,
                    description:
                        "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) in {{ $labels.cluster }} is crash looping.",
                    timeToResolve: "PT10M",
                    source: rec,
                },
                {
                    alert: "KubeJobStale",
                    expression: `sum by(namespace,cluster)(kube_job_spec_completions{${KSM}}) - sum by(namespace,cluster)(kube_job_status_succeeded{${KSM}})  > 0 `,
                    for: "PT360M",
                    severity: 4,
                    description:
                        "Jobs in {{ $labels.namespace }} have not completed for six hours (a running Job, or a failed Job still kept: see the runbook).",
                    timeToResolve: "PT15M",
                    source: rec,
                },
                {
                    alert: "KubePodContainerRestart",
                    expression: `sum by (namespace, controller, container, cluster)(increase(kube_pod_container_status_restarts_total{${KSM}}[1h])* on(namespace, pod, cluster) group_left(controller) ${ownerController}) > 0`,
                    for: "PT15M",
                    severity: 4,
                    description: "A container of {{ $labels.namespace }}/{{ $labels.controller }} restarted in the last hour.",
                    timeToResolve: "PT10M",
                    source: rec,
                },
                {
                    alert: "KubePodReadyStateLow",
                    expression:
                        "sum by (cluster,namespace,deployment)(kube_deployment_status_replicas_ready) / sum by (cluster,namespace,deployment)(kube_deployment_spec_replicas) <.8 or sum by (cluster,namespace,daemonset)(kube_daemonset_status_number_ready) / sum by (cluster,namespace,daemonset)(kube_daemonset_status_desired_number_scheduled) <.8 ",
                    for: "PT5M",
                    severity: 4,
                    description: "Fewer than 80% of the pods of a Deployment or DaemonSet are ready.",
                    timeToResolve: "PT15M",
                    source: rec,
                },
                {
                    alert: "KubePodFailedState",
                    expression: `sum by (cluster, namespace, controller) (kube_pod_status_phase{phase="failed"} * on(namespace, pod, cluster) group_left(controller) ${ownerController})  > 0`,
                    for: "PT5M",
                    severity: 4,
                    description: "Pods of {{ $labels.namespace }}/{{ $labels.controller }} are in the Failed phase.",
                    timeToResolve: "PT15M",
                    source: rec,
                },
                {
                    alert: "KubePodNotReadyByController",
                    expression: `sum by (namespace, controller, cluster) (max by(namespace, pod, cluster) (kube_pod_status_phase{${KSM}, phase=~"Pending|Unknown"}  ) * on(namespace, pod, cluster) group_left(controller)label_replace(kube_pod_owner,"controller","$1","owner_name","(.*)")) > 0`,
                    for: "PT15M",
                    severity: 3,
                    description:
                        "Pods of {{ $labels.namespace }}/{{ $labels.controller }} in {{ $labels.cluster }} have been Pending or Unknown for 15 minutes.",
                    timeToResolve: "PT10M",
                    source: rec,
                },
                // Its two metrics are outside the minimal ingestion profile: METRICS_KEEP_LIST_ADDITIONS keeps them.
                {
                    alert: "KubeStatefulSetGenerationMismatch",
                    expression: `kube_statefulset_status_observed_generation{${KSM}} != kube_statefulset_metadata_generation{${KSM}}`,
                    for: "PT15M",
                    severity: 3,
                    description:
                        "StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} has failed to roll out its latest generation.",
                    timeToResolve: "PT10M",
                    source: rec,
                },
                {
                    alert: "KubeJobFailed",
                    expression: `kube_job_failed{${KSM}}  > 0`,
                    for: "PT15M",
                    severity: 3,
                    description:
                        "Job {{ $labels.namespace }}/{{ $labels.job_name }} in {{ $labels.cluster }} failed (the backups, snapshots and TLS renewal run as Jobs); it fires until the failed Job is deleted.",
                    timeToResolve: "PT10M",
                    source: rec,
                },
                {
                    alert: "KubeContainerAverageCPUHigh",
                    expression:
                        'sum (rate(container_cpu_usage_seconds_total{image!="", container!="POD"}[5m])) by (pod,cluster,container,namespace) / sum(container_spec_cpu_quota{image!="", container!="POD"}/container_spec_cpu_period{image!="", container!="POD"}) by (pod,cluster,container,namespace) > .95',
                    for: "PT5M",
                    severity: 4,
                    description: "A container uses more than 95% of its CPU limit.",
                    timeToResolve: "PT15M",
                    source: rec,
                },
                {
                    alert: "KubeContainerAverageMemoryHigh",
                    expression: `avg by (namespace, controller, container, cluster)(((container_memory_working_set_bytes{container!="", image!="", container!="POD"} / on(namespace,cluster,pod,container) group_left kube_pod_container_resource_limits{resource="memory", node!=""})*on(namespace, pod, cluster) group_left(controller) ${ownerController}) > .95)`,
                    for: "PT10M",
                    severity: 4,
                    description: "A container uses more than 95% of its memory limit: the next step is an OOM kill.",
                    timeToResolve: "PT10M",
                    source: rec,
                },
                {
                    alert: "KubeletPodStartUpLatencyHigh",
                    expression:
                        'histogram_quantile(0.99, sum(rate(kubelet_pod_worker_duration_seconds_bucket{job="kubelet"}[5m])) by (cluster, instance, le)) * on(cluster, instance) group_left(node) kubelet_node_name{job="kubelet"} > 60',
                    for: "PT10M",
                    severity: 4,
                    description: "The 99th percentile of pod start-up on the kubelet of {{ $labels.node }} is above 60 seconds.",
                    timeToResolve: "PT10M",
                    source: rec,
                },
                {
                    alert: "KubePVUsageHigh",
                    expression: `avg by (namespace, controller, container, cluster)(((kubelet_volume_stats_used_bytes{job="kubelet"} / on(namespace,cluster,pod,container) group_left kubelet_volume_stats_capacity_bytes{job="kubelet"}) * on(namespace, pod, cluster) group_left(controller) ${ownerController})) > .8`,
                    for: "PT15M",
                    severity: 3,
                    description:
                        "A persistent volume of {{ $labels.namespace }}/{{ $labels.controller }} is more than 80% full (Vault's raft, MongoDB).",
                    timeToResolve: "PT10M",
                    source: rec,
                },
                {
                    alert: "KubeDeploymentReplicasMismatch",
                    expression: `(  kube_deployment_spec_replicas{${KSM}}    >  kube_deployment_status_replicas_available{${KSM}}) and (  changes(kube_deployment_status_replicas_updated{${KSM}}[10m])    ==  0)`,
                    for: "PT15M",
                    severity: 4,
                    description:
                        "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} in {{ $labels.cluster }} has fewer available replicas than it asks for.",
                    timeToResolve: "PT15M",
                    source: rec,
                },
                {
                    alert: "KubeStatefulSetReplicasMismatch",
                    expression: `(  kube_statefulset_status_replicas_ready{${KSM}}    !=  kube_statefulset_status_replicas{${KSM}}) and (  changes(kube_statefulset_status_replicas_updated{${KSM}}[10m])    ==  0)`,
                    for: "PT15M",
                    severity: 4,
                    description:
                        "StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} in {{ $labels.cluster }} has replicas that are not ready (Vault, MongoDB).",
                    timeToResolve: "PT10M",
                    source: rec,
                },
                // The services scale with an HPA in prod (components/workloads/microservice.ts sizingFor).
                {
                    alert: "KubeHpaReplicasMismatch",
                    expression: `(kube_horizontalpodautoscaler_status_desired_replicas{${KSM}}  !=kube_horizontalpodautoscaler_status_current_replicas{${KSM}})  and(kube_horizontalpodautoscaler_status_current_replicas{${KSM}}  >kube_horizontalpodautoscaler_spec_min_replicas{${KSM}})  and(kube_horizontalpodautoscaler_status_current_replicas{${KSM}}  <kube_horizontalpodautoscaler_spec_max_replicas{${KSM}})  and changes(kube_horizontalpodautoscaler_status_current_replicas{${KSM}}[15m]) == 0`,
                    for: "PT15M",
                    severity: 4,
                    description: "An HPA in {{ $labels.namespace }} has not reached its desired replica count for 15 minutes.",
                    timeToResolve: "PT15M",
                    source: rec,
                },
                {
                    alert: "KubeHpaMaxedOut",
                    expression: `kube_horizontalpodautoscaler_status_current_replicas{${KSM}}  ==kube_horizontalpodautoscaler_spec_max_replicas{${KSM}}`,
                    for: "PT15M",
                    severity: 4,
                    description: "An HPA in {{ $labels.namespace }} has run at its maximum replica count for 15 minutes.",
                    timeToResolve: "PT15M",
                    source: rec,
                },
            ],
        },
        {
            name: "cluster",
            description:
                "Cluster-wide health: OOM kills, API client errors, volumes, stuck containers, DaemonSets (Microsoft's recommended Cluster-level rules).",
            rules: [
                {
                    alert: "KubeContainerOOMKilledCount",
                    expression: `sum by (cluster,container,controller,namespace)(kube_pod_container_status_last_terminated_reason{reason="OOMKilled"} * on(cluster,namespace,pod) group_left(controller) ${ownerController}) > 0`,
                    for: "PT5M",
                    severity: 4,
                    description: "Containers were killed for running out of memory.",
                    timeToResolve: "PT10M",
                    source: rec,
                },
                {
                    alert: "KubeClientErrors",
                    expression:
                        '(sum(rate(rest_client_requests_total{code=~"5.."}[5m])) by (cluster, instance, job, namespace)  / sum(rate(rest_client_requests_total[5m])) by (cluster, instance, job, namespace)) > 0.01',
                    for: "PT15M",
                    severity: 3,
                    description: "More than 1% of the API server requests of {{ $labels.job }}/{{ $labels.instance }} fail with 5xx.",
                    timeToResolve: "PT10M",
                    source: rec,
                },
                {
                    alert: "KubePersistentVolumeFillingUp",
                    expression:
                        'kubelet_volume_stats_available_bytes{job="kubelet"}/kubelet_volume_stats_capacity_bytes{job="kubelet"} < 0.15 and kubelet_volume_stats_used_bytes{job="kubelet"} > 0 and predict_linear(kubelet_volume_stats_available_bytes{job="kubelet"}[6h], 4 * 24 * 3600) < 0 unless on(namespace, persistentvolumeclaim) kube_persistentvolumeclaim_access_mode{ access_mode="ReadOnlyMany"} == 1 unless on(namespace, persistentvolumeclaim) kube_persistentvolumeclaim_labels{label_excluded_from_alerts="true"} == 1',
                    for: "PT60M",
                    severity: 4,
                    description:
                        "The volume claimed by {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is expected to fill up within four days.",
                    timeToResolve: "PT15M",
                    source: rec,
                },
                {
                    alert: "KubePersistentVolumeInodesFillingUp",
                    expression: 'kubelet_volume_stats_inodes_free{job="kubelet"} / kubelet_volume_stats_inodes{job="kubelet"} < 0.03',
                    for: "PT15M",
                    severity: 4,
                    description:
                        "The volume claimed by {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has less than 3% of its inodes free.",
                    timeToResolve: "PT10M",
                    source: rec,
                },
                // kube_persistentvolume_status_phase is outside the kube-state-metrics keep list of the
                // minimal ingestion profile: METRICS_KEEP_LIST_ADDITIONS keeps it.
                {
                    alert: "KubePersistentVolumeErrors",
                    expression: `kube_persistentvolume_status_phase{phase=~"Failed|Pending",${KSM}} > 0`,
                    // Upstream writes "PT05M"; the same five minutes in the canonical form.
                    for: "PT5M",
                    severity: 4,
                    description: "The persistent volume {{ $labels.persistentvolume }} is {{ $labels.phase }}.",
                    timeToResolve: "PT10M",
                    source: rec,
                },
                {
                    alert: "KubeContainerWaiting",
                    expression: `sum by (namespace, pod, container, cluster) (kube_pod_container_status_waiting_reason{${KSM}}) > 0`,
                    for: "PT60M",
                    severity: 3,
                    description:
                        "{{ $labels.namespace }}/{{ $labels.pod }} container {{ $labels.container }} has been waiting for more than an hour.",
                    timeToResolve: "PT10M",
                    source: rec,
                },
                {
                    alert: "KubeDaemonSetNotScheduled",
                    expression: `kube_daemonset_status_desired_number_scheduled{${KSM}} - kube_daemonset_status_current_number_scheduled{${KSM}} > 0`,
                    for: "PT15M",
                    severity: 3,
                    description:
                        "Pods of DaemonSet {{ $labels.namespace }}/{{ $labels.daemonset }} are not scheduled (the CSI driver, Istio's CNI agent).",
                    timeToResolve: "PT10M",
                    source: rec,
                },
                {
                    alert: "KubeDaemonSetMisScheduled",
                    expression: `kube_daemonset_status_number_misscheduled{${KSM}} > 0`,
                    for: "PT15M",
                    severity: 3,
                    description:
                        "Pods of DaemonSet {{ $labels.namespace }}/{{ $labels.daemonset }} run where they are not supposed to run.",
                    timeToResolve: "PT10M",
                    source: rec,
                },
            ],
        },
    ];
}

/** One platform metric alert on the cluster's own node metrics (no Prometheus needed). */
export interface NodeMetricAlert {
    readonly name: string;
    /** AKS platform metric (Microsoft.ContainerService/managedClusters), monitor-aks-reference "Nodes". */
    readonly metricName: string;
    readonly threshold: number;
    readonly severity: 0 | 1 | 2 | 3 | 4;
    readonly description: string;
}

/**
 * Node CPU and memory: the platform metric rules of Microsoft's recommended set
 * (kubernetes-metric-alerts.md, "Platform metric alert rules": "Node cpu percentage is greater than
 * 95%", "Node memory working set percentage is greater than 100%", over 5 minutes), on AKS's own node
 * metrics (MicrosoftDocs/azure-docs articles/aks/monitor-aks-reference.md, Nodes:
 * node_cpu_usage_percentage, node_memory_working_set_percentage). The node disk is a Prometheus rule
 * (KubeNodeDiskUsageHigh, above).
 */
const NODE_METRIC_ALERTS: readonly NodeMetricAlert[] = [
    {
        name: "node-cpu",
        metricName: "node_cpu_usage_percentage",
        threshold: 95,
        severity: 3,
        description: "Node cpu percentage is greater than 95%",
    },
    {
        name: "node-memory",
        metricName: "node_memory_working_set_percentage",
        threshold: 100,
        severity: 3,
        description: "Node memory working set percentage is greater than 100%",
    },
];

/** The diagnostic log category of a data collection rule (its errors; Log Analytics table DCRLogErrors). */
const DCR_LOG_CATEGORY = "LogErrors";

/**
 * The name of the DCE, DCR and association, as Microsoft's onboarding templates spell it
 * (MSProm-<region>-<cluster>), cut to the DCE's 44 characters (Azure/ARO-HCP
 * dev-infrastructure/modules/metrics/datacollection.bicep takes 44 for both) without a trailing hyphen,
 * which Azure's name rules refuse at the end.
 */
export function msPromName(location: string, clusterName: string): string {
    return `MSProm-${location}-${clusterName}`.slice(0, 44).replace(/-+$/, "");
}

export interface ManagedPrometheusArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: pulumi.Input<string>;
    /** The cluster's resource name (the rules' clusterName filter, the DCR's name). */
    readonly clusterName: string;
    /** ARM ID of the cluster: the association's resource and the metric alerts' scope. */
    readonly clusterId: pulumi.Input<string>;
    /** Name stem of the workspace and rule groups. */
    readonly namePrefix: string;
    /** ARM ID of the Log Analytics workspace the DCR's errors (LogErrors) go to. */
    readonly logAnalyticsWorkspaceId: pulumi.Input<string>;
    /** ARM ID of the stack's resource group: the scope of the Azure Advisor alert. */
    readonly resourceGroupId: pulumi.Input<string>;
    /** The action group the alerts notify (the audit alerts' one); absent: they fire in the portal only. */
    readonly actionGroupId?: pulumi.Input<string>;
    readonly tags: pulumi.Input<Record<string, string>>;
}

/**
 * The Azure Monitor workspace, the data collection endpoint and rule that route the cluster's Prometheus
 * metrics to it, the rule's association with the cluster, the recommended alert rule groups and the node
 * metric alerts. The cluster's metrics add-on (AksCluster prometheusMetrics) sends through the association.
 */
export class ManagedPrometheus extends pulumi.ComponentResource {
    /** ARM ID of the Azure Monitor workspace. */
    readonly workspaceId: pulumi.Output<string>;

    constructor(name: string, args: ManagedPrometheusArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:ManagedPrometheus", name, {}, opts);
        const common = { resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags };
        // The names the baseline and Microsoft's onboarding templates use (cluster-stamp.bicep: amw-<cluster>,
        // MSProm-<region>-<cluster>); a DCR name has at most 64 characters, a DCE's at most 44
        // (Azure/ARO-HCP dev-infrastructure/modules/metrics/datacollection.bicep takes 44 for both).
        const msProm = pulumi.output(args.location).apply((location) => msPromName(location, args.clusterName));

        const workspace = new monitor.AzureMonitorWorkspace(
            `${name}-workspace`,
            { ...common, azureMonitorWorkspaceName: `amw-${args.clusterName}` },
            { parent: this },
        );
        const endpoint = new monitor.DataCollectionEndpoint(
            `${name}-dce`,
            {
                ...common,
                dataCollectionEndpointName: msProm,
                kind: "Linux",
                // The metrics agent reaches the endpoint over the internet through the stack's egress (the
                // firewall admits *.metrics.ingest.monitor.azure.com); a private link scope is not built.
                networkAcls: { publicNetworkAccess: "Enabled" },
            },
            { parent: this },
        );
        const destination = "MonitoringAccount1";
        const rule = new monitor.DataCollectionRule(
            `${name}-dcr`,
            {
                ...common,
                dataCollectionRuleName: msProm,
                kind: "Linux",
                description: "DCR for Azure Monitor Metrics Profile (Managed Prometheus)",
                dataCollectionEndpointId: endpoint.id,
                dataSources: {
                    // No labelIncludeFilter (Microsoft's onboarding template sends `{}`): it is optional
                    // (azure-native 3.28.0 types/input.d.ts PrometheusForwarderDataSourceArgs) and its one key,
                    // microsoft_metrics_include_label, only narrows what is forwarded, so absent and `{}` forward
                    // the same. azure-native diffs new inputs against the old inputs in state, which a refresh
                    // rebuilds from Azure's answer (pulumi/pulumi-azure-native#655, provider.go Diff/Read): an
                    // empty map Azure does not echo back would return as a diff after every refresh; nothing
                    // sent, nothing to differ. Not verified against Azure's answer here.
                    prometheusForwarder: [{ name: "PrometheusDataSource", streams: [PROMETHEUS_STREAM] }],
                },
                destinations: { monitoringAccounts: [{ accountResourceId: workspace.id, name: destination }] },
                dataFlows: [{ streams: [PROMETHEUS_STREAM], destinations: [destination] }],
            },
            { parent: this },
        );
        // The association is what the add-on looks up: without it the agent on the nodes has no rule to
        // send by. It needs the cluster (its scope), so it comes after it; the add-on is enabled in the
        // same cluster PUT and picks the rule up once the association exists.
        new monitor.DataCollectionRuleAssociation(
            `${name}-dcra`,
            {
                associationName: msProm,
                resourceUri: args.clusterId,
                dataCollectionRuleId: rule.id,
                description:
                    "Association of data collection rule. Deleting this association will break the prometheus metrics data collection for this AKS Cluster.",
            },
            { parent: this },
        );

        // The DCR's own errors (a refused or dropped sample says why here and nowhere else) to Log
        // Analytics, as mspnp/aks-baseline does for its DCRs (diagnosticSettings on the rule, category
        // LogErrors, table DCRLogErrors). azure-native 3.28.0 monitor.DiagnosticSetting takes any resource URI.
        new monitor.DiagnosticSetting(
            `${name}-dcr-errors`,
            {
                name: "dcr-errors-to-log-analytics",
                resourceUri: rule.id,
                workspaceId: args.logAnalyticsWorkspaceId,
                logs: [{ category: DCR_LOG_CATEGORY, enabled: true }],
            },
            { parent: this },
        );

        const actions = args.actionGroupId ? [{ actionGroupId: args.actionGroupId }] : [];
        for (const group of prometheusAlertGroups()) {
            new alertsmanagement.PrometheusRuleGroup(
                `${name}-${group.name}`,
                {
                    ...common,
                    ruleGroupName: `${args.namePrefix}-${group.name}-alerts`,
                    description: group.description,
                    // Microsoft's template scopes each group to the workspace and the cluster, and filters by
                    // the cluster's name (the `cluster` label the add-on writes).
                    scopes: [workspace.id, args.clusterId],
                    clusterName: args.clusterName,
                    enabled: true,
                    interval: "PT1M",
                    rules: group.rules.map((r) => ({
                        alert: r.alert,
                        expression: r.expression,
                        for: r.for,
                        severity: r.severity,
                        enabled: true,
                        labels: { severity: "warning" },
                        annotations: { description: r.description },
                        resolveConfiguration: { autoResolved: true, timeToResolve: r.timeToResolve },
                        actions,
                    })),
                },
                { parent: this },
            );
        }

        for (const alert of NODE_METRIC_ALERTS) {
            new monitor.MetricAlert(
                `${name}-${alert.name}`,
                {
                    resourceGroupName: args.resourceGroupName,
                    // Metric alerts are global resources.
                    location: "global",
                    ruleName: `${args.namePrefix}-${alert.name}`,
                    description: alert.description,
                    severity: alert.severity,
                    enabled: true,
                    scopes: [args.clusterId],
                    evaluationFrequency: "PT1M",
                    windowSize: "PT5M",
                    criteria: {
                        odataType: "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                        allOf: [
                            {
                                criterionType: "StaticThresholdCriterion",
                                name: alert.name,
                                metricNamespace: "Microsoft.ContainerService/managedClusters",
                                metricName: alert.metricName,
                                operator: "GreaterThan",
                                threshold: alert.threshold,
                                timeAggregation: "Average",
                                // Per node, so that one busy node is not averaged away by the others.
                                dimensions: [{ name: "node", operator: "Include", values: ["*"] }],
                            },
                        ],
                    },
                    autoMitigate: true,
                    actions,
                    tags: args.tags,
                },
                { parent: this },
            );
        }

        // Every new Azure Advisor recommendation for the stack's resources, as mspnp/aks-baseline does
        // (workload-team/modules/alerts.bicep, AllAzureAdvisorAlert: an activity log alert on the group).
        new monitor.ActivityLogAlert(
            `${name}-advisor`,
            {
                resourceGroupName: args.resourceGroupName,
                // Activity log alerts are global resources.
                location: "Global",
                activityLogAlertName: `${args.namePrefix}-advisor`,
                description: "All Azure Advisor recommendations for the platform's resources",
                enabled: true,
                scopes: [args.resourceGroupId],
                condition: {
                    allOf: [
                        { field: "category", equals: "Recommendation" },
                        { field: "operationName", equals: "Microsoft.Advisor/recommendations/available/action" },
                    ],
                },
                actions: { actionGroups: actions },
                tags: args.tags,
            },
            { parent: this },
        );

        this.workspaceId = workspace.id;
        this.registerOutputs({ workspaceId: this.workspaceId });
    }
}
