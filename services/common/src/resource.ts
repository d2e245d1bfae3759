// The routes every collection of the lab has (list, get, create, delete), with their schemas, and
// 404s that name the record.
import type { TSchema } from "typebox";
import { NotFoundError, type Request, type Route } from "./http";
import type { Entity, Fields, Store } from "./storage";
import { ErrorAnswer, IdParams, ListOf, PageQuery, pageLinks, pageOf } from "./validate";

export interface ResourceOptions<T extends Entity> {
    /** Collection path, e.g. /api/products; records are at <path>/{id}. */
    readonly path: string;
    /** The record's name in messages, e.g. Product. */
    readonly label: string;
    /** The schema of a stored record (with its id): the answers' shape in the OpenAPI document. */
    readonly record: TSchema;
    /** The schema of a create request's body. */
    readonly createBody: TSchema;
    /** A new record's fields from a validated request body; may throw an HttpError naming the field. */
    readonly parse: (body: unknown) => Fields<T> | Promise<Fields<T>>;
}

/** A store whose get and update throw a 404 ("Product 7 not found") for an unknown id. */
export interface Resource<T extends Entity> {
    get(id: number): Promise<T>;
    update(id: number, changes: Partial<Fields<T>>): Promise<T>;
    /** A page of the records matching `filter`, as a 200 with a Link header to the next page. */
    listReply(req: Request, filter?: Partial<Fields<T>>): Promise<{ status: number; body: T[]; headers?: Record<string, string> }>;
    /** GET <path>, GET <path>/{id}, POST <path> (201 with Location), DELETE <path>/{id} (204). */
    readonly routes: Route[];
}

export function resource<T extends Entity>(store: Store<T>, options: ResourceOptions<T>): Resource<T> {
    const { path, label } = options;
    const tags = [label];
    const orNotFound = <R>(id: number, value: R | undefined): R => {
        if (value === undefined) throw new NotFoundError(`${label} ${id} not found`);
        return value;
    };
    const get = async (id: number) => orNotFound(id, await store.get(id));
    const update = async (id: number, changes: Partial<Fields<T>>) => orNotFound(id, await store.update(id, changes));
    const listReply = async (req: Request, filter?: Partial<Fields<T>>) => {
        const page = pageOf(req.query);
        // One more than the page: whether a next page exists, without counting the collection.
        const records = await store.list(filter, { limit: page.limit + 1, offset: page.offset });
        const link = pageLinks(req.path, page, records.length > page.limit);
        return { status: 200, body: records.slice(0, page.limit), ...(link && { headers: { link } }) };
    };
    const errors = { 400: ErrorAnswer, 404: ErrorAnswer };
    const routes: Route[] = [
        {
            method: "GET",
            path,
            schema: {
                summary: `List ${label.toLowerCase()}s by id, a page at a time`,
                tags,
                querystring: PageQuery,
                response: { 200: ListOf(options.record), 400: ErrorAnswer },
            },
            handler: (req) => listReply(req),
        },
        {
            method: "GET",
            path: `${path}/{id}`,
            schema: { summary: `One ${label.toLowerCase()}`, tags, params: IdParams, response: { 200: options.record, ...errors } },
            handler: async (req) => ({ status: 200, body: await get(req.params.id as number) }),
        },
        {
            method: "POST",
            path,
            schema: {
                summary: `Create a ${label.toLowerCase()}`,
                tags,
                body: options.createBody,
                response: { 201: options.record, 400: ErrorAnswer },
            },
            handler: async (req) => {
                const record = await store.create(await options.parse(req.body));
                return { status: 201, body: record, headers: { location: `${path}/${record.id}` } };
            },
        },
        {
            method: "DELETE",
            path: `${path}/{id}`,
            schema: { summary: `Delete a ${label.toLowerCase()}`, tags, params: IdParams, response: errors },
            handler: async (req) => {
                const id = req.params.id as number;
                orNotFound(id, (await store.remove(id)) || undefined);
                return { status: 204 };
            },
        },
    ];
    return { get, update, listReply, routes };
}
