// Test support shared by the services' tests: a running service on 127.0.0.1, an HTTP client, the
// log lines it wrote, and storage factories (in memory here; real MongoDB in the *.mongo-test.ts runs).
import { strict as assert } from "assert";
import {
    COUNTERS_COLLECTION,
    InMemoryStorage,
    MongoConnection,
    MongoStorage,
    mongoClientFactory,
    Logger,
    startService,
    type RunningService,
    type ServiceDefinition,
    type StartOptions,
    type Storage,
} from "@aksplatform/service-common";

export interface Started {
    readonly service: RunningService;
    readonly base: string;
    /** Every log line the service wrote, as text. */
    readonly logs: string[];
}

/** Starts `definition` on 127.0.0.1 and a free port; stop it with stopAll() (mocha afterEach). */
export async function start(definition: ServiceDefinition, options: StartOptions = {}): Promise<Started> {
    const logs: string[] = [];
    const service = await startService(definition, {
        host: "127.0.0.1",
        retryMs: 20,
        watchIntervalMs: 20,
        logSink: (line) => logs.push(line),
        ...options,
        env: { PORT: "0", ...options.env },
    });
    running.push(service);
    return { service, base: `http://127.0.0.1:${service.port}`, logs };
}

const running: RunningService[] = [];

/** Starts `definition` over `storage` with SEED_DATA=true (and `env`) and resolves once it is ready (seeded). */
export async function startReady(definition: ServiceDefinition, storage: Storage, env: NodeJS.ProcessEnv = {}): Promise<Started> {
    const started = await start(definition, { storage: unclosable(storage), env: { SEED_DATA: "true", ...env } });
    for (let i = 0; (await call(started.base, "GET", "/health/ready")).status !== 200; i++) {
        if (i > 200) throw new Error(`${definition.name} did not become ready`);
        await new Promise((r) => setTimeout(r, 10));
    }
    return started;
}

/** The same database behind a storage that a service's shutdown does not close (it outlives a restart). */
export function unclosable(storage: Storage): Storage {
    return { store: storage.store.bind(storage), ping: () => storage.ping(), close: async () => undefined };
}

export async function stopAll(): Promise<void> {
    await Promise.all(running.splice(0).map((s) => s.shutdown()));
}

export interface Answer {
    readonly status: number;
    readonly body: any;
    readonly text: string;
    readonly headers: Headers;
}

/** One HTTP request; a `body` object is sent as JSON, a string as is (with `contentType`). */
export async function call(base: string, method: string, path: string, body?: unknown, contentType = "application/json"): Promise<Answer> {
    const init: RequestInit = { method };
    if (body !== undefined) {
        init.body = typeof body === "string" ? body : JSON.stringify(body);
        init.headers = { "content-type": contentType };
    }
    const res = await fetch(base + path, init);
    const text = await res.text();
    return { status: res.status, text, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** Asserts a JSON error answer: its status, the field it names (if any), and no stack trace. */
export function assertError(answer: Answer, status: number, field?: string): void {
    assert.equal(answer.status, status, answer.text);
    assert.equal(typeof answer.body?.error, "string", answer.text);
    assert.equal(answer.body.field, field, answer.text);
    assert.ok(!/\bat .*\(.*:\d+:\d+\)/.test(answer.text), `no stack trace: ${answer.text}`);
    assert.match(answer.headers.get("content-type") ?? "", /^application\/json/);
}

/** Makes a fresh, empty storage and knows how to dispose of it. */
export interface StorageFactory {
    readonly name: string;
    create(): Promise<Storage>;
    dispose(): Promise<void>;
    /** The last id `collection` handed out, read from where the implementation keeps it. */
    counter(storage: Storage, collection: string): Promise<number>;
    /** The indexes of `collection` but the `_id_` one, name to keys, read from the implementation. */
    indexes(storage: Storage, collection: string): Promise<Record<string, Record<string, number>>>;
    /** Creates an index as an older release would have (`keys` under `name`), bypassing the Store API. */
    addIndex(storage: Storage, collection: string, name: string, keys: Record<string, number>): Promise<void>;
}

export function memoryStorage(): StorageFactory {
    return {
        name: "in-memory",
        create: async () => new InMemoryStorage(),
        dispose: async () => undefined,
        counter: async (storage, collection) => (storage as InMemoryStorage).counter(collection),
        indexes: async (storage, collection) => Object.fromEntries((storage as InMemoryStorage).indexes.get(collection) ?? []),
        addIndex: async (storage, collection, name, keys) => {
            const memory = storage as InMemoryStorage;
            memory.indexes.set(collection, (memory.indexes.get(collection) ?? new Map()).set(name, keys));
        },
    };
}

/** MONGODB_TEST_URL, or a failure: the MongoDB run must never pass by skipping. */
export function mongoTestUrl(): string {
    const url = process.env.MONGODB_TEST_URL;
    if (!url) throw new Error("MONGODB_TEST_URL is not set: the MongoDB tests need a server (e.g. mongodb://127.0.0.1:27017)");
    return url;
}

/** `url` with its database path replaced by `database`. */
export function withDatabase(url: string, database: string): string {
    const match = /^(mongodb(?:\+srv)?:\/\/[^/?]*)(?:\/[^?]*)?(\?.*)?$/i.exec(url);
    if (!match) throw new Error("MONGODB_TEST_URL is not a mongodb:// connection string");
    return `${match[1]}/${database}${match[2] ?? ""}`;
}

/** Real MongoDB storage, each create() on a new database of MONGODB_TEST_URL's server, dropped on dispose. */
export function mongoStorage(): StorageFactory {
    const opened: { storage: MongoStorage; connection: MongoConnection }[] = [];
    let n = 0;
    return {
        name: "MongoDB",
        create: async () => {
            const url = withDatabase(mongoTestUrl(), `svc_test_${process.pid}_${Date.now()}_${n++}`);
            const connection = new MongoConnection({
                factory: mongoClientFactory("tests"),
                logger: new Logger({}, "error", () => undefined),
            });
            const connected = connection.use(url);
            const timeout = new Promise((_, reject) =>
                setTimeout(() => reject(new Error("no MongoDB at MONGODB_TEST_URL within 20 s")), 20_000).unref(),
            );
            await Promise.race([connected, timeout]).catch(async (error: unknown) => {
                await connection.close();
                throw error;
            });
            const storage = new MongoStorage(connection);
            opened.push({ storage, connection });
            return storage;
        },
        indexes: async (storage, collection) => {
            const entry = opened.find((o) => o.storage === storage);
            if (!entry) throw new Error("not a storage of this factory");
            // listIndexes, as the server reports them: one entry per index, `key` its fields in order.
            const indexes = await entry.connection.db().collection(collection).indexes();
            return Object.fromEntries(
                indexes.filter((i) => i.name !== "_id_").map((i) => [i.name as string, { ...i.key } as Record<string, number>]),
            );
        },
        addIndex: async (storage, collection, name, keys) => {
            const entry = opened.find((o) => o.storage === storage);
            if (!entry) throw new Error("not a storage of this factory");
            await entry.connection.db().collection(collection).createIndex(keys, { name });
        },
        counter: async (storage, collection) => {
            const entry = opened.find((o) => o.storage === storage);
            if (!entry) throw new Error("not a storage of this factory");
            const doc = await entry.connection
                .db()
                .collection<{ _id: string; seq: number }>(COUNTERS_COLLECTION)
                .findOne({ _id: collection });
            return doc?.seq ?? 0;
        },
        dispose: async () => {
            for (const { storage, connection } of opened.splice(0)) {
                await connection.db().dropDatabase();
                await storage.close();
            }
        },
    };
}

/** A service under test, fresh for each test: started ready over a new storage, stopped and disposed after. */
export interface ServiceUnderTest {
    readonly base: string;
    readonly storage: Storage;
    /** Stops the service and starts it again over the same database. */
    restart(): Promise<void>;
}

/**
 * Registers mocha hooks that run `definition` over `factory`'s storage around every test of the suite.
 * `env`, called before each start, gives extra environment (order-service: PRODUCT_SERVICE_URL).
 */
export function serviceUnderTest(
    definition: ServiceDefinition,
    factory: StorageFactory,
    env: () => Promise<NodeJS.ProcessEnv> = async () => ({}),
): ServiceUnderTest {
    let base = "";
    let storage: Storage | undefined;
    let extra: NodeJS.ProcessEnv = {};
    beforeEach(async () => {
        storage = await factory.create();
        extra = await env();
        ({ base } = await startReady(definition, storage, extra));
    });
    afterEach(async () => {
        await stopAll();
        await factory.dispose();
    });
    return {
        get base() {
            return base;
        },
        get storage() {
            if (!storage) throw new Error("no storage outside a test");
            return storage;
        },
        async restart() {
            await stopAll();
            extra = await env();
            ({ base } = await startReady(definition, this.storage, extra));
        },
    };
}
