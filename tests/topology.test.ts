// components/topology.ts against what the upstream charts really render at their pinned versions
// (tests/fixtures/chart-facts.json, captured by tools/capture-chart-facts.ts): a chart bump that moves
// a pod label or a port fails here, not on a cluster.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as facts from "./fixtures/chart-facts.json";
import { CHART_SOURCES } from "../tools/capture-chart-facts";
import { PORTS, POD_LABELS, RELEASES, SERVICE_NAMES, servicePodLabels } from "../components/topology";

type Labels = Readonly<Record<string, string>>;
type Chart = keyof typeof facts.charts;
const pod = (chart: Chart, template: string) => {
    const p = facts.charts[chart].pods.find((x) => x.template === template);
    assert.ok(p, `${chart}: no pod from ${template}`);
    return p as { labels: Labels; ports: { containerPort: number }[] };
};
const service = (chart: Chart, name: string) => {
    const s = (
        facts.charts[chart].services as { name: string; selector: Labels; ports: { port: number; targetPort: number | string }[] }[]
    ).find((x) => x.name === name);
    assert.ok(s, `${chart}: no Service ${name}`);
    return s;
};
const selects = (selector: Labels, labels: Labels) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe("topology against the charts' rendered facts", () => {
    it("the fixture was captured at the versions we pin", () => {
        for (const [key, source] of Object.entries(CHART_SOURCES)) {
            const chart = facts.charts[key as Chart];
            assert.ok(chart, `chart-facts.json has no ${key}: re-capture (tools/capture-chart-facts.ts)`);
            assert.equal(chart.tag, source.tag, `${key}: captured at ${chart.tag}, pinned ${source.tag}: re-capture`);
            assert.equal(chart.release, source.release, key);
        }
    });

    it("selects Vault's server and injector pods by labels they carry, on the ports they serve", () => {
        const server = pod("vault", "templates/server-statefulset.yaml");
        assert.ok(selects(POD_LABELS.vaultServer, server.labels), JSON.stringify(server.labels));
        const ports = server.ports.map((p) => p.containerPort);
        assert.ok(ports.includes(PORTS.vaultApi) && ports.includes(PORTS.vaultCluster), String(ports));
        const injector = pod("vault", "templates/injector-deployment.yaml");
        assert.ok(selects(POD_LABELS.vaultInjector, injector.labels), JSON.stringify(injector.labels));
        // The API server calls the injector's Service, which targets the webhook's port.
        const svc = service("vault", `${RELEASES.vault}-agent-injector-svc`);
        assert.deepEqual(
            svc.ports.map((p) => p.targetPort),
            [PORTS.vaultInjectorWebhook],
        );
        assert.ok(!selects(POD_LABELS.vaultServer, injector.labels), "the server selector must not pick the injector");
    });

    it("selects the ingress gateway and istiod by their rendered labels; the gateway's Service targets the pod's own 80 and 443", () => {
        const gw = pod("istioGateway", "templates/deployment.yaml");
        assert.ok(selects(POD_LABELS.ingressGateway, gw.labels), JSON.stringify(gw.labels));
        const svc = service("istioGateway", RELEASES.ingressGateway);
        const target = (port: number) => svc.ports.find((p) => p.port === port)?.targetPort;
        assert.equal(target(PORTS.gatewayHttps.service), PORTS.gatewayHttps.container);
        assert.equal(target(PORTS.gatewayHttp.service), PORTS.gatewayHttp.container);
        const istiod = pod("istiod", "templates/deployment.yaml");
        assert.ok(selects(POD_LABELS.istiod, istiod.labels));
        assert.ok(istiod.ports.some((p) => p.containerPort === PORTS.istiodXds));
    });

    it("selects Argo CD's repo-server only", () => {
        const matching = facts.charts.argocd.pods.filter((p) => selects(POD_LABELS.argocdRepoServer, p.labels)).map((p) => p.template);
        assert.deepEqual(matching, ["templates/argocd-repo-server/deployment.yaml"]);
    });

    it("selects each service's pods by what charts/microservice renders, on its container port", () => {
        for (const name of SERVICE_NAMES) {
            const p = pod(name, "templates/deployment.yaml");
            assert.ok(selects(servicePodLabels(name), p.labels), `${name}: ${JSON.stringify(p.labels)}`);
            assert.ok(p.ports.some((x) => x.containerPort === PORTS.serviceContainer));
            assert.equal(service(name, name).ports[0].port, PORTS.servicePort);
            for (const other of SERVICE_NAMES.filter((o) => o !== name))
                assert.ok(!selects(servicePodLabels(other), p.labels), `${other}'s selector picks ${name}`);
        }
    });
});

describe("our own pods' labels are defined once", () => {
    // The program's own pod templates (Jobs, CronJobs, MongoDB) take their labels from POD_LABELS; a
    // label restated as a literal elsewhere can drift from the selector the flow table uses.
    const OWN = ["mongodb", "mongoBackup", "vaultInit", "vaultSnapshot", "vaultSync", "vaultTlsRenew", "vaultConfigure"] as const;
    const files = (dir: string): string[] =>
        fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
            const p = path.join(dir, e.name);
            return e.isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
        });
    const root = path.join(__dirname, "..", "components");
    it("no component restates a label of POD_LABELS as a literal", () => {
        const restated: string[] = [];
        for (const file of files(root).filter((f) => path.basename(f) !== "topology.ts")) {
            const text = fs.readFileSync(file, "utf8");
            for (const key of OWN)
                for (const [k, v] of Object.entries(POD_LABELS[key] as Labels)) {
                    const escaped = k.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
                    if (new RegExp(`(["']?)${escaped}\\1\\s*:\\s*["'\`]${v}["'\`]`).test(text))
                        restated.push(`${path.relative(root, file)}: ${k}: ${v} (POD_LABELS.${key})`);
                }
        }
        assert.deepEqual(restated, []);
    });
});
