// What order-service asks product-service: does product N exist, and what does it cost. Through the
// mesh, by the product-service Service's name (PRODUCT_SERVICE_URL, set by the program), with a
// timeout per attempt, a bounded number of attempts, a few lookups at a time, and one deadline for the
// whole order. The numbers are in services/common/src/api.ts, next to the gateway's that must exceed them.
import {
    HttpError,
    ORDER_PRICING_DEADLINE_MS,
    PRODUCT_LOOKUP,
    PRODUCT_LOOKUP_CONCURRENCY,
    UpstreamUnavailableError,
    type Logger,
} from "@aksplatform/service-common";

/** The environment variable holding product-service's base URL, e.g. http://product-service.<namespace>.svc.cluster.local. */
export const PRODUCT_SERVICE_URL_ENV = "PRODUCT_SERVICE_URL";

export interface CatalogProduct {
    readonly id: number;
    readonly price: number;
}

/**
 * Looks a product up: the product, undefined when product-service says 404, UpstreamUnavailableError
 * when it cannot answer. Stops (rejects) as soon as `signal` aborts: the order's deadline passed.
 */
export type ProductLookup = (id: number, signal: AbortSignal) => Promise<CatalogProduct | undefined>;

export interface CatalogOptions {
    /** product-service's base URL, without a trailing slash. */
    readonly baseUrl: string;
    readonly logger: Logger;
    /** Timeout of one attempt. Default: PRODUCT_LOOKUP.attemptTimeoutMs. */
    readonly timeoutMs?: number;
    /** Attempts in all (the first and the retries). Default: PRODUCT_LOOKUP.attempts. */
    readonly attempts?: number;
    /** Wait before the first retry, doubled before each next one. Default: PRODUCT_LOOKUP.backoffMs. */
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

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
        const done = () => {
            clearTimeout(timer);
            signal.removeEventListener("abort", done);
            resolve();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener("abort", done, { once: true });
    });
}

/** The order's deadline passed (or another lookup of it failed) while this lookup was under way. */
class LookupStopped extends Error {}

/**
 * A lookup against product-service's GET /api/products/{id}. Inside the mesh the call is plain HTTP to
 * the Service name; the sidecar upgrades it to mutual TLS, and product-service's AuthorizationPolicy
 * admits order-service's identity. The sidecar also retries connection failures on its own (Istio's
 * default retry policy: 2 retries on connect-failure, refused-stream, unavailable, cancelled, 503;
 * istio/istio pilot/pkg/networking/core/route/retry/retry.go): each attempt's timeout here bounds those
 * too, since the client giving up ends the sidecar's attempts.
 */
export function productLookup(options: CatalogOptions): ProductLookup {
    const timeoutMs = options.timeoutMs ?? PRODUCT_LOOKUP.attemptTimeoutMs;
    const attempts = options.attempts ?? PRODUCT_LOOKUP.attempts;
    const backoffMs = options.backoffMs ?? PRODUCT_LOOKUP.backoffMs;
    return async (id, stop) => {
        let reason = "";
        for (let attempt = 1; attempt <= attempts; attempt++) {
            let status: number | undefined;
            try {
                const res = await fetch(`${options.baseUrl}/api/products/${id}`, {
                    headers: { accept: "application/json" },
                    signal: AbortSignal.any([stop, AbortSignal.timeout(timeoutMs)]),
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
                if (stop.aborted) throw new LookupStopped();
                reason = (error as Error).name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (error as Error).message;
                if (status !== undefined) break;
            }
            if (attempt < attempts) await pause(backoffMs * 2 ** (attempt - 1), stop);
            if (stop.aborted) throw new LookupStopped();
        }
        options.logger.warn("product-service lookup failed", { productId: id, attempts, reason });
        throw new UpstreamUnavailableError("product-service is unavailable; try again shortly");
    };
}

export interface PricingOptions {
    /** At most this many lookups in flight. Default: PRODUCT_LOOKUP_CONCURRENCY. */
    readonly concurrency?: number;
    /** Every lookup of the order is done by then, or the order is a 503. Default: ORDER_PRICING_DEADLINE_MS. */
    readonly deadlineMs?: number;
    /** Told once when the deadline passes. */
    readonly logger?: Logger;
}

/**
 * The stored prices of `productIds`: each distinct product looked up once, at most `concurrency` at a
 * time, all within `deadlineMs`. An unknown product is a 422 naming the first item that has it, e.g.
 * items[1].productId. A lookup that fails, or the deadline passing, stops the others and is a 503.
 */
export async function pricesOf(
    lookup: ProductLookup,
    productIds: readonly number[],
    options: PricingOptions = {},
): Promise<Map<number, number>> {
    const concurrency = options.concurrency ?? PRODUCT_LOOKUP_CONCURRENCY;
    const deadlineMs = options.deadlineMs ?? ORDER_PRICING_DEADLINE_MS;
    const distinct = [...new Set(productIds)];
    const failed = new AbortController();
    const deadline = AbortSignal.timeout(deadlineMs);
    const stop = AbortSignal.any([failed.signal, deadline]);
    const found = new Map<number, number>();
    let next = 0;
    // A small fixed pool: each worker takes the next product until none is left or the order stops.
    const worker = async () => {
        while (next < distinct.length && !stop.aborted) {
            const id = distinct[next++];
            try {
                const product = await lookup(id, stop);
                if (product) found.set(id, product.price);
            } catch (error) {
                failed.abort();
                throw error;
            }
        }
    };
    const workers = Array.from({ length: Math.min(concurrency, distinct.length) }, worker);
    const outcomes = await Promise.allSettled(workers);
    if (deadline.aborted) {
        options.logger?.warn("pricing the order ran out of time", { deadlineMs, products: distinct.length, priced: found.size });
        throw new UpstreamUnavailableError(`product-service did not price the order within ${deadlineMs} ms; try again shortly`);
    }
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected" && !(o.reason instanceof LookupStopped));
    if (failure) throw failure.reason;
    const missing = productIds.findIndex((id) => !found.has(id));
    if (missing >= 0) {
        const field = `items[${missing}].productId`;
        throw new HttpError(422, `${field}: product ${productIds[missing]} does not exist`, field);
    }
    return found;
}
