// A small router on node:http: a handful of JSON routes need no framework. Every answer is JSON; a
// client mistake is a 4xx naming what was wrong, anything unexpected a 500 without internals.
import * as http from "http";
import type { Logger } from "./logger";
import { errorFields } from "./logger";
import { StorageUnavailableError } from "./storage";

export type Method = "GET" | "POST" | "PUT" | "DELETE";

/** A client error: its status and message go to the client as {"error": ..., "field": ...}. */
export class HttpError extends Error {
    constructor(
        readonly status: number,
        message: string,
        /** The request field at fault (body field, path parameter), when there is one. */
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

export interface Request {
    readonly method: string;
    readonly path: string;
    /** Path parameters by name, e.g. {id: "3"} for /api/products/{id}. */
    readonly params: Readonly<Record<string, string>>;
    /** The parsed JSON body; 400/413/415 when it is not one. */
    json(): Promise<unknown>;
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
    readonly handler: (req: Request) => Promise<Reply> | Reply;
    /** Logged at debug rather than info (the probes call these every few seconds). */
    readonly quiet?: boolean;
}

/** Largest request body read, in bytes. */
export const MAX_BODY_BYTES = 1024 * 1024;

interface CompiledRoute extends Route {
    readonly segments: readonly string[];
    /** Literal segments count: /api/orders/customer/{id} wins over /api/orders/{id}/status. */
    readonly literals: number;
}

function splitPath(path: string): string[] {
    return path.split("/").filter((s) => s.length > 0);
}

function compile(route: Route): CompiledRoute {
    const segments = splitPath(route.path);
    return { ...route, segments, literals: segments.filter((s) => !s.startsWith("{")).length };
}

function match(route: CompiledRoute, segments: readonly string[]): Record<string, string> | undefined {
    if (route.segments.length !== segments.length) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < segments.length; i++) {
        const pattern = route.segments[i];
        let actual: string;
        try {
            actual = decodeURIComponent(segments[i]);
        } catch {
            return undefined;
        }
        if (pattern.startsWith("{")) params[pattern.slice(1, -1)] = actual;
        else if (pattern !== actual) return undefined;
    }
    return params;
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
    const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
    if (type !== "application/json") throw new HttpError(415, "Content-Type must be application/json");
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) throw new HttpError(413, `Request body is larger than ${MAX_BODY_BYTES} bytes`);
        chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    if (text.trim() === "") throw new HttpError(400, "Request body is empty; send a JSON object");
    try {
        return JSON.parse(text) as unknown;
    } catch {
        throw new HttpError(400, "Request body is not valid JSON");
    }
}

function send(res: http.ServerResponse, reply: Reply): void {
    const body = reply.body === undefined ? "" : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
        ...(body ? { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) } : {}),
        ...reply.headers,
    });
    res.end(body);
}

/** The reply for an error thrown by a handler: the client's own mistake, a database outage, or a 500. */
export function errorReply(error: unknown): Reply {
    if (error instanceof HttpError) {
        return { status: error.status, body: { error: error.message, ...(error.field ? { field: error.field } : {}) } };
    }
    if (error instanceof StorageUnavailableError) {
        return { status: 503, body: { error: "The database is unavailable; try again shortly" }, headers: { "retry-after": "5" } };
    }
    return { status: 500, body: { error: "Internal server error" } };
}

/** A request listener serving `routes`: 404 for an unknown path, 405 (with Allow) for a wrong method. */
export function createRouter(routes: readonly Route[], logger: Logger): http.RequestListener {
    const compiled = routes.map(compile).sort((a, b) => b.literals - a.literals);
    return (req, res) => {
        const started = process.hrtime.bigint();
        const method = req.method ?? "GET";
        const path = new URL(req.url ?? "/", "http://localhost").pathname;
        let quiet = false;

        const handle = async (): Promise<Reply> => {
            const segments = splitPath(path);
            const candidates = compiled.flatMap((route) => {
                const params = match(route, segments);
                return params ? [{ route, params }] : [];
            });
            if (candidates.length === 0) throw new NotFoundError(`No route for ${path}`);
            const found = candidates.find((c) => c.route.method === method);
            if (!found) {
                const allow = [...new Set(candidates.map((c) => c.route.method))].join(", ");
                return { status: 405, body: { error: `Method ${method} is not allowed on ${path}` }, headers: { allow } };
            }
            quiet = found.route.quiet ?? false;
            return found.route.handler({ method, path, params: found.params, json: () => readJson(req) });
        };

        handle()
            .catch((error: unknown) => {
                const reply = errorReply(error);
                // An outage is logged once per request without a stack; anything unexpected with its stack.
                if (reply.status === 503) logger.warn("request failed", { method, path, reason: (error as Error).message });
                else if (reply.status >= 500) logger.error("request failed", { method, path, ...errorFields(error) });
                return reply;
            })
            .then((reply) => {
                // A body the handler did not read is drained, so the connection can serve the next request.
                req.resume();
                send(res, reply);
                const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
                const fields = { method, path, status: reply.status, durationMs: Math.round(durationMs * 10) / 10 };
                if (quiet && reply.status < 400) logger.debug("request", fields);
                else logger.info("request", fields);
            })
            .catch((error: unknown) => {
                logger.error("could not send the response", errorFields(error));
                res.destroy();
            });
    };
}
