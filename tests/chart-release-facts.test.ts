// Issue 19: the chart facts (tests/fixtures/chart-facts.json) describe the pods that will run only if
// they were rendered with what the program really passes. Two checks:
// - charts/microservice (ours) is re-rendered here, with the values each service's release carries in
//   a stack run, and its pods and Services must be the fixture's; changing the chart's selector labels
//   (templates/_helpers.tpl) or the values the component passes fails this test, not a cluster.
// - upstream charts were captured with default values: every value the program passes that renames
//   their objects or labels (nameOverride, fullnameOverride; the gateway's `labels`) must equal what the
//   capture used (tools/capture-chart-facts.ts CHART_SOURCES), so e.g. a nameOverride added in
//   components/platform/vault.ts fails here.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as facts from "./fixtures/chart-facts.json";
import { evaluateStack, type StackRun } from "./harness";
import { sharedHelm } from "./helm";
import { CHART_SOURCES, factsOf, renderChart, type ChartSource } from "../tools/capture-chart-facts";

type Labels = Record<string, string>;
const RELEASE = "kubernetes:helm.sh/v3:Release";
const fixture = facts.charts as unknown as Record<
    string,
    { pods: { template: string; labels: Labels; ports: unknown[] }[]; services: unknown[] }
>;

// Which fixture entry each upstream chart of the program was captured as (by chart name in the release).
const UPSTREAM: Readonly<Record<string, string>> = { vault: "vault", gateway: "istioGateway", istiod: "istiod", "argo-cd": "argocd" };
// Values that rename a chart's objects or set its pods' labels (each chart's templates/_helpers.tpl
// "<chart>.name"/"<chart>.fullname"; Istio's gateway chart adds values.labels to its pods).
const NAMING_KEYS = ["nameOverride", "fullnameOverride"] as const;

for (const stack of ["dev", "prod", "local"] as const) {
    describe(`chart facts against the releases the program registers (${stack})`, function () {
        this.timeout(120000);
        let run: StackRun;
        let tmp: string;
        let helm: string;
        before(async function () {
            run = await evaluateStack(stack);
            tmp = fs.mkdtempSync(path.join(os.tmpdir(), "chart-release-facts-"));
            helm = sharedHelm();
        });
        after(() => {
            if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
        });

        it("renders charts/microservice with each service's release values into the pods and Services the fixture records", () => {
            const releases = run.ofType(RELEASE).filter((r) => String(r.inputs.chart).endsWith("charts/microservice"));
            assert.ok(releases.length >= 2, `microservice releases: ${releases.length}`);
            for (const r of releases) {
                const service = String(r.inputs.name);
                const captured = fixture[service];
                assert.ok(captured, `chart-facts.json has no ${service}`);
                const source: ChartSource = {
                    ...CHART_SOURCES[service],
                    namespace: String(r.inputs.namespace),
                    values: JSON.parse(JSON.stringify(r.inputs.values)),
                };
                const fresh = factsOf(renderChart(helm, tmp, ".", source));
                // The fixture's pods (what the reachability test runs) carry every label the release's pods
                // carry for selection, on the same ports; the release may add labels of its own (the
                // Vault agent's opt-in), which select nothing of the flow table.
                assert.deepEqual(
                    fresh.pods.map((p) => p.template),
                    captured.pods.map((p) => p.template),
                    `${service}: pod templates`,
                );
                for (const [i, pod] of fresh.pods.entries()) {
                    const want = captured.pods[i];
                    for (const [k, v] of Object.entries(want.labels))
                        assert.equal(pod.labels[k], v, `${service}: the release's pods lack ${k}=${v} that chart-facts.json records`);
                    assert.deepEqual(pod.ports, want.ports, `${service}: container ports`);
                }
                assert.deepEqual(
                    fresh.services.map((x) => ({ name: x.name, selector: x.selector })),
                    (captured.services as { name: string; selector: Labels }[]).map((x) => ({ name: x.name, selector: x.selector })),
                    `${service}: Service selectors differ from chart-facts.json`,
                );
            }
        });

        it("passes upstream charts no naming or label value the facts were not captured with", () => {
            for (const r of run.ofType(RELEASE)) {
                const key = UPSTREAM[String(r.inputs.chart)];
                if (!key) continue;
                const values = (r.inputs.values ?? {}) as Record<string, unknown>;
                const captured = CHART_SOURCES[key].values as Record<string, unknown>;
                assert.equal(String(r.inputs.name), CHART_SOURCES[key].release, `${key}: release name`);
                for (const k of NAMING_KEYS) assert.deepEqual(values[k], captured[k], `${key}: ${k} differs from the capture's`);
                // Labels the program sets on the gateway's pods may add (the workload identity opt-in) but
                // must not change a label the captured pods carry (the `istio` label the flows select by).
                if (key === "istioGateway" && values.labels) {
                    const pod = fixture.istioGateway.pods.find((p) => p.template === "templates/deployment.yaml");
                    assert.ok(pod, "chart-facts.json istioGateway has no Deployment");
                    for (const [k, v] of Object.entries(values.labels as Labels))
                        if (k in pod.labels)
                            assert.equal(v, pod.labels[k], `istioGateway: values.labels ${k}=${v} overrides the captured ${k}`);
                }
            }
        });
    });
}
