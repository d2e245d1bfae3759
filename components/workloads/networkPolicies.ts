// Default-deny NetworkPolicies (ingress and egress) in the namespaces the platform's traffic crosses,
// and one allow per flow of NETWORK_FLOWS, the one list of who talks to whom. Adding a flow is one
// line there (docs/operations.md, "Network policy"); the policies and their test derive from it.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MONGO_PORT } from "./mongodb";
import { VAULT_PORT } from "./microservice";
import { SERVICE_CALLS, SERVICE_CONTAINER_PORT } from "./serviceCalls";

/** The namespaces that get a default deny, by role. */
export type GuardedNamespace = "app" | "vault" | "ingress" | "argocd";
export const GUARDED_NAMESPACES: readonly GuardedNamespace[] = ["app", "vault", "ingress", "argocd"];

/** Pods in a namespace of the cluster: a guarded one by role, or a fixed one (kube-system, istio-system). */
export interface PodPeer {
    readonly namespace: GuardedNamespace | "kube-system" | "istio-system";
    /** Pod labels; absent: every pod of the namespace. */
    readonly pods?: Readonly<Record<string, string>>;
}
/**
 * Outside the pod network. `apiserver`: the Kubernetes API (egress), or its webhook calls (ingress,
 * arriving from kube-system's konnectivity agents or the API server's own address). `internet`: any
 * address outside the cluster (Key Vault, Entra ID, Application Insights, Git, the load balancer's clients).
 */
export interface ExternalPeer {
    readonly external: "apiserver" | "internet";
}
export type Peer = PodPeer | ExternalPeer;

export interface Flow {
    readonly from: Peer;
    readonly to: Peer;
    readonly ports: readonly { readonly port: number; readonly protocol: "TCP" | "UDP" }[];
    readonly why: string;
}

const tcp = (...ports: number[]) => ports.map((port) => ({ port, protocol: "TCP" as const }));
const DNS_PORTS = [
    { port: 53, protocol: "UDP" as const },
    { port: 53, protocol: "TCP" as const },
];
/** Pod labels the charts put on the pods (vault-helm templates/server-statefulset.yaml, injector-deployment.yaml; the gateway's `istio` label; istiod's `app`). */
const VAULT_SERVER = { "app.kubernetes.io/name": "vault", component: "server" };
const VAULT_INJECTOR = { "app.kubernetes.io/name": "vault-agent-injector", component: "webhook" };
const GATEWAY = { istio: "ingressgateway" };
/** MongoDb's pod labels (components/workloads/mongodb.ts), so its own ingress policy and these flows agree. */
const MONGODB = { "app.kubernetes.io/name": "mongodb", "app.kubernetes.io/instance": "mongodb" };
const KUBE_DNS: PodPeer = { namespace: "kube-system", pods: { "k8s-app": "kube-dns" } };
const ISTIOD: PodPeer = { namespace: "istio-system", pods: { app: "istiod" } };
const API = { external: "apiserver" } as const;
const INTERNET = { external: "internet" } as const;

/**
 * Every flow the platform needs, and nothing else. Key Vault and Entra ID are reached on 443 to any
 * address: AKS offers FQDN-based policies (CiliumNetworkPolicy toFQDNs) only with Advanced Container
 * Networking Services' security features, a paid per-node add-on; without it a NetworkPolicy can only
 * name ports and CIDRs, and Azure's service addresses are neither few nor stable.
 */
export const NETWORK_FLOWS: readonly Flow[] = [
    ...GUARDED_NAMESPACES.map((namespace) => ({ from: { namespace }, to: KUBE_DNS, ports: DNS_PORTS, why: "DNS (CoreDNS)" })),
    { from: { namespace: "app" }, to: ISTIOD, ports: tcp(15012), why: "sidecars' configuration and certificates from istiod (xDS, CA)" },
    { from: { namespace: "ingress", pods: GATEWAY }, to: ISTIOD, ports: tcp(15012), why: "the gateway's configuration and certificates" },
    {
        from: INTERNET,
        to: { namespace: "ingress", pods: GATEWAY },
        ports: tcp(80, 443, 15021),
        why: "clients through the load balancer, and its health probe on the status port",
    },
    {
        from: { namespace: "ingress", pods: GATEWAY },
        to: { namespace: "app", pods: { "app.kubernetes.io/name": "product-service" } },
        ports: tcp(SERVICE_CONTAINER_PORT),
        why: "the gateway routes /api/products",
    },
    {
        from: { namespace: "ingress", pods: GATEWAY },
        to: { namespace: "app", pods: { "app.kubernetes.io/name": "order-service" } },
        ports: tcp(SERVICE_CONTAINER_PORT),
        why: "the gateway routes /api/orders",
    },
    // One flow per service-to-service call (serviceCalls.ts), to the callee's container port only.
    ...SERVICE_CALLS.map((call) => ({
        from: { namespace: "app" as const, pods: { "app.kubernetes.io/name": call.from } },
        to: { namespace: "app" as const, pods: { "app.kubernetes.io/name": call.to } },
        ports: tcp(SERVICE_CONTAINER_PORT),
        why: call.why,
    })),
    {
        from: { namespace: "app" },
        to: { namespace: "app", pods: MONGODB },
        ports: tcp(MONGO_PORT),
        why: "the services' queries and the backup CronJob's mongodump",
    },
    {
        from: { namespace: "vault" },
        to: { namespace: "app", pods: MONGODB },
        ports: tcp(MONGO_PORT),
        why: "Vault's database secrets engine manages users",
    },
    {
        from: { namespace: "app" },
        to: { namespace: "vault", pods: VAULT_SERVER },
        ports: tcp(VAULT_PORT),
        why: "the Vault agent logs in and reads MongoDB credentials",
    },
    {
        from: { namespace: "app" },
        to: INTERNET,
        ports: tcp(443),
        why: "the services' telemetry to Application Insights; the MongoDB backup's token exchange (Entra ID) and upload (Azure Storage)",
    },
    {
        from: { namespace: "vault" },
        to: { namespace: "vault", pods: VAULT_SERVER },
        ports: tcp(VAULT_PORT),
        why: "the init and configuration Jobs, the raft snapshot CronJob, and standbys forwarding to the leader",
    },
    {
        from: { namespace: "vault", pods: VAULT_SERVER },
        to: { namespace: "vault", pods: VAULT_SERVER },
        ports: tcp(8201),
        why: "raft replication and request forwarding",
    },
    {
        from: { namespace: "vault" },
        to: INTERNET,
        ports: tcp(443),
        why: "the seal and the init Job (Key Vault), the snapshot CronJob (Azure Storage), and their Entra ID token exchange",
    },
    {
        from: { namespace: "vault", pods: VAULT_SERVER },
        to: API,
        ports: tcp(443),
        why: "Kubernetes auth (TokenReview) and service registration",
    },
    { from: { namespace: "vault", pods: VAULT_INJECTOR }, to: API, ports: tcp(443), why: "the injector's certificate and leader election" },
    {
        from: API,
        to: { namespace: "vault", pods: VAULT_INJECTOR },
        ports: tcp(8080),
        why: "the API server calls the injector's mutating webhook",
    },
    {
        from: { namespace: "argocd" },
        to: { namespace: "argocd" },
        ports: tcp(8080, 8081, 8082, 8083, 8084, 6379),
        why: "Argo CD's components: server, repo-server, controller metrics, redis",
    },
    { from: { namespace: "argocd" }, to: API, ports: tcp(443), why: "Argo CD reads and applies cluster state" },
    {
        from: { namespace: "argocd", pods: { "app.kubernetes.io/name": "argocd-repo-server" } },
        to: INTERNET,
        ports: tcp(443, 22),
        why: "Git over https or ssh",
    },
];

/** One side of a flow, as the NetworkPolicy that allows it: egress in the source's namespace, ingress in the destination's. */
export interface FlowRule {
    readonly flow: Flow;
    readonly direction: "egress" | "ingress";
    /** The guarded namespace the policy lives in. */
    readonly namespace: GuardedNamespace;
    readonly pods: Readonly<Record<string, string>>;
    /** The other end. */
    readonly peer: Peer;
}

const isPod = (peer: Peer): peer is PodPeer => "namespace" in peer;
const guarded = (peer: Peer, present: readonly GuardedNamespace[]): GuardedNamespace | undefined =>
    isPod(peer) && (present as readonly string[]).includes(peer.namespace) ? (peer.namespace as GuardedNamespace) : undefined;

/** The policies' rules for the guarded namespaces present (Argo CD's only with Argo CD). Flows touching an absent one are dropped. */
export function flowRules(present: readonly GuardedNamespace[], flows: readonly Flow[] = NETWORK_FLOWS): FlowRule[] {
    const absent = (peer: Peer) =>
        isPod(peer) && (GUARDED_NAMESPACES as readonly string[]).includes(peer.namespace) && !guarded(peer, present);
    return flows
        .filter((flow) => !absent(flow.from) && !absent(flow.to))
        .flatMap((flow) => {
            const rules: FlowRule[] = [];
            const from = guarded(flow.from, present);
            const to = guarded(flow.to, present);
            if (from) rules.push({ flow, direction: "egress", namespace: from, pods: (flow.from as PodPeer).pods ?? {}, peer: flow.to });
            if (to) rules.push({ flow, direction: "ingress", namespace: to, pods: (flow.to as PodPeer).pods ?? {}, peer: flow.from });
            return rules;
        });
}

/** The NetworkPolicyPeer entries of `peer`. */
function peerSelectors(
    peer: Peer,
    names: Readonly<Partial<Record<GuardedNamespace, pulumi.Input<string>>>>,
    direction: FlowRule["direction"],
) {
    if (!isPod(peer)) {
        // Outside the pod network: any address. The API server's webhook calls may also come through
        // the konnectivity agents in kube-system.
        const anywhere = { ipBlock: { cidr: "0.0.0.0/0" } };
        return peer.external === "apiserver" && direction === "ingress"
            ? [anywhere, { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }]
            : [anywhere];
    }
    const ns = (names as Record<string, pulumi.Input<string>>)[peer.namespace] ?? peer.namespace;
    return [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } }, podSelector: { matchLabels: { ...peer.pods } } }];
}

export interface NetworkPoliciesArgs {
    /** The guarded namespaces' names, by role; a role absent here (Argo CD off) gets no policies. */
    readonly namespaces: Readonly<Partial<Record<GuardedNamespace, pulumi.Input<string>>>>;
    readonly provider: k8s.Provider;
}

/** A default deny in each guarded namespace and one allowing NetworkPolicy per side of each flow. */
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
        const counts: Record<string, number> = {};
        for (const rule of flowRules(present)) {
            const stem = `${rule.direction}-${rule.namespace}`;
            const index = (counts[stem] = (counts[stem] ?? 0) + 1);
            const peers = peerSelectors(rule.peer, args.namespaces, rule.direction);
            const ports = rule.flow.ports.map((p) => ({ port: p.port, protocol: p.protocol }));
            new k8s.networking.v1.NetworkPolicy(
                `${name}-${stem}-${index}`,
                {
                    metadata: {
                        name: `allow-${rule.direction}-${index}`,
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
