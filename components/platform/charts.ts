// Every Helm chart and image the platform layer installs, pinned in one place, and the one way this
// layer creates a Helm release. Versions and value keys were checked against each chart's own
// values.yaml at the pinned version (docs/platform.md lists where).
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { KEY_VAULT_RBAC_PROPAGATION_SECONDS } from "../azure/roles";

/** A chart at one version in one repository. */
export interface ChartPin {
    readonly chart: string;
    readonly repo: string;
    readonly version: string;
}

const ISTIO_REPO = "https://istio-release.storage.googleapis.com/charts";
/**
 * base, istiod and gateway move together. 1.29.2 is the first 1.29 patch whose base and istiod charts
 * take `base.validationFailurePolicy` (istio/istio#59367, #59488), which settles the webhook drift.
 */
export const ISTIO_VERSION = "1.29.2";

/** Istio's v1 APIs, served since Istio 1.22: Gateway, VirtualService, DestinationRule; PeerAuthentication, AuthorizationPolicy. */
export const ISTIO_NETWORKING_API = "networking.istio.io/v1";
export const ISTIO_SECURITY_API = "security.istio.io/v1";

export const CHARTS = {
    istioBase: { chart: "base", repo: ISTIO_REPO, version: ISTIO_VERSION },
    istiod: { chart: "istiod", repo: ISTIO_REPO, version: ISTIO_VERSION },
    istioGateway: { chart: "gateway", repo: ISTIO_REPO, version: ISTIO_VERSION },
    // The CNI node agent (istio/istio manifests/charts/istio-cni at 1.29.2, published as `cni`).
    istioCni: { chart: "cni", repo: ISTIO_REPO, version: ISTIO_VERSION },
    // 1.7.2 bundles secrets-store-csi-driver 1.5.4; upstream advised staying on 1.7.2 while 1.8.0 had
    // open problems (Azure/secrets-store-csi-driver-provider-azure#2025).
    secretsStoreCsiAzure: {
        chart: "csi-secrets-store-provider-azure",
        repo: "https://azure.github.io/secrets-store-csi-driver-provider-azure/charts",
        version: "1.7.2",
    },
    // 0.32.0 is the last chart on Vault 1.x (0.33.0 moves to Vault 2.x); its default is Vault 1.21.2,
    // which has the workload identity fix for the azurekeyvault seal (hashicorp/vault#29717).
    vault: { chart: "vault", repo: "https://helm.releases.hashicorp.com", version: "0.32.0" },
    // Stakater Reloader (chart 2.2.16 = Reloader v1.4.21): rolls Deployments whose referenced Secret
    // changes, which is how Key Vault rotation reaches the services' env (docs/operations.md).
    reloader: { chart: "reloader", repo: "https://stakater.github.io/stakater-charts", version: "2.2.16" },
} as const satisfies Record<string, ChartPin>;

/**
 * Where Istio 1.29.2's images come from: the hub its release charts are published with, set explicitly
 * (`global.hub`) so the allowed-images policy and the chart agree on one registry path.
 */
export const ISTIO_HUB = "docker.io/istio";

/** Images set explicitly rather than left to chart defaults, so a chart bump never changes them silently. */
export const IMAGES = {
    // Fully qualified: the allowed-images policy matches the pod's image string as written.
    vault: { repository: "docker.io/hashicorp/vault", tag: "1.21.2" },
    vaultK8s: { repository: "docker.io/hashicorp/vault-k8s", tag: "1.7.2" },
    reloader: { repository: "ghcr.io/stakater/reloader", tag: "v1.4.21" },
    // Azure Linux based; ships az, bash and jq (Azure/azure-cli#29830).
    azureCli: "mcr.microsoft.com/azure-cli:2.77.0",
} as const;

/** The Vault image the servers run, as one reference for every Job and sidecar that runs its CLI. */
export const VAULT_IMAGE = `${IMAGES.vault.repository}:${IMAGES.vault.tag}`;

/**
 * The one list of upstream image locations the cluster may pull from (registry and repository path),
 * besides the stack's own registry and the services' configured repositories: the allowed-images
 * policy's regex is built from it (components/azure/clusterPolicy.ts). Each entry names what pulls it.
 */
export const UPSTREAM_IMAGE_PREFIXES = [
    // istiod, the CNI agent, the gateway and the injected sidecars (ISTIO_HUB).
    `${ISTIO_HUB}/`,
    // Vault's server, agent and the Jobs using its CLI; the injector.
    `${IMAGES.vault.repository}:`,
    `${IMAGES.vaultK8s.repository}:`,
    `${IMAGES.reloader.repository}:`,
    // The Jobs' az CLI (Microsoft's registry; the CSI driver's images in kube-system come from it too).
    "mcr.microsoft.com/",
    // MongoDB and the backup's upload step (components/workloads/mongodb.ts, mongoBackup.ts).
    "docker.io/library/mongo:",
    "docker.io/curlimages/curl:",
    // Argo CD (argo-cd 9.5.17 defaults: its own image and redis).
    "quay.io/argoproj/argocd:",
    "ecr-public.aws.com/docker/library/redis:",
] as const;

/** Pod label that makes the Azure Workload Identity webhook project a federated token into the pod. */
export const WORKLOAD_IDENTITY_USE_LABEL = "azure.workload.identity/use";
/** Service account annotation naming the managed identity the pod's federated token is exchanged for. */
export const WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id";
/** The Secrets Store CSI driver's name, as a pod's csi volume refers to it. */
export const SECRETS_STORE_CSI_DRIVER = "secrets-store.csi.k8s.io";

/** How long Helm waits for a release's workloads before an atomic release rolls back: the default. */
export const RELEASE_TIMEOUT_SECONDS = 600;

/**
 * The longest pause of kubelet between two attempts of a failed volume mount: exponential backoff capped
 * at 2m2s (kubernetes pkg/util/goroutinemap/exponentialbackoff/exponential_backoff.go,
 * maxDurationBeforeRetry).
 */
const KUBELET_MOUNT_RETRY_MAX_SECONDS = 122;

/**
 * The Helm timeout of a release whose pods mount Key Vault objects through the Secrets Store CSI driver
 * as a workload identity whose role assignments the same `up` creates. The release waits for the
 * assignments to exist, not to apply: until they do, the driver's mount gets 403 and the pods stay in
 * ContainerCreating. The timeout covers the documented propagation plus one kubelet retry on top of
 * the release's own readiness time, so a first `up` does not roll back a release that would have
 * become ready (issue 17 item 6). It is an upper bound: a healthy release finishes as soon as its pods
 * are ready, and an `up` that changes nothing does not touch the release.
 */
export function keyVaultMountTimeoutSeconds(base: number = RELEASE_TIMEOUT_SECONDS): number {
    return base + KEY_VAULT_RBAC_PROPAGATION_SECONDS + KUBELET_MOUNT_RETRY_MAX_SECONDS;
}

export interface ReleaseSpec {
    /** Helm release name. Fixed: the charts derive object and service names from it. */
    readonly releaseName: string;
    /** Namespace of the release (created beforehand, never by Helm). */
    readonly namespace: pulumi.Input<string>;
    /** Chart values: a typed subset of the pinned chart's values.yaml. */
    readonly values: pulumi.Input<object>;
    /** Seconds Helm waits for the release's resources to become ready. Default 600. */
    readonly timeoutSeconds?: number;
}

/**
 * A Helm release (a real one: hooks run, Helm keeps its history) of a pinned chart. It waits for the
 * chart's workloads to become ready and rolls a failed install or upgrade back.
 */
export function pinnedRelease(name: string, pin: ChartPin, spec: ReleaseSpec, opts: pulumi.CustomResourceOptions): k8s.helm.v3.Release {
    return new k8s.helm.v3.Release(
        name,
        {
            name: spec.releaseName,
            chart: pin.chart,
            version: pin.version,
            repositoryOpts: { repo: pin.repo },
            namespace: spec.namespace,
            createNamespace: false,
            values: spec.values as pulumi.Input<Record<string, unknown>>,
            atomic: true,
            cleanupOnFail: true,
            timeout: spec.timeoutSeconds ?? RELEASE_TIMEOUT_SECONDS,
            maxHistory: 5,
        },
        opts,
    );
}
