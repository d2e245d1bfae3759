// Issue 19: the NetworkPolicies the program registers, evaluated against the pods that will run, with
// real NetworkPolicy semantics (tests/reachability.ts) on both enforcers: kind's kube-network-policies
// (after DNAT, the API on the control-plane node's 6443) and AKS's Cilium (ipBlock never matches a pod
// or a node). Pods come from the program's own objects (their pod templates) and, for charts we do not
// own, from tests/fixtures/chart-facts.json (rendered at the pinned versions by
// tools/capture-chart-facts.ts). What must and must not flow is written here, from the architecture
// (docs/platform.md), not from the flow table; wrong selectors are shown to fail it.
import { strict as assert } from "assert";
import * as facts from "./fixtures/chart-facts.json";
import { ARGOCD, evaluateStack, type StackRun } from "./harness";
import { reach, type Cluster, type Endpoint, type Enforcer, type NetworkPolicy } from "./reachability";

type Labels = Record<string, string>;
const chartPod = (chart: keyof typeof facts.charts, template: string): Labels => {
    const pod = (facts.charts[chart].pods as { template: string; labels: Labels }[]).find((p) => p.template === template);
    if (!pod) throw new Error(`chart-facts.json: ${chart} has no pod from ${template}`);
    return pod.labels;
};

/** A stack's cluster: the registered policies, and every pod that will run, with addresses. */
interface World {
    readonly cluster: Cluster;
    readonly ep: Readonly<Record<string, Endpoint>>;
    /** The API server as the enforcer sees it after DNAT, and its port. */
    readonly api: { readonly endpoint: Endpoint; readonly port: number };
    /** Where the API server's webhook calls come from. */
    readonly apiPath: Endpoint;
    /** The API server's address is private (kind's node, AKS with VNet integration): a CIDR can tell it from the internet. */
    readonly apiPrivate: boolean;
    /** An Application Gateway instance, where the stack puts the ingress WAF in front of the gateway. */
    readonly waf?: Endpoint;
}

const podTemplateLabels = (r: StackRun["resources"][number]): Labels | undefined =>
    r.type === "kubernetes:batch/v1:CronJob"
        ? r.inputs.spec?.jobTemplate?.spec?.template?.metadata?.labels
        : r.inputs.spec?.template?.metadata?.labels;

function world(
    run: StackRun,
    enforcer: Enforcer,
    apiServerSubnetIp?: string,
    overridePolicies?: (p: NetworkPolicy[]) => NetworkPolicy[],
): World {
    const policies = run.ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy").map((p) => JSON.parse(JSON.stringify(p.inputs)));
    const namespaces: Record<string, Labels> = {};
    for (const ns of run.ofType("kubernetes:core/v1:Namespace")) namespaces[ns.inputs.metadata.name] = ns.inputs.metadata.labels ?? {};
    const appNs = run.outputs.appNamespace.value as string;
    const gatewayNs = run.outputs.ingressGatewayNamespace.value as string;
    let next = 10;
    const pod = (id: string, namespace: string, labels: Labels): Endpoint => ({
        id,
        ip: `10.244.1.${next++}`,
        kind: "pod",
        namespace,
        labels,
    });
    const ep: Record<string, Endpoint> = {
        // Charts we do not own: their rendered pod labels.
        vaultServer: pod("vault-0", "vault", chartPod("vault", "templates/server-statefulset.yaml")),
        vaultServer1: pod("vault-1", "vault", chartPod("vault", "templates/server-statefulset.yaml")),
        injector: pod("vault-agent-injector", "vault", chartPod("vault", "templates/injector-deployment.yaml")),
        gateway: pod("istio-ingressgateway", gatewayNs, chartPod("istioGateway", "templates/deployment.yaml")),
        istiod: pod("istiod", "istio-system", chartPod("istiod", "templates/deployment.yaml")),
        product: pod("product-service", appNs, chartPod("product-service", "templates/deployment.yaml")),
        order: pod("order-service", appNs, chartPod("order-service", "templates/deployment.yaml")),
        // The cluster's CoreDNS: kubeadm's and AKS's coredns pods carry k8s-app: kube-dns
        // (kubernetes/kubernetes cmd/kubeadm/app/phases/addons/dns/manifests.go).
        kubeDns: pod("coredns", "kube-system", { "k8s-app": "kube-dns" }),
        // Outside the cluster.
        client: { id: "a client on the internet", ip: "203.0.113.7", kind: "external" },
        keyVault: { id: "Key Vault (public address)", ip: "20.38.1.1", kind: "external" },
        storage: { id: "Azure Storage", ip: "20.60.1.1", kind: "external" },
        appInsights: { id: "Application Insights", ip: "20.42.1.1", kind: "external" },
        github: { id: "GitHub", ip: "140.82.112.3", kind: "external" },
    };
    if (run.ofType("kubernetes:helm.sh/v3:Release").some((r) => r.inputs.chart === "argo-cd")) {
        ep.argocdServer = pod("argocd-server", "argocd", chartPod("argocd", "templates/argocd-server/deployment.yaml"));
        ep.argocdRepo = pod("argocd-repo-server", "argocd", chartPod("argocd", "templates/argocd-repo-server/deployment.yaml"));
        ep.argocdController = pod(
            "argocd-application-controller",
            "argocd",
            chartPod("argocd", "templates/argocd-application-controller/statefulset.yaml"),
        );
    }
    // The program's own pods: whatever pod templates it registers.
    const own: Record<string, string> = {
        "kubernetes:apps/v1:StatefulSet": "",
        "kubernetes:apps/v1:Deployment": "",
        "kubernetes:batch/v1:Job": "",
        "kubernetes:batch/v1:CronJob": "",
    };
    for (const r of run.resources.filter((x) => x.type in own)) {
        const labels = podTemplateLabels(r);
        if (labels) ep[`own:${r.name}`] = pod(r.name, r.inputs.metadata.namespace, labels);
    }
    let api: World["api"];
    let apiPath: Endpoint;
    let apiPrivate = true;
    if (enforcer === "kube-network-policies") {
        // kind: the `kubernetes` Service is DNATed to the control-plane node's 6443; webhook calls come
        // from the API server on that node's address. On a real kind cluster those calls never meet a
        // policy at all: kube-network-policies accepts every packet from a root-owned socket before its
        // queue (kubernetes-sigs/kube-network-policies pkg/dataplane/controller.go, `meta skuid 0
        // accept`, kube-network-policies#65), and the API server runs as root in its static pod. The
        // model checks the stricter case (the policy must admit the node), so a policy that relied on
        // the bypass would still fail here.
        const node: Endpoint = { id: "control-plane node", ip: "172.18.0.2", kind: "node" };
        // The e2e's client: the runner, on the Docker network's gateway, through the NodePort.
        ep.runner = { id: "the runner through the gateway's NodePort", ip: "172.18.0.1", kind: "external" };
        ep.node = node;
        ep.worker = { id: "worker node", ip: "172.18.0.3", kind: "node" };
        api = { endpoint: node, port: 6443 };
        apiPath = node;
    } else {
        // AKS: the API server outside the node network on 443. Webhook calls arrive through the
        // konnectivity agents in kube-system, with API server VNet integration too: these clusters run
        // Azure CNI Overlay, whose pod addresses the API server's delegated subnet cannot reach, and
        // AKS keeps konnectivity-agent there (Azure/AKS#4119). The agents' pods carry
        // app: konnectivity-agent (AKS's kube-system Deployment; tigera/operator#5212 selects them so).
        // With VNet integration the API server (for the pods' calls to it) has an address in its
        // delegated subnet; otherwise a public one. A Key Vault private endpoint sits in the VNet.
        api = {
            endpoint: { id: "AKS API server", ip: apiServerSubnetIp ?? "20.62.10.10", kind: "external" },
            port: 443,
        };
        apiPrivate = apiServerSubnetIp !== undefined;
        apiPath = pod("konnectivity-agent", "kube-system", { app: "konnectivity-agent" });
        ep.node = { id: "node", ip: "10.240.0.4", kind: "node" };
        // Another address of the node subnet (a VM or a node of the user pool).
        ep.nodeSubnetPeer = { id: "another node-subnet address", ip: "10.240.0.77", kind: "node" };
        ep.keyVaultPe = { id: "Key Vault private endpoint", ip: "10.240.8.5", kind: "external" };
    }
    // The ingress WAF: an Application Gateway instance takes an address of its own subnet (Azure keeps
    // the first four), outside every node and pod range, and connects to the gateway through the
    // internal load balancer with that address (externalTrafficPolicy Local).
    const [vnet] = run.ofType("azure-native:network:VirtualNetwork");
    const wafSubnet = vnet?.inputs.subnets.find((s: { name: string }) => s.name === "snet-appgateway")?.addressPrefix as string | undefined;
    const waf: Endpoint | undefined =
        wafSubnet && run.ofType("azure-native:network:ApplicationGateway").length === 1
            ? { id: "an Application Gateway instance", ip: wafSubnet.replace(/\.0\/\d+$/, ".6"), kind: "external" }
            : undefined;
    const cluster: Cluster = { enforcer, namespaces, policies: overridePolicies ? overridePolicies(policies) : policies };
    return { cluster, ep, api, apiPath, apiPrivate, waf };
}

/** Our own pods by their resource name in the program. */
const own = (w: World, name: string): Endpoint | undefined => w.ep[`own:${name}`];

type Check = readonly [string, Endpoint | undefined, Endpoint | undefined, number, string?];

/** What the system needs, end to end. */
function required(w: World, stack: string): Check[] {
    const e = w.ep;
    const mongo = own(w, "mongodb");
    const checks: Check[] = [];
    for (const src of [e.product, e.order, e.vaultServer, e.injector, e.gateway, mongo]) checks.push(["DNS", src, e.kubeDns, 53, "UDP"]);
    checks.push(
        ["sidecar to istiod", e.product, e.istiod, 15012],
        ["gateway to istiod", e.gateway, e.istiod, 15012],
        // Behind the WAF, only its instances reach the gateway (HTTPS, and its probe on 443); else any client.
        ...(w.waf
            ? [["the WAF to the gateway (HTTPS, and its health probe)", w.waf, e.gateway, 443] as const]
            : ([
                  ["client to the gateway (HTTPS)", e.client, e.gateway, 443],
                  ["client to the gateway (HTTP redirect)", e.client, e.gateway, 80],
              ] as const)),
        ...(e.runner ? [["the e2e runner to the gateway (HTTPS)", e.runner, e.gateway, 443] as const] : []),
        ["gateway to product-service", e.gateway, e.product, 8080],
        ["gateway to order-service", e.gateway, e.order, 8080],
        ["order-service checks products at product-service", e.order, e.product, 8080],
        ["product-service to MongoDB", e.product, mongo, 27017],
        ["order-service to MongoDB", e.order, mongo, 27017],
        ["Vault's database engine to MongoDB", e.vaultServer, mongo, 27017],
        ["the Vault agent (product-service) to Vault", e.product, e.vaultServer, 8200],
        ["the Vault agent (order-service) to Vault", e.order, e.vaultServer, 8200],
        ["the configuration workload to Vault", own(w, "vault-database") ?? own(w, "vault-database-configure"), e.vaultServer, 8200],
        ["Vault to the API (TokenReview)", e.vaultServer, w.api.endpoint, w.api.port],
        ["the injector to the API", e.injector, w.api.endpoint, w.api.port],
        ["the API server to the injector's webhook", w.apiPath, e.injector, 8080],
    );
    if (stack !== "local") {
        checks.push(
            ["product-service's telemetry", e.product, e.appInsights, 443],
            ["order-service's telemetry", e.order, e.appInsights, 443],
            ["the backup to MongoDB", own(w, "mongodb-backup"), mongo, 27017],
            ["the backup to Azure Storage", own(w, "mongodb-backup"), e.storage, 443],
        );
    }
    if (stack === "prod") {
        checks.push(
            ["raft between voters", e.vaultServer, e.vaultServer1, 8201],
            ["the seal to Key Vault", e.vaultServer, e.keyVault, 443],
            ["the seal to Key Vault's private endpoint", e.vaultServer, e.keyVaultPe, 443],
            ["the init Job to Vault", own(w, "vault-init"), e.vaultServer, 8200],
            ["the init Job to Key Vault's private endpoint", own(w, "vault-init"), e.keyVaultPe, 443],
            ["the snapshot CronJob to Vault", own(w, "vault-snapshot"), e.vaultServer, 8200],
            ["the snapshot CronJob to Azure Storage", own(w, "vault-snapshot"), e.storage, 443],
        );
    }
    if (e.argocdServer) {
        checks.push(
            ["Argo CD's controller to the API", e.argocdController, w.api.endpoint, w.api.port],
            ["Argo CD's server to its repo-server", e.argocdServer, e.argocdRepo, 8081],
            ["Argo CD's repo-server to Git", e.argocdRepo, e.github, 443],
        );
    }
    return checks;
}

/** What must not exist. */
function forbidden(w: World): Check[] {
    const e = w.ep;
    const mongo = own(w, "mongodb");
    const checks: Check[] = [
        ["an app pod to Vault's raft port", e.product, e.vaultServer, 8201],
        ["product-service to order-service (no such call)", e.product, e.order, 8080],
        ["an app pod to the injector's webhook", e.product, e.injector, 8080],
        ["the internet to the injector's webhook", e.client, e.injector, 8080],
        ["the internet to a service, past the gateway", e.client, e.product, 8080],
        ["the gateway to MongoDB", e.gateway, mongo, 27017],
        ["the injector to MongoDB", e.injector, mongo, 27017],
        ["istiod to MongoDB", e.istiod, mongo, 27017],
        ["MongoDB to the internet", mongo, e.appInsights, 443],
        ["MongoDB to Key Vault", mongo, e.keyVault, 443],
        // "Internet on 443" must not mean every pod on 443 (an IP-matching enforcer sees pod addresses).
        ["an app pod to the gateway pod's 443 by address", e.product, e.gateway, 443],
        ["Vault to the gateway pod's 443 by address", e.vaultServer, e.gateway, 443],
        ["an app pod to a node", e.product, e.node, 443],
        ["an app pod to a node's kubelet", e.product, e.node, 10250],
        // Only the API server's path reaches the webhook, not every pod of kube-system.
        ["CoreDNS (kube-system, not the API server's path) to the injector's webhook", e.kubeDns, e.injector, 8080],
    ];
    if (e.argocdServer) checks.push(["Argo CD to MongoDB", e.argocdServer, mongo, 27017]);
    // The WAF is the only public entry: the internet reaches no pod, the gateway included, and the WAF
    // reaches nothing but the gateway's HTTPS port.
    if (w.waf) {
        checks.push(
            ["the internet to the gateway, around the WAF (HTTPS)", e.client, e.gateway, 443],
            ["the internet to the gateway, around the WAF (HTTP)", e.client, e.gateway, 80],
            ["the WAF to the gateway's plain HTTP port", w.waf, e.gateway, 80],
            ["the WAF to Envoy's status port", w.waf, e.gateway, 15021],
            ["the WAF to a service, past the gateway", w.waf, e.product, 8080],
        );
    }
    // Every AKS stack: the app pods reach no private endpoint (Key Vault's) and no node of the node subnet.
    if (e.keyVaultPe)
        checks.push(
            ["an app pod to Key Vault's private endpoint", e.product, e.keyVaultPe, 443],
            ["order-service to Key Vault's private endpoint", e.order, e.keyVaultPe, 443],
            ["an app pod to another node of the node subnet", e.product, e.nodeSubnetPeer, 443],
        );
    // Where the API server's address is private, the app pods' "internet" excludes it and the pods
    // that talk to the API get nothing else. (A public API server address is, to a CIDR, the internet:
    // the services' telemetry egress then reaches it too, and needs a token to do anything there.)
    if (w.apiPrivate) {
        checks.push(
            ["an app pod to the API server", e.product, w.api.endpoint, w.api.port],
            ["the injector to the internet", e.injector, e.keyVault, 443],
        );
    }
    return checks;
}

function failures(w: World, checks: readonly Check[], want: boolean): string[] {
    return checks.flatMap(([what, src, dst, port, protocol]) => {
        if (!src || !dst) return [`${what}: no such pod in the stack`];
        const v = reach(w.cluster, src, dst, port, protocol ?? "TCP");
        if (v.allowed === want) return [];
        const detail = want
            ? `${v.egress ? "" : " egress denied"}${v.ingress ? "" : " ingress denied"}`
            : ` allowed by ${[...v.egressBy, ...v.ingressBy].join(", ")}`;
        return [`${what} (${src.id} -> ${dst.id}:${port}/${protocol ?? "TCP"}):${detail}`];
    });
}

/** Replaces a label value wherever a policy selects by it (podSelector or a peer's podSelector). */
function withLabel(key: string, from: string, to: string) {
    return (policies: NetworkPolicy[]): NetworkPolicy[] =>
        policies.map((p) => {
            const text = JSON.stringify(p);
            return JSON.parse(text.replaceAll(`"${key}":"${from}"`, `"${key}":"${to}"`)) as NetworkPolicy;
        });
}

const STACKS = [
    ["local", "kube-network-policies", {}, undefined],
    ["dev", "cilium", ARGOCD, undefined],
    // Prod's default, API server VNet integration: the API server at an address of apiServer.subnetCidr (default 10.240.9.0/28).
    ["prod", "cilium", {}, "10.240.9.4"],
    // Without it (NAT gateway egress), a public API server address; webhook calls through konnectivity.
    [
        "prod",
        "cilium",
        { "apiServer.vnetIntegration": false, "network.egressType": "natGateway", "network.perZoneNodePools": true },
        undefined,
    ],
] as const;

for (const [stack, enforcer, overrides, apiServerSubnetIp] of STACKS) {
    describe(`reachability (${stack} on ${enforcer}${apiServerSubnetIp ? ", API server VNet integration" : ""})`, () => {
        let run: StackRun;
        before(async () => {
            run = await evaluateStack(stack, overrides);
        });

        it("allows every flow the system needs, end to end (egress at the source, ingress at the destination)", () => {
            const w = world(run, enforcer, apiServerSubnetIp);
            assert.deepEqual(failures(w, required(w, stack), true), []);
        });

        it("denies the flows that must not exist", () => {
            const w = world(run, enforcer, apiServerSubnetIp);
            assert.deepEqual(failures(w, forbidden(w), false), []);
        });

        for (const [what, key, from, to] of [
            ["a wrong Vault server selector", "component", "server", "vault-server"],
            ["a wrong gateway selector", "istio", "ingressgateway", "gateway"],
            ["a wrong service selector", "app.kubernetes.io/name", "product-service", "products"],
        ] as const) {
            it(`fails on ${what}`, () => {
                const w = world(run, enforcer, apiServerSubnetIp, withLabel(key, from, to));
                const broken = failures(w, required(w, stack), true);
                assert.ok(broken.length > 0, `${what}: every required flow still passes`);
            });
        }
    });
}

describe("reachability: the evaluator's own semantics", () => {
    const pod = (id: string, ns: string, labels: Labels, ip: string): Endpoint => ({ id, ip, kind: "pod", namespace: ns, labels });
    const a = pod("a", "x", { app: "a" }, "10.244.0.1");
    const b = pod("b", "y", { app: "b" }, "10.244.0.2");
    const deny = (ns: string): NetworkPolicy => ({
        metadata: { name: "deny", namespace: ns },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    });
    const egressAll: NetworkPolicy = {
        metadata: { name: "out", namespace: "x" },
        spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } }] }] },
    };
    it("needs both sides: an unisolated pod admits anything, a default deny nothing", () => {
        assert.equal(reach({ enforcer: "cilium", namespaces: {}, policies: [] }, a, b, 80).allowed, true);
        assert.equal(reach({ enforcer: "cilium", namespaces: {}, policies: [deny("y")] }, a, b, 80).allowed, false);
    });
    it("ipBlock: except removes addresses; cilium never matches a pod by address, kube-network-policies does", () => {
        const open: NetworkPolicy = {
            metadata: { name: "out", namespace: "x" },
            spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }] },
        };
        assert.equal(reach({ enforcer: "kube-network-policies", namespaces: {}, policies: [deny("x"), open] }, a, b, 80).allowed, true);
        assert.equal(reach({ enforcer: "cilium", namespaces: {}, policies: [deny("x"), open] }, a, b, 80).allowed, false);
        assert.equal(
            reach({ enforcer: "kube-network-policies", namespaces: {}, policies: [deny("x"), egressAll] }, a, b, 80).allowed,
            false,
        );
    });
});
