// Azure Monitor managed service for Prometheus, as mspnp/aks-baseline enables it
// (workload-team/cluster-stamp.bicep: an Azure Monitor workspace, a data collection endpoint, a data
// collection rule with a prometheusForwarder source for the Microsoft-PrometheusMetrics stream, its
// association with the cluster, and the cluster's azureMonitorProfile.metrics), plus Microsoft's
// recommended alert rules for the node and pod health the rest of the platform does not watch.
import * as alertsmanagement from "@pulumi/azure-native/alertsmanagement";
import * as monitor from "@pulumi/azure-native/monitor";
import * as pulumi from "@pulumi/pulumi";

/** The stream the metrics add-on sends and the DCR forwards (azure-native KnownPrometheusForwarderDataSourceStreams). */
export const PROMETHEUS_STREAM = "Microsoft-PrometheusMetrics";

/** One Prometheus alert rule: Microsoft's name, PromQL, hold time and severity. */
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
}

/** A rule group: one PrometheusRuleGroup resource. */
export interface PrometheusAlertGroup {
    /** Suffix of the group's name, `<prefix>-<suffix>`. */
    readonly name: "node" | "pod" | "cluster";
    readonly description: string;
    readonly rules: readonly PrometheusAlert[];
}

const KSM = 'job="kube-state-metrics"';
const ownerController = 'label_replace(kube_pod_owner, "controller", "$1", "owner_name", "(.*)")';

/**
 * The recommended Prometheus alert rules Microsoft publishes for AKS, copied rule by rule (name, PromQL,
 * `for`, severity, time to resolve) from Azure/prometheus-collector
 * GeneratedMonitoringArtifacts/Default/recommendedMetricAlerts.json ("Kubernetes Alert
 * RuleGroup-RecommendedMetricAlerts - 0.1": its Node-level, Pod-level and Cluster-level groups), the
 * template MicrosoftDocs/azure-docs articles/azure-monitor/containers/kubernetes-metric-alerts.md links
 * as the source of its "Recommended alert rule details". The health rules only: the ones about quotas,
 * HPAs and client certificates of kubelets are left out (no ResourceQuota or HPA here; AKS rotates
 * kubelet certificates). Pure, so that a test checks it against Microsoft's list.
 */
export function prometheusAlertGroups(): PrometheusAlertGroup[] {
    return [
        {
            name: "node",
            description:
                "Node health: unreachable, not ready, flapping readiness (Microsoft's recommended Node-level rules), OS disk filling up.",
            rules: [
                {
                    alert: "KubeNodeUnreachable",
                    expression: `(kube_node_spec_taint{${KSM},key="node.kubernetes.io/unreachable",effect="NoSchedule"} unless ignoring(key,value) kube_node_spec_taint{${KSM},key=~"ToBeDeletedByClusterAutoscaler|cloud.google.com/impending-node-termination|aws-node-termination-handler/spot-itn"}) == 1`,
                    for: "PT15M",
                    severity: 3,
                    description: "{{ $labels.node }} in {{ $labels.cluster }} is unreachable and some workloads may be rescheduled.",
                    timeToResolve: "PT10M",
                },
                {
                    alert: "KubeNodeNotReady",
                    expression: `kube_node_status_condition{${KSM},condition="Ready",status="true"} == 0`,
                    for: "PT15M",
                    severity: 3,
                    description: "{{ $labels.node }} in {{ $labels.cluster }} has been unready for more than 15 minutes.",
                    timeToResolve: "PT10M",
                },
                {
                    alert: "KubeNodeReadinessFlapping",
                    expression: 'sum(changes(kube_node_status_condition{status="true",condition="Ready"}[15m])) by (cluster, node) > 2',
                    for: "PT15M",
                    severity: 3,
                    description: "The readiness of node {{ $labels.node }} in {{ $labels.cluster }} changed more than twice in 15 minutes.",
                    timeToResolve: "PT10M",
                },
                // The baseline's node disk rule (mspnp/aks-baseline workload-team/modules/alerts.bicep,
                // Node-level group), on node-exporter's root filesystem: the OS disk, ephemeral in prod.
                {
                    alert: "KubeNodeDiskUsageHigh",
                    expression:
                        '100 - ((node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes{mountpoint="/"}) * 100) > 80',
                    for: "PT15M",
                    severity: 3,
                    description: "The OS disk of node {{ $labels.instance }} is more than 80% full.",
                    timeToResolve: "PT10M",
                },
            ],
        },
        {
            name: "pod",
            description:
                "Pod and workload health: crash loops, restarts, failed and pending pods, jobs, replicas, CPU, memory and volumes (Microsoft's recommended Pod-level rules).",
            rules: [
                {
                    alert: "KubePodCrashLooping",
                    expression: `max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", ${KSM}}[5m]) >= 1`,
                    for: "PT15M",
                    severity: 4,
                    description:
                        "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) in {{ $labels.cluster }} is crash looping.",
                    timeToResolve: "PT10M",
                },
                {
                    alert: "Pod container restarted in the last 1 hour",
                    expression: `sum by (namespace, controller, container, cluster)(increase(kube_pod_container_status_restarts_total{${KSM}}[1h])* on(namespace, pod, cluster) group_left(controller) ${ownerController}) > 0`,
                    for: "PT15M",
                    severity: 4,
                    description: "A container of {{ $labels.namespace }}/{{ $labels.controller }} restarted in the last hour.",
                    timeToResolve: "PT10M",
                },
                {
                    alert: "Number of pods in failed state are greater than 0.",
                    expression: `sum by (cluster, namespace, controller) (kube_pod_status_phase{phase="failed"} * on(namespace, pod, cluster) group_left(controller) ${ownerController})  > 0`,
                    for: "PT5M",
                    severity: 4,
                    description: "Pods of {{ $labels.namespace }}/{{ $labels.controller }} are in the Failed phase.",
                    timeToResolve: "PT15M",
                },
                {
                    alert: "KubePodNotReadyByController",
                    expression: `sum by (namespace, controller, cluster) (max by(namespace, pod, cluster) (kube_pod_status_phase{${KSM}, phase=~"Pending|Unknown"}  ) * on(namespace, pod, cluster) group_left(controller)label_replace(kube_pod_owner,"controller","$1","owner_name","(.*)")) > 0`,
                    for: "PT15M",
                    severity: 3,
                    description:
                        "Pods of {{ $labels.namespace }}/{{ $labels.controller }} in {{ $labels.cluster }} have been Pending or Unknown for 15 minutes.",
                    timeToResolve: "PT10M",
                },
                {
                    alert: "Ready state of pods is less than 80%. ",
                    expression:
                        "sum by (cluster,namespace,deployment)(kube_deployment_status_replicas_ready) / sum by (cluster,namespace,deployment)(kube_deployment_spec_replicas) <.8 or sum by (cluster,namespace,deployment)(kube_daemonset_status_number_ready) / sum by (cluster,namespace,deployment)(kube_daemonset_status_desired_number_scheduled) <.8 ",
                    for: "PT5M",
                    severity: 4,
                    description: "Fewer than 80% of the pods of a deployment or daemonset are ready.",
                    timeToResolve: "PT15M",
                },
                {
                    alert: "KubeDeploymentReplicasMismatch",
                    expression: `(  kube_deployment_spec_replicas{${KSM}}    >  kube_deployment_status_replicas_available{${KSM}}) and (  changes(kube_deployment_status_replicas_updated{${KSM}}[10m])    ==  0)`,
                    for: "PT15M",
                    severity: 4,
                    description:
                        "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} in {{ $labels.cluster }} has fewer available replicas than it asks for.",
                    timeToResolve: "PT15M",
                },
                {
                    alert: "KubeStatefulSetReplicasMismatch",
                    expression: `(  kube_statefulset_status_replicas_ready{${KSM}}    !=  kube_statefulset_status_replicas{${KSM}}) and (  changes(kube_statefulset_status_replicas_updated{${KSM}}[10m])    ==  0)`,
                    for: "PT15M",
                    severity: 4,
                    description:
                        "StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} in {{ $labels.cluster }} has replicas that are not ready (Vault, MongoDB).",
                    timeToResolve: "PT10M",
                },
                {
                    alert: "KubeStatefulSetGenerationMismatch",
                    expression: `kube_statefulset_status_observed_generation{${KSM}} != kube_statefulset_metadata_generation{${KSM}}`,
                    for: "PT15M",
                    severity: 3,
                    description:
                        "StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} has failed to roll out its latest generation.",
                    timeToResolve: "PT10M",
                },
                {
                    alert: "KubeJobFailed",
                    expression: `kube_job_failed{${KSM}}  > 0`,
                    for: "PT15M",
                    severity: 3,
                    description:
                        "Job {{ $labels.namespace }}/{{ $labels.job_name }} in {{ $labels.cluster }} failed (the backups, snapshots and TLS renewal run as Jobs).",
                    timeToResolve: "PT10M",
                },
                {
                    alert: "KubeJobNotCompleted",
                    expression: `time() - max by(namespace, job_name, cluster) (kube_job_status_start_time{${KSM}}  and kube_job_status_active{${KSM}} > 0) > 43200`,
                    for: "PT15M",
                    severity: 3,
                    description:
                        "Job {{ $labels.namespace }}/{{ $labels.job_name }} in {{ $labels.cluster }} has been running for more than 12 hours.",
                    timeToResolve: "PT10M",
                },
                {
                    alert: "Average CPU usage per container is greater than 95%",
                    expression:
                        'sum (rate(container_cpu_usage_seconds_total{image!="", container!="POD"}[5m])) by (pod,cluster,container,namespace) / sum(container_spec_cpu_quota{image!="", container!="POD"}/container_spec_cpu_period{image!="", container!="POD"}) by (pod,cluster,container,namespace) > .95',
                    for: "PT5M",
                    severity: 4,
                    description: "A container uses more than 95% of its CPU limit.",
                    timeToResolve: "PT15M",
                },
                {
                    alert: "Average Memory usage per container is greater than 95%.",
                    expression: `avg by (namespace, controller, container, cluster)(((container_memory_working_set_bytes{container!="", image!="", container!="POD"} / on(namespace,cluster,pod,container) group_left kube_pod_container_resource_limits{resource="memory", node!=""})*on(namespace, pod, cluster) group_left(controller) ${ownerController}) > .95)`,
                    for: "PT10M",
                    severity: 4,
                    description: "A container uses more than 95% of its memory limit: the next step is an OOM kill.",
                    timeToResolve: "PT10M",
                },
                {
                    alert: "Average PV usage is greater than 80%",
                    expression: `avg by (namespace, controller, container, cluster)(((kubelet_volume_stats_used_bytes{job="kubelet"} / on(namespace,cluster,pod,container) group_left kubelet_volume_stats_capacity_bytes{job="kubelet"}) * on(namespace, pod, cluster) group_left(controller) ${ownerController})) > .8`,
                    for: "PT15M",
                    severity: 3,
                    description:
                        "A persistent volume of {{ $labels.namespace }}/{{ $labels.controller }} is more than 80% full (Vault's raft, MongoDB).",
                    timeToResolve: "PT10M",
                },
            ],
        },
        {
            name: "cluster",
            description:
                "Cluster-wide health: OOM kills, stuck containers, volumes, DaemonSets (Microsoft's recommended Cluster-level rules).",
            rules: [
                {
                    alert: "Number of OOM killed containers is greater than 0",
                    expression: `sum by (cluster,container,controller,namespace)(kube_pod_container_status_last_terminated_reason{reason="OOMKilled"} * on(cluster,namespace,pod) group_left(controller) ${ownerController}) > 0`,
                    for: "PT5M",
                    severity: 4,
                    description: "Containers were killed for running out of memory.",
                    timeToResolve: "PT10M",
                },
                {
                    alert: "KubeContainerWaiting",
                    expression: `sum by (namespace, pod, container, cluster) (kube_pod_container_status_waiting_reason{${KSM}}) > 0`,
                    for: "PT60M",
                    severity: 3,
                    description:
                        "{{ $labels.namespace }}/{{ $labels.pod }} container {{ $labels.container }} has been waiting for more than an hour.",
                    timeToResolve: "PT10M",
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
                },
                {
                    alert: "KubePersistentVolumeErrors",
                    expression: `kube_persistentvolume_status_phase{phase=~"Failed|Pending",${KSM}} > 0`,
                    for: "PT05M",
                    severity: 4,
                    description: "The persistent volume {{ $labels.persistentvolume }} is {{ $labels.phase }}.",
                    timeToResolve: "PT10M",
                },
                {
                    alert: "KubeDaemonSetNotScheduled",
                    expression: `kube_daemonset_status_desired_number_scheduled{${KSM}} - kube_daemonset_status_current_number_scheduled{${KSM}} > 0`,
                    for: "PT15M",
                    severity: 3,
                    description:
                        "Pods of DaemonSet {{ $labels.namespace }}/{{ $labels.daemonset }} are not scheduled (the CSI driver, Istio's CNI agent).",
                    timeToResolve: "PT10M",
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
export const NODE_METRIC_ALERTS: readonly NodeMetricAlert[] = [
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

export interface ManagedPrometheusArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: pulumi.Input<string>;
    /** The cluster's resource name (the rules' clusterName filter, the DCR's name). */
    readonly clusterName: string;
    /** ARM ID of the cluster: the association's resource and the metric alerts' scope. */
    readonly clusterId: pulumi.Input<string>;
    /** Name stem of the workspace and rule groups. */
    readonly namePrefix: string;
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
        const msProm = pulumi.output(args.location).apply((location) => `MSProm-${location}-${args.clusterName}`.slice(0, 44));

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
                    prometheusForwarder: [{ name: "PrometheusDataSource", streams: [PROMETHEUS_STREAM], labelIncludeFilter: {} }],
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
