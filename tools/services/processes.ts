// Starting the services from their TypeScript sources, as child processes: `npm run services:memory`
// and `npm run bench:services` share this.
import { spawn, type ChildProcess } from "child_process";
import * as net from "net";
import * as path from "path";

export const ROOT = path.join(__dirname, "../..");

/** node with the source export condition and ts-node, so nothing needs building first. */
export function nodeArgs(entry: string): string[] {
    return ["--conditions=aksplatform-source", "-r", "ts-node/register/transpile-only", path.join(ROOT, entry)];
}

export const ENTRIES = {
    "product-service": "services/product-service/src/index.ts",
    "order-service": "services/order-service/src/index.ts",
} as const;

/** Starts `entry` with `env` added; its output goes to ours (`inherit`) or nowhere (`ignore`). */
export function startProcess(entry: string, env: NodeJS.ProcessEnv, output: "inherit" | "ignore"): ChildProcess {
    return spawn(process.execPath, nodeArgs(entry), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", output, output] });
}

/** A port free on 127.0.0.1 now. */
export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** Resolves once GET `url` answers 200; rejects after `timeoutMs` or when `child` exits first. */
export async function waitFor(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`${url}: the process exited with ${child.exitCode}`);
        try {
            const res = await fetch(url);
            await res.body?.cancel();
            if (res.status === 200) return;
        } catch {
            // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

/** Stops `children` (SIGTERM, the services' graceful shutdown) and waits for them. */
export async function stopAll(children: readonly ChildProcess[]): Promise<void> {
    await Promise.all(
        children.map(
            (child) =>
                new Promise<void>((resolve) => {
                    if (child.exitCode !== null || child.signalCode !== null) return resolve();
                    child.once("exit", () => resolve());
                    child.kill("SIGTERM");
                }),
        ),
    );
}
