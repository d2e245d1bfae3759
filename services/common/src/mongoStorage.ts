// The MongoDB implementation of Storage, and the connection it runs on, which switches to new
// credentials while the process keeps serving.
//
// Nothing here loads the driver at import time (types only; the client comes from a factory that
// imports it lazily): the Application Insights distro must be started before `mongodb` is first
// required, or its MongoDB instrumentation never sees the module.
import type { Db, Document, Filter, MongoClientOptions, MongoServerError } from "mongodb";
import type { Logger } from "./logger";
import { errorFields } from "./logger";
import {
    COUNTERS_COLLECTION,
    StorageUnavailableError,
    indexKeys,
    indexName,
    type Entity,
    type Fields,
    type Storage,
    type Store,
} from "./storage";

/** The lab's application database, used when the connection string names none. */
export const DEFAULT_DATABASE = "microservices";

/** What the connection needs of a MongoClient; tests inject their own. */
export interface MongoClientLike {
    connect(): Promise<unknown>;
    db(name: string): Db;
    close(): Promise<void>;
}

export type MongoClientFactory = (connectionString: string) => Promise<MongoClientLike>;

/** How long an operation waits for a reachable server before failing: readiness must answer within its probe timeout. */
const SERVER_SELECTION_TIMEOUT_MS = 2000;

/** The real driver's client, imported on first use. */
export function mongoClientFactory(appName: string): MongoClientFactory {
    const options: MongoClientOptions = { appName, serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS };
    return async (connectionString) => {
        const { MongoClient } = await import("mongodb");
        return new MongoClient(connectionString, options);
    };
}

/** The database named in the connection string's path (mongodb://host/<db>?...), else microservices. */
export function databaseName(connectionString: string): string {
    const name = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]*)/i.exec(connectionString)?.[1];
    return name ? decodeURIComponent(name) : DEFAULT_DATABASE;
}

export interface MongoConnectionOptions {
    readonly factory: MongoClientFactory;
    readonly logger: Logger;
    /** Delay before the first retry of a failed connect, doubled up to 30 s. Default: 1000 ms. */
    readonly retryMs?: number;
    /** How long a replaced client stays open for operations already running on it. Default: 10 s. */
    readonly drainMs?: number;
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * The current MongoDB client. `use(connectionString)` connects a new client and, once it is
 * connected, puts it in place of the old one, which is closed after a drain delay. A failed connect is
 * retried with backoff until it succeeds or a newer connection string supersedes it.
 */
export class MongoConnection {
    private client: MongoClientLike | undefined;
    private database: Db | undefined;
    private generation = 0;
    private closed = false;
    private readonly waiting: (() => void)[] = [];
    /** Replaced clients still open for the operations running on them. */
    private readonly retired = new Set<MongoClientLike>();

    constructor(private readonly options: MongoConnectionOptions) {}

    get connected(): boolean {
        return this.database !== undefined;
    }

    /** Resolves once a client is connected (now, if one is). */
    whenConnected(): Promise<void> {
        return this.connected ? Promise.resolve() : new Promise((resolve) => this.waiting.push(resolve));
    }

    /** The current database; StorageUnavailableError before the first successful connect. */
    db(): Db {
        if (!this.database) throw new StorageUnavailableError("not connected to MongoDB yet");
        return this.database;
    }

    /** Switches to `connectionString`; resolves when connected or superseded (never rejects). */
    async use(connectionString: string): Promise<void> {
        const generation = ++this.generation;
        const current = () => generation === this.generation && !this.closed;
        const { logger } = this.options;
        const name = databaseName(connectionString);
        let delay = this.options.retryMs ?? 1000;
        for (let attempt = 1; current(); attempt++) {
            let client: MongoClientLike | undefined;
            try {
                client = await this.options.factory(connectionString);
                await client.connect();
                if (!current()) {
                    await client.close();
                    return;
                }
                const previous = this.client;
                this.client = client;
                this.database = client.db(name);
                logger.info("connected to MongoDB", { database: name, attempt });
                if (previous) this.retire(previous);
                this.waiting.splice(0).forEach((resolve) => resolve());
                return;
            } catch (error) {
                logger.warn("cannot connect to MongoDB; retrying", { attempt, retryInMs: delay, ...errorFields(error) });
                await client?.close().catch(() => undefined);
                await sleep(delay);
                delay = Math.min(delay * 2, 30_000);
            }
        }
    }

    /** Stops retrying and closes every client. */
    async close(): Promise<void> {
        this.closed = true;
        const client = this.client;
        this.client = undefined;
        this.database = undefined;
        const clients = [...(client ? [client] : []), ...this.retired];
        this.retired.clear();
        await Promise.all(clients.map((c) => c.close()));
    }

    private retire(client: MongoClientLike): void {
        this.retired.add(client);
        setTimeout(() => {
            if (!this.retired.delete(client)) return;
            client
                .close()
                .catch((error: unknown) => this.options.logger.warn("closing the previous MongoDB client failed", errorFields(error)));
        }, this.options.drainMs ?? 10_000).unref();
    }
}

// Driver errors that mean "the database is not there for us now", by class name (the driver is not
// loaded at import time, so no instanceof).
const UNAVAILABLE = new Set([
    "MongoServerSelectionError",
    "MongoNetworkError",
    "MongoNetworkTimeoutError",
    "MongoTopologyClosedError",
    "MongoNotConnectedError",
    "MongoPoolClearedError",
]);
// AuthenticationFailed (a new connection with revoked or wrong credentials) and Unauthorized (a pooled
// connection whose user Vault has dropped).
const CREDENTIAL_CODES = new Set([18, 13]);

function causes(error: unknown): unknown[] {
    const chain: unknown[] = [];
    for (let e = error; e instanceof Error && chain.length < 5; e = (e as Error & { cause?: unknown }).cause) chain.push(e);
    return chain;
}

/** True when MongoDB refused the credentials, anywhere in the error's cause chain. */
export function isCredentialError(error: unknown): boolean {
    return causes(error).some((e) => CREDENTIAL_CODES.has((e as { code?: unknown }).code as number));
}

function isUnavailable(error: unknown): boolean {
    return causes(error).some((e) => UNAVAILABLE.has((e as Error).name));
}

type StoredDoc = Document & { _id: number };

function toEntity<T extends Entity>(doc: StoredDoc): T {
    const { _id, ...fields } = doc;
    return { id: _id, ...fields } as unknown as T;
}

export interface MongoStorageOptions {
    /** Called when MongoDB refuses the credentials: re-read them, the agent may have rotated them. */
    readonly onCredentialError?: () => void;
}

/** Storage in MongoDB: a record's id is its _id; ids come from `counters` ({_id: <collection>, seq}). */
export class MongoStorage implements Storage {
    constructor(
        private readonly connection: MongoConnection,
        private readonly options: MongoStorageOptions = {},
    ) {}

    store<T extends Entity>(name: string): Store<T> {
        const collection = (db: Db) => db.collection<StoredDoc>(name);
        const byId = (id: number): Filter<StoredDoc> => ({ _id: id });
        return {
            list: (filter = {}, page) =>
                this.run(async (db) => {
                    let cursor = collection(db).find(filter).sort({ _id: 1 });
                    if (page) cursor = cursor.skip(page.offset).limit(page.limit);
                    return (await cursor.toArray()).map((d) => toEntity<T>(d));
                }),
            get: (id) =>
                this.run(async (db) => {
                    const doc = await collection(db).findOne(byId(id));
                    return doc ? toEntity<T>(doc) : undefined;
                }),
            create: (fields) =>
                this.run(async (db) => {
                    const id = await this.nextId(db, name);
                    await collection(db).insertOne({ ...(fields as Document), _id: id });
                    return { id, ...fields } as unknown as T;
                }),
            update: (id, changes) =>
                this.run(async (db) => {
                    if (Object.keys(changes).length === 0) {
                        const doc = await collection(db).findOne(byId(id));
                        return doc ? toEntity<T>(doc) : undefined;
                    }
                    const doc = await collection(db).findOneAndUpdate(
                        byId(id),
                        { $set: changes as Partial<StoredDoc> },
                        { returnDocument: "after" },
                    );
                    return doc ? toEntity<T>(doc) : undefined;
                }),
            remove: (id) => this.run(async (db) => (await collection(db).deleteOne(byId(id))).deletedCount === 1),
            seed: (records) => this.run((db) => this.seed(db, name, records)),
            // createIndex is a no-op when an index of the same keys and options exists (MongoDB manual,
            // db.collection.createIndex: "If you call db.collection.createIndex() for an index that already
            // exists, MongoDB does not recreate the index"), so every replica may call it at every start.
            ensureIndex: (fields) =>
                this.run(async (db) => {
                    const keys = indexKeys(fields);
                    await collection(db).createIndex(keys, { name: indexName(keys) });
                }),
            // Two replicas may drop at once: the second finds none (IndexNotFound, code 27, MongoDB
            // manual, Error Codes), which is the state it wanted. A missing collection is code 26.
            dropIndex: (name) =>
                this.run(async (db) => {
                    try {
                        await collection(db).dropIndex(name);
                        return true;
                    } catch (error) {
                        if ((error as MongoServerError).code === 27 || (error as MongoServerError).code === 26) return false;
                        throw error;
                    }
                }),
        };
    }

    async ping(): Promise<void> {
        await this.run((db) => db.command({ ping: 1 }));
    }

    async close(): Promise<void> {
        await this.connection.close();
    }

    private async seed<T extends Entity>(db: Db, name: string, records: readonly Fields<T>[]): Promise<number> {
        const collection = db.collection<StoredDoc>(name);
        if ((await collection.countDocuments({}, { limit: 1 })) > 0 || records.length === 0) return 0;
        // Upserts of fixed ids: a second replica seeding at the same moment rewrites nothing.
        const result = await collection.bulkWrite(
            records.map((fields, i) => ({
                updateOne: { filter: { _id: i + 1 }, update: { $setOnInsert: fields as Partial<StoredDoc> }, upsert: true },
            })),
        );
        await db
            .collection<{ _id: string; seq: number }>(COUNTERS_COLLECTION)
            .updateOne({ _id: name }, { $max: { seq: records.length } }, { upsert: true });
        return result.upsertedCount;
    }

    /**
     * The next id of `name`: one atomic $inc on its counter document, so concurrent creates (in one
     * process or many) each get their own. The first creates race to upsert the counter; MongoDB
     * retries an upsert that failed with a duplicate key on the _id equality match itself (since 4.2,
     * manual "Upsert with Duplicate Values"), and this retries once more for older or sharded set-ups.
     */
    private async nextId(db: Db, name: string): Promise<number> {
        const counters = db.collection<{ _id: string; seq: number }>(COUNTERS_COLLECTION);
        for (let attempt = 1; ; attempt++) {
            try {
                const counter = await counters.findOneAndUpdate(
                    { _id: name },
                    { $inc: { seq: 1 } },
                    { upsert: true, returnDocument: "after" },
                );
                if (!counter) throw new Error(`counter ${name} was not returned`);
                return counter.seq;
            } catch (error) {
                if ((error as { code?: unknown }).code !== 11000 || attempt >= 3) throw error;
            }
        }
    }

    private async run<R>(operation: (db: Db) => Promise<R>): Promise<R> {
        const db = this.connection.db();
        try {
            return await operation(db);
        } catch (error) {
            if (isCredentialError(error)) {
                this.options.onCredentialError?.();
                throw new StorageUnavailableError("MongoDB refused the credentials", { cause: error });
            }
            if (isUnavailable(error)) throw new StorageUnavailableError("MongoDB is unreachable", { cause: error });
            throw error;
        }
    }
}
