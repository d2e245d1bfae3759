// The request schemas both services share (TypeBox: JSON Schema with its TypeScript type), and the
// paging every list endpoint has. A schema is the validation, the 400's field and the OpenAPI text.
import { Type, type Static, type TSchema } from "typebox";
import { HttpError } from "./http";

/** A positive whole-number id (path parameter or field); at most the largest safe integer. */
export const Id = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: "A positive whole number" });

/** `{id}` in the path. */
export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
export type IdParams = Static<typeof IdParams>;

/** A string with at least one non-blank character and at most `maxLength` characters (trimmed when stored). */
export const Text = (maxLength: number, description?: string) =>
    Type.String({ minLength: 1, maxLength, pattern: "\\S", ...(description && { description }) });

/** Every error answer: the message, and the field at fault when there is one. */
export const ErrorAnswer = Type.Object({ error: Type.String(), field: Type.Optional(Type.String()) });

/** `additionalProperties: false` on an object: an unknown field (a `$`-prefixed operator, `__proto__`, a typo) is a 400. */
export const Closed = { additionalProperties: false } as const;

/** Page size when `limit` is not given. */
export const DEFAULT_PAGE_LIMIT = 100;
/** Largest `limit`. */
export const MAX_PAGE_LIMIT = 1000;
/** Largest `offset`: beyond it the database walks too many records to skip them; filter instead. */
export const MAX_PAGE_OFFSET = 1_000_000;

/** `?limit=&offset=` of every list endpoint. */
export const PageQuery = Type.Object(
    {
        limit: Type.Optional(
            Type.Integer({
                minimum: 1,
                maximum: MAX_PAGE_LIMIT,
                description: `Records per page, 1 to ${MAX_PAGE_LIMIT}; default ${DEFAULT_PAGE_LIMIT}`,
            }),
        ),
        offset: Type.Optional(
            Type.Integer({ minimum: 0, maximum: MAX_PAGE_OFFSET, description: `Records to skip, 0 to ${MAX_PAGE_OFFSET}; default 0` }),
        ),
    },
    Closed,
);

export interface Page {
    readonly limit: number;
    readonly offset: number;
}

/** The page a validated query asks for, with the defaults filled in. */
export function pageOf(query: Readonly<Record<string, unknown>>): Page {
    return { limit: (query.limit as number | undefined) ?? DEFAULT_PAGE_LIMIT, offset: (query.offset as number | undefined) ?? 0 };
}

/**
 * The `Link` header (RFC 8288) of a page: `next` when there are more records (the store was asked for
 * one more than the page) and the next page's offset is one PageQuery accepts (at most
 * MAX_PAGE_OFFSET: a link past it would answer 400), `prev` when the page does not start at 0.
 * Undefined when there is neither.
 */
export function pageLinks(path: string, page: Page, more: boolean): string | undefined {
    const link = (offset: number, rel: string) => `<${path}?limit=${page.limit}&offset=${offset}>; rel="${rel}"`;
    const next = page.offset + page.limit;
    const links = [
        ...(more && next <= MAX_PAGE_OFFSET ? [link(next, "next")] : []),
        ...(page.offset > 0 ? [link(Math.max(0, page.offset - page.limit), "prev")] : []),
    ];
    return links.length > 0 ? links.join(", ") : undefined;
}

/** A JSON array of `item`, as the OpenAPI document shows a list answer. */
export const ListOf = (item: TSchema) => Type.Array(item);

/**
 * The body's `id`, which a client may repeat on PUT (the lab's clients send the whole record): it must
 * then be the id of the URL.
 */
export function sameIdOrAbsent(body: Readonly<Record<string, unknown>>, id: number): void {
    if (body.id !== undefined && body.id !== id) throw new HttpError(400, `id must be ${id}, the id in the URL, or left out`, "id");
}
