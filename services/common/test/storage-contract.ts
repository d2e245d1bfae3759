// The semantics every Storage implementation must have, run against the in-memory one in `npm test`
// and against MongoDB in `npm run test:mongo`.
import { strict as assert } from "assert";
import type { Storage } from "@aksplatform/service-common";
import type { StorageFactory } from "./support";

interface Thing {
    readonly id: number;
    readonly name: string;
    readonly owner: string;
    readonly parts?: readonly { readonly n: number }[];
}

const SEEDS = [
    { name: "a", owner: "x" },
    { name: "b", owner: "y" },
    { name: "c", owner: "x" },
];

export function storageContract(factory: StorageFactory): void {
    describe(`Storage contract (${factory.name})`, () => {
        let storage: Storage;
        beforeEach(async () => {
            storage = await factory.create();
        });
        afterEach(() => factory.dispose());

        it("creates records under increasing ids from the collection's counter and reads them back", async () => {
            const things = storage.store<Thing>("things");
            const first = await things.create({ name: "one", owner: "x", parts: [{ n: 1 }] });
            const second = await things.create({ name: "two", owner: "y" });
            assert.deepEqual(first, { id: 1, name: "one", owner: "x", parts: [{ n: 1 }] });
            assert.equal(second.id, 2);
            assert.deepEqual(await things.get(1), first);
            assert.equal(await things.get(99), undefined);
            assert.deepEqual(
                (await things.list()).map((t) => t.id),
                [1, 2],
            );
        });

        it("keeps one counter per collection", async () => {
            await storage.store<Thing>("things").create({ name: "t", owner: "x" });
            const other = await storage.store<Thing>("others").create({ name: "o", owner: "x" });
            assert.equal(other.id, 1);
        });

        it("lists by equality filter in id order, and never hands out a record a caller can change", async () => {
            const things = storage.store<Thing>("things");
            for (const s of SEEDS) await things.create(s);
            assert.deepEqual(
                (await things.list({ owner: "x" })).map((t) => t.name),
                ["a", "c"],
            );
            assert.deepEqual(await things.list({ owner: "nobody" }), []);
            const got = (await things.get(1)) as { name: string };
            got.name = "changed";
            assert.equal((await things.get(1))?.name, "a");
        });

        it("updates only the given fields, and reports an unknown id", async () => {
            const things = storage.store<Thing>("things");
            await things.create({ name: "a", owner: "x" });
            assert.deepEqual(await things.update(1, { name: "z" }), { id: 1, name: "z", owner: "x" });
            assert.deepEqual(await things.update(1, {}), { id: 1, name: "z", owner: "x" });
            assert.equal(await things.update(2, { name: "z" }), undefined);
            assert.deepEqual(await things.list(), [{ id: 1, name: "z", owner: "x" }]);
        });

        it("removes a record once; ids are not reused", async () => {
            const things = storage.store<Thing>("things");
            await things.create({ name: "a", owner: "x" });
            assert.equal(await things.remove(1), true);
            assert.equal(await things.remove(1), false);
            assert.equal(await things.get(1), undefined);
            assert.equal((await things.create({ name: "b", owner: "x" })).id, 2);
        });

        it("seeds an empty collection once: a second seed changes nothing and the counter follows the seeds", async () => {
            const things = storage.store<Thing>("things");
            assert.equal(await things.seed(SEEDS), 3);
            assert.equal(await things.seed(SEEDS), 0);
            const listed = await things.list();
            assert.deepEqual(
                listed.map((t) => [t.id, t.name]),
                [
                    [1, "a"],
                    [2, "b"],
                    [3, "c"],
                ],
            );
            assert.equal((await things.create({ name: "d", owner: "z" })).id, 4);
            assert.equal((await things.list()).length, 4);
        });

        it("seeds concurrently as if once (two replicas starting together)", async () => {
            const things = storage.store<Thing>("things");
            await Promise.all([things.seed(SEEDS), things.seed(SEEDS)]);
            assert.equal((await things.list()).length, 3);
            assert.equal((await things.create({ name: "d", owner: "z" })).id, 4);
        });

        it("does not seed a collection that has records, nor move its counter back", async () => {
            const things = storage.store<Thing>("things");
            for (let i = 0; i < 5; i++) await things.create({ name: `n${i}`, owner: "x" });
            assert.equal(await things.seed(SEEDS), 0);
            assert.equal((await things.list()).length, 5);
            assert.equal((await things.create({ name: "next", owner: "x" })).id, 6);
        });

        it("keeps each collection's last id in the shared counters collection", async () => {
            const things = storage.store<Thing>("things");
            await things.seed(SEEDS);
            assert.equal(await factory.counter(storage, "things"), 3);
            await things.create({ name: "d", owner: "x" });
            assert.equal(await factory.counter(storage, "things"), 4);
            assert.equal(await factory.counter(storage, "others"), 0);
        });

        it("answers a ping while the database is there", async () => {
            await storage.ping();
        });
    });
}
