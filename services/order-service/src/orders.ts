// order-service: the lab's order API over the `orders` collection. A new order's items name a product
// and a quantity; the price of each comes from product-service, never from the client.
import { Type, type Static } from "typebox";
import {
    Closed,
    ErrorAnswer,
    Id,
    IdParams,
    PageQuery,
    Text,
    resource,
    type Fields,
    type ServiceDefinition,
} from "@aksplatform/service-common";
import { pricesOf, productLookup, productServiceUrl, type PricingOptions, type ProductLookup } from "./productCatalog";

/** The statuses an order can have; a new order is Pending. */
export const ORDER_STATUSES = ["Pending", "Processing", "Shipped", "Delivered", "Cancelled"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const ORDERS_COLLECTION = "orders";
export const MAX_ITEMS = 100;
export const MAX_CUSTOMER_ID = 100;
/** The equality fields of the customer listing's index (the store appends `_id`, the listing's sort). */
export const CUSTOMER_INDEX_FIELDS = ["customerId"] as const;
/** Indexes earlier releases created that the customer index makes redundant. */
export const SUPERSEDED_INDEXES: readonly string[] = ["customerId_1"];

const Quantity = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: "Units ordered, 1 or more" });
const CustomerId = Text(MAX_CUSTOMER_ID, `The customer, at most ${MAX_CUSTOMER_ID} characters (trimmed)`);
const Status = Type.Unsafe<OrderStatus>({ type: "string", enum: [...ORDER_STATUSES], description: `One of ${ORDER_STATUSES.join(", ")}` });

/** What a client sends for an item: the product and how many. No price: product-service's is stored. */
export const OrderItemBody = Type.Object({ productId: Id, quantity: Quantity }, Closed);
export const OrderBody = Type.Object(
    { customerId: CustomerId, items: Type.Array(OrderItemBody, { minItems: 1, maxItems: MAX_ITEMS }) },
    Closed,
);
export const StatusBody = Type.Object({ status: Status }, Closed);
export const CustomerParams = Type.Object({ customerId: CustomerId }, Closed);

const OrderItemRecord = Type.Object({
    productId: Id,
    quantity: Quantity,
    price: Type.Number({ minimum: 0, description: "Unit price when the order was made, from product-service" }),
});
export type OrderItem = Static<typeof OrderItemRecord>;
export const OrderRecord = Type.Object({
    id: Id,
    customerId: Type.String(),
    items: Type.Array(OrderItemRecord),
    status: Status,
    createdAt: Type.String({ format: "date-time", description: "When the order was made (ISO 8601, UTC)" }),
});
export type Order = Static<typeof OrderRecord>;

/** The lab's three sample orders (of the seeded products 1-4), seeded into an empty collection. */
export const SEED_ORDERS: readonly Fields<Order>[] = [
    {
        customerId: "customer-1",
        items: [
            { productId: 1, quantity: 1, price: 999.99 },
            { productId: 2, quantity: 2, price: 29.99 },
        ],
        status: "Delivered",
        createdAt: "2024-01-15T10:00:00.000Z",
    },
    {
        customerId: "customer-1",
        items: [{ productId: 4, quantity: 1, price: 299.99 }],
        status: "Shipped",
        createdAt: "2024-02-01T09:30:00.000Z",
    },
    {
        customerId: "customer-2",
        items: [{ productId: 3, quantity: 1, price: 79.99 }],
        status: "Pending",
        createdAt: "2024-02-10T14:45:00.000Z",
    },
];

/** A new order from a validated body, priced by `lookup` (within the pricing deadline); Pending, created now. */
export async function newOrder(
    body: unknown,
    lookup: ProductLookup,
    pricing: PricingOptions = {},
    now: () => Date = () => new Date(),
): Promise<Fields<Order>> {
    const b = body as Static<typeof OrderBody>;
    const prices = await pricesOf(
        lookup,
        b.items.map((i) => i.productId),
        pricing,
    );
    return {
        customerId: b.customerId.trim(),
        items: b.items.map((i) => ({ productId: i.productId, quantity: i.quantity, price: prices.get(i.productId) as number })),
        status: "Pending",
        createdAt: now().toISOString(),
    };
}

export const orderService: ServiceDefinition = {
    name: "order-service",
    description: "The lab's orders; each item priced by product-service",
    routes: (storage, { env, logger }) => {
        const lookup = productLookup({ baseUrl: productServiceUrl(env), logger });
        const store = storage.store<Order>(ORDERS_COLLECTION);
        const orders = resource(store, {
            path: "/api/orders",
            label: "Order",
            record: OrderRecord,
            createBody: OrderBody,
            parse: (body) => newOrder(body, lookup, { logger }),
        });
        return [
            ...orders.routes,
            {
                method: "GET",
                path: "/api/orders/customer/{customerId}",
                schema: {
                    summary: "A customer's orders by id, a page at a time",
                    tags: ["Order"],
                    params: CustomerParams,
                    querystring: PageQuery,
                    response: { 200: Type.Array(OrderRecord), 400: ErrorAnswer },
                },
                handler: (req) => orders.listReply(req, { customerId: (req.params.customerId as string).trim() }),
            },
            {
                method: "PUT",
                path: "/api/orders/{id}/status",
                schema: {
                    summary: "Set an order's status",
                    tags: ["Order"],
                    params: IdParams,
                    body: StatusBody,
                    response: { 200: OrderRecord, 400: ErrorAnswer, 404: ErrorAnswer },
                },
                handler: async (req) => {
                    const { status } = req.body as Static<typeof StatusBody>;
                    return { status: 200, body: await orders.update(req.params.id as number, { status }) };
                },
            },
        ];
    },
    // Customers' orders are listed by customerId, a page at a time by id: {customerId: 1, _id: 1} finds a
    // customer's orders already in page order (an index on customerId alone would leave MongoDB to sort
    // every match before skipping). The single-field index an earlier release made is a prefix of it,
    // so it is only extra work on every write: dropped once the new one exists.
    prepare: async (storage) => {
        const orders = storage.store<Order>(ORDERS_COLLECTION);
        await orders.ensureIndex(CUSTOMER_INDEX_FIELDS);
        for (const name of SUPERSEDED_INDEXES) await orders.dropIndex(name);
    },
    seed: async (storage) => {
        await storage.store<Order>(ORDERS_COLLECTION).seed(SEED_ORDERS);
    },
};
