// The Vault agent's file: read, watched, reloaded without a restart, and never logged.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Db } from "mongodb";
import { CredentialSource, Logger, secretsOf, type MongoClientLike, type ServiceDefinition } from "@aksplatform/service-common";
import { call, start, stopAll } from "./support";

const A = "mongodb://v-kubernetes-product-A:Pw-A-7f3e9c@mongodb:27017/microservices?authSource=admin";
const B = "mongodb://v-kubernetes-product-B:Pw-B-41d2aa@mongodb:27017/microservices?authSource=admin";

/** A MongoClient stand-in: records its connection string, answers pings, and fails `find` on demand. */
class FakeClient implements MongoClientLike {
    connected = false;
    closed = false;
    /** Thrown by every find while set. */
    failure: Error | undefined;
    constructor(readonly connectionString: string) {}
    async connect(): Promise<void> {
        this.connected = true;
    }
    async close(): Promise<void> {
        this.closed = true;
    }
    db(name: string): Db {
        const rows = async () => {
            if (this.failure) throw this.failure;
            return [{ _id: 1, via: this.connectionString }];
        };
        return {
            databaseName: name,
            command: async () => ({ ok: 1 }),
            collection: () => ({ find: () => ({ sort: () => ({ toArray: rows }) }) }),
        } as unknown as Db;
    }
}

function fakeFactory() {
    const clients: FakeClient[] = [];
    return { clients, factory: async (uri: string) => clients[clients.push(new FakeClient(uri)) - 1] };
}

const things: ServiceDefinition = {
    name: "things-service",
    seed: async () => undefined,
    routes: (storage) => [
        { method: "GET", path: "/things", handler: async () => ({ status: 200, body: await storage.store("things").list() }) },
    ],
};

async function eventually(check: () => boolean, what: string, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
    }
}

/** What the agent does: write a temporary file beside the destination, then rename it over. */
function atomicWrite(file: string, content: string): void {
    const temp = path.join(path.dirname(file), `.tmp-${Math.random().toString(36).slice(2)}`);
    fs.writeFileSync(temp, content);
    fs.renameSync(temp, file);
}

describe("MongoDB credentials", () => {
    let dir: string;
    let file: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "creds-"));
        file = path.join(dir, "mongodb");
    });
    afterEach(async () => {
        await stopAll();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    const quiet = () => new Logger({}, "error", () => undefined);

    it("reads the agent's file first, MONGODB_CONNECTION_STRING while there is none, else nothing", () => {
        const source = new CredentialSource({ file, fallback: B, logger: quiet() });
        assert.equal(source.read(), B);
        fs.writeFileSync(file, `${A}\n`);
        assert.equal(source.read(), A);
        assert.equal(new CredentialSource({ file: path.join(dir, "none"), logger: quiet() }).read(), undefined);
    });

    it("reports a new value on an atomic replace and on an in-place rewrite, once each, and not on a touch", async () => {
        fs.writeFileSync(file, A);
        const source = new CredentialSource({ file, logger: quiet(), intervalMs: 20 });
        const seen: string[] = [];
        source.subscribe((v) => seen.push(v));
        source.start();
        try {
            atomicWrite(file, B);
            await eventually(() => seen.length === 2, "the replaced file");
            fs.writeFileSync(file, A);
            await eventually(() => seen.length === 3, "the rewritten file");
            const now = new Date(Date.now() + 5000);
            fs.utimesSync(file, now, now);
            await new Promise((r) => setTimeout(r, 150));
            assert.deepEqual(seen, [A, B, A]);
        } finally {
            source.stop();
        }
    });

    it("picks up a file the agent writes after start", async () => {
        const source = new CredentialSource({ file, logger: quiet(), intervalMs: 20 });
        const seen: string[] = [];
        source.subscribe((v) => seen.push(v));
        source.start();
        try {
            assert.deepEqual(seen, []);
            atomicWrite(file, A);
            await eventually(() => seen.length === 1, "the new file");
            assert.deepEqual(seen, [A]);
        } finally {
            source.stop();
        }
    });

    it("reconnects a running service with the new credentials, without a restart, and closes the old client", async () => {
        fs.writeFileSync(file, A);
        const { clients, factory } = fakeFactory();
        const { base, service } = await start(things, { env: { MONGODB_SECRET_FILE: file }, clientFactory: factory });
        await eventually(() => clients.some((c) => c.connected), "the first connection");
        assert.deepEqual(
            clients.map((c) => c.connectionString),
            [A],
        );
        assert.equal((await call(base, "GET", "/things")).body[0].via, A);

        atomicWrite(file, B);
        await eventually(() => clients.length === 2 && clients[1].connected, "the reconnect");
        await eventually(() => (service.server.listening ? true : false), "the server");
        assert.equal(clients[1].connectionString, B);
        assert.equal((await call(base, "GET", "/things")).body[0].via, B);
        assert.equal(clients[0].closed, false, "the old client drains first");
        await service.shutdown();
        assert.ok(
            clients.every((c) => c.closed),
            "shutdown closes both",
        );
    });

    it("re-reads the file when MongoDB refuses the credentials, without waiting for the next poll", async () => {
        fs.writeFileSync(file, A);
        const { clients, factory } = fakeFactory();
        const { base } = await start(things, { env: { MONGODB_SECRET_FILE: file }, clientFactory: factory, watchIntervalMs: 60_000 });
        await eventually(() => clients.some((c) => c.connected), "the first connection");
        clients[0].failure = Object.assign(new Error("Authentication failed."), { name: "MongoServerError", code: 18 });
        fs.writeFileSync(file, B);
        const answer = await call(base, "GET", "/things");
        assert.equal(answer.status, 503);
        await eventually(() => clients.length === 2 && clients[1].connected, "the reconnect");
        assert.equal(clients[1].connectionString, B);
        assert.equal((await call(base, "GET", "/things")).status, 200);
    });

    it("never logs the connection string or its password, whatever happens", async () => {
        fs.writeFileSync(file, A);
        const { clients, factory } = fakeFactory();
        const failing = async (uri: string) => {
            if (uri === B && clients.length < 3) {
                clients.push(new FakeClient(uri));
                throw new Error(`connect ECONNREFUSED for ${uri} (password Pw-B-41d2aa)`);
            }
            return factory(uri);
        };
        const { base, logs } = await start(things, { env: { MONGODB_SECRET_FILE: file, LOG_LEVEL: "debug" }, clientFactory: failing });
        await eventually(() => clients.some((c) => c.connected), "the first connection");
        clients[0].failure = Object.assign(new Error(`driver says: ${A}`), { name: "MongoError" });
        assert.equal((await call(base, "GET", "/things")).status, 500);
        atomicWrite(file, B);
        await eventually(() => clients.filter((c) => c.connectionString === B).length >= 3, "the retries and the reconnect");
        await eventually(() => clients.some((c) => c.connectionString === B && c.connected), "the reconnect");
        const all = logs.join("\n");
        assert.match(all, /cannot connect to MongoDB/);
        assert.match(all, /request failed/);
        for (const secret of [...secretsOf(A), ...secretsOf(B), "Pw-A-7f3e9c", "Pw-B-41d2aa"]) {
            assert.ok(!all.includes(secret), `logs contain ${secret.slice(0, 12)}...`);
        }
    });
});
