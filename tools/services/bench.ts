// `npm run bench:services`: requests per second and p99 latency of GET /api/products and POST
// /api/orders (which asks product-service for each product), both services in memory mode, measured
// with autocannon on loopback; and, in the same run and the same way, a minimal Fastify server
// answering the same JSON (tools/services/floor.ts). Each service figure is printed as a ratio to that
// floor. Bounded: BENCH_SECONDS per case (default 5), BENCH_CONNECTIONS (default 10); 127.0.0.1 only.
import autocannon from "autocannon";
import * as os from "os";
import { ENTRIES, freePort, startProcess, stopAll, waitFor } from "./processes";

interface Figures {
    readonly rps: number;
    readonly p99: number;
    readonly errors: number;
}

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const ORDER = JSON.stringify({ customerId: "bench", items: [{ productId: 1, quantity: 2 }] });

async function measure(url: string, method: "GET" | "POST", expected: number): Promise<Figures> {
    const post = method === "POST" ? { body: ORDER, headers: { "content-type": "application/json" } } : {};
    // A short warm-up (JIT, connection pools), then the measured run.
    await autocannon({ url, method, connections: CONNECTIONS, duration: 1, ...post });
    const result = await autocannon({ url, method, connections: CONNECTIONS, duration: SECONDS, ...post });
    const wrong = result.non2xx + result.errors + result.timeouts;
    if (expected && result.requests.total === 0) throw new Error(`${method} ${url}: no request answered`);
    return { rps: result.requests.average, p99: result.latency.p99, errors: wrong };
}

async function main(): Promise<void> {
    if (!Number.isFinite(SECONDS) || SECONDS < 1 || SECONDS > 60) throw new Error("BENCH_SECONDS: between 1 and 60");
    const [productPort, orderPort, floorPort] = [await freePort(), await freePort(), await freePort()];
    const memory = { STORAGE: "memory", HOST: "127.0.0.1" };
    const products = startProcess(ENTRIES["product-service"], { ...memory, PORT: String(productPort) }, "ignore");
    const orders = startProcess(
        ENTRIES["order-service"],
        { ...memory, PORT: String(orderPort), PRODUCT_SERVICE_URL: `http://127.0.0.1:${productPort}` },
        "ignore",
    );
    const floor = startProcess("tools/services/floor.ts", { PORT: String(floorPort) }, "ignore");
    const children = [products, orders, floor];
    try {
        await waitFor(`http://127.0.0.1:${productPort}/health/ready`, products);
        await waitFor(`http://127.0.0.1:${orderPort}/health/ready`, orders);
        await waitFor(`http://127.0.0.1:${floorPort}/health/ready`, floor);

        const cases = [
            { name: "GET /api/products", method: "GET" as const, path: "/api/products", port: productPort },
            { name: "POST /api/orders", method: "POST" as const, path: "/api/orders", port: orderPort },
        ];
        console.log(
            `node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), load average ${os
                .loadavg()
                .map((l) => l.toFixed(1))
                .join(" ")}, ${CONNECTIONS} connections, ${SECONDS} s per case, loopback`,
        );
        console.log("case                 service req/s  p99 ms | floor req/s  p99 ms | req/s ratio  p99 ratio");
        for (const c of cases) {
            const service = await measure(`http://127.0.0.1:${c.port}${c.path}`, c.method, 1);
            const base = await measure(`http://127.0.0.1:${floorPort}${c.path}`, c.method, 1);
            if (service.errors > 0) console.log(`  (${service.errors} non-2xx or failed requests on the service)`);
            console.log(
                `${c.name.padEnd(20)} ${service.rps.toFixed(0).padStart(13)} ${String(service.p99).padStart(7)} | ${base.rps
                    .toFixed(0)
                    .padStart(11)} ${String(base.p99).padStart(7)} | ${(service.rps / base.rps).toFixed(2).padStart(11)} ${(
                    service.p99 / Math.max(base.p99, 1)
                )
                    .toFixed(2)
                    .padStart(10)}`,
            );
        }
    } finally {
        await stopAll(children);
    }
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
