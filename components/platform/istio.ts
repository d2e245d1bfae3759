import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { MESH_MTLS_MODES } from "../config";
import { zoneSpread, type ZoneSpreadConstraint } from "./availability";
import { CHARTS, ISTIO_HUB, pinnedRelease, ISTIO_SECURITY_API } from "./charts";

/**
 * istiod flips its validating webhooks from the chart's fail-open `Ignore` to `Fail` once it serves;
 * every later apply of the chart's `Ignore` then fights it (pulumi/pulumi-kubernetes#2210). Declaring
 * `Fail` in both base and istiod (the key exists from Istio 1.29.2) makes chart and runtime agree.
 */
const SETTLED_WEBHOOK = { validationFailurePolicy: "Fail" } as const;

/** The keys of Istio's base chart values (1.29.2) this component sets. */
export interface IstioBaseValues {
    readonly defaultRevision: string;
    readonly base: typeof SETTLED_WEBHOOK;
    readonly global: { readonly istioNamespace: pulumi.Input<string> };
}

/**
 * The istiod chart's top-level `cni` is what its injection template reads as `.Values.pilot.cni`
 * (istio/istio 1.29.2 manifests/charts/istio-control/istio-discovery/templates/istiod-injector-configmap.yaml
 * picks `cni` into `pilot`): enabled, injected pods get the unprivileged `istio-validation` init
 * container (runs as 1337, drops ALL, no NET_ADMIN/NET_RAW) instead of the root `istio-init`
 * (files/injection-template.yaml), and the CNI node agent programs the pod's redirection instead.
 */
const CNI_INJECTION = { enabled: true, provider: "default" } as const;

/** Where the node agent installs the plugin: the chart's defaults, which are AKS's (and kind's) paths. */
const CNI_HOST_PATHS = { cniBinDir: "/opt/cni/bin", cniConfDir: "/etc/cni/net.d" } as const;

/** The keys of Istio's `cni` chart values (1.29.2 manifests/charts/istio-cni/values.yaml) this component sets. */
export interface IstioCniValues {
    readonly cniBinDir: string;
    readonly cniConfDir: string;
    /**
     * Append the istio-cni plugin to the existing conflist (AKS's Azure CNI powered by Cilium writes one)
     * rather than a standalone file; the chart's default, set so a chart change cannot flip it.
     */
    readonly chained: true;
    /** Pods the plugin never touches. */
    readonly excludeNamespaces: readonly string[];
    /** Sidecar mode only: no ztunnel, no host-network-namespace sharing. */
    readonly ambient: { readonly enabled: false };
    /** The chart sets requests only; limits keep the container-limits policy satisfied. */
    readonly resources: ContainerResources;
    readonly global: { readonly hub: string };
}

/** Requests and limits of one container. */
export interface ContainerResources {
    readonly requests: { readonly cpu: string; readonly memory: string };
    readonly limits: { readonly cpu: string; readonly memory: string };
}

/** The keys of the istiod chart values (1.29.x) this component sets. */
export interface IstiodValues {
    readonly base: typeof SETTLED_WEBHOOK;
    /** Injection uses the CNI node agent (see CNI_INJECTION). */
    readonly cni: typeof CNI_INJECTION;
    readonly global: {
        readonly istioNamespace: pulumi.Input<string>;
        /** Registry of istiod's image and of every proxy it injects (the gateway's `image: auto` included). */
        readonly hub: string;
        /** The chart's PDB (minAvailable 1): on with 2+ replicas; with one it would block node drains. */
        readonly defaultPodDisruptionBudget: { readonly enabled: boolean };
    };
    readonly replicaCount: number;
    readonly autoscaleEnabled: boolean;
    readonly autoscaleMin: number;
    readonly autoscaleMax: number;
    readonly pdb: { readonly minAvailable: number };
    readonly resources: { readonly requests: { readonly cpu: string; readonly memory: string } };
    /** Rendered into the istiod Deployment's pod spec (istio-discovery values.yaml `topologySpreadConstraints`). */
    readonly topologySpreadConstraints: readonly ZoneSpreadConstraint[];
}

export interface IstioControlPlaneArgs {
    /** Namespace of the control plane (istio-system). */
    readonly namespace: pulumi.Input<string>;
    /** Namespace of the CNI node agent: its pods need host paths and NET_ADMIN/SYS_ADMIN (privileged level). */
    readonly cniNamespace: pulumi.Input<string>;
    /** Several istiod replicas with a disruption budget (prod). */
    readonly highAvailability: boolean;
    /** Mesh-wide mutual TLS mode of the PeerAuthentication. */
    readonly mtlsMode: (typeof MESH_MTLS_MODES)[number];
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
}

/**
 * Istio's control plane from the official charts, base (CRDs, default validating webhook), the CNI
 * node agent, then istiod, and the mesh-wide PeerAuthentication.
 */
export class IstioControlPlane extends pulumi.ComponentResource {
    readonly base: k8s.helm.v3.Release;
    /** The CNI node agent DaemonSet (istio-cni-node), which sets up each meshed pod's traffic redirection. */
    readonly cni: k8s.helm.v3.Release;
    readonly istiod: k8s.helm.v3.Release;
    /** What workloads in the mesh, gateways and Istio resources wait for: a serving istiod. */
    readonly meshReady: pulumi.Resource[];

    constructor(name: string, args: IstioControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:IstioControlPlane", name, {}, opts);
        const child = { parent: this, provider: args.provider };
        const istioNamespace = args.namespace;

        const baseValues: IstioBaseValues = {
            defaultRevision: "default",
            base: SETTLED_WEBHOOK,
            global: { istioNamespace },
        };
        this.base = pinnedRelease(
            `${name}-base`,
            CHARTS.istioBase,
            { releaseName: "istio-base", namespace: args.namespace, values: baseValues },
            child,
        );

        // The node agent must run on a node before a meshed pod starts there: without it the pod's
        // istio-validation init container finds no redirection and fails (the chart's repair
        // controller then restarts it). Helm waits for the DaemonSet's pods to be ready.
        const cniValues: IstioCniValues = {
            ...CNI_HOST_PATHS,
            chained: true,
            excludeNamespaces: ["kube-system"],
            ambient: { enabled: false },
            resources: { requests: { cpu: "100m", memory: "100Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
            global: { hub: ISTIO_HUB },
        };
        this.cni = pinnedRelease(
            `${name}-cni`,
            CHARTS.istioCni,
            { releaseName: "istio-cni", namespace: args.cniNamespace, values: cniValues },
            // Istio's documented order: base, cni, istiod (istio.io, "Install Istio with the Istio CNI plugin").
            { ...child, dependsOn: [this.base] },
        );

        const ha = args.highAvailability;
        const istiodValues: IstiodValues = {
            base: SETTLED_WEBHOOK,
            cni: CNI_INJECTION,
            global: { istioNamespace, hub: ISTIO_HUB, defaultPodDisruptionBudget: { enabled: ha } },
            replicaCount: ha ? 2 : 1,
            autoscaleEnabled: true,
            autoscaleMin: ha ? 2 : 1,
            autoscaleMax: ha ? 5 : 2,
            pdb: { minAvailable: 1 },
            // The chart asks for 500m / 2Gi; a small dev node pool cannot spare that.
            // istiod's pods carry `app: istiod` (istio-discovery templates/deployment.yaml).
            topologySpreadConstraints: ha ? zoneSpread({ app: "istiod" }) : [],
            resources: ha ? { requests: { cpu: "500m", memory: "2048Mi" } } : { requests: { cpu: "100m", memory: "512Mi" } },
        };
        // istiod serves the webhooks and fills in the gateway's `image: auto`; it needs base's CRDs.
        const crdsReady = [this.base];
        this.istiod = pinnedRelease(
            `${name}-istiod`,
            CHARTS.istiod,
            { releaseName: "istiod", namespace: args.namespace, values: istiodValues },
            { ...child, dependsOn: crdsReady },
        );
        // Meshed pods need both: istiod to inject them, the node agent to redirect their traffic.
        const meshReady = [this.istiod, this.cni];

        // Mesh-wide: a PeerAuthentication named default in the root namespace applies to every workload.
        new k8s.apiextensions.CustomResource(
            `${name}-mtls`,
            {
                apiVersion: ISTIO_SECURITY_API,
                kind: "PeerAuthentication",
                metadata: { name: "default", namespace: args.namespace },
                spec: { mtls: { mode: args.mtlsMode } },
            },
            // The validating webhook is Fail, so Istio resources can only be created once istiod serves.
            { ...child, dependsOn: meshReady },
        );

        this.meshReady = meshReady;
        this.registerOutputs({ base: this.base, cni: this.cni, istiod: this.istiod });
    }
}
