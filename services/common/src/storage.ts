// The storage layer the HTTP handlers see. MongoDB implements it (mongoStorage.ts); the in-memory
// implementation below has the same semantics and drives the HTTP contract tests.

/** A stored record: a whole-number id, assigned from the `counters` collection. */
export interface Entity {
    readonly id: number;
}

/** A record without its id: what create and seed take. */
export type Fields<T extends Entity> = Omit<T, "id">;

/** One collection of records of type T. */
export interface Store<T extends Entity> {
    /** The records matching `filter` (equality on each given field), by ascending id; all of them without `page`. */
    list(filter?: Partial<Fields<T>>, page?: PageRequest): Promise<T[]>;
    get(id: number): Promise<T | undefined>;
    /** Inserts a record under the collection's next id. */
    create(fields: Fields<T>): Promise<T>;
    /** Sets the given fields of record `id`; undefined when there is none. */
    update(id: number, changes: Partial<Fields<T>>): Promise<T | undefined>;
    /** Deletes record `id`; false when there was none. */
    remove(id: number): Promise<boolean>;
    /**
     * Seeds an empty collection with `records` as ids 1..n and moves the counter to at least n; does
     * nothing when the collection has any record. Two replicas seeding at once write the same ids, so
     * the result is the same as one seeding. Returns how many records this call inserted.
     */
    seed(records: readonly Fields<T>[]): Promise<number>;
    /**
     * Creates the index that serves `list(filter)` on these fields: each field ascending, then `_id`
     * ascending, the order every list is sorted in (equality fields first, then the sort: MongoDB's
     * ESR guideline, so the database reads a page in index order instead of sorting the matches). Named
     * as MongoDB names it by default (`indexName`). Does nothing when it exists: safe at every start-up.
     */
    ensureIndex(fields: readonly (keyof Fields<T> & string)[]): Promise<void>;
    /** Drops the index `name` (one an older release created); false when there was none. */
    dropIndex(name: string): Promise<boolean>;
}

/** Which slice of a list: skip `offset` records, then at most `limit`. */
export interface PageRequest {
    readonly limit: number;
    readonly offset: number;
}

/** The database: one Store per collection, a health check, and closing. */
export interface Storage {
    store<T extends Entity>(collection: string): Store<T>;
    /** Resolves when the database answers; rejects (StorageUnavailableError) when it does not. */
    ping(): Promise<void>;
    close(): Promise<void>;
}

/** The database cannot be reached (or refused our credentials): clients get a 503, not a 500. */
export class StorageUnavailableError extends Error {
    constructor(message: string, options?: { cause?: unknown }) {
        super(message, options);
        this.name = "StorageUnavailableError";
    }
}

/** The keys of the index ensureIndex(fields) creates: each field ascending, then `_id` ascending. */
export function indexKeys(fields: readonly string[]): Record<string, 1> {
    return Object.fromEntries([...fields, "_id"].map((f) => [f, 1]));
}

/** MongoDB's default index name for `keys`: each `<field>_<direction>`, joined by `_` (e.g. customerId_1__id_1). */
export function indexName(keys: Readonly<Record<string, number>>): string {
    return Object.entries(keys)
        .map(([field, direction]) => `${field}_${direction}`)
        .join("_");
}

/** Name of the collection holding every collection's id sequence, shared by both services. */
export const COUNTERS_COLLECTION = "counters";

function matches(record: object, filter: object): boolean {
    return Object.entries(filter).every(([key, value]) => (record as Record<string, unknown>)[key] === value);
}

/** Storage in process memory, with the MongoDB implementation's semantics: the tests, and STORAGE=memory. */
export class InMemoryStorage implements Storage {
    private readonly collections = new Map<string, Map<number, Entity>>();
    private readonly counters = new Map<string, number>();
    /** Indexes per collection, name to keys (nothing is faster for it: it records what was asked, for tests). */
    readonly indexes = new Map<string, Map<string, Record<string, number>>>();
    private closed = false;
    /** When set, every operation fails as if the database were down. */
    unavailable = false;

    store<T extends Entity>(collection: string): Store<T> {
        const records = () => {
            this.check();
            let map = this.collections.get(collection);
            if (!map) this.collections.set(collection, (map = new Map()));
            return map as Map<number, T>;
        };
        const copy = (record: T | undefined): T | undefined => (record ? structuredClone(record) : undefined);
        return {
            list: async (filter = {}, page) => {
                const all = [...records().values()].filter((r) => matches(r, filter)).sort((a, b) => a.id - b.id);
                const slice = page ? all.slice(page.offset, page.offset + page.limit) : all;
                return slice.map((r) => structuredClone(r));
            },
            get: async (id) => copy(records().get(id)),
            create: async (fields) => {
                const map = records();
                const id = this.next(collection);
                const record = { id, ...structuredClone(fields) } as unknown as T;
                map.set(id, record);
                return structuredClone(record);
            },
            update: async (id, changes) => {
                const map = records();
                const existing = map.get(id);
                if (!existing) return undefined;
                const updated = { ...existing, ...structuredClone(changes), id };
                map.set(id, updated);
                return structuredClone(updated);
            },
            remove: async (id) => records().delete(id),
            seed: async (seeds) => {
                const map = records();
                if (map.size > 0) return 0;
                seeds.forEach((fields, i) => map.set(i + 1, { id: i + 1, ...structuredClone(fields) } as unknown as T));
                this.counters.set(collection, Math.max(this.counters.get(collection) ?? 0, seeds.length));
                return seeds.length;
            },
            ensureIndex: async (fields) => {
                records();
                const keys = indexKeys(fields);
                const indexes = this.indexes.get(collection) ?? new Map<string, Record<string, number>>();
                this.indexes.set(collection, indexes.set(indexName(keys), keys));
            },
            dropIndex: async (name) => {
                records();
                return this.indexes.get(collection)?.delete(name) ?? false;
            },
        };
    }

    /** The counter of `collection`: the last id handed out. */
    counter(collection: string): number {
        return this.counters.get(collection) ?? 0;
    }

    async ping(): Promise<void> {
        this.check();
    }

    async close(): Promise<void> {
        this.closed = true;
    }

    get isClosed(): boolean {
        return this.closed;
    }

    private next(collection: string): number {
        const id = (this.counters.get(collection) ?? 0) + 1;
        this.counters.set(collection, id);
        return id;
    }

    private check(): void {
        if (this.closed) throw new StorageUnavailableError("storage is closed");
        if (this.unavailable) throw new StorageUnavailableError("database unreachable");
    }
}
