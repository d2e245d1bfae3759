// How order-service prices a large order against product-service: a few lookups at a time, and one
// deadline for the whole order that stays inside what the ingress gateway gives a POST. The product
// service here is a stand-in HTTP server that counts the lookups in flight and answers late or never.
import { strict as assert } from "assert";
import * as http from "http";
import type { AddressInfo } from "net";
import {
    GATEWAY_TIMEOUT_MS,
    InMemoryStorage,
    Logger,
    ORDER_PRICING_DEADLINE_MS,
    PRODUCT_LOOKUP,
    PRODUCT_LOOKUP_CONCURRENCY,
    UpstreamUnavailableError,
} from "@aksplatform/service-common";
import { assertError, call, startReady, stopAll } from "../../common/test/support";
import { MAX_ITEMS, orderService } from "../src/orders";
import { PRODUCT_SERVICE_URL_ENV, pricesOf, productLookup } from "../src/productCatalog";

/** A product-service stand-in: GET /api/products/{id} answers {id, price: id} after `delayMs`. */
async function fakeProductService(delayMs: number) {
    const stats = { inFlight: 0, maxInFlight: 0, requests: 0 };
    const sockets = new Set<import("net").Socket>();
    const server = http.createServer((req, res) => {
        stats.requests++;
        stats.inFlight++;
        stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
        const done = () => stats.inFlight--;
        res.on("close", done);
        const id = Number(req.url?.split("/").pop());
        setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id, price: id })), delayMs);
    });
    server.on("connection", (s) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const close = async () => {
        for (const s of sockets) s.destroy();
        await new Promise((resolve) => server.close(resolve));
    };
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stats, close };
}

/** An order naming MAX_ITEMS distinct products. */
const largeOrder = { customerId: "big", items: Array.from({ length: MAX_ITEMS }, (_, i) => ({ productId: i + 1, quantity: 1 })) };

describe("order-service: pricing a large order against product-service", () => {
    const fakes: { close(): Promise<void> }[] = [];
    afterEach(async () => {
        await stopAll();
        await Promise.all(fakes.splice(0).map((f) => f.close()));
    });

    it("looks up a 100-product order a few at a time, never all at once, and prices every item", async () => {
        const products = await fakeProductService(20);
        fakes.push(products);
        const { base } = await startReady(orderService, new InMemoryStorage(), { [PRODUCT_SERVICE_URL_ENV]: products.url });
        const answer = await call(base, "POST", "/api/orders", largeOrder);
        assert.equal(answer.status, 201, answer.text);
        assert.deepEqual(
            answer.body.items.map((i: { price: number }) => i.price),
            largeOrder.items.map((i) => i.productId),
        );
        assert.equal(products.stats.requests, MAX_ITEMS, "each product once");
        // Bounded: a small pool (the review asked for one; 100 at once would exceed product-service's
        // DestinationRule pool of 50 pending requests), and a pool indeed (more than one at a time).
        assert.ok(products.stats.maxInFlight <= 10, `at most a small pool in flight, saw ${products.stats.maxInFlight}`);
        assert.ok(products.stats.maxInFlight > 1, `lookups run side by side, saw ${products.stats.maxInFlight}`);
        assert.equal(products.stats.maxInFlight, PRODUCT_LOOKUP_CONCURRENCY);
    });

    it("answers 503 by the pricing deadline when product-service answers slowly, well inside the gateway's timeout", async function () {
        this.timeout(ORDER_PRICING_DEADLINE_MS + 10_000);
        // Each answer just inside one attempt's timeout: no attempt fails, but 100 of them, a pool at a
        // time, would take far longer than the order may.
        const products = await fakeProductService(PRODUCT_LOOKUP.attemptTimeoutMs - 100);
        fakes.push(products);
        const { base, logs } = await startReady(orderService, new InMemoryStorage(), { [PRODUCT_SERVICE_URL_ENV]: products.url });
        const began = Date.now();
        const answer = await call(base, "POST", "/api/orders", largeOrder);
        const took = Date.now() - began;
        assertError(answer, 503);
        assert.equal(answer.headers.get("retry-after"), "5");
        // Without one deadline per order, 100 products at 0.9 s, 8 at a time, would take 12 s (and with
        // every attempt timing out, 100 x 3.3 s / 8, about 40 s): the gateway (GATEWAY_TIMEOUT_MS) would give up first, answer 504,
        // and the client could not know whether the order was made.
        assert.ok(took >= ORDER_PRICING_DEADLINE_MS - 100, `waited for the deadline: ${took} ms`);
        assert.ok(took < ORDER_PRICING_DEADLINE_MS + 1500, `and no longer: ${took} ms`);
        assert.ok(took < GATEWAY_TIMEOUT_MS / 2, `inside the gateway's timeout with room for the write: ${took} ms`);
        assert.ok(products.stats.maxInFlight <= PRODUCT_LOOKUP_CONCURRENCY);
        assert.equal((await call(base, "GET", "/api/orders/customer/big")).body.length, 0, "nothing written");
        assert.ok(logs.some((l) => JSON.parse(l).msg === "pricing the order ran out of time"));
    });

    it("stops the other lookups once one fails: one warning, not one per product", async () => {
        const logs: string[] = [];
        const logger = new Logger({}, "warn", (line) => logs.push(line));
        let started = 0;
        const lookup = productLookup({ baseUrl: "http://127.0.0.1:1", logger, attempts: 1, timeoutMs: 200 });
        const counted = (id: number, signal: AbortSignal) => {
            started++;
            return lookup(id, signal);
        };
        await assert.rejects(
            pricesOf(
                counted,
                largeOrder.items.map((i) => i.productId),
                { logger },
            ),
            UpstreamUnavailableError,
        );
        assert.ok(started <= 2 * PRODUCT_LOOKUP_CONCURRENCY, `stopped early: ${started} lookups started`);
        assert.ok(logs.filter((l) => l.includes("product-service lookup failed")).length <= PRODUCT_LOOKUP_CONCURRENCY);
    });
});
