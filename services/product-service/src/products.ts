// product-service: the lab's product catalog API over the `products` collection.
import {
    idParam,
    integer,
    jsonObject,
    number,
    resource,
    sameIdOrAbsent,
    text,
    type Fields,
    type ServiceDefinition,
} from "@aksplatform/service-common";

export interface Product {
    readonly id: number;
    readonly name: string;
    /** Unit price; 0 or more. */
    readonly price: number;
    /** Units in stock; a whole number, 0 or more. */
    readonly stock: number;
}

export const PRODUCTS_COLLECTION = "products";

/** The lab's four sample products, seeded into an empty collection when SEED_DATA=true. */
export const SEED_PRODUCTS: readonly Fields<Product>[] = [
    { name: "Laptop", price: 999.99, stock: 50 },
    { name: "Mouse", price: 29.99, stock: 200 },
    { name: "Keyboard", price: 79.99, stock: 150 },
    { name: "Monitor", price: 299.99, stock: 75 },
];

const FIELDS = ["name", "price", "stock"];

/** A product's fields from a request body, every one required and checked; PUT may repeat the id. */
export function productFields(value: unknown, allowId = false): Fields<Product> {
    const body = jsonObject(value, allowId ? ["id", ...FIELDS] : FIELDS);
    return { name: text(body, "name", 200), price: number(body, "price", 0), stock: integer(body, "stock", 0) };
}

export const productService: ServiceDefinition = {
    name: "product-service",
    routes: (storage) => {
        const products = resource(storage.store<Product>(PRODUCTS_COLLECTION), {
            path: "/api/products",
            label: "Product",
            parse: (body) => productFields(body),
        });
        return [
            ...products.routes,
            {
                method: "PUT",
                path: "/api/products/{id}",
                handler: async (req) => {
                    const id = idParam(req.params);
                    const body = await req.json();
                    const fields = productFields(body, true);
                    sameIdOrAbsent(jsonObject(body, ["id", ...FIELDS]), id);
                    return { status: 200, body: await products.update(id, fields) };
                },
            },
        ];
    },
    seed: async (storage) => {
        await storage.store<Product>(PRODUCTS_COLLECTION).seed(SEED_PRODUCTS);
    },
};
