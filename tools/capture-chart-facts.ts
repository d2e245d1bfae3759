// Re-captures tests/fixtures/chart-facts.json: the pod labels, container ports and Services of the
// upstream charts we install, rendered by `helm template` from each chart's source at the version we
// pin. The flow table selects those pods by labels we cannot import from the charts; this fixture is
// the independent record the tests check components/topology.ts (and the reachability test's pods)
// against. Run it when a pin in components/platform/charts.ts or workloads/argocd.ts moves:
//
//   npx ts-node --transpile-only tools/capture-chart-facts.ts \
//     vault-helm=<clone of hashicorp/vault-helm> istio=<clone of istio/istio> \
//     argo-helm=<clone of argoproj/argo-helm> csi-azure=<clone of Azure/secrets-store-csi-driver-provider-azure>
//
// Each clone needs the pinned tag (git fetch --tags); the chart is read with `git archive <tag>`, so the
// clone's checkout is never touched. helm is the binary tests/helm.ts extracts.
/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests of any kind, read field by field */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { extractHelm, HELM_KUBE_VERSION, helmEnv } from "../tests/helm";
import { CHARTS } from "../components/platform/charts";
import { ARGOCD_CHART } from "../components/workloads/argocd";
import { appNamespace, NAMESPACES, RELEASES, SERVICE_NAMES } from "../components/topology";

/** One chart to render: where its source is, at which tag, as which release, with which values. */
export interface ChartSource {
    /** Key of the clone on the command line (vault-helm=<dir>); "." for a chart of this repository. */
    readonly clone: string;
    /** GitHub repository of the chart's source. */
    readonly repository: string;
    readonly tag: string;
    /** The chart's directory in the repository. */
    readonly chartPath: string;
    readonly release: string;
    readonly namespace: string;
    /** Values that change which pods render (never their labels: those are what we record). */
    readonly values: Record<string, unknown>;
    /** Also record each container's env names (the chart's own entries, before any value of ours adds one). */
    readonly recordEnv?: boolean;
}

export const CHART_SOURCES: Readonly<Record<string, ChartSource>> = {
    vault: {
        clone: "vault-helm",
        repository: "hashicorp/vault-helm",
        tag: `v${CHARTS.vault.version}`,
        chartPath: ".",
        release: RELEASES.vault,
        namespace: NAMESPACES.vault,
        // The prod shape (ha raft, injector on); dev mode renders the same pod labels and ports.
        values: { server: { ha: { enabled: true, replicas: 3, raft: { enabled: true } } }, injector: { enabled: true } },
    },
    // Dev mode (dev and local stacks): the server container's own env, which the values' extra env must
    // not repeat (a duplicate name breaks upgrades' strategic merge, kubernetes/kubernetes#86163).
    vaultDev: {
        clone: "vault-helm",
        repository: "hashicorp/vault-helm",
        tag: `v${CHARTS.vault.version}`,
        chartPath: ".",
        release: RELEASES.vault,
        namespace: NAMESPACES.vault,
        values: { server: { dev: { enabled: true } }, injector: { enabled: true } },
        recordEnv: true,
    },
    istioGateway: {
        clone: "istio",
        repository: "istio/istio",
        tag: CHARTS.istioGateway.version,
        chartPath: "manifests/charts/gateway",
        release: RELEASES.ingressGateway,
        namespace: NAMESPACES.ingress,
        values: {},
    },
    istiod: {
        clone: "istio",
        repository: "istio/istio",
        tag: CHARTS.istiod.version,
        chartPath: "manifests/charts/istio-control/istio-discovery",
        release: "istiod",
        namespace: NAMESPACES.istio,
        values: {},
    },
    argocd: {
        clone: "argo-helm",
        repository: "argoproj/argo-helm",
        tag: `argo-cd-${ARGOCD_CHART.version}`,
        chartPath: "charts/argo-cd",
        release: "argocd",
        namespace: NAMESPACES.argocd,
        values: {},
    },
    // Our own chart, rendered as the Microservice component releases it (release = fullname = the
    // service), so the flow table's service selectors are checked against what the chart really renders.
    ...Object.fromEntries(
        SERVICE_NAMES.map((service) => [
            service,
            {
                clone: ".",
                repository: "(this repository)",
                tag: "(working tree)",
                chartPath: "charts/microservice",
                release: service,
                namespace: appNamespace("dev"),
                values: {
                    fullnameOverride: service,
                    image: { repository: `example/${service}`, tag: "capture" },
                    secretsStore: { enabled: false },
                },
            },
        ]),
    ),
    secretsStoreCsiAzure: {
        clone: "csi-azure",
        repository: "Azure/secrets-store-csi-driver-provider-azure",
        tag: `v${CHARTS.secretsStoreCsiAzure.version}`,
        chartPath: "charts/csi-secrets-store-provider-azure",
        release: "csi-secrets-store-provider-azure",
        namespace: NAMESPACES.kubeSystem,
        // The driver sub-chart comes from another repository; its pods run in kube-system, outside
        // every guarded namespace, so only the provider's own pods are recorded.
        values: { "secrets-store-csi-driver": { install: false } },
    },
};

export interface PodFact {
    readonly template: string;
    readonly kind: string;
    readonly name: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly ports: readonly { readonly name?: string; readonly containerPort: number; readonly protocol: string }[];
    readonly hostNetwork: boolean;
    /** Env names per container, in render order (only for sources with recordEnv). */
    readonly env?: Readonly<Record<string, readonly string[]>>;
}
export interface ServiceFact {
    readonly template: string;
    readonly name: string;
    readonly selector: Readonly<Record<string, string>>;
    readonly ports: readonly {
        readonly name?: string;
        readonly port: number;
        readonly targetPort: number | string;
        readonly protocol: string;
    }[];
}
export interface ChartFacts {
    readonly repository: string;
    readonly tag: string;
    readonly chartPath: string;
    readonly release: string;
    readonly namespace: string;
    readonly values: Record<string, unknown>;
    readonly pods: readonly PodFact[];
    readonly services: readonly ServiceFact[];
}

const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job"]);

/** Pods and Services of a `helm template` output. */
export function factsOf(rendered: string, recordEnv = false): { pods: PodFact[]; services: ServiceFact[] } {
    const pods: PodFact[] = [];
    const services: ServiceFact[] = [];
    // helm prefixes each document with "# Source: <chart>/<template path>".
    for (const chunk of rendered.split(/^---\s*$/m)) {
        const source = /^# Source: [^/]+\/(.+)$/m.exec(chunk)?.[1] ?? "";
        for (const doc of parseAllDocuments(chunk)) {
            const o = doc.toJSON() as any;
            if (!o || typeof o !== "object") continue;
            const template = o.kind === "CronJob" ? o.spec?.jobTemplate?.spec?.template : o.spec?.template;
            if ((WORKLOADS.has(o.kind) || o.kind === "CronJob") && template) {
                pods.push({
                    template: source,
                    kind: o.kind,
                    name: o.metadata.name,
                    labels: template.metadata?.labels ?? {},
                    ports: (template.spec?.containers ?? []).flatMap((c: any) =>
                        (c.ports ?? []).map((p: any) => ({
                            ...(p.name ? { name: p.name } : {}),
                            containerPort: p.containerPort,
                            protocol: p.protocol ?? "TCP",
                        })),
                    ),
                    hostNetwork: template.spec?.hostNetwork === true,
                    ...(recordEnv
                        ? {
                              env: Object.fromEntries(
                                  (template.spec?.containers ?? []).map((c: any) => [c.name, (c.env ?? []).map((e: any) => e.name)]),
                              ),
                          }
                        : {}),
                });
            }
            if (o.kind === "Service") {
                services.push({
                    template: source,
                    name: o.metadata.name,
                    selector: o.spec?.selector ?? {},
                    ports: (o.spec?.ports ?? []).map((p: any) => ({
                        ...(p.name ? { name: p.name } : {}),
                        port: p.port,
                        targetPort: p.targetPort ?? p.port,
                        protocol: p.protocol ?? "TCP",
                    })),
                });
            }
        }
    }
    const byName = (a: { template: string; name: string }, b: { template: string; name: string }) =>
        `${a.template} ${a.name}`.localeCompare(`${b.template} ${b.name}`);
    return { pods: pods.sort(byName), services: services.sort(byName) };
}

/** Renders one chart from its clone at its tag. */
export function renderChart(helm: string, tmp: string, clone: string, source: ChartSource): string {
    const dir = fs.mkdtempSync(path.join(tmp, "chart-"));
    if (source.clone === ".") {
        fs.cpSync(path.join(__dirname, "..", source.chartPath), path.join(dir, source.chartPath), { recursive: true });
    } else {
        const archive = execFileSync("git", ["-C", clone, "archive", "--format=tar", source.tag, source.chartPath], { maxBuffer: 1 << 28 });
        execFileSync("tar", ["-x", "-C", dir], { input: archive });
    }
    const chartDir = path.join(dir, source.chartPath);
    // Sub-charts from other repositories are switched off by `values` (their condition); helm would
    // still refuse a chart whose declared dependencies are missing, so the declaration goes.
    const chartYaml = path.join(chartDir, "Chart.yaml");
    const text = fs.readFileSync(chartYaml, "utf8");
    if (!fs.existsSync(path.join(chartDir, "charts")) && /^dependencies:/m.test(text)) {
        fs.writeFileSync(chartYaml, text.replace(/^dependencies:\n(?:[ -].*\n?)*/m, ""));
    }
    const values = path.join(dir, "values.json");
    fs.writeFileSync(values, JSON.stringify(source.values));
    return execFileSync(
        helm,
        ["template", source.release, chartDir, "--namespace", source.namespace, "--kube-version", HELM_KUBE_VERSION, "-f", values],
        { env: helmEnv(tmp), encoding: "utf8", maxBuffer: 1 << 28 },
    );
}

export const FIXTURE = path.join(__dirname, "..", "tests", "fixtures", "chart-facts.json");

function main(args: string[]): void {
    // --only=key,key re-captures those charts and keeps the fixture's other entries.
    const only = args
        .find((a) => a.startsWith("--only="))
        ?.slice("--only=".length)
        .split(",");
    const argv = args.filter((a) => !a.startsWith("--only="));
    const sources = Object.entries(CHART_SOURCES).filter(([key]) => !only || only.includes(key));
    const clones: Record<string, string> = { ".": ".", ...Object.fromEntries(argv.map((a) => a.split("=", 2) as [string, string])) };
    const missing = [...new Set(sources.map(([, s]) => s.clone))].filter((c) => !clones[c]);
    if (missing.length > 0) {
        console.error(
            `usage: capture-chart-facts ${Object.values(CHART_SOURCES)
                .map((s) => `${s.clone}=<clone>`)
                .join(" ")}`,
        );
        console.error(`missing: ${missing.join(", ")}`);
        process.exit(2);
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "chart-facts-"));
    const helm = extractHelm(tmp);
    const previous: Record<string, ChartFacts> = only ? JSON.parse(fs.readFileSync(FIXTURE, "utf8")).charts : {};
    const charts: Record<string, ChartFacts> = {};
    for (const [key, source] of Object.entries(CHART_SOURCES)) {
        if (only && !only.includes(key)) {
            if (previous[key]) charts[key] = previous[key];
            continue;
        }
        const { clone, recordEnv, ...rest } = source;
        charts[key] = { ...rest, ...factsOf(renderChart(helm, tmp, clones[clone], source), recordEnv) };
        console.log(`${key}: ${source.repository}@${source.tag} ${source.chartPath}: ${charts[key].pods.length} pod templates`);
    }
    const fixture = {
        description:
            "Pod labels, container ports and Services of the upstream charts, rendered by `helm template` at the pinned versions. Re-capture: tools/capture-chart-facts.ts.",
        helmKubeVersion: HELM_KUBE_VERSION,
        charts,
    };
    fs.writeFileSync(FIXTURE, `${JSON.stringify(fixture, null, 4)}\n`);
    fs.rmSync(tmp, { recursive: true, force: true });
}

if (require.main === module) main(process.argv.slice(2));
