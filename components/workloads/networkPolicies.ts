// Default-deny NetworkPolicies (ingress and egress) in the namespaces the platform's traffic crosses,
// and one allow per side of each flow of NETWORK_FLOWS, the one list of who talks to whom. Adding a
// flow is one entry there (docs/operations.md, "Network policy"); the policies, docs/platform.md's
// flow table and the reachability test (tests/reachability.test.ts) derive from it. Every namespace,
// label and port comes from components/topology.ts.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { cidrWithin } from "../config/validators";
import { API_SERVER_PORTS, KIND_NETWORK, NAMESPACES, PORTS, POD_LABELS, PRIVATE_RANGES, servicePodLabels, type Labels } from "../topology";
import { SERVICE_CALLS } from "./serviceCalls";

/** The namespaces that get a default deny, by role. */
export type GuardedNamespace = "app" | "vault" | "ingress" | "argocd";
export const GUARDED_NAMESPACES: readonly GuardedNamespace[] = ["app", "vault", "ingress", "argocd"];

/** Pods in a namespace of the cluster: a guarded one by role, or a fixed one (kube-system, istio-system). */
export interface PodPeer {
    readonly namespace: GuardedNamespace | typeof NAMESPACES.kubeSystem | typeof NAMESPACES.istio;
    /** Pod labels; absent: every pod of the namespace. */
    readonly pods?: Labels;
}
/**
 * Outside the pod network. `apiserver`: the Kubernetes API (egress: its endpoint after DNAT), or its
 * webhook calls (ingress: the API server's path into the pod network). `internet`: public addresses
 * only (never a pod, Service, node or VNet address). `privateEndpoints`: the VNet subnet holding the
 * Key Vault and Storage private endpoints (stacks with Azure). `appGateway`: the ingress WAF's
 * subnet, where its instances connect to the gateway from (stacks with ingress.waf).
 */
export interface ExternalPeer {
    readonly external: "apiserver" | "internet" | "privateEndpoints" | "appGateway";
}
export type Peer = PodPeer | ExternalPeer;

export interface FlowPort {
    readonly port: number;
    readonly protocol: "TCP" | "UDP";
}

export interface Flow {
    /** Names the flow's NetworkPolicies (`allow-<name>` and, for a flow inside one namespace, `-egress`/`-ingress`). */
    readonly name: string;
    readonly from: Peer;
    readonly to: Peer;
    /** The destination's ports after DNAT; "apiserver": the target cluster's API server ports (ClusterNetwork). */
    readonly ports: readonly FlowPort[] | "apiserver";
    readonly why: string;
}

const tcp = (...ports: number[]): FlowPort[] => ports.map((port) => ({ port, protocol: "TCP" as const }));
const DNS_PORTS: FlowPort[] = [
    { port: PORTS.dns, protocol: "UDP" },
    { port: PORTS.dns, protocol: "TCP" },
];
const KUBE_DNS: PodPeer = { namespace: NAMESPACES.kubeSystem, pods: POD_LABELS.kubeDns };
const ISTIOD: PodPeer = { namespace: NAMESPACES.istio, pods: POD_LABELS.istiod };
const GATEWAY: PodPeer = { namespace: "ingress", pods: POD_LABELS.ingressGateway };
const VAULT_SERVER: PodPeer = { namespace: "vault", pods: POD_LABELS.vaultServer };
const VAULT_INJECTOR: PodPeer = { namespace: "vault", pods: POD_LABELS.vaultInjector };
const MONGODB: PodPeer = { namespace: "app", pods: POD_LABELS.mongodb };
const API = { external: "apiserver" } as const;
const INTERNET = { external: "internet" } as const;
const PRIVATE_ENDPOINTS = { external: "privateEndpoints" } as const;
const APP_GATEWAY = { external: "appGateway" } as const;

/**
 * Every flow the platform needs, and nothing else. Key Vault, Entra ID, Azure Storage and Application
 * Insights are reached on 443 at public addresses: AKS offers FQDN-based policies (CiliumNetworkPolicy
 * toFQDNs) only with Advanced Container Networking Services' security features, a paid per-node
 * add-on; without it a NetworkPolicy can only name ports and CIDRs. "Internet" excludes every private
 * range (ClusterNetwork.internet), and only the pods that call Azure get it.
 */
export const NETWORK_FLOWS: readonly Flow[] = [
    ...GUARDED_NAMESPACES.map((namespace): Flow => ({
        name: `${namespace}-to-dns`,
        from: { namespace },
        to: KUBE_DNS,
        ports: DNS_PORTS,
        why: "DNS (CoreDNS)",
    })),
    {
        name: "app-to-istiod",
        from: { namespace: "app" },
        to: ISTIOD,
        ports: tcp(PORTS.istiodXds),
        why: "sidecars' configuration and certificates from istiod (xDS, CA)",
    },
    {
        name: "gateway-to-istiod",
        from: GATEWAY,
        to: ISTIOD,
        ports: tcp(PORTS.istiodXds),
        why: "the gateway's configuration and certificates",
    },
    {
        name: "internet-to-gateway",
        from: INTERNET,
        to: GATEWAY,
        // The gateway chart's Service targets the pod's own 80 and 443. The load balancer's health probe
        // goes to the Service's healthCheckNodePort, answered by the node (externalTrafficPolicy Local;
        // components/platform/ingressGateway.ts), never by the pod, so no status port is opened here.
        ports: tcp(PORTS.gatewayHttp.container, PORTS.gatewayHttps.container),
        why: "clients through the load balancer (HTTPS, and HTTP for the redirect to HTTPS); not behind the ingress WAF",
    },
    {
        name: "app-gateway-to-gateway",
        from: APP_GATEWAY,
        to: GATEWAY,
        // Behind the WAF the gateway's clients are the Application Gateway's instances, through the
        // internal load balancer (externalTrafficPolicy Local keeps their addresses, which lie in the
        // Application Gateway's subnet: neither a node's nor a pod's, so Cilium's ipBlock matches them).
        // HTTPS only: the redirect from HTTP is the WAF's own listener; its health probe uses 443 too.
        ports: tcp(PORTS.gatewayHttps.container),
        why: "the ingress WAF (Application Gateway), re-encrypting to the gateway, and its health probe",
    },
    {
        name: "gateway-to-product-service",
        from: GATEWAY,
        to: { namespace: "app", pods: servicePodLabels("product-service") },
        ports: tcp(PORTS.serviceContainer),
        why: "the gateway routes /api/products",
    },
    {
        name: "gateway-to-order-service",
        from: GATEWAY,
        to: { namespace: "app", pods: servicePodLabels("order-service") },
        ports: tcp(PORTS.serviceContainer),
        why: "the gateway routes /api/orders",
    },
    // One flow per service-to-service call (serviceCalls.ts), to the callee's container port only.
    ...SERVICE_CALLS.map((call): Flow => ({
        name: `${call.from}-to-${call.to}`,
        from: { namespace: "app", pods: servicePodLabels(call.from) },
        to: { namespace: "app", pods: servicePodLabels(call.to) },
        ports: tcp(PORTS.serviceContainer),
        why: call.why,
    })),
    {
        name: "app-to-mongodb",
        from: { namespace: "app" },
        to: MONGODB,
        ports: tcp(PORTS.mongodb),
        why: "the services' queries and the backup CronJob's mongodump",
    },
    {
        name: "vault-server-to-mongodb",
        from: VAULT_SERVER,
        to: MONGODB,
        ports: tcp(PORTS.mongodb),
        why: "Vault's database secrets engine manages users",
    },
    {
        name: "vault-configure-to-mongodb",
        // Only the reconciler's label: prod's configure Job carries vaultConfigure too and needs no MongoDB.
        from: { namespace: "vault", pods: POD_LABELS.vaultReconciler },
        to: MONGODB,
        ports: tcp(PORTS.mongodb),
        why: "dev's Vault reconciler drops the MongoDB users a restarted Vault lost the leases of",
    },
    {
        name: "app-to-vault-server",
        from: { namespace: "app" },
        to: VAULT_SERVER,
        ports: tcp(PORTS.vaultApi),
        why: "the Vault agent logs in and reads MongoDB credentials",
    },
    ...(["product-service", "order-service"] as const).map((service): Flow => ({
        name: `${service}-to-internet`,
        from: { namespace: "app", pods: servicePodLabels(service) },
        to: INTERNET,
        ports: tcp(PORTS.https),
        why: `${service}'s telemetry to Application Insights`,
    })),
    {
        name: "mongodb-backup-to-internet",
        from: { namespace: "app", pods: POD_LABELS.mongoBackup },
        to: INTERNET,
        ports: tcp(PORTS.https),
        why: "the MongoDB backup's token exchange (Entra ID) and upload (Azure Storage)",
    },
    {
        name: "mongodb-backup-to-private-endpoints",
        from: { namespace: "app", pods: POD_LABELS.mongoBackup },
        to: PRIVATE_ENDPOINTS,
        ports: tcp(PORTS.https),
        why: "the MongoDB backup's upload through a storage private endpoint",
    },
    {
        name: "vault-to-vault-server",
        from: { namespace: "vault" },
        to: VAULT_SERVER,
        ports: tcp(PORTS.vaultApi),
        why: "the init and configuration Jobs, the raft snapshot and TLS renewal CronJobs, and standbys forwarding to the leader",
    },
    {
        name: "vault-server-raft",
        from: VAULT_SERVER,
        to: VAULT_SERVER,
        ports: tcp(PORTS.vaultCluster),
        why: "raft replication and request forwarding",
    },
    ...(
        [
            ["vault-server", POD_LABELS.vaultServer, "the seal (Key Vault) and its Entra ID token exchange"],
            ["vault-init", POD_LABELS.vaultInit, "the init Job stores the recovery keys in Key Vault"],
            ["vault-snapshot", POD_LABELS.vaultSnapshot, "the snapshot CronJob uploads to Azure Storage"],
            ["vault-tls-renew", POD_LABELS.vaultTlsRenew, "the TLS renewal CronJob reads the CA and writes the certificate in Key Vault"],
        ] as const
    ).flatMap(([who, pods, why]): Flow[] => [
        { name: `${who}-to-internet`, from: { namespace: "vault", pods }, to: INTERNET, ports: tcp(PORTS.https), why },
        {
            name: `${who}-to-private-endpoints`,
            from: { namespace: "vault", pods },
            to: PRIVATE_ENDPOINTS,
            ports: tcp(PORTS.https),
            why: `${why}, through its private endpoint`,
        },
    ]),
    // The local stack's ha mode (components/platform/vaultUnsealer.ts, vaultLocalHa.ts): the transit seal
    // and its setup reach the unsealer; the init Job keeps the recovery keys in a Kubernetes Secret. The
    // unsealer's pods exist only there; the init Job's service account may touch no Secret elsewhere.
    {
        name: "vault-server-to-unsealer",
        from: VAULT_SERVER,
        to: { namespace: "vault", pods: POD_LABELS.vaultUnsealer },
        ports: tcp(PORTS.vaultUnsealerTls),
        why: "the transit seal (local ha): encrypt and decrypt with the unsealer's key at every start",
    },
    {
        name: "vault-unsealer-setup-to-unsealer",
        from: { namespace: "vault", pods: POD_LABELS.vaultUnsealerSetup },
        to: { namespace: "vault", pods: POD_LABELS.vaultUnsealer },
        ports: tcp(PORTS.vaultUnsealerTls),
        why: "the setup Job creates the transit key, its policy and the seal's token (local ha)",
    },
    {
        name: "vault-init-to-apiserver",
        from: { namespace: "vault", pods: POD_LABELS.vaultInit },
        to: API,
        ports: "apiserver",
        why: "the init Job keeps the recovery keys in a Kubernetes Secret (local ha; its Role: that one Secret)",
    },
    {
        name: "vault-server-to-apiserver",
        from: VAULT_SERVER,
        to: API,
        ports: "apiserver",
        why: "Kubernetes auth (TokenReview) and service registration",
    },
    {
        name: "vault-injector-to-apiserver",
        from: VAULT_INJECTOR,
        to: API,
        ports: "apiserver",
        why: "the injector's certificate and leader election",
    },
    {
        name: "apiserver-to-vault-injector",
        from: API,
        to: VAULT_INJECTOR,
        ports: tcp(PORTS.vaultInjectorWebhook),
        why: "the API server calls the injector's mutating webhook",
    },
    {
        name: "argocd-internal",
        from: { namespace: "argocd" },
        to: { namespace: "argocd" },
        ports: tcp(8080, 8081, 8082, 8083, 8084, 6379),
        why: "Argo CD's components: server, repo-server, controller metrics, redis",
    },
    {
        name: "argocd-to-apiserver",
        from: { namespace: "argocd" },
        to: API,
        ports: "apiserver",
        why: "Argo CD reads and applies cluster state",
    },
    {
        name: "argocd-repo-server-to-internet",
        from: { namespace: "argocd", pods: POD_LABELS.argocdRepoServer },
        to: INTERNET,
        ports: tcp(PORTS.https, PORTS.ssh),
        why: "Git over https or ssh",
    },
];

/** An ipBlock, as a NetworkPolicyPeer holds it. */
export interface IpBlock {
    readonly cidr: string;
    readonly except?: readonly string[];
}
/** A NetworkPolicyPeer (only the shapes this module renders). */
export type PolicyPeer =
    | { readonly ipBlock: IpBlock }
    | {
          readonly namespaceSelector: { readonly matchLabels: Readonly<Record<string, pulumi.Input<string>>> };
          readonly podSelector?: { readonly matchLabels: Labels };
      };

/**
 * The target cluster's network, as NetworkPolicies must name it: which enforcer applies them, where the
 * API server is after DNAT, and the address ranges that are "inside". Built once per stack by
 * clusterNetwork(); the policies and the reachability test read it.
 */
export interface ClusterNetwork {
    /** aks: Azure CNI powered by Cilium. existing: a cluster of the kubeconfig (kind: kube-network-policies). */
    readonly target: "aks" | "existing";
    /** The API server's ports after DNAT (topology API_SERVER_PORTS). */
    readonly apiServerPorts: readonly number[];
    /** Public addresses (egress): 0.0.0.0/0 except every pod, Service, node and VNet range. */
    readonly internet: readonly IpBlock[];
    /**
     * The gateway's clients (ingress): every address. On AKS they arrive with their own address
     * (externalTrafficPolicy Local), public or, behind an internal load balancer, from the VNet; on
     * kind from the Docker network through a NodePort. The policy pack allows this only at the gateway.
     */
    readonly clients: readonly IpBlock[];
    /** The API server's endpoint (egress). */
    readonly apiServer: readonly IpBlock[];
    /** Where the API server's webhook calls come from (ingress). */
    readonly apiServerPath: readonly PolicyPeer[];
    /** The private endpoints' subnet; empty without one (flows to it are dropped). */
    readonly privateEndpoints: readonly IpBlock[];
    /**
     * The ingress WAF's subnet; empty without one. With one, the gateway's only clients are there: flows
     * from the internet are dropped (the WAF is the only public entry).
     */
    readonly appGateway: readonly IpBlock[];
}

/** What clusterNetwork needs from the stack config. */
export type ClusterNetworkSettings =
    | {
          readonly target: "aks";
          readonly podCidr: string;
          readonly serviceCidr: string;
          readonly vnetAddressSpace: string;
          readonly privateEndpointSubnet: string;
          /** API server VNet integration's subnet: the API server's own addresses in the VNet. */
          readonly apiServerSubnet?: string;
          /** The ingress WAF's subnet (ingress.waf). */
          readonly appGatewaySubnet?: string;
      }
    | {
          readonly target: "existing";
          /** The cluster's pod and Service ranges and its API server's port (config local.podCidr, local.serviceCidr, local.apiServerPort). */
          readonly podCidr: string;
          readonly serviceCidr: string;
          readonly apiServerPort: number;
      };

const kubeSystem = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": NAMESPACES.kubeSystem } } };
/** AKS's konnectivity agents: the path of the API server's calls to webhooks. */
const konnectivityAgents: PolicyPeer = { ...kubeSystem, podSelector: { matchLabels: { ...POD_LABELS.konnectivityAgent } } };

/** Public addresses: everything but the private ranges and the given ranges that lie outside them. */
function publicAddresses(ranges: readonly string[]): IpBlock {
    const outside = ranges.filter((r) => !PRIVATE_RANGES.some((p) => cidrWithin(r, p)));
    return { cidr: "0.0.0.0/0", except: [...PRIVATE_RANGES, ...new Set(outside)] };
}

export function clusterNetwork(s: ClusterNetworkSettings): ClusterNetwork {
    if (s.target === "aks") {
        // Public addresses only: the private ranges (the policy pack's networkpolicy-no-open-cidr wants
        // all of them excepted) and the stack's pod, Service and VNet ranges wherever they lie.
        const internet = publicAddresses([s.podCidr, s.serviceCidr, s.vnetAddressSpace]);
        return {
            target: "aks",
            apiServerPorts: API_SERVER_PORTS.aks,
            internet: [internet],
            clients: [{ cidr: "0.0.0.0/0" }],
            // With VNet integration the API server has addresses in its own subnet, and only those are
            // allowed. Otherwise its address is not known before the cluster exists: a public one, or a
            // private endpoint in the node subnet (private cluster); after DNAT it is never a pod or a
            // Service, so those ranges are excluded. A public API server is then indistinguishable from
            // the internet on 443 (a CIDR cannot tell them apart; docs/platform.md, "Network flows").
            // Without VNet integration: a public address, or (private cluster) the API server's private
            // endpoint in the VNet.
            apiServer: s.apiServerSubnet ? [{ cidr: s.apiServerSubnet }] : [internet, { cidr: s.vnetAddressSpace }],
            // AKS reaches webhooks through the konnectivity agents in kube-system, with or without API
            // server VNet integration: the clusters here run Azure CNI Overlay (azure/aksCluster.ts
            // networkPluginMode Overlay), whose pod addresses the API server's delegated subnet cannot
            // route to, so AKS keeps konnectivity-agent (Azure/AKS#4119; AKS docs,
            // api-server-vnet-integration: the API server reaches pods directly only with pod IPs in the
            // VNet). Only the agents' pods, not all of kube-system.
            apiServerPath: [konnectivityAgents],
            privateEndpoints: [{ cidr: s.privateEndpointSubnet }],
            appGateway: s.appGatewaySubnet ? [{ cidr: s.appGatewaySubnet }] : [],
        };
    }
    // An existing cluster (kind in the e2e): the API server is a control-plane node, whose address lies
    // in a private range but outside the cluster's pod and Service ranges; webhook calls come from that
    // node. The ranges and the port are the stack's (defaults: kind's), since k3d, minikube and MicroK8s
    // use others: with kind's on k3d, every pod (10.42/16) would count as a node.
    const own = [s.podCidr, s.serviceCidr];
    const nodes: IpBlock[] = PRIVATE_RANGES.map((cidr) => {
        const except = own.filter((r) => cidrWithin(r, cidr));
        return except.length > 0 ? { cidr, except } : { cidr };
    });
    return {
        target: "existing",
        apiServerPorts: [...new Set([...API_SERVER_PORTS.existing.filter((p) => p !== KIND_NETWORK.apiServerPort), s.apiServerPort])],
        internet: [publicAddresses(own)],
        clients: [{ cidr: "0.0.0.0/0" }],
        apiServer: nodes,
        apiServerPath: nodes.map((ipBlock) => ({ ipBlock })),
        privateEndpoints: [],
        appGateway: [],
    };
}

/** One side of a flow, as the NetworkPolicy that allows it: egress in the source's namespace, ingress in the destination's. */
export interface FlowRule {
    readonly flow: Flow;
    readonly direction: "egress" | "ingress";
    /** The guarded namespace the policy lives in. */
    readonly namespace: GuardedNamespace;
    readonly pods: Labels;
    /** The other end. */
    readonly peer: Peer;
    /** The policy's name: after the flow, with its direction where both ends are in one namespace. */
    readonly policyName: string;
}

const isPod = (peer: Peer): peer is PodPeer => "namespace" in peer;
const guarded = (peer: Peer, present: readonly GuardedNamespace[]): GuardedNamespace | undefined =>
    isPod(peer) && (present as readonly string[]).includes(peer.namespace) ? (peer.namespace as GuardedNamespace) : undefined;

/** The ports a flow's rule opens on `network`. */
export function flowPorts(flow: Flow, network: Pick<ClusterNetwork, "apiServerPorts">): FlowPort[] {
    return flow.ports === "apiserver" ? tcp(...network.apiServerPorts) : [...flow.ports];
}

/**
 * The policies' rules for the guarded namespaces present (Argo CD's only with Argo CD). Flows touching
 * an absent namespace, or a private-endpoint or WAF subnet the network has not, are dropped; with the
 * WAF, so are flows from the internet (the WAF is the only public entry). Without `network`, every
 * flow of a present namespace is kept.
 */
export function flowRules(
    present: readonly GuardedNamespace[],
    flows: readonly Flow[] = NETWORK_FLOWS,
    network?: Pick<ClusterNetwork, "privateEndpoints" | "appGateway">,
): FlowRule[] {
    const absent = (peer: Peer) =>
        (isPod(peer) && (GUARDED_NAMESPACES as readonly string[]).includes(peer.namespace) && !guarded(peer, present)) ||
        (!isPod(peer) && network !== undefined && peer.external === "privateEndpoints" && network.privateEndpoints.length === 0) ||
        (!isPod(peer) && network !== undefined && peer.external === "appGateway" && network.appGateway.length === 0);
    const behindWaf = (flow: Flow) =>
        network !== undefined && network.appGateway.length > 0 && !isPod(flow.from) && flow.from.external === "internet";
    return flows
        .filter((flow) => !absent(flow.from) && !absent(flow.to) && !behindWaf(flow))
        .flatMap((flow) => {
            const rules: FlowRule[] = [];
            const from = guarded(flow.from, present);
            const to = guarded(flow.to, present);
            const both = from !== undefined && from === to;
            const named = (direction: FlowRule["direction"]) => `allow-${flow.name}${both ? `-${direction}` : ""}`;
            if (from)
                rules.push({
                    flow,
                    direction: "egress",
                    namespace: from,
                    pods: (flow.from as PodPeer).pods ?? {},
                    peer: flow.to,
                    policyName: named("egress"),
                });
            if (to)
                rules.push({
                    flow,
                    direction: "ingress",
                    namespace: to,
                    pods: (flow.to as PodPeer).pods ?? {},
                    peer: flow.from,
                    policyName: named("ingress"),
                });
            return rules;
        });
}

/** The NetworkPolicyPeer entries of `peer`. */
export function peerSelectors(
    peer: Peer,
    names: Readonly<Partial<Record<GuardedNamespace, pulumi.Input<string>>>>,
    direction: FlowRule["direction"],
    network: ClusterNetwork,
): PolicyPeer[] {
    if (!isPod(peer)) {
        switch (peer.external) {
            case "internet":
                return (direction === "ingress" ? network.clients : network.internet).map((ipBlock) => ({ ipBlock }));
            case "privateEndpoints":
                return network.privateEndpoints.map((ipBlock) => ({ ipBlock }));
            case "appGateway":
                return network.appGateway.map((ipBlock) => ({ ipBlock }));
            case "apiserver":
                return direction === "ingress" ? [...network.apiServerPath] : network.apiServer.map((ipBlock) => ({ ipBlock }));
        }
    }
    const ns = (names as Record<string, pulumi.Input<string>>)[peer.namespace] ?? peer.namespace;
    return [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } }, podSelector: { matchLabels: { ...peer.pods } } }];
}

export interface NetworkPoliciesArgs {
    /** The guarded namespaces' names, by role; a role absent here (Argo CD off) gets no policies. */
    readonly namespaces: Readonly<Partial<Record<GuardedNamespace, pulumi.Input<string>>>>;
    /** The target cluster's network (clusterNetwork()). */
    readonly network: ClusterNetwork;
    /** The flows. Default: NETWORK_FLOWS. */
    readonly flows?: readonly Flow[];
    readonly provider: k8s.Provider;
}

/** A default deny in each guarded namespace and one allowing NetworkPolicy per side of each flow, named after it. */
export class NetworkPolicies extends pulumi.ComponentResource {
    constructor(name: string, args: NetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:workloads:NetworkPolicies", name, {}, opts);
        const child = { parent: this, provider: args.provider };
        const present = GUARDED_NAMESPACES.filter((role) => args.namespaces[role] !== undefined);
        for (const role of present) {
            new k8s.networking.v1.NetworkPolicy(
                `${name}-${role}-default-deny`,
                {
                    metadata: { name: "default-deny", namespace: args.namespaces[role] },
                    spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
                },
                child,
            );
        }
        for (const rule of flowRules(present, args.flows ?? NETWORK_FLOWS, args.network)) {
            // Plain mutable copies, as the provider's input types want them.
            const peers = peerSelectors(rule.peer, args.namespaces, rule.direction, args.network).map((peer) =>
                "ipBlock" in peer
                    ? { ipBlock: { cidr: peer.ipBlock.cidr, ...(peer.ipBlock.except ? { except: [...peer.ipBlock.except] } : {}) } }
                    : { ...peer },
            );
            const ports = flowPorts(rule.flow, args.network);
            new k8s.networking.v1.NetworkPolicy(
                `${name}-${rule.namespace}-${rule.policyName}`,
                {
                    metadata: {
                        name: rule.policyName,
                        namespace: args.namespaces[rule.namespace],
                        annotations: { "aks-platform/why": rule.flow.why },
                    },
                    spec:
                        rule.direction === "egress"
                            ? { podSelector: { matchLabels: { ...rule.pods } }, policyTypes: ["Egress"], egress: [{ to: peers, ports }] }
                            : {
                                  podSelector: { matchLabels: { ...rule.pods } },
                                  policyTypes: ["Ingress"],
                                  ingress: [{ from: peers, ports }],
                              },
                },
                child,
            );
        }
        this.registerOutputs({});
    }
}
