// One evaluation per stack config per test run, across mocha's parallel workers (.mocharc.json
// `parallel`): the first worker to claim a config evaluates it and writes the run's data to the run's
// directory; every other worker that asks for it, then or later, reads that file. A failed evaluation
// is not shared: its claim is dropped and each worker that asks evaluates (and fails) itself. Outside
// a run's workers (a serial run, the benchmark, the offline plan, a child a test spawns, `--watch`) it
// only evaluates.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { StackRunData } from "./mocks";

/** Set by mochaGlobalSetup, in the process that then starts the workers: `<its pid>:<directory>`. */
const CACHE = "AKSPLATFORM_EVALUATION_CACHE";
const PREFIX = "aksplatform-evaluations-";

/**
 * The run's directory, in one of that run's workers. Its children (a test that runs `npm run plan`)
 * inherit the variable but are not its workers, and evaluate for themselves.
 */
function runDirectory(): string | undefined {
    const [owner, directory] = (process.env[CACHE] ?? "").split(/:(.*)/s);
    return directory && Number(owner) === process.ppid ? directory : undefined;
}

/** How long a worker waits for a live worker's evaluation before it evaluates itself: under mocha's timeout. */
const WAIT_MS = 45_000;

const alive = (pid: number) => {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
};

/** The shared result of `key`, if there is one. */
function read(file: string): StackRunData | undefined {
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as StackRunData) : undefined;
}

/**
 * Claims `key` for this worker: a claim file created exclusively, holding the claimant's pid. A claim
 * whose claimant died (mocha replaces a crashed worker) is taken over; two workers taking over the same
 * dead claim may both evaluate, which costs time only (same data, written by rename). Returns
 * "claimed", "taken" (another live worker holds it) or "unshared" (the directory is unusable: evaluate
 * without sharing).
 */
function claim(claimFile: string): "claimed" | "taken" | "unshared" {
    for (;;) {
        try {
            fs.writeFileSync(claimFile, String(process.pid), { flag: "wx" });
            return "claimed";
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "EEXIST") return "unshared";
        }
        let owner: number;
        try {
            owner = Number(fs.readFileSync(claimFile, "utf8"));
        } catch {
            continue; // released (a failed evaluation) or taken over meanwhile: try again
        }
        // An empty claim is one being written: its writer is alive.
        if (!(Number.isInteger(owner) && owner > 0) || alive(owner)) return "taken";
        fs.rmSync(claimFile, { force: true });
    }
}

export async function sharedEvaluation(key: string, evaluate: () => Promise<StackRunData>): Promise<StackRunData> {
    const directory = runDirectory();
    if (directory === undefined) return evaluate();
    const file = path.join(directory, `${crypto.createHash("sha256").update(key).digest("hex")}.json`);
    const claimFile = `${file}.claim`;
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
        const shared = read(file);
        if (shared) return shared;
        const claimed = claim(claimFile);
        if (claimed === "unshared") return evaluate();
        if (claimed === "claimed") break;
        if (Date.now() > deadline) return evaluate();
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Claimed: another worker may have written the file between the look and the claim.
    const shared = read(file);
    if (shared) return shared;
    let data: StackRunData;
    try {
        data = await evaluate();
    } catch (error) {
        // Not shared: the next worker that asks claims it and evaluates (and fails) itself.
        fs.rmSync(claimFile, { force: true });
        throw error;
    }
    const partial = `${file}.${process.pid}`;
    fs.writeFileSync(partial, JSON.stringify(data));
    fs.renameSync(partial, file);
    // The claim stays: the file answers every later ask. This worker too takes the run as the file holds
    // it, so every worker sees the same form whichever evaluated it.
    return JSON.parse(JSON.stringify(data)) as StackRunData;
}

/** Whether this mocha process watches (`--watch`, `--watch=true`, `-w`, or `w` in a cluster of short flags such as `-bw`). */
export function watching(argv: readonly string[]): boolean {
    return argv.some((arg) => /^--watch(=(?!false$).*)?$/.test(arg) || /^-[a-zA-Z]*w[a-zA-Z]*$/.test(arg));
}

/**
 * Mocha's global setup and teardown (.mocharc.json `require`): they run once, in the process that
 * starts the parallel workers, before it starts them (mocha lib/mocha.cjs Mocha#run, runGlobalSetup;
 * lib/nodejs/buffered-worker-pool.cjs copies process.env into each worker), so the workers inherit the
 * variable. Under `--watch` mocha runs the setup once for the whole watch session and each rerun starts
 * new workers of the same process (lib/cli/watch-run.cjs), which must see the edited program, so nothing
 * is shared there. Directories of earlier runs whose process is gone (a run stopped with Ctrl-C skips the
 * teardown) are removed where this user may; others' are left alone.
 */
export function mochaGlobalSetup(): void {
    for (const name of fs.readdirSync(os.tmpdir())) {
        const pid = Number(name.startsWith(PREFIX) ? name.slice(PREFIX.length).split("-")[0] : NaN);
        if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) continue;
        try {
            fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
        } catch {
            // Another user's run: not ours to remove.
        }
    }
    if (watching(process.argv)) return;
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
    process.env[CACHE] = `${process.pid}:${directory}`;
}

export function mochaGlobalTeardown(): void {
    const directory = (process.env[CACHE] ?? "").split(/:(.*)/s)[1];
    if (directory) fs.rmSync(directory, { recursive: true, force: true });
    delete process.env[CACHE];
}
