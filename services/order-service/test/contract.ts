// order-service's HTTP contract, on a real server over the given storage (in memory in `npm test`,
// MongoDB in `npm run test:mongo`).
import { strict as assert } from "assert";
import { assertError, call, serviceUnderTest, type StorageFactory } from "../../common/test/support";
import { ORDERS_COLLECTION, ORDER_STATUSES, SEED_ORDERS, orderService } from "../src/orders";

const item = { productId: 2, quantity: 3, price: 29.99 };

export function orderContract(factory: StorageFactory): void {
    describe(`order-service API (${factory.name})`, () => {
        const sut = serviceUnderTest(orderService, factory);

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
            assert.deepEqual(rest, { id: 4, customerId: "customer-3", items: [item], status: "Pending" });
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
                [{ customerId: "c", items: [{ ...item, price: -1 }] }, "items[0].price"],
                [{ customerId: "c", items: [{ ...item, colour: "red" }] }, "items[0].colour"],
                [{ customerId: "c", items: [item], status: "Shipped" }, "status"],
                [{ customerId: "c", items: [item], id: 1 }, "id"],
            ];
            for (const [body, field] of cases) assertError(await call(sut.base, "POST", "/api/orders", body), 400, field);
            assertError(await call(sut.base, "POST", "/api/orders", "[1,"), 400);
            assert.equal((await call(sut.base, "GET", "/api/orders")).body.length, 3);
            assert.equal((await call(sut.base, "POST", "/api/orders", { customerId: "c", items: [item] })).body.id, 4, "no id was used up");
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
