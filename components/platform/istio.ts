import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { MESH_MTLS_MODES } from "../config";
import { zoneSpread, type ZoneSpreadConstraint } from "./availability";
import { CHARTS, pinnedRelease, ISTIO_HUB, ISTIO_SECURITY_API } from "./charts";

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

/** The keys of the istiod chart values (1.29.x) this component sets. */
export interface IstiodValues {
    readonly base: typeof SETTLED_WEBHOOK;
    readonly global: {
        readonly istioNamespace: pulumi.Input<string>;
        /** Registry of istiod's and the injected proxies' images (istio-discovery values.yaml `global.hub`). */
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
    /** Several istiod replicas with a disruption budget (prod). */
    readonly highAvailability: boolean;
    /** Mesh-wide mutual TLS mode of the PeerAuthentication. */
    readonly mtlsMode: (typeof MESH_MTLS_MODES)[number];
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
}

/**
 * Istio's control plane from the official charts, base (CRDs, default validating webhook) then istiod,
 * and the mesh-wide PeerAuthentication.
 */
export class IstioControlPlane extends pulumi.ComponentResource {
    readonly base: k8s.helm.v3.Release;
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

        const ha = args.highAvailability;
        const istiodValues: IstiodValues = {
            base: SETTLED_WEBHOOK,
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
        const meshReady = [this.istiod];

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
        this.registerOutputs({ base: this.base, istiod: this.istiod });
    }
}
