import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { NAMESPACES } from "../topology";

/**
 * The ConfigMap the AKS metrics add-on (Azure Monitor managed Prometheus) reads its settings from; it
 * must have exactly this name in kube-system (Azure/prometheus-collector
 * otelcollector/configmaps/ama-metrics-settings-configmap-v1.yaml; mspnp/aks-baseline
 * cluster-manifests/kube-system/ama-metrics-settings-configmap.yaml). AKS does not create it: the add-on's
 * pods mount it `optional: true` (otelcollector/deploy/addon-chart/azure-monitor-metrics-addon/templates/
 * ama-metrics-deployment.yaml, ama-metrics-daemonset.yaml, ama-metrics-ksm-deployment.yaml) and run on
 * their built-in defaults without it.
 */
const METRICS_SETTINGS_CONFIGMAP = { name: "ama-metrics-settings-configmap", namespace: NAMESPACES.kubeSystem } as const;

/**
 * Metrics the rules read that the metrics add-on's minimal ingestion profile drops, per scrape target of
 * its keep list (Azure/prometheus-collector otelcollector/shared/configmap/mp/
 * tomlparser-default-targets-metrics-keep-list.go at 8b94c4f64378e98bc5abf4b58f1011700cab1ddb,
 * kubestateRegex_minimal_mac: neither StatefulSet generation nor kube_persistentvolume_status_phase is
 * in it). The platform layer adds them through the ama-metrics-settings-configmap (MetricsSettings
 * below); the rules that read them are components/azure/managedPrometheus.ts prometheusAlertGroups.
 */
export const METRICS_KEEP_LIST_ADDITIONS: Readonly<Record<"kubestate", readonly string[]>> = {
    kubestate: [
        "kube_statefulset_metadata_generation",
        "kube_statefulset_status_observed_generation",
        "kube_persistentvolume_status_phase",
        // KubePersistentVolumeFillingUp's `unless` on ReadOnlyMany claims reads it.
        "kube_persistentvolumeclaim_access_mode",
    ],
};

/**
 * The ConfigMap's data in schema v1 (ama-metrics-settings-configmap-v1.yaml at
 * 9356c7c2c147c18c5713a2ff9d724ee80622c2a4): only the keep-list section, with the minimal ingestion profile
 * kept on. Every section and key left out keeps the add-on's default (otelcollector/shared/configmap/mp
 * tomlparser-default-scrape-settings.go overrides a default only for a key present;
 * tomlparser-default-targets-metrics-keep-list.go reads an absent keep list as "" and appends the minimal
 * profile's regex to the one given: `<ours>|<minimal>`). v1 rather than v2: every add-on version that
 * reads v2 reads v1 too (populateKeepList handles both), older ones only v1.
 */
function metricsSettingsData(keepList: Readonly<Record<string, readonly string[]>>): Record<string, string> {
    const lines = Object.entries(keepList).map(([target, metrics]) => `${target} = "${metrics.join("|")}"`);
    return {
        "schema-version": "v1",
        "config-version": "ver1",
        "default-targets-metrics-keep-list": [...lines, "minimalingestionprofile = true"].join("\n"),
    };
}

export interface MetricsSettingsArgs {
    /** Metric names per scrape target (the add-on's keep-list keys: kubestate, kubelet, ...) to keep beyond the minimal profile. */
    readonly keepList: Readonly<Record<string, readonly string[]>>;
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
}

/**
 * The metrics add-on's settings: extra metrics kept beyond the minimal ingestion profile, for the alert
 * rules that read them (METRICS_KEEP_LIST_ADDITIONS above). The add-on's containers watch the mounted
 * settings (otelcollector/main/main.go: inotify on /etc/config/settings) and
 * restart themselves on a change, so neither the first `up` nor a later change restarts anything of
 * ours; deleting it returns them to the defaults. A change of the keep list is a replacement, not an
 * update: pulumi-kubernetes 4.34.2 treats a ConfigMap's data as immutable unless the provider sets
 * `enableConfigMapMutable` (its provider.d.ts: beta, off by default), and with a fixed name it deletes
 * before it creates; the add-on sees the delete, then the create (two self-restarts), and runs on its
 * defaults in between. Not run against a cluster here.
 */
export class MetricsSettings extends pulumi.ComponentResource {
    readonly configMap: k8s.core.v1.ConfigMap;

    constructor(name: string, args: MetricsSettingsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:MetricsSettings", name, {}, opts);
        this.configMap = new k8s.core.v1.ConfigMap(
            name,
            {
                metadata: { ...METRICS_SETTINGS_CONFIGMAP },
                data: metricsSettingsData(args.keepList),
            },
            { parent: this, provider: args.provider },
        );
        this.registerOutputs({});
    }
}
