// Offline plan: `npm run plan -- <stack>` evaluates the program for a stack under the mocks the tests
// use (no Pulumi CLI, no cloud credentials): the stack's config goes through the CLI's config pass
// first (cliConfig.ts), so a stack `pulumi preview` would stop on stops here with the same message.
// It prints a summary (counts by type, the longest dependency chain, the stack outputs with secrets
// masked); the resource tree and the Mermaid graph on request.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isConfigPath, parseConfig, specOf } from "../components/config";
import { CliConfigError, plainNumbersOf } from "./cliConfig";
import {
    evaluateStack,
    EvaluationError,
    PROJECT,
    programConfig,
    ROOT,
    STAND_IN_IMAGES,
    STAND_IN_RUNNER,
    type Overrides,
    type Registration,
    type StackRun,
} from "./mocks";

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

/** What the command prints and its exit code: 0, 1 for a failed preview (bad config), 2 for bad usage. */
export interface PlanResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

export const USAGE = [
    "usage: npm run plan -- <stack> [--tree] [--graph[=file.mmd]] [--throwaway-tls] [--stand-in-images] [--stand-in-runner]",
    "",
    "Evaluates the program for Pulumi.<stack>.yaml under mocks, offline, and prints a summary.",
    "  --tree           also print the resource tree",
    "  --graph          also print the dependency graph as Mermaid (--graph=file.mmd writes it to a file)",
    "  --throwaway-tls  stand in a one-day certificate and its throwaway CA (openssl) for the stack's ingress TLS",
    "                   secrets, where the stack file cannot hold them (prod); the output says so first",
    "  --stand-in-images  stand in images for a stack that imports them but names none yet (prod before its",
    "                   first promotion); the output says so first",
    "  --stand-in-runner  stand in the CI runner's repository and token for a stack that has none set yet",
    "                   (prod before the admin sets them); the output says so first",
].join("\n");

export interface PlanOptions {
    readonly stack: string;
    readonly tree: boolean;
    /** true: print the graph; a string: write it to that file. */
    readonly graph: boolean | string;
    readonly throwawayTls: boolean;
    readonly standInImages?: boolean;
    readonly standInRunner?: boolean;
}

/** The command line, or a usage error (undefined options, with the message). */
export function parseArgs(args: readonly string[]): { options?: PlanOptions; error?: string; help?: true } {
    let stack: string | undefined;
    let tree = false;
    let graph: boolean | string = false;
    let throwawayTls = false;
    let standInImages = false;
    let standInRunner = false;
    for (const arg of args) {
        if (arg === "--help" || arg === "-h") return { help: true };
        else if (arg === "--tree") tree = true;
        else if (arg === "--graph") graph = true;
        else if (arg.startsWith("--graph=")) graph = arg.slice("--graph=".length);
        else if (arg === "--throwaway-tls") throwawayTls = true;
        else if (arg === "--stand-in-images") standInImages = true;
        else if (arg === "--stand-in-runner") standInRunner = true;
        else if (arg.startsWith("-")) return { error: `unknown option ${arg}` };
        else if (stack === undefined) stack = arg;
        else return { error: `one stack at a time; got ${stack} and ${arg}` };
    }
    if (stack === undefined) return { error: "no stack given" };
    return { options: { stack, tree, graph, throwawayTls, standInImages, standInRunner } };
}

/**
 * A one-day EC chain for `host`, made with openssl in a temporary folder: a throwaway CA and a server
 * certificate it signs (CA:FALSE), served leaf first. Not one self-signed certificate: `openssl req
 * -x509` makes a CA (basic constraints CA:TRUE), which config refuses as a server's own, and a
 * self-signed one that is no CA the WAF cannot trust (components/config/validators.ts).
 */
export function throwawayCertificate(host: string): { "ingress.tlsCertificate": string; "ingress.tlsPrivateKey": string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-tls-"));
    const file = (name: string) => path.join(dir, name);
    const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    try {
        openssl([
            "req",
            "-x509",
            ...ec,
            "-days",
            "1",
            "-keyout",
            file("ca.key"),
            "-out",
            file("ca.pem"),
            "-subj",
            `/CN=${host} throwaway CA`,
            // A CA as RFC 5280 wants one, whatever the local openssl.cnf adds: basic constraints critical
            // (section 4.2.1.9) and key usage certificate and CRL signing (section 4.2.1.3), critical.
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(["req", "-new", ...ec, "-keyout", file("key.pem"), "-out", file("server.csr"), "-subj", `/CN=${host}`]);
        fs.writeFileSync(
            file("server.ext"),
            `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${host}\n`,
        );
        openssl(
            ["x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial"].concat([
                "-days",
                "1",
                "-extfile",
                file("server.ext"),
                "-out",
                file("server.pem"),
            ]),
        );
        const read = (name: string) => fs.readFileSync(file(name), "utf8");
        // By config path: written `secure:` into the stack's ingress group, as `pulumi config set --path --secret` would.
        return { "ingress.tlsCertificate": read("server.pem") + read("ca.pem"), "ingress.tlsPrivateKey": read("key.pem") };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * A warning for each text member (or list item) of the stack file `text` written unquoted where
 * gopkg.in/yaml.v3, the CLI's reader, takes it for a number: the CLI hands the program the number's
 * JSON (`productTag: 010` arrives as 8, which the program takes as the text "8"; `1.10` as 1.1, which
 * it refuses). The CLI accepts such a file, so this only warns (tools/cliConfig.ts stays faithful).
 * Members typed string or array (of text) by the key table (components/config specOf).
 */
export function textWrittenAsNumbers(text: string, file: string): string[] {
    return plainNumbersOf(text, PROJECT).flatMap(({ path: at, written, read }) => {
        const member = at.replace(/\[\d+\]$/, "");
        if (!isConfigPath(member)) return [];
        const type = specOf(member).type;
        if (!(type === "string" || (type === "array" && member !== at))) return [];
        // A safe integer written in its plain digits reaches the program as those digits (schema.ts textOf).
        if (Number.isSafeInteger(Number(read)) && String(read) === written) return [];
        const reads = typeof read === "bigint" ? `the integer ${read}` : `the number ${read}`;
        return [
            `WARNING: ${at} in ${file} is written ${written} unquoted, which the Pulumi CLI reads as ${reads}: the program receives that number, not the text written; quote it ("${written}").`,
        ];
    });
}

/** The host the stack serves, as the program will read it (the TLS pair must cover it). */
function ingressHostOf(stack: string): string {
    const prefix = `${PROJECT}:`;
    const raw = Object.fromEntries(
        Object.entries(programConfig(stack).config)
            .filter(([k]) => k.startsWith(prefix))
            .map(([k, v]) => [k.slice(prefix.length), v]),
    );
    return parseConfig(raw, PROJECT, stack).ingress.host;
}

function outputLines(run: StackRun): string[] {
    return Object.entries(run.outputs)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, { value, secret }]) => `  ${name}: ${secret ? "[secret]" : JSON.stringify(value)}`);
}

export async function plan(args: readonly string[]): Promise<PlanResult> {
    const parsed = parseArgs(args);
    if (parsed.help) return { code: 0, stdout: USAGE, stderr: "" };
    if (!parsed.options) return { code: 2, stdout: "", stderr: `${parsed.error}\n${USAGE}` };
    const { stack, tree, graph, throwawayTls, standInImages, standInRunner } = parsed.options;
    if (!fs.existsSync(path.join(ROOT, `Pulumi.${stack}.yaml`))) {
        return { code: 2, stdout: "", stderr: `no stack file Pulumi.${stack}.yaml; stacks here: ${stackNames().join(", ")}` };
    }
    const stackFile = `Pulumi.${stack}.yaml`;
    // Printed first, also when the program then refuses the config.
    const warnings = textWrittenAsNumbers(fs.readFileSync(path.join(ROOT, stackFile), "utf8"), stackFile);
    const notes: string[] = [...warnings];
    let run: StackRun;
    try {
        let secrets: Overrides = {};
        if (throwawayTls) {
            const host = ingressHostOf(stack);
            secrets = throwawayCertificate(host);
            notes.push(
                `NOTE: ingress TLS is a throwaway certificate (and CA) for ${host} made for this plan, not the stack's own secrets.`,
            );
        }
        if (standInImages) {
            secrets = { ...secrets, ...STAND_IN_IMAGES };
            notes.push(
                "NOTE: the services' images are stand-ins made for this plan (tools/mocks.ts STAND_IN_IMAGES), not the stack's own.",
            );
        }
        if (standInRunner) {
            secrets = { ...secrets, ...STAND_IN_RUNNER };
            notes.push("NOTE: the CI runner's repository and token are stand-ins made for this plan (tools/mocks.ts STAND_IN_RUNNER).");
        }
        run = await evaluateStack(stack, {}, secrets);
    } catch (error) {
        // The CLI's own failures print as `pulumi preview` prints them; the program's as its error.
        const message =
            error instanceof CliConfigError ? `error: ${error.message}` : error instanceof EvaluationError ? error.message : String(error);
        return { code: 1, stdout: "", stderr: [...warnings, message].join("\n") };
    }
    const deployed = run.resources.filter(isDeployed);
    const chain = longestChain(run);
    const out = [
        ...notes,
        `# Plan for stack ${stack} (offline, under mocks)`,
        "",
        `${deployed.length} resources, ${run.resources.length - deployed.length} components and providers`,
        "",
        "## Counts by type",
        "",
        ...countsByType(run).map(([type, count]) => `${String(count).padStart(4)}  ${type}`),
        "",
        `## Longest dependency chain (${chain.length} resources)`,
        "",
        chain.map(label).join("\n  -> "),
        "",
        "## Stack outputs",
        "",
        ...outputLines(run),
    ];
    if (tree) out.push("", "## Resource tree", "", resourceTree(run));
    if (graph === true) out.push("", "## Dependency graph", "", "```mermaid", mermaid(run), "```");
    else if (typeof graph === "string") {
        fs.writeFileSync(graph, `${mermaid(run)}\n`);
        out.push("", `Dependency graph written to ${graph}`);
    }
    return { code: 0, stdout: out.join("\n"), stderr: "" };
}

if (require.main === module) {
    plan(process.argv.slice(2)).then(
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
