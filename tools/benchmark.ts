// Benchmark (not a test): `npm run benchmark` prints the wall time of one evaluation of each stack
// under the mocks and of the whole `npm test`, and how the suite compares with the budget of six
// evaluations of dev plus prod.
import { spawnSync } from "child_process";
import { performance } from "perf_hooks";
import { evaluateStack, ROOT } from "../tests/harness";

/** The test suite may take at most this many times one evaluation of dev plus one of prod. */
const BUDGET_FACTOR = 6;

async function timeEvaluation(stack: string): Promise<number> {
    const start = performance.now();
    const run = await evaluateStack(stack);
    const ms = performance.now() - start;
    console.log(`evaluate ${stack.padEnd(5)} ${(ms / 1000).toFixed(2)} s  (${run.resources.length} registrations)`);
    return ms;
}

function timeCommand(label: string, command: string, args: string[]): number {
    const start = performance.now();
    const result = spawnSync(command, args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" } });
    const ms = performance.now() - start;
    if (result.status !== 0) {
        console.error(result.stdout, result.stderr);
        throw new Error(`${label} failed with exit code ${result.status}`);
    }
    console.log(`${label.padEnd(14)} ${(ms / 1000).toFixed(2)} s`);
    return ms;
}

async function main(): Promise<void> {
    // Load the SDK and the harness once, so the evaluations measure the program, not module loading.
    await evaluateStack("dev", { location: "westeurope" });
    const evaluations = (await timeEvaluation("dev")) + (await timeEvaluation("prod"));
    const typecheck = timeCommand("tsc --noEmit", "npx", ["tsc", "--noEmit"]);
    const unit = timeCommand("mocha", "npx", ["mocha", "--reporter", "dot"]);
    const budget = BUDGET_FACTOR * evaluations;
    console.log(`npm test       ${((typecheck + unit) / 1000).toFixed(2)} s (type-check + unit tests)`);
    console.log(
        `unit tests ${(unit / 1000).toFixed(2)} s against a budget of ${BUDGET_FACTOR} x (dev + prod) = ${(budget / 1000).toFixed(2)} s: ` +
            (unit <= budget ? "within budget" : "OVER budget"),
    );
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
