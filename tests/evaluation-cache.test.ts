// The evaluation cache the parallel workers share (tools/evaluationCache.ts): one evaluation per key,
// a failure never shared, and nothing shared outside a run's workers.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { mochaGlobalSetup, mochaGlobalTeardown, sharedEvaluation, watching } from "../tools/evaluationCache";
import type { StackRunData } from "../tools/mocks";

const DATA: StackRunData = { resources: [], invokes: [{ token: "t", inputs: { a: 1 } }], tokenExchanges: [], outputs: {} };

describe("evaluation cache shared by the parallel workers", () => {
    let directory: string;
    const saved = process.env.AKSPLATFORM_EVALUATION_CACHE;
    beforeEach(() => {
        directory = fs.mkdtempSync(path.join(os.tmpdir(), "evaluation-cache-test-"));
        // As a worker of this process's parent sees it.
        process.env.AKSPLATFORM_EVALUATION_CACHE = `${process.ppid}:${directory}`;
    });
    afterEach(() => {
        fs.rmSync(directory, { recursive: true, force: true });
        if (saved === undefined) delete process.env.AKSPLATFORM_EVALUATION_CACHE;
        else process.env.AKSPLATFORM_EVALUATION_CACHE = saved;
    });

    it("evaluates a key once: a second asker waits for the first's result and reads it", async () => {
        let calls = 0;
        const slow = async () => {
            calls++;
            await new Promise((resolve) => setTimeout(resolve, 200));
            return DATA;
        };
        const [first, second] = await Promise.all([sharedEvaluation("k", slow), sharedEvaluation("k", slow)]);
        assert.equal(calls, 1);
        assert.deepEqual(first, DATA);
        assert.deepEqual(second, DATA);
    });

    it("serves a key evaluated earlier in the run from its file: a later asker does not evaluate again", async () => {
        let calls = 0;
        const once = async () => {
            calls++;
            return DATA;
        };
        await sharedEvaluation("later", once);
        assert.deepEqual(await sharedEvaluation("later", once), DATA);
        assert.equal(calls, 1);
    });

    it("takes over the claim of a worker that died mid-evaluation instead of waiting for it", async () => {
        const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
        const file = path.join(directory, `${createHash("sha256").update("orphan").digest("hex")}.json`);
        fs.writeFileSync(`${file}.claim`, dead);
        let calls = 0;
        const started = Date.now();
        await sharedEvaluation("orphan", async () => {
            calls++;
            return DATA;
        });
        assert.equal(calls, 1);
        assert.ok(Date.now() - started < 1000, "waited for a dead worker");
    });

    it("does not share a failure: the waiter evaluates, and fails, itself", async () => {
        let calls = 0;
        const failing = async () => {
            calls++;
            await new Promise((resolve) => setTimeout(resolve, 100));
            throw new Error("bad config");
        };
        const started = Date.now();
        const results = await Promise.allSettled([sharedEvaluation("f", failing), sharedEvaluation("f", failing)]);
        assert.equal(calls, 2);
        // Released at once: the waiter does not wait out a failed worker's claim.
        assert.ok(Date.now() - started < 5000, "the waiter waited out a failed claim");
        assert.ok(results.every((r) => r.status === "rejected"));
    });

    it("shares nothing with a process that is not one of the run's workers (a child such as npm run plan)", async () => {
        process.env.AKSPLATFORM_EVALUATION_CACHE = `${process.pid}:${directory}`;
        let calls = 0;
        const once = async () => {
            calls++;
            return DATA;
        };
        await sharedEvaluation("c", once);
        await sharedEvaluation("c", once);
        assert.equal(calls, 2);
        assert.deepEqual(fs.readdirSync(directory), []);
    });

    it("evaluates unshared, at once, when the run's directory is gone", async () => {
        process.env.AKSPLATFORM_EVALUATION_CACHE = `${process.ppid}:${path.join(directory, "gone")}`;
        const started = Date.now();
        assert.deepEqual(await sharedEvaluation("x", async () => DATA), DATA);
        assert.ok(Date.now() - started < 1000, "waited on a directory that is gone");
    });

    it("shares nothing under --watch, in each spelling mocha takes", () => {
        for (const argv of [["--watch"], ["-w"], ["-bw"], ["--watch=true"]]) assert.ok(watching(argv), argv.join(" "));
        for (const argv of [["--watch=false"], ["--bail"], ["-b"], ["--watch-files", "x"]]) assert.ok(!watching(argv), argv.join(" "));
    });

    it("removes the directory of an earlier run whose process is gone (stopped with Ctrl-C), not a live one's", () => {
        const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
        const stale = fs.mkdtempSync(path.join(os.tmpdir(), `aksplatform-evaluations-${dead}-`));
        const live = fs.mkdtempSync(path.join(os.tmpdir(), `aksplatform-evaluations-${process.pid}-`));
        try {
            mochaGlobalSetup();
            mochaGlobalTeardown();
            assert.ok(!fs.existsSync(stale), "the dead run's directory stayed");
            assert.ok(fs.existsSync(live), "a live run's directory was removed");
        } finally {
            fs.rmSync(stale, { recursive: true, force: true });
            fs.rmSync(live, { recursive: true, force: true });
        }
    });
});
