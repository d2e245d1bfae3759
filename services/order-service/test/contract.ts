// order-service's HTTP contract, on a real server over the given storage (in memory in `npm test`,
// MongoDB in `npm run test:mongo`).
import { strict as assert } from "assert";
import { InMemoryStorage, MAX_PAGE_LIMIT, MAX_PAGE_OFFSET } from "@aksplatform/service-common";
import { assertError, call, serviceUnderTest, start, startReady, type StorageFactory } from "../../common/test/support";
import { SEED_PRODUCTS, productService } from "../../product-service/src/products";
import { ORDERS_COLLECTION, ORDER_STATUSES, SEED_ORDERS, orderService } from "../src/orders";
import { PRODUCT_SERVICE_URL_ENV } from "../src/productCatalog";

/** What a client sends: a product and a quantity. */
const item = { productId: 2, quantity: 3 };
/** What is stored: product 2's price as product-service has it (the seeded Mouse). */
const stored = { ...item, price: SEED_PRODUCTS[1].price };

export function orderContract(factory: StorageFactory): void {
    describe(`order-service API (${factory.name})`, () => {
        // A real product-service (in memory, seeded) for every test: order-service asks it for prices.
        let products = "";
        const sut = serviceUnderTest(orderService, factory, async () => {
            products = (await startReady(productService, new InMemoryStorage())).base;
            return { [PRODUCT_SERVICE_URL_ENV]: products };
        });

        it("GET /health answers 200", async () => {
            assert.equal((await call(sut.base, "GET", "/health")).status, 200);
        });

        it("GET /api/orders lists the three seeded orders by id", async () => {
            const answer = await call(sut.base, "GET", "/api/orders");
            assert.equal(answer.status, 200);
            assert.deepEqual(
                answer.body,
                SEED_ORDERS.map((o, i) => ({ id: i + 1, ...o })),
            );
        });

        it("GET /api/orders/{id} returns one order; 404 unknown, 400 malformed", async () => {
            assert.deepEqual((await call(sut.base, "GET", "/api/orders/3")).body, { id: 3, ...SEED_ORDERS[2] });
            assertError(await call(sut.base, "GET", "/api/orders/4"), 404);
            assertError(await call(sut.base, "GET", "/api/orders/x"), 400, "id");
        });

        it("GET /api/orders/customer/{customerId} lists that customer's orders, none for another", async () => {
            const answer = await call(sut.base, "GET", "/api/orders/customer/customer-1");
            assert.equal(answer.status, 200);
            assert.deepEqual(
                answer.body.map((o: { id: number }) => o.id),
                [1, 2],
            );
            assert.deepEqual((await call(sut.base, "GET", "/api/orders/customer/nobody")).body, []);
            assert.deepEqual((await call(sut.base, "GET", `/api/orders/customer/${encodeURIComponent("a b/c")}`)).body, []);
        });

        it("POST /api/orders creates a Pending order under the next id: 201 with Location", async () => {
            const before = Date.now();
            const answer = await call(sut.base, "POST", "/api/orders", { customerId: "customer-3", items: [item] });
            assert.equal(answer.status, 201);
            const { createdAt, ...rest } = answer.body;
            assert.deepEqual(rest, { id: 4, customerId: "customer-3", items: [stored], status: "Pending" });
            assert.ok(Date.parse(createdAt) >= before - 1000, createdAt);
            assert.equal(answer.headers.get("location"), "/api/orders/4");
            assert.deepEqual((await call(sut.base, "GET", "/api/orders/customer/customer-3")).body, [answer.body]);
        });

        it("POST /api/orders rejects an invalid body with 400 naming the field, and writes nothing", async () => {
            const cases: [unknown, string | undefined][] = [
                [{ items: [item] }, "customerId"],
                [{ customerId: " ", items: [item] }, "customerId"],
                [{ customerId: "c" }, "items"],
                [{ customerId: "c", items: [] }, "items"],
                [{ customerId: "c", items: {} }, "items"],
                [{ customerId: "c", items: Array(101).fill(item) }, "items"],
                [{ customerId: "c", items: [item, "x"] }, "items[1]"],
                [{ customerId: "c", items: [{ ...item, productId: 0 }] }, "items[0].productId"],
                [{ customerId: "c", items: [{ ...item, quantity: 0 }] }, "items[0].quantity"],
                [{ customerId: "c", items: [{ ...item, quantity: 1.5 }] }, "items[0].quantity"],
                [{ customerId: "c", items: [{ ...item, price: 29.99 }] }, "items[0].price"],
                [{ customerId: "c", items: [item, { ...item, price: 0 }] }, "items[1].price"],
                [{ customerId: "c", items: [{ ...item, productId: "2" }] }, "items[0].productId"],
                [{ customerId: "c", items: [item], $where: "1" }, "$where"],
                [{ customerId: "c", items: [{ ...item, $set: { price: 0 } }] }, "items[0].$set"],
                [{ customerId: "c", items: [{ ...item, colour: "red" }] }, "items[0].colour"],
                [{ customerId: "c", items: [item], status: "Shipped" }, "status"],
                [{ customerId: "c", items: [item], id: 1 }, "id"],
            ];
            for (const [body, field] of cases) assertError(await call(sut.base, "POST", "/api/orders", body), 400, field);
            assertError(await call(sut.base, "POST", "/api/orders", "[1,"), 400);
            assertError(await call(sut.base, "POST", "/api/orders", '{"customerId":"c","items":[],"__proto__":{"x":1}}'), 400, "__proto__");
            assertError(await call(sut.base, "POST", "/api/orders", "customerId=c", "text/plain"), 415);
            assert.equal((await call(sut.base, "GET", "/api/orders")).body.length, 3);
            assert.equal((await call(sut.base, "POST", "/api/orders", { customerId: "c", items: [item] })).body.id, 4, "no id was used up");
        });

        it("POST /api/orders stores product-service's current price, whatever it was before", async () => {
            await call(products, "PUT", "/api/products/2", { name: "Mouse", price: 35.5, stock: 1 });
            const answer = await call(sut.base, "POST", "/api/orders", {
                customerId: "c",
                items: [item, { productId: 1, quantity: 1 }, { productId: 2, quantity: 1 }],
            });
            assert.equal(answer.status, 201, answer.text);
            assert.deepEqual(answer.body.items, [
                { ...item, price: 35.5 },
                { productId: 1, quantity: 1, price: SEED_PRODUCTS[0].price },
                { productId: 2, quantity: 1, price: 35.5 },
            ]);
        });

        it("POST /api/orders: an unknown product is a 422 naming the item, and nothing is written", async () => {
            const answer = await call(sut.base, "POST", "/api/orders", { customerId: "c", items: [item, { productId: 99, quantity: 1 }] });
            assertError(answer, 422, "items[1].productId");
            await call(products, "DELETE", "/api/products/2");
            assertError(await call(sut.base, "POST", "/api/orders", { customerId: "c", items: [item] }), 422, "items[0].productId");
            assert.equal((await call(sut.base, "GET", "/api/orders")).body.length, 3);
            assert.equal(
                (await call(sut.base, "POST", "/api/orders", { customerId: "c", items: [{ productId: 1, quantity: 1 }] })).body.id,
                4,
            );
        });

        it("POST /api/orders: product-service unreachable is a 503 with Retry-After after bounded retries, not a 500", async () => {
            // A port nothing listens on: product-service's pods gone.
            const closed = await start(productService, { storage: new InMemoryStorage() });
            const deadUrl = closed.base;
            await closed.service.shutdown();
            const { base, logs } = await startReady(orderService, factory.name === "in-memory" ? new InMemoryStorage() : sut.storage, {
                [PRODUCT_SERVICE_URL_ENV]: deadUrl,
            });
            const began = Date.now();
            const answer = await call(base, "POST", "/api/orders", { customerId: "c", items: [item] });
            assertError(answer, 503);
            assert.equal(answer.headers.get("retry-after"), "5");
            assert.ok(Date.now() - began < 5000, "bounded: three attempts, not a hang");
            const failed = logs.map((l) => JSON.parse(l)).find((l) => l.msg === "product-service lookup failed");
            assert.equal(failed?.attempts, 3);
        });

        it("GET lists take limit and offset, answer a JSON array and link the next page", async () => {
            for (let i = 0; i < 4; i++) await call(sut.base, "POST", "/api/orders", { customerId: "customer-1", items: [item] });
            const first = await call(sut.base, "GET", "/api/orders?limit=2");
            assert.deepEqual(
                first.body.map((o: { id: number }) => o.id),
                [1, 2],
            );
            assert.equal(first.headers.get("link"), '</api/orders?limit=2&offset=2>; rel="next"');
            const second = await call(sut.base, "GET", "/api/orders?limit=2&offset=2");
            assert.deepEqual(
                second.body.map((o: { id: number }) => o.id),
                [3, 4],
            );
            assert.equal(
                second.headers.get("link"),
                '</api/orders?limit=2&offset=4>; rel="next", </api/orders?limit=2&offset=0>; rel="prev"',
            );
            const last = await call(sut.base, "GET", "/api/orders?limit=2&offset=6");
            assert.deepEqual(
                last.body.map((o: { id: number }) => o.id),
                [7],
            );
            assert.equal(last.headers.get("link"), '</api/orders?limit=2&offset=4>; rel="prev"');
            assert.equal((await call(sut.base, "GET", "/api/orders")).headers.get("link"), null, "everything fits the default page");
            const customer = await call(sut.base, "GET", "/api/orders/customer/customer-1?limit=3&offset=1");
            assert.deepEqual(
                customer.body.map((o: { id: number }) => o.id),
                [2, 4, 5],
            );
            assert.equal(
                customer.headers.get("link"),
                '</api/orders/customer/customer-1?limit=3&offset=4>; rel="next", </api/orders/customer/customer-1?limit=3&offset=0>; rel="prev"',
            );
            assert.deepEqual((await call(sut.base, "GET", "/api/orders?offset=100")).body, []);
        });

        it("GET lists: a bad limit or offset is a 400 naming it", async () => {
            for (const q of ["limit=0", "limit=-1", `limit=${MAX_PAGE_LIMIT + 1}`, "limit=1.5", "limit=x"])
                assertError(await call(sut.base, "GET", `/api/orders?${q}`), 400, "limit");
            for (const q of ["offset=-1", `offset=${MAX_PAGE_OFFSET + 1}`, "offset=abc"])
                assertError(await call(sut.base, "GET", `/api/orders/customer/customer-1?${q}`), 400, "offset");
            assertError(await call(sut.base, "GET", "/api/orders?page=2"), 400, "page");
            // Plain decimal only: Ajv's own coercion would read 0x10 as 16 and 1e1 as 10.
            for (const q of ["limit=0x10", "limit=1e1", "limit=+5", "limit=Infinity", "limit=NaN", "limit=%2010"])
                assertError(await call(sut.base, "GET", `/api/orders?${q}`), 400, "limit");
            for (const q of ["offset=0x10", "offset=1e3", "offset=Infinity"])
                assertError(await call(sut.base, "GET", `/api/orders/customer/customer-1?${q}`), 400, "offset");
            for (const id of ["0x1", "1e0", "1.0", "+1"]) assertError(await call(sut.base, "GET", `/api/orders/${id}`), 400, "id");
        });

        it("twenty concurrent creates get twenty distinct ids from the counters collection", async () => {
            const answers = await Promise.all(
                Array.from({ length: 20 }, (_, i) => call(sut.base, "POST", "/api/orders", { customerId: `c${i}`, items: [item] })),
            );
            assert.deepEqual(
                answers.map((a) => a.status),
                Array(20).fill(201),
            );
            const ids = answers.map((a) => a.body.id as number).sort((a, b) => a - b);
            assert.deepEqual(
                ids,
                Array.from({ length: 20 }, (_, i) => i + 4),
            );
            assert.equal(await factory.counter(sut.storage, ORDERS_COLLECTION), 23);
            assert.equal((await call(sut.base, "GET", "/api/orders?limit=1000")).body.length, 23);
        });

        it("has the index {customerId: 1, _id: 1} from start-up, the listing's filter then its sort, created once however often it starts", async () => {
            // The customer listing filters on customerId and sorts by _id ascending (mongoStorage.ts list:
            // find(filter).sort({_id: 1})): equality, then sort (MongoDB manual, "The ESR Guideline").
            // Entries, not objects: an index's key order is its meaning (deepEqual ignores property order).
            const indexes = async () =>
                Object.entries(await factory.indexes(sut.storage, ORDERS_COLLECTION)).map(([name, keys]) => [name, Object.entries(keys)]);
            const expected = [
                [
                    "customerId_1__id_1",
                    [
                        ["customerId", 1],
                        ["_id", 1],
                    ],
                ],
            ];
            assert.deepEqual(await indexes(), expected);
            await sut.restart();
            await sut.restart();
            assert.deepEqual(await indexes(), expected);
        });

        it("drops the single-field customerId_1 index an earlier release created, once the new one exists", async () => {
            await factory.addIndex(sut.storage, ORDERS_COLLECTION, "customerId_1", { customerId: 1 });
            await sut.restart();
            assert.deepEqual(await factory.indexes(sut.storage, ORDERS_COLLECTION), { customerId_1__id_1: { customerId: 1, _id: 1 } });
        });

        it("serves its OpenAPI document from the same schemas that validate", async () => {
            const doc = (await call(sut.base, "GET", "/openapi.json")).body;
            assert.match(doc.openapi, /^3\./);
            const post = doc.paths["/api/orders"].post;
            const body = post.requestBody.content["application/json"].schema;
            assert.deepEqual(Object.keys(body.properties.items.items.properties), ["productId", "quantity"]);
            assert.equal(body.properties.items.items.additionalProperties, false);
            assert.equal(body.properties.items.maxItems, 100);
            const list = doc.paths["/api/orders/customer/{customerId}"].get;
            assert.deepEqual(list.parameters.map((p: { in: string; name: string }) => `${p.in}:${p.name}`).sort(), [
                "path:customerId",
                "query:limit",
                "query:offset",
            ]);
            assert.deepEqual(
                doc.paths["/api/orders/{id}/status"].put.requestBody.content["application/json"].schema.properties.status.enum,
                [...ORDER_STATUSES],
            );
        });

        it("PUT /api/orders/{id}/status sets any allowed status and returns the order", async () => {
            for (const status of ORDER_STATUSES) {
                const answer = await call(sut.base, "PUT", "/api/orders/3/status", { status });
                assert.equal(answer.status, 200);
                assert.deepEqual(answer.body, { ...SEED_ORDERS[2], id: 3, status });
            }
            assert.equal((await call(sut.base, "GET", "/api/orders/3")).body.status, "Cancelled");
        });

        it("PUT /api/orders/{id}/status: 400 for a status outside the set, 404 for an unknown order, nothing changed", async () => {
            for (const status of ["Lost", "pending", "", 3, null])
                assertError(await call(sut.base, "PUT", "/api/orders/3/status", { status }), 400, "status");
            assertError(await call(sut.base, "PUT", "/api/orders/3/status", {}), 400, "status");
            assertError(await call(sut.base, "PUT", "/api/orders/3/status", { status: "Shipped", note: "x" }), 400, "note");
            assertError(await call(sut.base, "PUT", "/api/orders/9/status", { status: "Shipped" }), 404);
            assertError(await call(sut.base, "PUT", "/api/orders/x/status", { status: "Shipped" }), 400, "id");
            assert.equal((await call(sut.base, "GET", "/api/orders/3")).body.status, "Pending");
        });

        it("DELETE /api/orders/{id} deletes: 204, then 404", async () => {
            assert.equal((await call(sut.base, "DELETE", "/api/orders/1")).status, 204);
            assertError(await call(sut.base, "GET", "/api/orders/1"), 404);
            assertError(await call(sut.base, "DELETE", "/api/orders/1"), 404);
            assert.deepEqual(
                (await call(sut.base, "GET", "/api/orders/customer/customer-1")).body.map((o: { id: number }) => o.id),
                [2],
            );
        });

        it("answers a method the path does not have with 405", async () => {
            assertError(await call(sut.base, "POST", "/api/orders/1/status", { status: "Shipped" }), 405);
            assertError(await call(sut.base, "PUT", "/api/orders/1", { status: "Shipped" }), 405);
        });

        it("seeds once: a restart with SEED_DATA=true on the same database adds nothing", async () => {
            await sut.restart();
            assert.equal((await sut.storage.store(ORDERS_COLLECTION).list()).length, 3);
            assert.equal((await call(sut.base, "POST", "/api/orders", { customerId: "c", items: [item] })).body.id, 4);
        });
    });
}
