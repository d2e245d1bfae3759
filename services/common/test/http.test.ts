// The router's error contract, on a real server: 404, 405, 415, 413, bad JSON, 500 and 503.
import { strict as assert } from "assert";
import { Type } from "typebox";
import {
    Closed,
    HttpError,
    InMemoryStorage,
    MAX_BODY_BYTES,
    MAX_PAGE_LIMIT,
    MAX_PAGE_OFFSET,
    OPENAPI_PATH,
    PageQuery,
    pageLinks,
    parameterValidator,
    StorageUnavailableError,
    UpstreamUnavailableError,
    type ServiceDefinition,
} from "@aksplatform/service-common";
import { assertError, call, start, stopAll } from "./support";

const probe: ServiceDefinition = {
    name: "probe-service",
    seed: async () => undefined,
    routes: () => [
        { method: "GET", path: "/boom", handler: () => Promise.reject(new Error("secret internals at line 42")) },
        {
            method: "GET",
            path: "/down",
            handler: () => {
                throw new StorageUnavailableError("MongoDB is unreachable");
            },
        },
        {
            method: "GET",
            path: "/teapot",
            handler: () => {
                throw new HttpError(418, "short and stout", "spout");
            },
        },
        {
            method: "GET",
            path: "/upstream",
            handler: () => {
                throw new UpstreamUnavailableError("product-service is unavailable");
            },
        },
        {
            method: "POST",
            path: "/echo/{name}",
            schema: {
                body: Type.Object(
                    {
                        a: Type.Optional(Type.Number()),
                        big: Type.Optional(Type.String()),
                        list: Type.Optional(Type.Array(Type.Object({ n: Type.Integer() }, Closed))),
                    },
                    Closed,
                ),
                querystring: Type.Object({ n: Type.Optional(Type.Integer({ minimum: 1 })), x: Type.Optional(Type.Number()) }, Closed),
            },
            handler: (req) => ({ status: 200, body: { name: req.params.name, body: req.body, query: req.query } }),
        },
        { method: "GET", path: "/items/special", handler: () => ({ status: 200, body: "literal" }) },
        { method: "GET", path: "/items/{id}", handler: (req) => ({ status: 200, body: `param ${req.params.id}` }) },
    ],
};

describe("HTTP router", () => {
    afterEach(stopAll);

    it("answers an unknown path with a JSON 404", async () => {
        const { base } = await start(probe, { storage: new InMemoryStorage() });
        assertError(await call(base, "GET", "/nowhere"), 404);
    });

    it("answers a wrong method with 405 and the allowed ones", async () => {
        const { base } = await start(probe, { storage: new InMemoryStorage() });
        const answer = await call(base, "DELETE", "/boom");
        assertError(answer, 405);
        assert.equal(answer.headers.get("allow"), "GET");
    });

    it("prefers a literal segment to a parameter, and decodes parameters", async () => {
        const { base } = await start(probe, { storage: new InMemoryStorage() });
        assert.equal((await call(base, "GET", "/items/special")).body, "literal");
        assert.equal((await call(base, "GET", "/items/a%20b")).body, "param a b");
        assert.equal((await call(base, "GET", "/items/special/")).body, "literal");
    });

    it("parses a JSON body, and rejects a missing, malformed, non-JSON or oversized one", async () => {
        const { base } = await start(probe, { storage: new InMemoryStorage() });
        assert.deepEqual((await call(base, "POST", "/echo/x", { a: 1 })).body, { name: "x", body: { a: 1 }, query: {} });
        assertError(await call(base, "POST", "/echo/x"), 415);
        assertError(await call(base, "POST", "/echo/x", ""), 400);
        assertError(await call(base, "POST", "/echo/x", "{not json"), 400);
        assertError(await call(base, "POST", "/echo/x", "a=1", "application/x-www-form-urlencoded"), 415);
        assertError(await call(base, "POST", "/echo/x", JSON.stringify({ big: "x".repeat(MAX_BODY_BYTES) })), 413);
    });

    it("names the field at fault from the schema: nested, unknown, $-prefixed, __proto__, query", async () => {
        const { base } = await start(probe, { storage: new InMemoryStorage() });
        assertError(await call(base, "POST", "/echo/x", { a: "1" }), 400, "a");
        assertError(await call(base, "POST", "/echo/x", { list: [{ n: 1 }, { n: 1.5 }] }), 400, "list[1].n");
        assertError(await call(base, "POST", "/echo/x", { list: [{ n: 1, m: 2 }] }), 400, "list[0].m");
        assertError(await call(base, "POST", "/echo/x", { list: [{}] }), 400, "list[0].n");
        assertError(await call(base, "POST", "/echo/x", { $where: "sleep(1000)" }), 400, "$where");
        assertError(await call(base, "POST", "/echo/x", '{"__proto__":{"polluted":true}}'), 400, "__proto__");
        assertError(await call(base, "POST", "/echo/x", [1]), 400);
        assert.equal(({} as { polluted?: boolean }).polluted, undefined);
        assert.deepEqual((await call(base, "POST", "/echo/x?n=3", { a: 1 })).body.query, { n: 3 }, "query parameters converted");
        assertError(await call(base, "POST", "/echo/x?n=0", { a: 1 }), 400, "n");
        assertError(await call(base, "POST", "/echo/x?m=1", { a: 1 }), 400, "m");
    });

    it("rejects a non-finite number in a body: 1e309 (JSON.parse makes it Infinity), -1e309, NaN, Infinity", async () => {
        // JSON has no Infinity or NaN (RFC 8259 section 6); 1e309 is valid JSON that overflows a double.
        // Ajv with strictNumbers rejects Infinity and NaN as numbers (ajv docs, options: strictNumbers).
        const { base } = await start(probe, { storage: new InMemoryStorage() });
        assert.equal((await call(base, "POST", "/echo/x", '{"a": 1e308}')).status, 200, "the largest finite order of magnitude passes");
        for (const text of ['{"a": 1e309}', '{"a": -1e309}', '{"list": [{"n": 1e309}]}'])
            assertError(await call(base, "POST", "/echo/x", text), 400, text.includes("list") ? "list[0].n" : "a");
        for (const text of ['{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}'])
            assertError(await call(base, "POST", "/echo/x", text), 400);
    });

    it("takes path and query numbers in plain decimal only: no hex, exponent, sign, blanks, Infinity or NaN", async () => {
        const { base } = await start(probe, { storage: new InMemoryStorage() });
        assert.deepEqual((await call(base, "POST", "/echo/x?n=16&x=-2.5", { a: 1 })).body.query, { n: 16, x: -2.5 });
        assert.deepEqual((await call(base, "POST", "/echo/x?n=007", { a: 1 })).body.query, { n: 7 }, "leading zeros are still decimal");
        for (const n of ["0x10", "1e1", "+5", "%205", "5%20", "1.0", "Infinity", "NaN", "", "0b1", "1_000"])
            assertError(await call(base, "POST", `/echo/x?n=${n}`, { a: 1 }), 400, "n");
        for (const x of ["0x10", "1e3", "Infinity", "-Infinity", "NaN", ".5", "1."])
            assertError(await call(base, "POST", `/echo/x?x=${x}`, { a: 1 }), 400, "x");
        assertError(await call(base, "POST", "/echo/x?n=1&n=2", { a: 1 }), 400, "n");
    });

    it("answers an unreachable upstream service with 503 and Retry-After", async () => {
        const { base } = await start(probe, { storage: new InMemoryStorage() });
        const answer = await call(base, "GET", "/upstream");
        assertError(answer, 503);
        assert.equal(answer.headers.get("retry-after"), "5");
    });

    it("serves an OpenAPI 3 document at /openapi.json", async () => {
        const { base } = await start(probe, { storage: new InMemoryStorage() });
        const doc = (await call(base, "GET", OPENAPI_PATH)).body;
        assert.match(doc.openapi, /^3\./);
        assert.equal(doc.paths["/echo/{name}"].post.requestBody.content["application/json"].schema.additionalProperties, false);
    });

    it("hides an unexpected error behind a bare 500 and logs it with its stack", async () => {
        const { base, logs } = await start(probe, { storage: new InMemoryStorage() });
        const answer = await call(base, "GET", "/boom");
        assertError(answer, 500);
        assert.deepEqual(answer.body, { error: "Internal server error" });
        const logged = logs.map((l) => JSON.parse(l)).find((l) => l.msg === "request failed");
        assert.equal(logged.level, "error");
        assert.match(logged.error.stack, /secret internals/);
    });

    it("answers a database outage with 503 and Retry-After", async () => {
        const { base } = await start(probe, { storage: new InMemoryStorage() });
        const answer = await call(base, "GET", "/down");
        assertError(answer, 503);
        assert.equal(answer.headers.get("retry-after"), "5");
    });

    it("passes a client error's status, message and field through", async () => {
        const { base } = await start(probe, { storage: new InMemoryStorage() });
        const answer = await call(base, "GET", "/teapot");
        assertError(answer, 418, "spout");
        assert.equal(answer.body.error, "short and stout");
    });

    it("logs every request as one JSON line with method, path, status and duration", async () => {
        const { base, logs } = await start(probe, { storage: new InMemoryStorage() });
        await call(base, "GET", "/items/7");
        const line = logs.map((l) => JSON.parse(l)).find((l) => l.msg === "request" && l.path === "/items/7");
        assert.equal(line.service, "probe-service");
        assert.equal(line.method, "GET");
        assert.equal(line.status, 200);
        assert.equal(typeof line.durationMs, "number");
        assert.ok(!Number.isNaN(Date.parse(line.time)));
    });
});

describe("paging links", () => {
    const path = "/api/things";
    it("links the next page only when its offset is one the query accepts (at most MAX_PAGE_OFFSET)", () => {
        assert.equal(pageLinks(path, { limit: 100, offset: 0 }, true), `<${path}?limit=100&offset=100>; rel="next"`);
        assert.equal(pageLinks(path, { limit: 100, offset: 0 }, false), undefined);
        // The last page that may still link on: its next offset is exactly the maximum.
        assert.match(pageLinks(path, { limit: 100, offset: MAX_PAGE_OFFSET - 100 }, true) ?? "", /offset=1000000>; rel="next"/);
        // Past it, a `next` link would answer 400 (PageQuery's offset maximum): only `prev`.
        for (const page of [
            { limit: 100, offset: MAX_PAGE_OFFSET - 99 },
            { limit: 1000, offset: MAX_PAGE_OFFSET },
        ])
            assert.equal(pageLinks(path, page, true), `<${path}?limit=${page.limit}&offset=${page.offset - page.limit}>; rel="prev"`);
    });

    it("every link it gives is a query PageQuery accepts", () => {
        const valid = parameterValidator(PageQuery);
        for (const offset of [0, 5, MAX_PAGE_OFFSET - 1000, MAX_PAGE_OFFSET - 1, MAX_PAGE_OFFSET])
            for (const limit of [1, 100, MAX_PAGE_LIMIT]) {
                for (const [, query] of (pageLinks(path, { limit, offset }, true) ?? "").matchAll(/\?([^>]*)>/g)) {
                    const data = Object.fromEntries(new URLSearchParams(query));
                    assert.ok(valid(data), `${query}: ${JSON.stringify(valid.errors)}`);
                }
            }
    });
});
