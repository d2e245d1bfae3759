// Request validation: every check names the field it rejects, and all checks run before any write.
import { HttpError } from "./http";

export type JsonObject = Record<string, unknown>;

function invalid(field: string, message: string): HttpError {
    return new HttpError(400, `${field} ${message}`, field);
}

function isObject(value: unknown): value is JsonObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `value` as a JSON object with no keys outside `allowed`; `where` names it in errors (default: the body). */
export function jsonObject(value: unknown, allowed: readonly string[], where?: string): JsonObject {
    if (!isObject(value)) {
        throw where ? invalid(where, "must be a JSON object") : new HttpError(400, "Request body must be a JSON object");
    }
    for (const key of Object.keys(value)) {
        if (!allowed.includes(key)) {
            const field = where ? `${where}.${key}` : key;
            throw invalid(field, `is not a known field; expected ${allowed.join(", ")}`);
        }
    }
    return value;
}

/** A trimmed, non-empty string of at most `maxLength` characters. */
export function text(body: JsonObject, field: string, maxLength: number, where = field): string {
    const value = body[field];
    if (typeof value !== "string" || value.trim() === "") throw invalid(where, "must be a non-empty string");
    if (value.trim().length > maxLength) throw invalid(where, `must be at most ${maxLength} characters`);
    return value.trim();
}

/** A finite number of at least `min`. */
export function number(body: JsonObject, field: string, min: number, where = field): number {
    const value = body[field];
    if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
        throw invalid(where, `must be a number of ${min} or more`);
    }
    return value;
}

/** A whole number of at least `min` (and at most the largest safe integer). */
export function integer(body: JsonObject, field: string, min: number, where = field): number {
    const value = body[field];
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
        throw invalid(where, `must be a whole number of ${min} or more`);
    }
    return value;
}

/** One of `allowed`, exactly as spelled there. */
export function oneOf<T extends string>(body: JsonObject, field: string, allowed: readonly T[]): T {
    const value = body[field];
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
        throw invalid(field, `must be one of ${allowed.join(", ")}`);
    }
    return value as T;
}

/** A non-empty array of at most `maxItems` entries, each passed through `item` (which gets its index). */
export function list<T>(body: JsonObject, field: string, maxItems: number, item: (value: unknown, where: string) => T): T[] {
    const value = body[field];
    if (!Array.isArray(value) || value.length === 0) throw invalid(field, "must be a non-empty array");
    if (value.length > maxItems) throw invalid(field, `must have at most ${maxItems} entries`);
    return value.map((entry, i) => item(entry, `${field}[${i}]`));
}

/** A positive whole-number id from the path parameter `name`. */
export function idParam(params: Readonly<Record<string, string>>, name = "id"): number {
    const raw = params[name] ?? "";
    const id = /^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(id)) throw invalid(name, "must be a positive whole number");
    return id;
}

/**
 * The body's `id`, which a client may repeat on PUT (the lab's clients send the whole record): it must
 * then be the id of the URL.
 */
export function sameIdOrAbsent(body: JsonObject, id: number): void {
    if (body.id !== undefined && body.id !== id) throw invalid("id", `must be ${id}, the id in the URL, or left out`);
}
