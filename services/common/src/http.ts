// The HTTP layer on Fastify. Routes carry JSON Schemas (TypeBox): the same definition validates the
// request, shapes the 400 answer naming the field, and becomes the OpenAPI document at /openapi.json.
// Every answer is JSON; a client mistake is a 4xx naming what was wrong, anything unexpected a 500
// without internals.
import swagger from "@fastify/swagger";
import Ajv, { type ErrorObject } from "ajv";
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { TSchema } from "typebox";
import type { Method } from "./api";
import type { Logger } from "./logger";
import { errorFields } from "./logger";
import { StorageUnavailableError } from "./storage";

/** A client error: its status and message go to the client as {"error": ..., "field": ...}. */
export class HttpError extends Error {
    constructor(
        readonly status: number,
        message: string,
        /** The request field at fault (body field, path parameter, query parameter), when there is one. */
        readonly field?: string,
    ) {
        super(message);
        this.name = "HttpError";
    }
}

export class NotFoundError extends HttpError {
    constructor(message = "Not found") {
        super(404, message);
    }
}

/** A service this one depends on (product-service for order-service) cannot answer: a 503, not a 500. */
export class UpstreamUnavailableError extends Error {
    constructor(message: string, options?: { cause?: unknown }) {
        super(message, options);
        this.name = "UpstreamUnavailableError";
    }
}

/** The schemas of a route's request parts and answers; each is also its OpenAPI description. */
export interface RouteSchema {
    readonly params?: TSchema;
    readonly querystring?: TSchema;
    readonly body?: TSchema;
    /** Answers by status code, for the OpenAPI document and fast serialization. */
    readonly response?: Readonly<Record<number, TSchema>>;
    readonly summary?: string;
    readonly tags?: readonly string[];
}

export interface Request {
    readonly method: string;
    readonly path: string;
    /** Path parameters, validated (and converted) by the route's `params` schema. */
    readonly params: Readonly<Record<string, unknown>>;
    /** Query parameters, validated (and converted) by the route's `querystring` schema. */
    readonly query: Readonly<Record<string, unknown>>;
    /** The JSON body, validated by the route's `body` schema. */
    readonly body: unknown;
}

export interface Reply {
    readonly status: number;
    readonly body?: unknown;
    readonly headers?: Readonly<Record<string, string>>;
}

export interface Route {
    readonly method: Method;
    /** Path with {name} parameters, e.g. /api/orders/{id}/status. */
    readonly path: string;
    readonly schema?: RouteSchema;
    readonly handler: (req: Request) => Promise<Reply> | Reply;
    /** Logged at debug rather than info (the probes call these every few seconds). */
    readonly quiet?: boolean;
    /** Left out of the OpenAPI document (the probes, the document itself). */
    readonly hidden?: boolean;
}

/** Largest request body read, in bytes (Fastify's bodyLimit; over it: 413). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Where the OpenAPI document is served. */
export const OPENAPI_PATH = "/openapi.json";

/** The reply for an error thrown by a handler: the client's own mistake, an outage, or a 500. */
export function errorReply(error: unknown): Reply {
    if (error instanceof HttpError) {
        return { status: error.status, body: { error: error.message, ...(error.field ? { field: error.field } : {}) } };
    }
    if (error instanceof StorageUnavailableError) {
        return { status: 503, body: { error: "The database is unavailable; try again shortly" }, headers: { "retry-after": "5" } };
    }
    if (error instanceof UpstreamUnavailableError) {
        return { status: 503, body: { error: error.message }, headers: { "retry-after": "5" } };
    }
    return { status: 500, body: { error: "Internal server error" } };
}

/**
 * `items[1].productId` from Ajv's JSON Pointer `/items/1/productId` (and a child key, for `required`
 * and `additionalProperties`, which Ajv reports on the parent object).
 */
export function fieldName(instancePath: string, child?: string): string | undefined {
    const segments = instancePath
        .split("/")
        .slice(1)
        .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
    if (child !== undefined) segments.push(child);
    let out = "";
    for (const s of segments) out += /^[0-9]+$/.test(s) ? `[${s}]` : out === "" ? s : `.${s}`;
    return out === "" ? undefined : out;
}

/** A 400 from the first Ajv error: the field at fault and a message naming it. */
export function validationError(errors: readonly ErrorObject[], part: string): HttpError {
    const e = errors[0];
    const params = e.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
    if (params.additionalProperty !== undefined) {
        const field = fieldName(e.instancePath, params.additionalProperty);
        return new HttpError(400, `${field} is not a known field`, field);
    }
    if (params.missingProperty !== undefined) {
        const field = fieldName(e.instancePath, params.missingProperty);
        return new HttpError(400, `${field} is required`, field);
    }
    const field = fieldName(e.instancePath);
    const detail = e.keyword === "enum" && params.allowedValues ? `must be one of ${params.allowedValues.join(", ")}` : e.message;
    if (!field) return new HttpError(400, part === "body" ? `Request body ${detail}` : `${part} ${detail}`);
    return new HttpError(400, `${field} ${detail}`, field);
}

// Two validators. Bodies are JSON, so nothing is coerced ("1" is not a price) and nothing is removed (an
// unknown field is a 400, not silently dropped: Fastify's default Ajv options are coerceTypes "array"
// and removeAdditional true, @fastify/ajv-compiler lib/default-ajv-options.js).
// strictNumbers is set on its own: `strict: false` (TypeBox's schemas carry keywords Ajv does not know)
// would also turn it off (ajv-validator/ajv lib/core.ts: `strictNumbers: o.strictNumbers ?? s ?? true`,
// s being `strict`), and then Infinity and NaN pass as numbers: a JSON price of 1e309 parses to Infinity.
const ajvOptions = { allErrors: false, removeAdditional: false, useDefaults: true, strict: false, strictNumbers: true } as const;
const bodyAjv = new Ajv({ ...ajvOptions, coerceTypes: false });
// Path and query parameters are strings on the wire. Ajv's own coercion is not used for them: it takes
// whatever `x == +x` accepts (ajv lib/compile/validate/dataType.ts), so `0x10` would be 16, `1e1` 10,
// ` 5` 5 and `Infinity` a number. decimalParameters converts plain decimal digits only; anything else
// stays a string and fails the schema's type with a 400 naming the parameter.
const parameterAjv = new Ajv({ ...ajvOptions, coerceTypes: false });

/** A path or query integer as it may be written: decimal digits, an optional minus (so -1 fails `minimum`, not the type). */
export const DECIMAL_INTEGER = /^-?[0-9]+$/;
/** A path or query number: decimal digits with an optional fraction. No exponent, no hex, no blanks, no Infinity. */
export const DECIMAL_NUMBER = /^-?[0-9]+(\.[0-9]+)?$/;

/**
 * The validator of a path or query schema (an object of named parameters): each integer or number
 * parameter written in decimal becomes a number, then the schema decides. Fastify calls it with the
 * parsed object and, on `false`, reads the reasons from its `errors` property, as from an Ajv function
 * (fastify lib/validation.js, validateParam; Fastify docs, Validation-and-Serialization, validator compiler).
 */
export function parameterValidator(schema: TSchema): ((data: unknown) => boolean) & { errors?: ErrorObject[] | null } {
    const validate = parameterAjv.compile(schema);
    const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
    const numeric = Object.entries(properties).flatMap(([name, s]): [string, RegExp][] =>
        s.type === "integer" ? [[name, DECIMAL_INTEGER]] : s.type === "number" ? [[name, DECIMAL_NUMBER]] : [],
    );
    const check = (data: unknown): boolean => {
        if (data !== null && typeof data === "object") {
            const record = data as Record<string, unknown>;
            for (const [name, pattern] of numeric) {
                const value = record[name];
                if (typeof value === "string" && pattern.test(value)) record[name] = Number(value);
            }
        }
        const ok = validate(data);
        check.errors = validate.errors;
        return ok;
    };
    check.errors = undefined as ErrorObject[] | null | undefined;
    return check;
}

/** `/api/orders/{id}/status` as Fastify writes it: `/api/orders/:id/status`. */
const fastifyPath = (path: string) => path.replace(/\{([^}]+)\}/g, ":$1");
/** A matcher of concrete paths for `/api/orders/{id}/status`. */
const pathPattern = (path: string) => new RegExp(`^${path.replace(/\{[^}]+\}/g, "[^/]+")}/?$`);

function rejectPrototypeKeys(key: string, value: unknown): unknown {
    // JSON.parse makes "__proto__" an own property; merged into a record later it would set a prototype.
    if (key === "__proto__") throw new HttpError(400, "__proto__ is not an allowed key", "__proto__");
    return value;
}

export interface ServerOptions {
    readonly title: string;
    readonly version?: string;
    readonly description?: string;
}

/** A Fastify server serving `routes`: 404 for an unknown path, 405 (with Allow) for a wrong method. */
export async function createServer(routes: readonly Route[], logger: Logger, options: ServerOptions): Promise<FastifyInstance> {
    const app = Fastify({
        loggerInstance: logger.pino as FastifyBaseLogger,
        // One line per request, written below (probes at debug), instead of Fastify's two.
        logController: new Fastify.LogController({ disableRequestLogging: true }),
        bodyLimit: MAX_BODY_BYTES,
        // /api/products/ is /api/products, as it was on the hand-written router.
        routerOptions: { ignoreTrailingSlash: true },
        // Requests still in flight finish on close; idle keep-alive connections are closed at once.
        forceCloseConnections: "idle",
        // The mesh's sidecar and the gateway keep connections open longer than Node's 5 s default.
        keepAliveTimeout: 65_000,
        ajv: { customOptions: ajvOptions },
    });

    app.setValidatorCompiler(({ schema, httpPart }) =>
        httpPart === "body" ? bodyAjv.compile(schema) : parameterValidator(schema as TSchema),
    );
    app.setSchemaErrorFormatter((errors, dataVar) => validationError(errors as ErrorObject[], dataVar));

    // JSON only: every other media type is a 415 (Fastify's text/plain parser is removed).
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, text, done) => {
        if ((text as string).trim() === "") return done(new HttpError(400, "Request body is empty; send a JSON object"), undefined);
        try {
            done(null, JSON.parse(text as string, rejectPrototypeKeys));
        } catch (error) {
            done(error instanceof HttpError ? error : new HttpError(400, "Request body is not valid JSON"), undefined);
        }
    });

    await app.register(swagger, {
        openapi: {
            openapi: "3.1.0",
            info: { title: options.title, version: options.version ?? "1.0.0", description: options.description },
        },
    });

    app.setErrorHandler((error: FastifyError | Error, request, reply) => {
        const status = (error as FastifyError).statusCode;
        let answer: Reply;
        if (error instanceof HttpError || error instanceof StorageUnavailableError || error instanceof UpstreamUnavailableError) {
            answer = errorReply(error);
        } else if (status === 413) {
            answer = { status, body: { error: `Request body is larger than ${MAX_BODY_BYTES} bytes` } };
        } else if (status === 415) {
            answer = { status, body: { error: "Content-Type must be application/json" } };
        } else if (status !== undefined && status >= 400 && status < 500) {
            answer = { status, body: { error: error.message } };
        } else {
            answer = errorReply(error);
        }
        // An outage is logged once per request without a stack; anything unexpected with its stack.
        const fields = { method: request.method, path: request.url.split("?")[0] };
        if (answer.status === 503) logger.warn("request failed", { ...fields, reason: error.message });
        else if (answer.status >= 500) logger.error("request failed", { ...fields, ...errorFields(error) });
        return reply
            .code(answer.status)
            .headers(answer.headers ?? {})
            .send(answer.body);
    });

    const patterns = routes.map((r) => ({ method: r.method, match: pathPattern(r.path) }));
    app.setNotFoundHandler((request, reply) => {
        const path = request.url.split("?")[0];
        const allowed = [...new Set(patterns.filter((p) => p.match.test(path)).map((p) => p.method))];
        if (allowed.length > 0) {
            return reply
                .code(405)
                .header("allow", allowed.join(", "))
                .send({ error: `Method ${request.method} is not allowed on ${path}` });
        }
        return reply.code(404).send({ error: `No route for ${path}` });
    });

    const quiet = new WeakSet<FastifyRequest>();
    app.addHook("onResponse", async (request: FastifyRequest, reply: FastifyReply) => {
        const fields = {
            method: request.method,
            path: request.url.split("?")[0],
            status: reply.statusCode,
            durationMs: Math.round(reply.elapsedTime * 10) / 10,
        };
        if (quiet.has(request) && reply.statusCode < 400) logger.debug("request", fields);
        else logger.info("request", fields);
    });

    for (const route of routes) {
        const s = route.schema ?? {};
        app.route({
            method: route.method,
            url: fastifyPath(route.path),
            schema: {
                ...(s.params && { params: s.params }),
                ...(s.querystring && { querystring: s.querystring }),
                ...(s.body && { body: s.body }),
                ...(s.response && { response: s.response }),
                ...(s.summary && { summary: s.summary }),
                ...(s.tags && { tags: [...s.tags] }),
                ...(route.hidden && { hide: true }),
            },
            // A body route answers 415 for a request without a JSON body (no Content-Type at all).
            preValidation: async (request) => {
                if (route.quiet) quiet.add(request);
                if (s.body && request.body === undefined) throw new HttpError(415, "Content-Type must be application/json");
            },
            handler: async (request, reply) => {
                const answer = await route.handler({
                    method: request.method,
                    path: request.url.split("?")[0],
                    params: request.params as Record<string, unknown>,
                    query: request.query as Record<string, unknown>,
                    body: request.body,
                });
                reply.code(answer.status).headers(answer.headers ?? {});
                if (answer.body === undefined) return reply.send();
                // Every answer is JSON: a bare string too (Fastify would send it as text/plain).
                if (typeof answer.body === "string") return reply.type("application/json; charset=utf-8").send(JSON.stringify(answer.body));
                return reply.send(answer.body);
            },
        });
    }

    app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
    await app.ready();
    return app;
}
