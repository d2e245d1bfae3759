// Offline plan: `npm run plan -- <stack>` evaluates the program for a stack under the same mocks the
// tests use (no Pulumi CLI, no cloud credentials) and prints the resource tree, counts by type, the
// dependency graph as Mermaid and the longest dependency chain. Bad config fails with the same
// message `pulumi up` would print.
import * as fs from "fs";
import * as path from "path";
import { evaluateStack, EvaluationError, ROOT, type Registration, type StackRun } from "../tests/harness";

/** Resources that exist in the cloud or cluster (components and providers are structure). */
function isDeployed(r: Registration): boolean {
    return r.custom && !r.type.startsWith("pulumi:providers:");
}

function label(r: Registration): string {
    return `${r.type} ${r.name}`;
}

export function resourceTree(run: StackRun): string {
    const children = new Map<string, Registration[]>();
    for (const r of run.resources) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
    const known = new Set(run.resources.map((r) => r.urn));
    const roots = run.resources.filter((r) => !known.has(r.parent));
    const lines: string[] = [];
    const walk = (r: Registration, depth: number) => {
        lines.push(`${"  ".repeat(depth)}${label(r)}${r.protect ? " (protected)" : ""}`);
        for (const child of children.get(r.urn) ?? []) walk(child, depth + 1);
    };
    for (const root of roots) walk(root, 0);
    return lines.join("\n");
}

export function countsByType(run: StackRun): [string, number][] {
    const counts = new Map<string, number>();
    for (const r of run.resources.filter(isDeployed)) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** Direct dependencies between deployed resources (through components, which are expanded). */
export function dependencyEdges(run: StackRun): [Registration, Registration][] {
    const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    const edges: [Registration, Registration][] = [];
    for (const r of run.resources.filter(isDeployed)) {
        for (const urn of new Set(r.dependencies)) {
            const dep = byUrn.get(urn);
            if (dep && isDeployed(dep)) edges.push([dep, r]);
        }
    }
    return edges;
}

export function mermaid(run: StackRun): string {
    const ids = new Map(run.resources.filter(isDeployed).map((r, i) => [r.urn, `r${i}`]));
    const lines = ["flowchart LR"];
    for (const r of run.resources.filter(isDeployed)) {
        lines.push(`  ${ids.get(r.urn)}["${r.type.replace(/"/g, "'")}<br/>${r.name}"]`);
    }
    for (const [from, to] of dependencyEdges(run)) lines.push(`  ${ids.get(from.urn)} --> ${ids.get(to.urn)}`);
    return lines.join("\n");
}

/** The longest chain of deployed resources each waiting for the one before: the floor of a first deploy. */
export function longestChain(run: StackRun): Registration[] {
    const deployed = run.resources.filter(isDeployed);
    const incoming = new Map<string, Registration[]>(deployed.map((r) => [r.urn, []]));
    for (const [from, to] of dependencyEdges(run)) incoming.get(to.urn)!.push(from);
    const best = new Map<string, Registration[]>();
    const chainTo = (r: Registration, visiting = new Set<string>()): Registration[] => {
        const cached = best.get(r.urn);
        if (cached) return cached;
        if (visiting.has(r.urn)) throw new Error(`dependency cycle through ${label(r)}`);
        visiting.add(r.urn);
        let longest: Registration[] = [];
        for (const dep of incoming.get(r.urn) ?? []) {
            const chain = chainTo(dep, visiting);
            if (chain.length > longest.length) longest = chain;
        }
        visiting.delete(r.urn);
        const result = [...longest, r];
        best.set(r.urn, result);
        return result;
    };
    return deployed.map((r) => chainTo(r)).reduce((a, b) => (b.length > a.length ? b : a), []);
}

function stackNames(): string[] {
    return fs
        .readdirSync(ROOT)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined);
}

/** What the command prints and its exit code: 0, 1 for a program error (bad config), 2 for bad usage. */
export interface PlanResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

export async function plan(stack: string | undefined): Promise<PlanResult> {
    if (!stack) {
        return { code: 2, stdout: "", stderr: "usage: npm run plan -- <stack>   (a stack with a Pulumi.<stack>.yaml, e.g. dev or prod)" };
    }
    if (!fs.existsSync(path.join(ROOT, `Pulumi.${stack}.yaml`))) {
        return { code: 2, stdout: "", stderr: `no stack file Pulumi.${stack}.yaml; stacks here: ${stackNames().join(", ")}` };
    }
    let run: StackRun;
    try {
        run = await evaluateStack(stack);
    } catch (error) {
        return { code: 1, stdout: "", stderr: error instanceof EvaluationError ? error.message : String(error) };
    }
    const deployed = run.resources.filter(isDeployed);
    const chain = longestChain(run);
    const out = [
        `# Plan for stack ${stack} (offline, under mocks)`,
        "",
        `${deployed.length} resources, ${run.resources.length - deployed.length} components and providers`,
        "",
        "## Resource tree",
        "",
        resourceTree(run),
        "",
        "## Counts by type",
        "",
        ...countsByType(run).map(([type, count]) => `${String(count).padStart(4)}  ${type}`),
        "",
        "## Dependency graph",
        "",
        "```mermaid",
        mermaid(run),
        "```",
        "",
        `## Longest dependency chain (${chain.length} resources)`,
        "",
        chain.map(label).join("\n  -> "),
    ];
    return { code: 0, stdout: out.join("\n"), stderr: "" };
}

if (require.main === module) {
    plan(process.argv[2]).then(
        (result) => {
            if (result.stdout) console.log(result.stdout);
            if (result.stderr) console.error(result.stderr);
            process.exit(result.code);
        },
        (error) => {
            console.error(error);
            process.exit(1);
        },
    );
}
