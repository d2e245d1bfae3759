// What the mesh in front of the services has to agree with them on, as plain constants: the HTTP
// methods their routes use, and every time budget on a request's way through the gateway and from
// order-service to product-service. This file imports nothing, so the Pulumi program imports it too
// (components/workloads/trafficPolicy.ts): the gateway's routes and AuthorizationPolicies and the
// services read the same numbers, and changing one here changes both sides.

/**
 * The methods the services' routes use, and whether repeating a request is harmless: idempotent in
 * RFC 9110 section 9.2.2 (GET, PUT, DELETE), so a proxy may send it again when an attempt failed without
 * an answer. POST creates a record each time: replayed after the service processed it, it creates two.
 */
export const API_METHODS = {
    GET: { idempotent: true },
    POST: { idempotent: false },
    PUT: { idempotent: true },
    DELETE: { idempotent: true },
} as const;

/** A method a route may have. */
export type Method = keyof typeof API_METHODS;

/** Every method of API_METHODS, in its order. */
export const METHODS = Object.keys(API_METHODS) as Method[];

/**
 * order-service asking product-service for one product (GET /api/products/{id}): how long one attempt
 * may take, how many attempts in all, and the wait before the first retry (doubled before each next).
 */
export const PRODUCT_LOOKUP = { attemptTimeoutMs: 1000, attempts: 3, backoffMs: 100 } as const;

/** The longest one product's lookup can take: every attempt timing out, and the waits between them. */
export const PRODUCT_LOOKUP_WORST_MS =
    PRODUCT_LOOKUP.attempts * PRODUCT_LOOKUP.attemptTimeoutMs + PRODUCT_LOOKUP.backoffMs * (2 ** (PRODUCT_LOOKUP.attempts - 1) - 1);

/**
 * At most this many of one order's product lookups in flight at once (an order may name 100 products):
 * a small pool, so one large order neither floods product-service nor exceeds its DestinationRule's
 * connection pool.
 */
export const PRODUCT_LOOKUP_CONCURRENCY = 8;

/**
 * Pricing one order (every lookup, attempt and wait) ends by then, however many products it names:
 * past it the order is a 503 and nothing is written. At least PRODUCT_LOOKUP_WORST_MS, so one product's
 * retries all fit.
 */
export const ORDER_PRICING_DEADLINE_MS = 4000;

/**
 * What the ingress gateway gives one request to a service, every attempt included (the VirtualService
 * route's `timeout`). A POST is sent once (no retries, no per-try timeout), so an order has all of it:
 * its pricing (ORDER_PRICING_DEADLINE_MS) and then its write.
 */
export const GATEWAY_TIMEOUT_MS = 10_000;

/**
 * An idempotent request at the gateway (GET, PUT, DELETE): each attempt's timeout and the retries after
 * the first. 1 + retries attempts of this length fit in GATEWAY_TIMEOUT_MS.
 */
export const GATEWAY_RETRY = { perTryTimeoutMs: 2000, retries: 3 } as const;
