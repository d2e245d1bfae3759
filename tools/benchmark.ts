// Benchmark (not a test): `npm run benchmark` prints the wall time of one evaluation of each stack (as
// `npm run plan -- <stack>`, a fresh process, and in-process once modules are loaded), of the whole
// `npm test` (type-check, lint, unit tests) and of the unit tests alone (with how many evaluations they
// made, each distinct stack config once, and the time those took), and how the unit tests compare
// with their budget: four evaluations of dev plus prod (issue 23: "at most 4x the time of
// `npm run plan -- dev` plus `npm run plan -- prod`"), and, for comparison, with the same plans run
// with what the tests leave out of the SDK (tools/sdkBookkeeping.ts), which `npm run plan` does not load.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import "./sdkBookkeeping";
import { performance } from "perf_hooks";
import { EVALUATION_LOG, evaluateStack, ROOT, STAND_IN_SECRETS } from "./mocks";

/** The test suite may take at most this many times one evaluation of dev plus one of prod. */
const BUDGET_FACTOR = 4;

async function timeEvaluation(stack: string): Promise<number> {
    const start = performance.now();
    const run = await evaluateStack(stack, {}, STAND_IN_SECRETS[stack] ?? {});
    const ms = performance.now() - start;
    console.log(`${`evaluate ${stack}`.padEnd(17)} ${(ms / 1000).toFixed(2)} s in-process (${run.resources.length} registrations)`);
    return ms;
}

function timeCommand(label: string, command: string, args: string[], env: Record<string, string> = {}): number {
    const start = performance.now();
    const result = spawnSync(command, args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0", ...env } });
    const ms = performance.now() - start;
    if (result.status !== 0) {
        console.error(result.stdout, result.stderr);
        console.log(`${label.padEnd(17)} ${(ms / 1000).toFixed(2)} s (FAILED with exit code ${result.status})`);
        process.exitCode = 1;
        return ms;
    }
    console.log(`${label.padEnd(17)} ${(ms / 1000).toFixed(2)} s`);
    return ms;
}

async function main(): Promise<void> {
    // One evaluation as a user meets it: a fresh process that loads the program and evaluates the stack
    // under the mocks (the offline plan). The in-process time, with modules already loaded, is shown too.
    // prod's committed file leaves its secrets, images and runner to the admin: the plan's stand-ins.
    const plans = (label: string, loader: string[]) =>
        timeCommand(`plan dev${label}`, "npx", ["ts-node", "--transpile-only", ...loader, "tools/plan.ts", "dev"]) +
        timeCommand(`plan prod${label}`, "npx", [
            "ts-node",
            "--transpile-only",
            ...loader,
            "tools/plan.ts",
            "prod",
            "--throwaway-tls",
            "--stand-in-images",
            "--stand-in-runner",
        ]);
    const cold = plans("", []);
    // The same with what the tests leave out of the SDK (tools/sdkBookkeeping.ts), which `npm run plan`
    // does not load: the unit tests against a like-for-like evaluation.
    const lean = plans(" (lean)", ["-r", "./tools/sdkBookkeeping.ts"]);
    await evaluateStack("dev", { "azure.location": "westeurope" });
    await timeEvaluation("dev");
    await timeEvaluation("prod");
    timeCommand("npm test", "npm", ["test", "--silent"]);
    // The unit tests share one evaluation per stack and config (tools/mocks.ts evaluateStack): how many
    // they made, and how much of their time went to them.
    const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "benchmark-")), "evaluations.jsonl");
    const unit = timeCommand("unit tests", "npx", ["mocha", "--reporter", "dot"], { [EVALUATION_LOG]: log });
    const evaluations = fs.existsSync(log)
        ? fs
              .readFileSync(log, "utf8")
              .trim()
              .split("\n")
              .map((line) => JSON.parse(line) as { stack: string; key: string; ok: boolean; ms: number })
        : [];
    fs.rmSync(path.dirname(log), { recursive: true, force: true });
    // Each successful evaluation once (a config the program refuses is evaluated by every worker that
    // asks, as it is not shared); the time is the workers' time, summed over both.
    const distinct = new Set(evaluations.filter((e) => e.ok).map((e) => e.key));
    const perStack = new Map<string, { count: number; ms: number }>();
    for (const e of evaluations.filter((e) => e.ok)) {
        const entry = perStack.get(e.stack) ?? { count: 0, ms: 0 };
        perStack.set(e.stack, { count: entry.count + 1, ms: entry.ms + e.ms });
    }
    const total = evaluations.reduce((sum, e) => sum + e.ms, 0);
    console.log(
        `unit tests evaluated ${distinct.size} distinct stack configs in ${evaluations.filter((e) => e.ok).length} evaluations (${[
            ...perStack,
        ]
            .map(([stack, { count, ms }]) => `${stack} ${count} in ${(ms / 1000).toFixed(1)} s`)
            .join(
                ", ",
            )}) and ${evaluations.filter((e) => !e.ok).length} evaluations of refused configs (each worker that asks evaluates one; the plan's child processes log theirs too); ${(total / 1000).toFixed(1)} s of evaluation time, against ${(unit / 1000).toFixed(1)} s of wall time`,
    );
    const budget = BUDGET_FACTOR * cold;
    console.log(
        process.exitCode
            ? "unit tests against the budget: not measured (a command above failed)"
            : `unit tests take ${(unit / cold).toFixed(1)} x (plan dev + plan prod); the budget is ${BUDGET_FACTOR} x = ${(budget / 1000).toFixed(2)} s: ` +
                  (unit <= budget ? "within budget" : "OVER budget") +
                  `; against the plans with tools/sdkBookkeeping.ts loaded (lean), as the tests evaluate: ${(unit / lean).toFixed(1)} x`,
    );
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
