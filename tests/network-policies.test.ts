// Issue 13 item 4: default deny (ingress and egress) in the application, Vault, ingress-gateway and
// Argo CD namespaces; every flow the platform needs has its allow, and no policy opens anything else.
import { strict as assert } from "assert";
import {
    clusterNetwork,
    flowPorts,
    flowRules,
    peerSelectors,
    GUARDED_NAMESPACES,
    NETWORK_FLOWS,
    type Flow,
    type GuardedNamespace,
    type Peer,
} from "../components/workloads/networkPolicies";
import { ARGOCD, evaluateStack, type StackRun } from "./harness";

const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
/** Labels as text, keys sorted. */
const labelsText = (labels: Readonly<Record<string, string>> = {}) => JSON.stringify(Object.fromEntries(Object.entries(labels).sort()));

/** What the platform needs, stated here independently of NETWORK_FLOWS: [from, to, port, protocol]. */
const REQUIRED: readonly [string, string, number, string][] = [
    ["app", "kube-system/kube-dns", 53, "UDP"],
    ["vault", "kube-system/kube-dns", 53, "UDP"],
    ["ingress", "kube-system/kube-dns", 53, "UDP"],
    ["argocd", "kube-system/kube-dns", 53, "TCP"],
    ["app", "istio-system/istiod", 15012, "TCP"],
    ["ingress/gateway", "istio-system/istiod", 15012, "TCP"],
    ["internet", "ingress/gateway", 443, "TCP"],
    ["ingress/gateway", "app/product-service", 8080, "TCP"],
    ["ingress/gateway", "app/order-service", 8080, "TCP"],
    // Issue 21: order-service asks product-service for each ordered product.
    ["app/order-service", "app/product-service", 8080, "TCP"],
    ["app", "app/mongodb", 27017, "TCP"],
    ["vault/vault", "app/mongodb", 27017, "TCP"],
    ["app", "vault/vault", 8200, "TCP"],
    ["vault/vault", "vault/vault", 8201, "TCP"],
    ["vault/vault", "internet", 443, "TCP"],
    ["vault/vault", "apiserver", 443, "TCP"],
    ["apiserver", "vault/vault-agent-injector", 8080, "TCP"],
    ["argocd", "apiserver", 443, "TCP"],
];

const short = (peer: Peer): string => {
    if ("external" in peer) return peer.external;
    const name =
        peer.pods?.["app.kubernetes.io/name"] ?? peer.pods?.["k8s-app"] ?? peer.pods?.app ?? (peer.pods?.istio ? "gateway" : undefined);
    return name ? `${peer.namespace}/${name}` : peer.namespace;
};

describe("network flows table", () => {
    it("lists every flow the platform needs, each with its reason", () => {
        for (const [from, to, port, protocol] of REQUIRED) {
            const found = NETWORK_FLOWS.find(
                (f) =>
                    short(f.from) === from &&
                    short(f.to) === to &&
                    flowPorts(f, { apiServerPorts: [443] }).some((p) => p.port === port && p.protocol === protocol),
            );
            assert.ok(found, `no flow ${from} -> ${to} ${port}/${protocol}`);
        }
        for (const f of NETWORK_FLOWS) assert.ok(f.why.length > 10, `${short(f.from)} -> ${short(f.to)} has no reason`);
    });

    it("has exactly one flow between the services: order-service to product-service's container port", () => {
        const services = ["app/product-service", "app/order-service"];
        const between = NETWORK_FLOWS.filter((f) => "namespace" in f.from && f.from.namespace === "app" && services.includes(short(f.to)));
        assert.deepEqual(
            between.map(
                (f) =>
                    `${short(f.from)} -> ${short(f.to)} ${flowPorts(f, { apiServerPorts: [] })
                        .map((p) => `${p.port}/${p.protocol}`)
                        .join(",")}`,
            ),
            ["app/order-service -> app/product-service 8080/TCP"],
        );
    });

    it("drops the flows of an absent namespace (Argo CD off) and keeps both sides of an internal one", () => {
        const rules = flowRules(["app", "vault", "ingress"]);
        assert.ok(!rules.some((r) => r.namespace === "argocd"));
        const gatewayToProducts = rules.filter(
            (r) => short(r.flow.from) === "ingress/gateway" && short(r.flow.to) === "app/product-service",
        );
        assert.deepEqual(gatewayToProducts.map((r) => `${r.direction} ${r.namespace}`).sort(), ["egress ingress", "ingress app"]);
    });
});

/** Each (namespace, direction, selected pods, peer, port) a policy of the stack allows. */
function allowedByPolicies(run: StackRun, guardedNames: ReadonlySet<string>): Set<string> {
    const allowed = new Set<string>();
    for (const p of run.ofType(NETPOL)) {
        const ns = p.inputs.metadata.namespace as string;
        if (!guardedNames.has(ns)) continue;
        const pods = labelsText(p.inputs.spec.podSelector.matchLabels);
        for (const [direction, rules, key] of [
            ["egress", p.inputs.spec.egress ?? [], "to"],
            ["ingress", p.inputs.spec.ingress ?? [], "from"],
        ] as const) {
            for (const rule of rules) {
                assert.ok(
                    rule[key]?.length > 0 && rule.ports?.length > 0,
                    `${ns}/${p.inputs.metadata.name}: a rule without peers or ports allows everything`,
                );
                for (const peer of rule[key]) {
                    const text = peer.ipBlock
                        ? `cidr:${peer.ipBlock.cidr}${peer.ipBlock.except ? "-except" : ""}`
                        : `ns:${peer.namespaceSelector.matchLabels["kubernetes.io/metadata.name"]} pods:${labelsText(peer.podSelector?.matchLabels)}`;
                    for (const port of rule.ports) allowed.add(`${ns} ${direction} ${pods} ${text} ${port.port}/${port.protocol}`);
                }
            }
        }
    }
    return allowed;
}

/** The same, from the flows: what each flow means as a NetworkPolicy rule. */
function allowedByFlows(
    present: readonly GuardedNamespace[],
    nameOf: (role: string) => string,
    network: ReturnType<typeof clusterNetwork>,
): Set<string> {
    const allowed = new Set<string>();
    for (const rule of flowRules(present, NETWORK_FLOWS, network)) {
        const peerTexts = (peer: Peer): string[] => {
            if (!("external" in peer)) return [`ns:${nameOf(peer.namespace)} pods:${labelsText(peer.pods)}`];
            return peerSelectors(peer, {}, rule.direction, network).map((p) =>
                "ipBlock" in p
                    ? `cidr:${p.ipBlock.cidr}${p.ipBlock.except ? "-except" : ""}`
                    : `ns:${String(p.namespaceSelector.matchLabels["kubernetes.io/metadata.name"])} pods:${labelsText(p.podSelector?.matchLabels)}`,
            );
        };
        for (const text of peerTexts(rule.peer))
            for (const port of flowPorts(rule.flow, network))
                allowed.add(`${nameOf(rule.namespace)} ${rule.direction} ${labelsText(rule.pods)} ${text} ${port.port}/${port.protocol}`);
    }
    return allowed;
}

for (const [stack, argocd] of [
    ["dev", true],
    ["prod", false],
    ["local", false],
] as const) {
    describe(`network policies (${stack}${argocd ? ", Argo CD" : ""})`, () => {
        let run: StackRun;
        const names: Record<string, string> = { app: `microservices-${stack}`, vault: "vault", ingress: "istio-ingress", argocd: "argocd" };
        const nameOf = (role: string) => names[role] ?? role;
        const present = GUARDED_NAMESPACES.filter((role) => argocd || role !== "argocd");
        before(async () => {
            run = await evaluateStack(stack, argocd ? ARGOCD : {});
        });

        it("denies all ingress and egress by default in each guarded namespace", () => {
            const denies = run.ofType(NETPOL).filter((p) => p.inputs.metadata.name === "default-deny");
            assert.deepEqual(denies.map((p) => p.inputs.metadata.namespace).sort(), present.map(nameOf).sort());
            for (const d of denies) {
                assert.deepEqual(d.inputs.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
            }
        });

        it("allows each flow, and nothing a flow does not name", () => {
            const guardedNames = new Set(present.map(nameOf));
            const actual = allowedByPolicies(run, guardedNames);
            // The API server's delegated subnet, where the stack has one (prod: VNet integration by default).
            const [vnet] = run.ofType("azure-native:network:VirtualNetwork");
            const apiServerSubnet = vnet?.inputs.subnets.find((s: { name: string }) => s.name === "snet-apiserver")?.addressPrefix;
            // The ingress WAF's subnet (prod's default), where an Application Gateway runs: the gateway's only
            // clients. (The subnet exists without the WAF too, empty.)
            const waf = run.ofType("azure-native:network:ApplicationGateway").length > 0;
            const appGatewaySubnet = waf
                ? vnet?.inputs.subnets.find((s: { name: string }) => s.name === "snet-appgateway")?.addressPrefix
                : undefined;
            const network = clusterNetwork(
                stack === "local"
                    ? { target: "existing", podCidr: "10.244.0.0/16", serviceCidr: "10.96.0.0/16", apiServerPort: 6443 }
                    : {
                          target: "aks",
                          podCidr: "10.244.0.0/16",
                          serviceCidr: "10.0.0.0/16",
                          vnetAddressSpace: "10.240.0.0/16",
                          privateEndpointSubnet: "10.240.8.0/24",
                          apiServerSubnet,
                          appGatewaySubnet,
                      },
            );
            const expected = allowedByFlows(present, nameOf, network);
            assert.deepEqual([...actual].filter((a) => !expected.has(a)).sort(), [], "opened without a flow");
            assert.deepEqual([...expected].filter((e) => !actual.has(e)).sort(), [], "a flow without its allow");
        });

        it("explains each allow with its flow's reason", () => {
            const allows = run.ofType(NETPOL).filter((p) => p.inputs.metadata.name.startsWith("allow-"));
            const reasons = new Set(NETWORK_FLOWS.map((f: Flow) => f.why));
            for (const a of allows) assert.ok(reasons.has(a.inputs.metadata.annotations["aks-platform/why"]), a.inputs.metadata.name);
        });
    });
}
