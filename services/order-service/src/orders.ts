// order-service: the lab's order API over the `orders` collection.
import {
    idParam,
    integer,
    jsonObject,
    list,
    number,
    oneOf,
    resource,
    text,
    type Fields,
    type ServiceDefinition,
} from "@aksplatform/service-common";

/** The statuses an order can have; a new order is Pending. */
export const ORDER_STATUSES = ["Pending", "Processing", "Shipped", "Delivered", "Cancelled"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface OrderItem {
    readonly productId: number;
    readonly quantity: number;
    /** Unit price at the time of the order. */
    readonly price: number;
}

export interface Order {
    readonly id: number;
    readonly customerId: string;
    readonly items: readonly OrderItem[];
    readonly status: OrderStatus;
    /** When the order was created (ISO 8601, UTC). */
    readonly createdAt: string;
}

export const ORDERS_COLLECTION = "orders";
const MAX_ITEMS = 100;
const MAX_CUSTOMER_ID = 100;

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

function orderItem(value: unknown, where: string): OrderItem {
    const item = jsonObject(value, ["productId", "quantity", "price"], where);
    return {
        productId: integer(item, "productId", 1, `${where}.productId`),
        quantity: integer(item, "quantity", 1, `${where}.quantity`),
        price: number(item, "price", 0, `${where}.price`),
    };
}

/** A new order from a request body: customerId and items; the status starts Pending. */
export function newOrder(value: unknown, now: Date = new Date()): Fields<Order> {
    const body = jsonObject(value, ["customerId", "items"]);
    return {
        customerId: text(body, "customerId", MAX_CUSTOMER_ID),
        items: list(body, "items", MAX_ITEMS, orderItem),
        status: "Pending",
        createdAt: now.toISOString(),
    };
}

export const orderService: ServiceDefinition = {
    name: "order-service",
    routes: (storage) => {
        const store = storage.store<Order>(ORDERS_COLLECTION);
        const orders = resource(store, { path: "/api/orders", label: "Order", parse: (body) => newOrder(body) });
        return [
            ...orders.routes,
            {
                method: "GET",
                path: "/api/orders/customer/{customerId}",
                handler: async (req) => ({
                    status: 200,
                    body: await store.list({ customerId: text(req.params, "customerId", MAX_CUSTOMER_ID) }),
                }),
            },
            {
                method: "PUT",
                path: "/api/orders/{id}/status",
                handler: async (req) => {
                    const id = idParam(req.params);
                    const status = oneOf(jsonObject(await req.json(), ["status"]), "status", ORDER_STATUSES);
                    return { status: 200, body: await orders.update(id, { status }) };
                },
            },
        ];
    },
    seed: async (storage) => {
        await storage.store<Order>(ORDERS_COLLECTION).seed(SEED_ORDERS);
    },
};
