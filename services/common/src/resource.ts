// The routes every collection of the lab has (list, get, create, delete), and 404s that name the record.
import { NotFoundError, type Route } from "./http";
import type { Entity, Fields, Store } from "./storage";
import { idParam } from "./validate";

export interface ResourceOptions<T extends Entity> {
    /** Collection path, e.g. /api/products; records are at <path>/{id}. */
    readonly path: string;
    /** The record's name in messages, e.g. Product. */
    readonly label: string;
    /** A new record's fields from a request body; throws a 400 naming the field at fault. */
    readonly parse: (body: unknown) => Fields<T>;
}

/** A store whose get and update throw a 404 ("Product 7 not found") for an unknown id. */
export interface Resource<T extends Entity> {
    get(id: number): Promise<T>;
    update(id: number, changes: Partial<Fields<T>>): Promise<T>;
    /** GET <path>, GET <path>/{id}, POST <path> (201 with Location), DELETE <path>/{id} (204). */
    readonly routes: Route[];
}

export function resource<T extends Entity>(store: Store<T>, options: ResourceOptions<T>): Resource<T> {
    const { path, label } = options;
    const orNotFound = <R>(id: number, value: R | undefined): R => {
        if (value === undefined) throw new NotFoundError(`${label} ${id} not found`);
        return value;
    };
    const get = async (id: number) => orNotFound(id, await store.get(id));
    const update = async (id: number, changes: Partial<Fields<T>>) => orNotFound(id, await store.update(id, changes));
    const routes: Route[] = [
        { method: "GET", path, handler: async () => ({ status: 200, body: await store.list() }) },
        { method: "GET", path: `${path}/{id}`, handler: async (req) => ({ status: 200, body: await get(idParam(req.params)) }) },
        {
            method: "POST",
            path,
            handler: async (req) => {
                const record = await store.create(options.parse(await req.json()));
                return { status: 201, body: record, headers: { location: `${path}/${record.id}` } };
            },
        },
        {
            method: "DELETE",
            path: `${path}/{id}`,
            handler: async (req) => {
                const id = idParam(req.params);
                orNotFound(id, (await store.remove(id)) || undefined);
                return { status: 204 };
            },
        },
    ];
    return { get, update, routes };
}
