// What order-service asks product-service: does product N exist, and what does it cost. Through the
// mesh, by the product-service Service's name (PRODUCT_SERVICE_URL, set by the program), with a
// timeout per attempt and a bounded number of attempts.
import { HttpError, UpstreamUnavailableError, type Logger } from "@aksplatform/service-common";

/** The environment variable holding product-service's base URL, e.g. http://product-service.<namespace>.svc.cluster.local. */
export const PRODUCT_SERVICE_URL_ENV = "PRODUCT_SERVICE_URL";

export interface CatalogProduct {
    readonly id: number;
    readonly price: number;
}

/** Looks a product up: the product, undefined when product-service says 404, UpstreamUnavailableError when it cannot answer. */
export type ProductLookup = (id: number) => Promise<CatalogProduct | undefined>;

export interface CatalogOptions {
    /** product-service's base URL, without a trailing slash. */
    readonly baseUrl: string;
    readonly logger: Logger;
    /** Timeout of one attempt. Default: 2000 ms. */
    readonly timeoutMs?: number;
    /** Attempts in all (the first and the retries). Default: 3. */
    readonly attempts?: number;
    /** Wait before the first retry, doubled before each next one. Default: 100 ms. */
    readonly backoffMs?: number;
}

/** Whether a failed attempt is worth another: no answer, a timeout, or product-service (or its sidecar) saying 5xx. */
const retriable = (status: number | undefined) => status === undefined || status >= 500;

/** PRODUCT_SERVICE_URL, checked: an absolute http(s) URL. Throws naming the variable. */
export function productServiceUrl(env: NodeJS.ProcessEnv): string {
    const raw = env[PRODUCT_SERVICE_URL_ENV]?.trim();
    if (!raw)
        throw new Error(`${PRODUCT_SERVICE_URL_ENV}: not set; order-service needs product-service's URL (e.g. http://product-service)`);
    let url: URL;
    try {
        url = new URL(raw);
    } catch {
        throw new Error(`${PRODUCT_SERVICE_URL_ENV}: ${raw} is not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`${PRODUCT_SERVICE_URL_ENV}: ${raw} is not an http(s) URL`);
    return raw.replace(/\/+$/, "");
}

/**
 * A lookup against product-service's GET /api/products/{id}. Inside the mesh the call is plain HTTP to
 * the Service name; the sidecar upgrades it to mutual TLS, and product-service's AuthorizationPolicy
 * admits order-service's identity. The sidecar also retries connection failures on its own (Istio's
 * default retry policy: 2 attempts on connect-failure, refused-stream, unavailable, cancelled, 503):
 * this loop bounds the whole, so the client's wait stays within attempts x timeout plus backoff.
 */
export function productLookup(options: CatalogOptions): ProductLookup {
    const timeoutMs = options.timeoutMs ?? 2000;
    const attempts = options.attempts ?? 3;
    const backoffMs = options.backoffMs ?? 100;
    return async (id) => {
        let reason = "";
        for (let attempt = 1; attempt <= attempts; attempt++) {
            let status: number | undefined;
            try {
                const res = await fetch(`${options.baseUrl}/api/products/${id}`, {
                    headers: { accept: "application/json" },
                    signal: AbortSignal.timeout(timeoutMs),
                });
                status = res.status;
                if (res.status === 200) {
                    const body = (await res.json()) as { id?: unknown; price?: unknown };
                    if (typeof body.price !== "number" || body.id !== id)
                        throw new Error(`product-service answered product ${id} without a price`);
                    return { id, price: body.price };
                }
                await res.body?.cancel();
                if (res.status === 404) return undefined;
                reason = `product-service answered ${res.status}`;
                if (!retriable(res.status)) break;
            } catch (error) {
                reason = (error as Error).name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (error as Error).message;
                if (status !== undefined) break;
            }
            if (attempt < attempts) await new Promise((r) => setTimeout(r, backoffMs * 2 ** (attempt - 1)));
        }
        options.logger.warn("product-service lookup failed", { productId: id, attempts, reason });
        throw new UpstreamUnavailableError("product-service is unavailable; try again shortly");
    };
}

/**
 * The stored prices of `productIds` (each looked up once, all at once). An unknown product is a 422
 * naming the first item that has it, e.g. items[1].productId.
 */
export async function pricesOf(lookup: ProductLookup, productIds: readonly number[]): Promise<Map<number, number>> {
    const distinct = [...new Set(productIds)];
    const found = await Promise.all(distinct.map((id) => lookup(id)));
    const prices = new Map<number, number>();
    distinct.forEach((id, i) => {
        const product = found[i];
        if (product) prices.set(id, product.price);
    });
    const missing = productIds.findIndex((id) => !prices.has(id));
    if (missing >= 0) {
        const field = `items[${missing}].productId`;
        throw new HttpError(422, `${field}: product ${productIds[missing]} does not exist`, field);
    }
    return prices;
}
