// product-service's HTTP contract, on a real server over the given storage (in memory in `npm test`,
// MongoDB in `npm run test:mongo`).
import { strict as assert } from "assert";
import { assertError, call, serviceUnderTest, type StorageFactory } from "../../common/test/support";
import { PRODUCTS_COLLECTION, SEED_PRODUCTS, productService } from "../src/products";

export function productContract(factory: StorageFactory): void {
    describe(`product-service API (${factory.name})`, () => {
        const sut = serviceUnderTest(productService, factory);

        const laptop = { id: 1, name: "Laptop", price: 999.99, stock: 50 };

        it("GET /health answers 200", async () => {
            const answer = await call(sut.base, "GET", "/health");
            assert.equal(answer.status, 200);
            assert.deepEqual(answer.body, { status: "Healthy" });
        });

        it("GET /api/products lists the four seeded products by id", async () => {
            const answer = await call(sut.base, "GET", "/api/products");
            assert.equal(answer.status, 200);
            assert.deepEqual(
                answer.body,
                SEED_PRODUCTS.map((p, i) => ({ id: i + 1, ...p })),
            );
            assert.deepEqual(
                answer.body.map((p: { name: string }) => p.name),
                ["Laptop", "Mouse", "Keyboard", "Monitor"],
            );
        });

        it("GET /api/products/{id} returns one product; 404 for an unknown id, 400 for a malformed one", async () => {
            assert.deepEqual((await call(sut.base, "GET", "/api/products/1")).body, laptop);
            assertError(await call(sut.base, "GET", "/api/products/99"), 404);
            for (const bad of ["abc", "0", "-1", "1.5", "99999999999999999999"])
                assertError(await call(sut.base, "GET", `/api/products/${bad}`), 400, "id");
        });

        it("POST /api/products creates a product under the next id: 201 with Location", async () => {
            const answer = await call(sut.base, "POST", "/api/products", { name: "  Webcam ", price: 49.5, stock: 0 });
            assert.equal(answer.status, 201);
            assert.deepEqual(answer.body, { id: 5, name: "Webcam", price: 49.5, stock: 0 });
            assert.equal(answer.headers.get("location"), "/api/products/5");
            assert.deepEqual((await call(sut.base, "GET", "/api/products/5")).body, answer.body);
        });

        it("POST /api/products rejects an invalid body with 400 naming the field, and writes nothing", async () => {
            const cases: [unknown, string | undefined][] = [
                [{ price: 1, stock: 1 }, "name"],
                [{ name: "", price: 1, stock: 1 }, "name"],
                [{ name: 7, price: 1, stock: 1 }, "name"],
                [{ name: "x".repeat(201), price: 1, stock: 1 }, "name"],
                [{ name: "x", stock: 1 }, "price"],
                [{ name: "x", price: -0.01, stock: 1 }, "price"],
                [{ name: "x", price: "1", stock: 1 }, "price"],
                [{ name: "x", price: 1 }, "stock"],
                [{ name: "x", price: 1, stock: 1.5 }, "stock"],
                [{ name: "x", price: 1, stock: -1 }, "stock"],
                [{ name: "x", price: 1, stock: 1, colour: "red" }, "colour"],
                [{ id: 9, name: "x", price: 1, stock: 1 }, "id"],
                [{ name: "x", price: 1, stock: 1, $inc: { stock: 1 } }, "$inc"],
                [{ name: { $ne: null }, price: 1, stock: 1 }, "name"],
                [[{ name: "x", price: 1, stock: 1 }], undefined],
                ["null", undefined],
            ];
            for (const [body, field] of cases) assertError(await call(sut.base, "POST", "/api/products", body), 400, field);
            assertError(await call(sut.base, "POST", "/api/products", "{"), 400);
            assertError(
                await call(sut.base, "POST", "/api/products", '{"name":"x","price":1,"stock":1,"__proto__":{"admin":true}}'),
                400,
                "__proto__",
            );
            assertError(
                await call(sut.base, "POST", "/api/products", JSON.stringify({ name: "x".repeat(1024 * 1024), price: 1, stock: 1 })),
                413,
            );
            assertError(await call(sut.base, "POST", "/api/products", "name=x", "text/plain"), 415);
            assert.equal((await call(sut.base, "GET", "/api/products")).body.length, 4);
            assert.equal(
                (await call(sut.base, "POST", "/api/products", { name: "x", price: 1, stock: 1 })).body.id,
                5,
                "no id was used up",
            );
        });

        it("POST and PUT /api/products: a price or stock that is not a finite number is a 400 (1e309 parses to Infinity)", async () => {
            for (const price of ["1e309", "-1e309", "NaN", "Infinity"]) {
                const body = `{"name":"x","price":${price},"stock":1}`;
                const field = price.includes("e309") ? "price" : undefined;
                assertError(await call(sut.base, "POST", "/api/products", body), 400, field);
                assertError(await call(sut.base, "PUT", "/api/products/1", body), 400, field);
            }
            assertError(await call(sut.base, "POST", "/api/products", '{"name":"x","price":1,"stock":1e309}'), 400, "stock");
            assert.equal((await call(sut.base, "GET", "/api/products")).body.length, 4);
            assert.deepEqual((await call(sut.base, "GET", "/api/products/1")).body, laptop);
        });

        it("PUT /api/products/{id} replaces the product; the body may repeat the URL's id", async () => {
            const answer = await call(sut.base, "PUT", "/api/products/2", { id: 2, name: "Mouse Pro", price: 39.99, stock: 10 });
            assert.equal(answer.status, 200);
            assert.deepEqual(answer.body, { id: 2, name: "Mouse Pro", price: 39.99, stock: 10 });
            assert.deepEqual((await call(sut.base, "GET", "/api/products/2")).body, answer.body);
            assert.equal((await call(sut.base, "PUT", "/api/products/2", { name: "Mouse", price: 1, stock: 1 })).status, 200);
        });

        it("PUT /api/products/{id}: 404 for an unknown id, 400 for an invalid body or another id, nothing changed", async () => {
            assertError(await call(sut.base, "PUT", "/api/products/99", { name: "x", price: 1, stock: 1 }), 404);
            assertError(await call(sut.base, "PUT", "/api/products/1", { name: "x", price: 1 }), 400, "stock");
            assertError(await call(sut.base, "PUT", "/api/products/1", { id: 2, name: "x", price: 1, stock: 1 }), 400, "id");
            assertError(await call(sut.base, "PUT", "/api/products/x", { name: "x", price: 1, stock: 1 }), 400, "id");
            assert.deepEqual((await call(sut.base, "GET", "/api/products/1")).body, laptop);
            assert.equal((await call(sut.base, "GET", "/api/products/99")).status, 404, "PUT does not create");
        });

        it("DELETE /api/products/{id} deletes: 204, then 404", async () => {
            const answer = await call(sut.base, "DELETE", "/api/products/3");
            assert.equal(answer.status, 204);
            assert.equal(answer.text, "");
            assertError(await call(sut.base, "GET", "/api/products/3"), 404);
            assertError(await call(sut.base, "DELETE", "/api/products/3"), 404);
            assertError(await call(sut.base, "DELETE", "/api/products/nope"), 400, "id");
            assert.equal((await call(sut.base, "GET", "/api/products")).body.length, 3);
        });

        it("GET /api/products pages with limit and offset and links the next page", async () => {
            const page = await call(sut.base, "GET", "/api/products?limit=3");
            assert.deepEqual(
                page.body.map((p: { id: number }) => p.id),
                [1, 2, 3],
            );
            assert.equal(page.headers.get("link"), '</api/products?limit=3&offset=3>; rel="next"');
            const rest = await call(sut.base, "GET", "/api/products?limit=3&offset=3");
            assert.deepEqual(rest.body, [{ id: 4, ...SEED_PRODUCTS[3] }]);
            assert.equal(rest.headers.get("link"), '</api/products?limit=3&offset=0>; rel="prev"');
            assertError(await call(sut.base, "GET", "/api/products?limit=0"), 400, "limit");
            assertError(await call(sut.base, "GET", "/api/products?offset=-3"), 400, "offset");
        });

        it("serves /openapi.json, whose schemas are the ones that validate", async () => {
            const answer = await call(sut.base, "GET", "/openapi.json");
            assert.equal(answer.status, 200);
            const doc = answer.body;
            assert.equal(doc.info.title, "product-service");
            assert.deepEqual(Object.keys(doc.paths).sort(), ["/api/products", "/api/products/{id}", "/health", "/health/ready"]);
            const body = doc.paths["/api/products"].post.requestBody.content["application/json"].schema;
            assert.deepEqual(body.required, ["name", "price", "stock"]);
            assert.equal(body.additionalProperties, false);
            assert.equal(body.properties.name.maxLength, 200);
            assert.equal(body.properties.price.minimum, 0);
            const get = doc.paths["/api/products/{id}"].get;
            assert.deepEqual(
                get.parameters.map((p: { in: string; name: string }) => `${p.in}:${p.name}`),
                ["path:id"],
            );
            assert.ok(get.responses["404"], "the 404 answer is described");
        });

        it("answers a method the path does not have with 405", async () => {
            assertError(await call(sut.base, "PATCH", "/api/products/1", { stock: 1 }), 405);
            assertError(await call(sut.base, "DELETE", "/api/products"), 405);
        });

        it("seeds once: a restart with SEED_DATA=true on the same database adds nothing", async () => {
            await sut.restart();
            assert.equal((await sut.storage.store(PRODUCTS_COLLECTION).list()).length, 4);
            assert.equal((await call(sut.base, "POST", "/api/products", { name: "x", price: 1, stock: 1 })).body.id, 5);
        });
    });
}
