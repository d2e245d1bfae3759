// One evaluation per stack config per test run, across mocha's parallel workers (.mocharc.json
// `parallel`): the first worker to claim a config evaluates it and writes the run's data to the run's
// directory; the others wait for that file and read it. A failed evaluation is not shared: its claim
// is dropped and each worker that asks evaluates (and fails) itself. Outside a worker (a serial run,
// the benchmark, the offline plan) it only evaluates.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { StackRunData } from "./mocks";

/** Set by mochaGlobalSetup, in the process that then starts the workers: `<its pid>:<directory>`. */
const CACHE = "AKSPLATFORM_EVALUATION_CACHE";

/**
 * The run's directory, in one of that run's workers. Its children (a test that runs `npm run plan`)
 * inherit the variable but are not its workers, and evaluate for themselves.
 */
function runDirectory(): string | undefined {
    const [owner, directory] = (process.env[CACHE] ?? "").split(/:(.*)/s);
    return directory && Number(owner) === process.ppid ? directory : undefined;
}

/** How long a worker waits for another's evaluation before it evaluates itself (that worker died). */
const WAIT_MS = 300_000;

export async function sharedEvaluation(key: string, evaluate: () => Promise<StackRunData>): Promise<StackRunData> {
    const directory = runDirectory();
    if (directory === undefined) return evaluate();
    const file = path.join(directory, `${crypto.createHash("sha256").update(key).digest("hex")}.json`);
    const claim = `${file}.claim`;
    try {
        fs.mkdirSync(claim);
    } catch {
        return waitFor(file, claim, evaluate);
    }
    try {
        const data = await evaluate();
        const partial = `${file}.${process.pid}`;
        fs.writeFileSync(partial, JSON.stringify(data));
        fs.renameSync(partial, file);
        return data;
    } finally {
        fs.rmSync(claim, { recursive: true, force: true });
    }
}

async function waitFor(file: string, claim: string, evaluate: () => Promise<StackRunData>): Promise<StackRunData> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
        if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8")) as StackRunData;
        // The claim gone without a file: that evaluation failed, so this worker evaluates (and reports) it.
        if (!fs.existsSync(claim) && !fs.existsSync(file)) return evaluate();
        if (Date.now() > deadline) return evaluate();
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}

/**
 * Mocha's global setup and teardown (.mocharc.json `require`): they run once, in the process that
 * starts the parallel workers, before it starts them (mocha lib/mocha.cjs Mocha#run, runGlobalSetup;
 * lib/nodejs/buffered-worker-pool.cjs copies process.env into each worker), so the workers inherit the
 * variable.
 */
export function mochaGlobalSetup(): void {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "aksplatform-evaluations-"));
    process.env[CACHE] = `${process.pid}:${directory}`;
}

export function mochaGlobalTeardown(): void {
    const directory = (process.env[CACHE] ?? "").split(/:(.*)/s)[1];
    if (directory) fs.rmSync(directory, { recursive: true, force: true });
    delete process.env[CACHE];
}
