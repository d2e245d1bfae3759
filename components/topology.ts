// The cluster's topology, defined once: namespaces, service accounts, the labels pods carry and are
// selected by, ports and Service names. The components, the flow table (workloads/networkPolicies.ts),
// the policy pack, the Argo CD values and the tests import these; none restates them as a literal.
//
// Two kinds of fact live here:
// - ours: labels and ports of objects this program renders (MongoDB, the Jobs, charts/microservice);
// - upstream: labels and ports of pods rendered by charts we do not own (vault-helm, Istio's gateway
//   and istiod, argo-cd). Those are checked against tests/fixtures/chart-facts.json, captured by
//   rendering each chart at its pinned version (tools/capture-chart-facts.ts), so a chart bump that
//   moves a label fails a test instead of silently opening or closing a flow.
// Importing nothing from the rest of the program keeps it usable from config, policy and tools.

/** Namespaces with fixed names. The applications' namespace is per environment (appNamespace). */
export const NAMESPACES = {
    kubeSystem: "kube-system",
    istio: "istio-system",
    ingress: "istio-ingress",
    vault: "vault",
    argocd: "argocd",
    reloader: "reloader",
} as const;

/** The namespace the applications run in, one per environment as in the lab. */
export function appNamespace(environment: string): string {
    return `microservices-${environment}`;
}

/** The lab's two HTTP services (their Helm release, Deployment, Service and service account names). */
export const SERVICE_NAMES = ["product-service", "order-service"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Helm release names: the charts derive their Services, pods' labels and service accounts from them. */
export const RELEASES = {
    /** vault-helm's fullname: Services vault, vault-active, vault-internal, vault-agent-injector-svc. */
    vault: "vault",
    /** Istio's gateway chart names the Deployment, Service and service account after the release. */
    ingressGateway: "istio-ingressgateway",
} as const;

/** Service accounts other parts of the program (workload identity subjects, AuthorizationPolicy) name. */
export const SERVICE_ACCOUNTS = {
    /** vault-helm's server service account (the seal's workload identity subject). */
    vaultServer: RELEASES.vault,
    /** The gateway chart's service account (the ingress TLS identity's subject). */
    ingressGateway: RELEASES.ingressGateway,
} as const;

/** Ports, by what listens on them. `service` ports are what a client dials; `container` what a policy sees after DNAT. */
export const PORTS = {
    dns: 53,
    /** istiod's xDS and CA (sidecars, gateway). */
    istiodXds: 15012,
    /** Vault's API and its cluster (raft, request forwarding) port. */
    vaultApi: 8200,
    vaultCluster: 8201,
    /** vault-k8s injector's webhook container port (vault-helm injector.port default 8080). */
    vaultInjectorWebhook: 8080,
    /**
     * The local ha Vault's unsealer (components/platform/vaultUnsealer.ts): its TLS listener's container
     * port, behind its Service's vaultApi port (its dev listener stays on the pod's loopback 8200).
     */
    vaultUnsealerTls: 8210,
    mongodb: 27017,
    /** The services' container port (charts/microservice containerPort) and their Service port. */
    serviceContainer: 8080,
    servicePort: 80,
    /** The gateway Service's ports and the pod ports they target (Istio gateway chart service.ports). */
    gatewayHttp: { service: 80, container: 80 },
    gatewayHttps: { service: 443, container: 443 },
    /** Envoy's status port: the load balancer's health probe. */
    gatewayStatus: 15021,
    /** HTTPS to services outside the cluster (Key Vault, Entra ID, Azure Storage, Application Insights, Git). */
    https: 443,
    ssh: 22,
} as const;

/**
 * The path the ingress gateway answers itself (an Istio directResponse route on its HTTPS server):
 * the Application Gateway's health probe in front of it (components/azure/appGateway.ts).
 */
export const INGRESS_HEALTH_PATH = "/healthz/ingress";

/** Pod labels (as a selector: every pod carrying all of them). */
export type Labels = Readonly<Record<string, string>>;

/**
 * Labels pods carry. Upstream ones are checked against tests/fixtures/chart-facts.json; ours are what
 * the program itself puts on the pod template.
 */
export const POD_LABELS = {
    // Upstream: vault-helm v0.32.0 templates/server-statefulset.yaml and injector-deployment.yaml.
    vaultServer: { "app.kubernetes.io/name": "vault", component: "server" },
    vaultInjector: { "app.kubernetes.io/name": "vault-agent-injector", component: "webhook" },
    // Upstream: Istio gateway chart (its `istio` label is set through values.labels), istiod chart.
    ingressGateway: { istio: "ingressgateway" },
    istiod: { app: "istiod" },
    // The cluster's CoreDNS (kubeadm's and AKS's coredns Deployment both carry k8s-app: kube-dns).
    kubeDns: { "k8s-app": "kube-dns" },
    // AKS's konnectivity-agent Deployment in kube-system (AKS-managed, no chart we render): its pods carry
    // app: konnectivity-agent (the label tigera/operator#5212 selects them by on AKS).
    konnectivityAgent: { app: "konnectivity-agent" },
    // Upstream: argo-cd chart templates/argocd-repo-server/deployment.yaml (argo-cd.selectorLabels).
    argocdRepoServer: { "app.kubernetes.io/name": "argocd-repo-server" },
    // Ours.
    mongodb: { "app.kubernetes.io/name": "mongodb", "app.kubernetes.io/instance": "mongodb" },
    mongoBackup: { "app.kubernetes.io/name": "mongodb-backup" },
    vaultInit: { app: "vault-init" },
    vaultSnapshot: { app: "vault-snapshot" },
    vaultSync: { app: "vault-sync" },
    vaultTlsRenew: { app: "vault-tls-renew" },
    // The local ha Vault's unsealer and the Job that prepares its transit key (vaultUnsealer.ts).
    vaultUnsealer: { app: "vault-unsealer" },
    vaultUnsealerSetup: { app: "vault-unsealer-setup" },
    // The Vault configuration workload (workloads/vaultDatabase.ts): its pods carry it beside their own labels.
    vaultConfigure: { app: "vault-configure" },
    // Dev's reconciler Deployment only (not prod's configure Job): its mongo-users container reaches MongoDB.
    vaultReconciler: { app: "vault-configure", component: "reconciler" },
} as const satisfies Record<string, Labels>;

/** A service's pod labels: charts/microservice's selector labels (templates/_helpers.tpl microservice.selectorLabels). */
export function servicePodLabels(service: ServiceName): Labels {
    return { "app.kubernetes.io/name": service, "app.kubernetes.io/instance": service };
}

/** kind's defaults (kubernetes-sigs/kind pkg/apis/config/v1alpha4/default.go): pod and Service subnets. */
/** The API server's port on kind's control-plane node: pkg/cluster/internal/providers/common/constants.go APIServerInternalPort. */
export const KIND_NETWORK = { podSubnet: "10.244.0.0/16", serviceSubnet: "10.96.0.0/16", apiServerPort: 6443 } as const;

/**
 * Where a cluster's Kubernetes API really is, as a NetworkPolicy sees it. Enforcers match traffic
 * after the `kubernetes` Service's address is translated (kube-network-policies on kind: it filters in
 * nftables after kube-proxy's DNAT; Cilium: socket-level load balancing before policy), so what counts
 * is the endpoint: AKS's API server answers on 443; kind's is the control-plane node's 6443
 * (kubernetes-sigs/kind v0.32.0 pkg/cluster/internal/providers/common/constants.go APIServerInternalPort = 6443).
 */
export const API_SERVER_PORTS = {
    aks: [443],
    // An existing cluster (local): 443 where the API is behind a proxy, plus its own port (config
    // local.apiServerPort, default kind's 6443; k3d 6443, minikube 8443, MicroK8s 16443).
    existing: [443, KIND_NETWORK.apiServerPort],
} as const;

/** Private (RFC 1918) and shared (RFC 6598) IPv4 ranges: where pods, Services, nodes and VNets live. */
export const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"] as const;
