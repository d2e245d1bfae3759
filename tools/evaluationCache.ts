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

/** Mocha sets MOCHA_WORKER_ID in each parallel worker (mocha lib/nodejs/worker.js). */
const inWorker = () => process.env.MOCHA_WORKER_ID !== undefined;

/** The run's directory: named after the mocha process that runs the workers (their parent). */
const runDirectory = (mochaPid: number) => path.join(os.tmpdir(), `aksplatform-evaluations-${mochaPid}`);

/** How long a worker waits for another's evaluation before it evaluates itself (that worker died). */
const WAIT_MS = 300_000;

export async function sharedEvaluation(key: string, evaluate: () => Promise<StackRunData>): Promise<StackRunData> {
    if (!inWorker()) return evaluate();
    const directory = runDirectory(process.ppid);
    fs.mkdirSync(directory, { recursive: true });
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

/** Mocha's global teardown (run once, in the process that ran the workers): the run's directory goes. */
export function mochaGlobalTeardown(): void {
    fs.rmSync(runDirectory(process.pid), { recursive: true, force: true });
}
