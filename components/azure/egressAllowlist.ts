// What the egress firewall lets out, and nothing else: every destination is named here once, with the
// document it comes from. The upstream image registries are derived from the images and charts the
// program pins (components/platform/charts.ts, the workloads' images) and the services' configured
// images, so a new image from a new registry cannot be added without this list following it.
import { IMAGES, CHARTS, ISTIO_HUB, VAULT_IMAGE } from "../platform/charts";
import { MONGO_IMAGE } from "../workloads/mongodb";
import { ARGOCD_CHART } from "../workloads/argocd";
import { MONGO_BACKUP_UPLOAD_IMAGE } from "../workloads/mongoBackup";

/**
 * AKS's required FQDNs for Azure public cloud, HTTPS 443 ("Outbound network and FQDN rules for AKS
 * clusters", MicrosoftDocs/azure-aks-docs articles/aks/outbound-rules-control-egress.md, "Azure
 * Global required FQDN / application rules"). The AzureKubernetesService FQDN tag covers them as well;
 * they are listed so that the rule still reads as what it allows. `*.hcp.<region>.azmk8s.io` is the
 * node-to-API-server endpoint (not needed with VNet integration or a private cluster, harmless there).
 */
export function aksRequiredFqdns(location: string): string[] {
    return [
        `*.hcp.${location}.azmk8s.io`,
        "mcr.microsoft.com",
        "*.data.mcr.microsoft.com",
        "mcr-0001.mcr-msedge.net",
        "management.azure.com",
        "packages.microsoft.com",
        "acs-mirror.azureedge.net",
    ];
}

/** The FQDN tag Azure Firewall maintains for AKS (the same article; Azure Firewall "FQDN tags"). */
export const AKS_FQDN_TAG = "AzureKubernetesService";

/**
 * Entra ID: token requests of the kubelet, the CSI driver and every workload identity
 * (login.microsoftonline.com: "Required for Microsoft Entra authentication", same article).
 */
export const ENTRA_ID_FQDNS = ["login.microsoftonline.com"] as const;

/**
 * Azure Monitor for containers ("Azure Monitor for containers, required FQDN / application rules", same
 * article) and Application Insights ingestion, where the services' connection strings point
 * (`IngestionEndpoint=https://<region>-N.in.applicationinsights.azure.com/`).
 */
export function azureMonitorFqdns(location: string): string[] {
    return [
        "dc.services.visualstudio.com",
        "*.ods.opinsights.azure.com",
        "*.oms.opinsights.azure.com",
        "*.monitoring.azure.com",
        `${location}.ingest.monitor.azure.com`,
        `${location}.handler.control.monitor.azure.com`,
        "*.in.applicationinsights.azure.com",
    ];
}

/**
 * Managed Prometheus' metrics add-on (same article, "Azure Monitor - Managed Prometheus and Container
 * Insights": `global.handler.control.monitor.azure.com` "Access control service",
 * `*.metrics.ingest.monitor.azure.com` "Azure monitor managed service for Prometheus - metrics ingestion
 * endpoint (DCE)"; the region's handler is in azureMonitorFqdns).
 */
export const MANAGED_PROMETHEUS_FQDNS = ["global.handler.control.monitor.azure.com", "*.metrics.ingest.monitor.azure.com"] as const;

/** The Azure Policy add-on ("Azure Policy, required FQDN / application rules", same article). */
export const AZURE_POLICY_FQDNS = ["data.policy.core.windows.net", "store.policy.core.windows.net"] as const;

/** Key Vault's public endpoint, only where the vaults have no private endpoint ("CSI Secret Store", same article). */
export const KEY_VAULT_FQDNS = ["*.vault.azure.net"] as const;

/**
 * The hosts a pull from each upstream registry touches: the registry API and the host its blobs are
 * redirected to. docker.io: Docker's "Allowlist" page (registry-1.docker.io, auth.docker.io,
 * production.cloudflare.docker.com); ghcr.io: GitHub's "About GitHub's IP addresses" (ghcr.io,
 * pkg-containers.githubusercontent.com); quay.io: Red Hat Quay's firewall guidance (quay.io and its
 * cdn01-03 hosts); ecr-public.aws.com: the ECR Public registry (layers from its own host).
 * mcr.microsoft.com is already in AKS's required list.
 */
const REGISTRY_ENDPOINTS: Readonly<Record<string, readonly string[]>> = {
    "docker.io": ["registry-1.docker.io", "auth.docker.io", "production.cloudflare.docker.com"],
    "ghcr.io": ["ghcr.io", "pkg-containers.githubusercontent.com"],
    "quay.io": ["quay.io", "cdn01.quay.io", "cdn02.quay.io", "cdn03.quay.io"],
    "ecr-public.aws.com": ["ecr-public.aws.com"],
    "mcr.microsoft.com": [],
};

/**
 * The registry host of an image reference, as the container runtime resolves it (distribution/reference
 * `ParseNormalizedNamed`): a first path component with a dot or a colon, or `localhost`, is a host;
 * otherwise the image is on Docker Hub.
 */
function registryOf(image: string): string {
    const first = image.split("/")[0];
    if (image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost")) return first;
    return "docker.io";
}

/**
 * Images that charts pull by their own defaults (the program sets no image there), by chart: Istio's
 * proxy and istiod from ISTIO_HUB; the CSI driver and the Azure provider from mcr.microsoft.com
 * (csi-secrets-store-provider-azure values.yaml: `mcr.microsoft.com/oss/...`); Argo CD's own image from
 * quay.io/argoproj/argocd and its redis from ecr-public.aws.com/docker/library/redis (argo-helm
 * charts/argo-cd values.yaml, 9.x, the line ARGOCD_CHART pins). Vault's and Reloader's images are set explicitly (IMAGES).
 */
const CHART_DEFAULT_IMAGES: Readonly<Record<keyof typeof CHARTS | "argocd", readonly string[]>> = {
    istioBase: [],
    istiod: [`${ISTIO_HUB}/pilot`, `${ISTIO_HUB}/proxyv2`],
    istioGateway: [`${ISTIO_HUB}/proxyv2`],
    istioCni: [`${ISTIO_HUB}/install-cni`],
    secretsStoreCsiAzure: [
        "mcr.microsoft.com/oss/v2/kubernetes-csi/secrets-store/driver",
        "mcr.microsoft.com/oss/v2/azure/secrets-store/provider-azure",
    ],
    vault: [],
    reloader: [],
    argocd: ["quay.io/argoproj/argocd", "ecr-public.aws.com/docker/library/redis"],
};

/** Every image the program itself names (its pins, not the services' configured ones). */
export function pinnedImages(argocd: boolean): string[] {
    const charts = (Object.keys(CHART_DEFAULT_IMAGES) as (keyof typeof CHART_DEFAULT_IMAGES)[]).filter(
        (chart) => argocd || chart !== "argocd",
    );
    return [
        VAULT_IMAGE,
        `${IMAGES.vaultK8s.repository}:${IMAGES.vaultK8s.tag}`,
        `${IMAGES.reloader.repository}:${IMAGES.reloader.tag}`,
        IMAGES.azureCli,
        MONGO_IMAGE,
        MONGO_BACKUP_UPLOAD_IMAGE,
        ...charts.flatMap((chart) => CHART_DEFAULT_IMAGES[chart]),
    ];
}

/**
 * The FQDNs of the upstream registries the images come from (pinned ones and the services'), sorted.
 * A registry this table does not know fails loudly: its endpoints must be looked up and added.
 */
export function upstreamRegistryFqdns(images: readonly string[]): string[] {
    const hosts = new Set<string>();
    for (const image of images) {
        const registry = registryOf(image);
        // The stack's own or another Azure registry: its own rule (registryFqdns).
        if (registry.endsWith(".azurecr.io")) continue;
        const endpoints = REGISTRY_ENDPOINTS[registry];
        if (!endpoints)
            throw new Error(
                `egress allowlist: no endpoints known for registry ${registry} (image ${image}); add them to REGISTRY_ENDPOINTS`,
            );
        endpoints.forEach((e) => hosts.add(e));
    }
    return [...hosts].sort();
}

/**
 * An Azure Container Registry's endpoints: its login server and its regional data endpoint
 * (`<name>.<region>.data.azurecr.io`, "Configure rules to access an Azure container registry behind a
 * firewall", MicrosoftDocs/azure-docs articles/container-registry/container-registry-firewall-access-rules.md).
 * With the registry's private endpoint both resolve inside the VNet and never reach the firewall.
 */
export function registryFqdns(registryName: string, location: string): string[] {
    const name = registryName.toLowerCase();
    return [`${name}.azurecr.io`, `${name}.${location}.data.azurecr.io`];
}

/**
 * What the CI runner (components/azure/ciRunner.ts) reaches beyond the nodes' list, from its subnet only:
 * - GitHub, as "Communicating with self-hosted runners" (docs.github.com, actions/concepts/runners) lists it
 *   for a firewall that takes wildcards: github.com, *.github.com, *.githubusercontent.com, ghcr.io; and
 *   the Actions results storage (job logs, summaries, artifacts, caches), productionresultssa<N> accounts
 *   whose numbers GitHub adds to (changelog 2026-10-22), which an application rule can only name as
 *   *.blob.core.windows.net. That wildcard also covers the state backend's storage account (azblob://).
 * - npm's registry (`npm ci`), Node's download host (actions/setup-node falls back to nodejs.org), the
 *   Pulumi CLI and plugin host (get.pulumi.com; pulumi/actions installs the CLI from it).
 * - The Azure CLI's installer (aka.ms redirects to packages.microsoft.com, in AKS's list already).
 * - Container Apps' managed identity endpoints ("Securing a virtual network in Azure Container Apps",
 *   MicrosoftDocs/azure-docs articles/container-apps/use-azure-firewall.md): *.identity.azure.net,
 *   *.login.microsoftonline.com, *.login.microsoft.com.
 * - The Helm repositories of the pinned charts, which the Kubernetes provider downloads during `up`
 *   (a github.io repository's tarballs are on github.com's release downloads, covered above).
 * The API server (*.hcp.<region>.azmk8s.io), ARM, Entra ID and the registries are in the nodes' rules,
 * which apply to this subnet too.
 */
/**
 * The package mirrors the runner's start reaches when it installs the Azure CLI (components/azure/ciRunner.ts
 * RUNNER_SCRIPT: Microsoft's InstallAzureCLIDeb script runs apt-get update and install). actions/runner's
 * images/Dockerfile builds on Ubuntu and adds ppa:git-core/ppa, so apt reads archive.ubuntu.com and
 * security.ubuntu.com over plain HTTP (Ubuntu's default sources; packages are signed, not the transport)
 * and ppa.launchpadcontent.net; the CLI itself comes from packages.microsoft.com (AKS's list).
 */
export const CI_RUNNER_APT_FQDNS = ["archive.ubuntu.com", "security.ubuntu.com", "ppa.launchpadcontent.net"] as const;

export function ciRunnerFqdns(): string[] {
    const chartHosts = [...Object.values(CHARTS), ARGOCD_CHART].map((pin) => new URL(pin.repo).hostname);
    return [
        ...new Set([
            "github.com",
            "*.github.com",
            "*.githubusercontent.com",
            "ghcr.io",
            "*.blob.core.windows.net",
            "registry.npmjs.org",
            "nodejs.org",
            "get.pulumi.com",
            "aka.ms",
            "*.identity.azure.net",
            "*.login.microsoftonline.com",
            "*.login.microsoft.com",
            ...chartHosts,
        ]),
    ].sort();
}
