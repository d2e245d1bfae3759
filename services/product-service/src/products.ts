// product-service: the lab's product catalog API over the `products` collection.
import { Type, type Static } from "typebox";
import {
    Closed,
    ErrorAnswer,
    Id,
    IdParams,
    Text,
    resource,
    sameIdOrAbsent,
    type Fields,
    type ServiceDefinition,
} from "@aksplatform/service-common";

export const PRODUCTS_COLLECTION = "products";
/** Longest product name (trimmed). */
export const MAX_NAME = 200;

/** A product's fields as a client sends them on POST and PUT: every one required. */
const fields = {
    name: Text(MAX_NAME, `The product's name, at most ${MAX_NAME} characters (trimmed)`),
    price: Type.Number({ minimum: 0, description: "Unit price, 0 or more" }),
    stock: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "Units in stock, a whole number, 0 or more" }),
};
export const ProductBody = Type.Object(fields, Closed);
/** PUT's body: the same, and the client may repeat the URL's id. */
export const ProductReplaceBody = Type.Object({ id: Type.Optional(Id), ...fields }, Closed);
/** A stored product, as every answer shows it. */
export const ProductRecord = Type.Object({ id: Id, ...fields });
export type Product = Static<typeof ProductRecord>;

/** The lab's four sample products, seeded into an empty collection when SEED_DATA=true. */
export const SEED_PRODUCTS: readonly Fields<Product>[] = [
    { name: "Laptop", price: 999.99, stock: 50 },
    { name: "Mouse", price: 29.99, stock: 200 },
    { name: "Keyboard", price: 79.99, stock: 150 },
    { name: "Monitor", price: 299.99, stock: 75 },
];

/** A product's fields from a validated body: the name trimmed. */
export function productFields(body: unknown): Fields<Product> {
    const b = body as Static<typeof ProductBody>;
    return { name: b.name.trim(), price: b.price, stock: b.stock };
}

export const productService: ServiceDefinition = {
    name: "product-service",
    description: "The lab's product catalog",
    routes: (storage) => {
        const products = resource(storage.store<Product>(PRODUCTS_COLLECTION), {
            path: "/api/products",
            label: "Product",
            record: ProductRecord,
            createBody: ProductBody,
            parse: productFields,
        });
        return [
            ...products.routes,
            {
                method: "PUT",
                path: "/api/products/{id}",
                schema: {
                    summary: "Replace a product",
                    tags: ["Product"],
                    params: IdParams,
                    body: ProductReplaceBody,
                    response: { 200: ProductRecord, 400: ErrorAnswer, 404: ErrorAnswer },
                },
                handler: async (req) => {
                    const id = req.params.id as number;
                    sameIdOrAbsent(req.body as Record<string, unknown>, id);
                    return { status: 200, body: await products.update(id, productFields(req.body)) };
                },
            },
        ];
    },
    seed: async (storage) => {
        await storage.store<Product>(PRODUCTS_COLLECTION).seed(SEED_PRODUCTS);
    },
};
