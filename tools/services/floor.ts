// The benchmark's floor: a minimal Fastify server answering GET /api/products and POST /api/orders
// with fixed JSON of the same shape and size as the services' answers (no schema, validation, storage,
// logging or product-service call). PORT from the environment; listens on 127.0.0.1 only.
import Fastify from "fastify";
import { SEED_PRODUCTS } from "../../services/product-service/src/products";

const products = SEED_PRODUCTS.map((p, i) => ({ id: i + 1, ...p }));
const order = {
    id: 4,
    customerId: "bench",
    items: [{ productId: 1, quantity: 2, price: SEED_PRODUCTS[0].price }],
    status: "Pending",
    createdAt: new Date(0).toISOString(),
};

const app = Fastify();
app.get("/api/products", async () => products);
app.post("/api/orders", async (_req, reply) => reply.code(201).header("location", "/api/orders/4").send(order));
app.get("/health/ready", async () => ({ status: "Healthy" }));
app.listen({ port: Number(process.env.PORT), host: "127.0.0.1" }).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
