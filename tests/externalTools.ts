// Tests that run a program which is not an npm package (shellcheck, jq, bash, git, openssl; helm
// unpacked from an npm package). Where it is missing the test is skipped and says so in its title, so
// the mocha report shows why; with REQUIRE_TEST_TOOLS=1 (set by .ci/run, which installs the Debian
// packages) a missing tool fails instead, so CI can never pass by skipping.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";

/** Whether `tool` runs (`tool --version`, or `probe`). */
export function hasTool(tool: string, probe: readonly string[] = ["--version"]): boolean {
    const result = spawnSync(tool, [...probe], { stdio: "ignore" });
    return !result.error && result.status === 0;
}

/**
 * Skips the running test with `reason` appended to its title; from a hook, every test of the hook's
 * suite. Fails instead when REQUIRE_TEST_TOOLS=1.
 */
export function skipVisibly(ctx: Mocha.Context, reason: string): never {
    if (process.env.REQUIRE_TEST_TOOLS === "1") assert.fail(`${reason}, and REQUIRE_TEST_TOOLS=1 requires it`);
    const note = ` [skipped: ${reason}]`;
    const runnable = ctx.test as Mocha.Hook | Mocha.Test | undefined;
    if (runnable?.type === "hook") {
        for (const test of runnable.parent?.tests ?? []) if (!test.title.endsWith(note)) test.title += note;
    } else if (runnable) {
        runnable.title += note;
    }
    ctx.skip();
}

/** Skips the running test (or the hook's suite) visibly unless `tool` is installed. */
export function requireTool(ctx: Mocha.Context, tool: string, probe: readonly string[] = ["--version"]): void {
    if (!hasTool(tool, probe)) skipVisibly(ctx, `${tool} is not installed (.ci/run installs it)`);
}
