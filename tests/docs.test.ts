// The docs' counts and lists against the program: where README.md or docs/ states what a stack
// registers or exports (outputs, components, namespaces, workload identities, what prod protects and
// keeps), the committed stacks are evaluated under the mocks and compared with the text, so a change
// that makes a doc stale fails here, naming the doc. The expectation is the doc; the program's
// registrations are the fact.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { rolloutNotice } from "../components/platform/vault";
import { anchorsOf, codeNames, docSection, docText, relativeLinks, tableRows } from "./docText";
import { evaluateStack, ROOT, stackRaw, type StackRun } from "./harness";
import { rawList, rawMember } from "./configRaw";

const STACKS = ["dev", "prod", "local"] as const;
type Stack = (typeof STACKS)[number];

/** Counts as words, the way the docs write them. */
const NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"];

/** `microservices-<env>` in a doc, for a stack. */
const forStack = (text: string, stack: Stack) => text.replace(/<env>/g, stack);

const sorted = (values: Iterable<string>) => [...values].sort();

describe("the docs state what the program registers", function () {
    this.timeout(600000);
    const runs = {} as Record<Stack, StackRun>;
    before(async () => {
        for (const stack of STACKS) runs[stack] = await evaluateStack(stack);
    });

    describe("docs/outputs.md", () => {
        const rows = tableRows(docSection("docs/outputs.md", "# Stack outputs"), "Output");

        for (const stack of STACKS) {
            it(`lists exactly the outputs ${stack} exports, and which are secret`, () => {
                const documented = rows.filter(([, stacks]) => stacks === "all" || stacks.split(", ").includes(stack));
                assert.deepEqual(
                    sorted(documented.map(([name]) => codeNames(name)[0])),
                    sorted(Object.keys(runs[stack].outputs)),
                    `docs/outputs.md's Stacks column and what ${stack} exports differ`,
                );
                for (const [name, , secret] of documented) {
                    const output = codeNames(name)[0];
                    assert.equal(secret === "yes", runs[stack].outputs[output].secret, `docs/outputs.md: ${output} Secret column`);
                }
            });
        }

        it("counts local's outputs right wherever a doc counts them", () => {
            const count = NUMBER_WORDS[Object.keys(runs.local.outputs).length];
            assert.match(docText("docs/outputs.md"), new RegExp(`local exports only those ${count}\\b`));
            assert.match(docText("README.md"), new RegExp(`npm run plan -- local\` shows[^.]*\\b${count} outputs`));
        });

        it("the offline vaultRollout names no undefined revision; a deployed one names its revision", () => {
            for (const stack of STACKS) {
                const notice: string = runs[stack].outputs.vaultRollout.value;
                assert.doesNotMatch(notice, /undefined/, stack);
                assert.match(
                    notice,
                    /^Vault release revision not known until the release is installed; .*scripts\/vault-rollout\.sh/,
                    stack,
                );
            }
            assert.match(rolloutNotice(4), /^Vault release revision 4: if this changed in this update, .*scripts\/vault-rollout\.sh/);
        });
    });

    describe("docs/overview.md", () => {
        it("lists every component type with how many of it each stack registers", () => {
            // One table per layer, its heading naming the layer's type prefix, e.g. `aksplatform:azure`.
            const section = docSection("docs/overview.md", "## Components per stack");
            const documented = new Map<string, Record<Stack, string>>();
            for (const part of section.split(/^(?=### )/m).slice(1)) {
                const layer = /`aksplatform:(\w+)`/.exec(part.split("\n")[0])?.[1];
                assert.ok(layer, `docs/overview.md: "${part.split("\n")[0]}" names no aksplatform:<layer>`);
                for (const [name, dev, prod, local] of tableRows(part, "Component")) {
                    const type = `${layer}:${codeNames(name)[0]}`;
                    assert.ok(!documented.has(type), `docs/overview.md lists ${type} twice`);
                    documented.set(type, { dev, prod, local });
                }
            }
            const registered = new Map<string, Record<Stack, string>>();
            for (const stack of STACKS) {
                for (const r of runs[stack].resources) {
                    if (r.custom || !r.type.startsWith("aksplatform:")) continue;
                    const type = r.type.slice("aksplatform:".length);
                    const counts = registered.get(type) ?? { dev: "0", prod: "0", local: "0" };
                    counts[stack] = String(Number(counts[stack]) + 1);
                    registered.set(type, counts);
                }
            }
            for (const [type, counts] of registered) {
                assert.deepEqual(documented.get(type), counts, `docs/overview.md, "Components per stack": ${type} (dev, prod, local)`);
            }
            // A row none of the committed stacks registers (Argo CD's) must still name a component of the program.
            const sources = fs
                .readdirSync(path.join(ROOT, "components"), { recursive: true, encoding: "utf8" })
                .filter((f) => f.endsWith(".ts"))
                .map((f) => fs.readFileSync(path.join(ROOT, "components", f), "utf8"))
                .join("\n");
            for (const type of documented.keys()) {
                if (!registered.has(type))
                    assert.ok(sources.includes(`"aksplatform:${type}"`), `docs/overview.md lists ${type}, no component type`);
            }
        });

        it("lists each stack's namespaces", () => {
            const rows = tableRows(docSection("docs/overview.md", "## Namespaces"), "Namespace");
            STACKS.forEach((stack, column) => {
                const documented = rows.filter((row) => row[column + 1] === "yes").map(([name]) => forStack(codeNames(name)[0], stack));
                const registered = runs[stack].resources
                    .filter((r) => r.type === "kubernetes:core/v1:Namespace")
                    .map((r) => r.inputs.metadata.name as string);
                assert.deepEqual(sorted(documented), sorted(registered), `docs/overview.md, "Namespaces": ${stack}`);
            });
        });

        it("lists each stack's workload identities and the service accounts each one federates", () => {
            const rows = tableRows(docSection("docs/overview.md", "## Workload identities"), "Identity");
            for (const stack of STACKS) {
                const documented = Object.fromEntries(
                    rows
                        .filter(([, stacks]) => stacks.split(", ").includes(stack))
                        .map(([name, , accounts]) => [codeNames(name)[0], sorted(codeNames(accounts).map((a) => forStack(a, stack)))]),
                );
                const run = runs[stack];
                const registered = Object.fromEntries(
                    run.resources
                        .filter((r) => r.type === "aksplatform:azure:WorkloadIdentity")
                        .map((identity) => [
                            identity.name,
                            sorted(
                                run.resources
                                    .filter(
                                        (r) =>
                                            r.parent === identity.urn &&
                                            r.type === "azure-native:managedidentity:FederatedIdentityCredential",
                                    )
                                    .map((r) => (r.inputs.subject as string).replace(/^system:serviceaccount:([^:]+):/, "$1/")),
                            ),
                        ]),
                );
                assert.deepEqual(documented, registered, `docs/overview.md, "Workload identities": ${stack}`);
            }
        });
    });

    it('docs/platform.md, "Chart and image versions": every chart dev and prod release, its repository and version', () => {
        const rows = tableRows(docSection("docs/platform.md", "## Chart and image versions"), "Chart");
        const documented = sorted(
            rows.flatMap(([charts, repository, version]) =>
                codeNames(charts).map((chart) => `${chart} ${repository} ${version.split(" ")[0]}`),
            ),
        );
        const released = new Set<string>();
        for (const stack of ["dev", "prod"] as const) {
            for (const r of runs[stack].resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release")) {
                // The repository's own chart (charts/microservice) has no upstream version.
                if (String(r.inputs.chart).startsWith(".")) continue;
                released.add(`${r.inputs.chart} ${r.inputs.repositoryOpts?.repo} ${r.inputs.version}`);
            }
        }
        assert.deepEqual(documented, sorted(released));
    });

    describe('docs/operations.md, "Destroy and re-create prod"', () => {
        const section = () => docSection("docs/operations.md", "## Destroy and re-create prod");
        const listed = (header: string) =>
            sorted(
                tableRows(section(), header).flatMap(([type, names]) => codeNames(names).map((name) => `${codeNames(type)[0]} ${name}`)),
            );

        it("lists exactly what prod protects, and dev and local protect nothing", () => {
            const protectedIn = (stack: Stack) => sorted(runs[stack].resources.filter((r) => r.protect).map((r) => `${r.type} ${r.name}`));
            assert.deepEqual(listed("Protected in prod"), protectedIn("prod"));
            assert.deepEqual(protectedIn("dev"), []);
            assert.deepEqual(protectedIn("local"), []);
        });

        it("lists exactly the Kubernetes objects prod leaves in the cluster on destroy", () => {
            const kept = runs.prod.resources
                .filter((r) => r.retainOnDelete && r.type.startsWith("kubernetes:"))
                .map((r) => `${r.type} ${r.name}`);
            assert.deepEqual(listed("Kept in the cluster in prod"), sorted(kept));
        });
    });

    describe("README.md", () => {
        it("sets up with exactly npm ci and npm test, the commands CI runs", () => {
            const setUp = docSection("README.md", "## Set-up");
            const block = /```bash\n([\s\S]*?)```/.exec(setUp)?.[1];
            assert.deepEqual(block?.trim().split("\n"), ["npm ci", "npm test"]);
            const ci = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
            const npm = ci
                .split("\n")
                .filter((line) => /^npm /.test(line))
                .map((line) => line.replace(/ --no-(audit|fund)\b/g, "").trim());
            assert.deepEqual(npm, ["npm ci", "npm test"], ".ci/run runs other npm commands than the README's set-up");
        });

        it("stays a README a newcomer reads: about 15 KB", () => {
            assert.ok(docText("README.md").length <= 16 * 1024, `README.md is ${docText("README.md").length} bytes`);
        });
    });

    it("README.md and docs/ link only to files and headings that exist", () => {
        const files = ["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).map((f) => `docs/${f}`)].filter((f) => f.endsWith(".md"));
        const broken: string[] = [];
        for (const file of files) {
            for (const link of relativeLinks(file)) {
                const [target, anchor] = link.split("#");
                const resolved = target === "" ? file : path.posix.join(path.posix.dirname(file), target);
                if (!fs.existsSync(path.join(ROOT, resolved))) broken.push(`${file}: ${link} (no ${resolved})`);
                else if (anchor && resolved.endsWith(".md") && !anchorsOf(resolved).has(anchor))
                    broken.push(`${file}: ${link} (no heading #${anchor})`);
            }
        }
        assert.deepEqual(broken, []);
    });

    it("README.md and docs/ name only repository files that exist", () => {
        // Paths in an upstream repository that a doc cites, not files of this one.
        const upstream = new Set(["docs/driver-parameters.md"]);
        const files = ["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).map((f) => `docs/${f}`)].filter((f) => f.endsWith(".md"));
        const missing: string[] = [];
        for (const file of files) {
            const named = docText(file).matchAll(
                /`((?:components|tools|tests|scripts|docs|charts|services|policy|examples|argocd|\.github|\.ci)\/[\w./-]+)`/g,
            );
            for (const [, name] of named) {
                if (!upstream.has(name) && !fs.existsSync(path.join(ROOT, name))) missing.push(`${file}: ${name}`);
            }
        }
        assert.deepEqual(missing, []);
    });
});

describe("docs/platform.md: the per-zone pools' ceiling follows prod's config", () => {
    // The documented rule, written out here rather than taken from zonalPoolCounts: each zone's pool gets
    // the maximum divided by one zone fewer, rounded up, so the ceiling is zones x ceil(max / (zones - 1)).
    const raw = stackRaw("prod");
    const pools = [
        { max: Number(rawMember(raw, "systemPool.maxCount")), zones: rawList(raw, "systemPool.zones")!.length },
        { max: Number(rawMember(raw, "userPool.maxCount") ?? 10), zones: rawList(raw, "userPool.zones")!.length },
    ];
    const perZone = pools.map((p) => Math.ceil(p.max / (p.zones - 1)));
    const ceiling = pools.reduce((acc, p, i) => acc + p.zones * perZone[i], 0);
    const configured = pools.reduce((acc, p) => acc + p.max, 0);

    it("the cost section states the ceiling and the configured maximum", () => {
        const cost = docSection("docs/platform.md", "### Monthly cost of prod's defaults").replace(/\s+/g, " ");
        const terms = pools.map((p, i) => `${perZone[i]} × ${p.zones}`).join(" + ");
        assert.ok(
            cost.includes(`their maximum is ${ceiling} instead of ${configured} (system ${terms.replace(" + ", " + user ")}`),
            `"their maximum is ${ceiling} instead of ${configured} (system ${terms.replace(" + ", " + user ")}..."`,
        );
        assert.ok(cost.includes(`at the maximum of ${configured})`), `the node row's maximum is ${configured}`);
    });

    it('"Counts" under "Per-zone pools" gives each pool\'s zone share and ceiling', () => {
        const text = docSection("docs/platform.md", "### Egress").replace(/\s+/g, " ");
        const [system, user] = pools.map((p, i) => ({ share: perZone[i], total: p.zones * perZone[i] }));
        assert.ok(text.includes(`${user.share} per zone, up to ${user.total} nodes`), `user: ${user.share} per zone, up to ${user.total}`);
        assert.ok(
            text.includes(`${system.share} per zone, up to ${system.total}`),
            `system: ${system.share} per zone, up to ${system.total}`,
        );
    });
});
