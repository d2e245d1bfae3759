// `npm run services:memory`: both services on this machine with no database (STORAGE=memory, seeded):
// product-service on 127.0.0.1:8081, order-service on 127.0.0.1:8082 calling it. Ctrl-C stops both.
// Ports: PRODUCT_PORT and ORDER_PORT. Nothing is kept: every record is gone when they stop.
import { ENTRIES, startProcess, stopAll, waitFor } from "./processes";

async function main(): Promise<void> {
    const productPort = process.env.PRODUCT_PORT ?? "8081";
    const orderPort = process.env.ORDER_PORT ?? "8082";
    const common = { STORAGE: "memory", HOST: "127.0.0.1" };
    const products = startProcess(ENTRIES["product-service"], { ...common, PORT: productPort }, "inherit");
    const orders = startProcess(
        ENTRIES["order-service"],
        { ...common, PORT: orderPort, PRODUCT_SERVICE_URL: `http://127.0.0.1:${productPort}` },
        "inherit",
    );
    const children = [products, orders];
    let stopping = false;
    const stop = () => {
        if (stopping) return;
        stopping = true;
        void stopAll(children).then(() => process.exit(0));
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    for (const child of children)
        child.once("exit", (code) => !stopping && (console.error(`a service exited (${code}); stopping`), stop()));
    await waitFor(`http://127.0.0.1:${productPort}/health/ready`, products);
    await waitFor(`http://127.0.0.1:${orderPort}/health/ready`, orders);
    console.error(
        [
            "",
            `product-service: http://127.0.0.1:${productPort}/api/products   (OpenAPI: /openapi.json)`,
            `order-service:   http://127.0.0.1:${orderPort}/api/orders`,
            `try: curl -s -X POST http://127.0.0.1:${orderPort}/api/orders -H 'content-type: application/json' -d '{"customerId":"me","items":[{"productId":1,"quantity":2}]}'`,
            "In memory only: nothing is kept. Ctrl-C stops both.",
            "",
        ].join("\n"),
    );
}

main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
