// A NetworkPolicy evaluator with the semantics of networking.k8s.io/v1 (kubernetes/api
// networking/v1/types.go; the NetworkPolicy concept page), for two enforcers:
// - "kube-network-policies" (kind v0.24+, kubernetes-sigs/kube-network-policies): filters packets after
//   the Service address is translated and matches ipBlock against any address, pods' and nodes' included;
// - "cilium" (Azure CNI powered by Cilium): identities, where an ipBlock selects only addresses outside
//   the cluster ("world"), never a pod or a node (AKS docs, Azure CNI Powered by Cilium, limitations).
// Written from the API's rules, not from components/workloads/networkPolicies.ts: a pod is isolated
// for a direction once any policy selecting it lists that policyType; then a connection is allowed
// only if some rule of some selecting policy admits both the peer and the port (policies add up);
// a connection needs the source's egress AND the destination's ingress.
export type Labels = Readonly<Record<string, string>>;
export type Enforcer = "kube-network-policies" | "cilium";

export interface Endpoint {
    /** A name for messages. */
    readonly id: string;
    readonly ip: string;
    /** pod: subject to policies; node: a node's own address (host network); external: outside the cluster. */
    readonly kind: "pod" | "node" | "external";
    readonly namespace?: string;
    readonly labels?: Labels;
}

interface Selector {
    readonly matchLabels?: Labels;
    readonly matchExpressions?: readonly unknown[];
}
interface Peer {
    readonly podSelector?: Selector;
    readonly namespaceSelector?: Selector;
    readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] };
}
interface Port {
    readonly port?: number | string;
    readonly protocol?: string;
    readonly endPort?: number;
}
interface Rule {
    readonly to?: readonly Peer[];
    readonly from?: readonly Peer[];
    readonly ports?: readonly Port[];
}
export interface NetworkPolicy {
    readonly metadata: { readonly name: string; readonly namespace: string };
    readonly spec: {
        readonly podSelector: Selector;
        readonly policyTypes?: readonly string[];
        readonly ingress?: readonly Rule[];
        readonly egress?: readonly Rule[];
    };
}

export interface Cluster {
    readonly enforcer: Enforcer;
    /** Namespace name -> its labels (kubernetes.io/metadata.name is added). */
    readonly namespaces: Readonly<Record<string, Labels>>;
    readonly policies: readonly NetworkPolicy[];
}

function matches(selector: Selector | undefined, labels: Labels): boolean {
    if (!selector) return true;
    if (selector.matchExpressions && selector.matchExpressions.length > 0) throw new Error("matchExpressions: not modelled");
    return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

function ipToInt(ip: string): number {
    const parts = ip.split(".").map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
    return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}
export function inCidr(ip: string, cidr: string): boolean {
    const [base, bits] = cidr.split("/");
    const n = Number(bits);
    const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
    return (ipToInt(ip) & mask) >>> 0 === (ipToInt(base) & mask) >>> 0;
}

function namespaceLabels(cluster: Cluster, namespace: string): Labels {
    return { ...(cluster.namespaces[namespace] ?? {}), "kubernetes.io/metadata.name": namespace };
}

/** Whether `peer` (in a policy of `policyNamespace`) selects `other`. */
function peerSelects(cluster: Cluster, policyNamespace: string, peer: Peer, other: Endpoint): boolean {
    if (peer.ipBlock) {
        // Cilium gives pods and nodes identities of their own; a CIDR selects "world" only.
        if (cluster.enforcer === "cilium" && other.kind !== "external") return false;
        return inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(other.ip, c));
    }
    if (other.kind !== "pod" || !other.namespace) return false;
    if (peer.namespaceSelector) {
        if (!matches(peer.namespaceSelector, namespaceLabels(cluster, other.namespace))) return false;
    } else if (other.namespace !== policyNamespace) return false;
    return matches(peer.podSelector, other.labels ?? {});
}

function portMatches(ports: readonly Port[] | undefined, port: number, protocol: string): boolean {
    if (!ports || ports.length === 0) return true;
    return ports.some((p) => {
        if ((p.protocol ?? "TCP") !== protocol) return false;
        if (p.port === undefined) return true;
        if (typeof p.port === "string") throw new Error(`named port ${p.port}: not modelled`);
        return p.endPort ? port >= p.port && port <= p.endPort : port === p.port;
    });
}

/** Whether `pod`'s policies let `direction` traffic with `other` on port/protocol; `undefined` = not isolated. */
function side(cluster: Cluster, pod: Endpoint, direction: "Ingress" | "Egress", other: Endpoint, port: number, protocol: string) {
    if (pod.kind !== "pod" || !pod.namespace) return { isolated: false, allowed: true, by: [] as string[] };
    const selecting = cluster.policies.filter(
        (p) =>
            p.metadata.namespace === pod.namespace &&
            matches(p.spec.podSelector, pod.labels ?? {}) &&
            (p.spec.policyTypes ?? (direction === "Ingress" || p.spec.egress ? [direction] : [])).includes(direction),
    );
    if (selecting.length === 0) return { isolated: false, allowed: true, by: [] };
    const by = selecting
        .filter((p) =>
            (direction === "Ingress" ? (p.spec.ingress ?? []) : (p.spec.egress ?? [])).some(
                (rule) =>
                    portMatches(rule.ports, port, protocol) &&
                    (() => {
                        const peers = direction === "Ingress" ? rule.from : rule.to;
                        return (
                            !peers || peers.length === 0 || peers.some((peer) => peerSelects(cluster, p.metadata.namespace, peer, other))
                        );
                    })(),
            ),
        )
        .map((p) => p.metadata.name);
    return { isolated: true, allowed: by.length > 0, by };
}

export interface Verdict {
    readonly allowed: boolean;
    readonly egress: boolean;
    readonly ingress: boolean;
    /** The policies that admitted each side (empty where the side is not isolated). */
    readonly egressBy: readonly string[];
    readonly ingressBy: readonly string[];
}

/** A connection from `src` to `dst` at `port` (the destination's port after DNAT). */
export function reach(cluster: Cluster, src: Endpoint, dst: Endpoint, port: number, protocol = "TCP"): Verdict {
    const e = side(cluster, src, "Egress", dst, port, protocol);
    const i = side(cluster, dst, "Ingress", src, port, protocol);
    return { allowed: e.allowed && i.allowed, egress: e.allowed, ingress: i.allowed, egressBy: e.by, ingressBy: i.by };
}
