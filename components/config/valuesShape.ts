// TEMPORARY (issue 23 item 1, branch wt/c2): the structured values parse.ts and rules.ts read, until
// c1's keys.ts/schema.ts exports them (Contract A: ConfigValues, ConfigPath, readValues, specOf). At the
// merge this whole file becomes one line re-exporting those four from c1's module; nothing else in
// parse.ts or rules.ts imports them from anywhere else.
//
// Until then: the grouped shape as a mapped type over today's flat KeyValues and the layout table, and
// an adapter that turns grouped raw config (top-level key -> the CLI's string, JSON for a group) into
// the flat raw today's readValues reads, and its flat result back into groups and paths.
import type { Environment } from "./constants";
import { specOf as flatSpecOf, type ConfigKey, type KeySpec, type KeyValue } from "./keys";
import { FLAT_KEY_PATHS } from "./layout";
import { ENVIRONMENT_PATH, type Group, type MemberOf, type MemberPath } from "./paths";
import { readValues as readFlatValues, type Raw } from "./read";

type FlatKeyOf<Path extends string> = {
    [K in keyof typeof FLAT_KEY_PATHS]: (typeof FLAT_KEY_PATHS)[K] extends Path ? K : never;
}[keyof typeof FLAT_KEY_PATHS];

export type ConfigPath = MemberPath | typeof ENVIRONMENT_PATH;
export type ConfigValues = { readonly environment: Environment } & {
    readonly [G in Group]: { readonly [M in MemberOf<G>]: KeyValue<FlatKeyOf<`${G}.${M}`>> };
};

const PATH_OF = FLAT_KEY_PATHS as Readonly<Record<string, string>>;
const FLAT_OF: Readonly<Record<string, ConfigKey>> = Object.fromEntries(
    Object.entries(FLAT_KEY_PATHS).map(([flat, path]) => [path, flat as ConfigKey]),
);
const GROUPS = new Set(Object.values(FLAT_KEY_PATHS).map((path) => path.split(".")[0]));

export function specOf(path: ConfigPath): KeySpec {
    return flatSpecOf(path === ENVIRONMENT_PATH ? "environment" : FLAT_OF[path]);
}

/** Flat key names in a message of today's reader, as paths (`pulumi config set X` gains `--path`). */
function pathsIn(message: string): string {
    return message
        .replace(/(?<![-.\w])[a-zA-Z]+\b/g, (word) => PATH_OF[word] ?? word)
        .replace(/pulumi config (set|rm)( --secret)? (?=[a-zA-Z]+\.)/g, "pulumi config $1 --path$2 ");
}

/** The CLI's text for a member value (a group's JSON holds YAML's types). */
function memberText(value: unknown): string {
    return typeof value === "string" ? value : Array.isArray(value) ? JSON.stringify(value) : String(value);
}

export function readValues(
    raw: Raw,
    environment: Environment,
    isSecret: (topLevelKey: string) => boolean,
): { values: ConfigValues; set: ReadonlySet<ConfigPath>; errors: string[] } {
    const flat: Record<string, string | undefined> = {};
    const fromGroup = new Set<string>();
    for (const [key, text] of Object.entries(raw)) {
        if (text === undefined) continue;
        let group: unknown;
        try {
            group = GROUPS.has(key) ? JSON.parse(text) : undefined;
        } catch {
            group = undefined;
        }
        if (group !== null && typeof group === "object" && !Array.isArray(group)) {
            for (const [member, value] of Object.entries(group)) {
                const flatKey = FLAT_OF[`${key}.${member}`] ?? `${key}.${member}`;
                flat[flatKey] = value === null ? undefined : memberText(value);
                fromGroup.add(flatKey);
            }
        } else {
            // environment, an old flat key, or a group that is not an object: today's reader names it.
            flat[key] = text;
        }
    }
    const reading = readFlatValues(flat, environment, (key) =>
        // A flat key the caller passed as such (a stack file before structured config) is asked as such.
        isSecret(fromGroup.has(key) ? PATH_OF[key].split(".")[0] : key),
    );
    const values: Record<string, Record<string, unknown> | Environment> = { environment };
    for (const [key, value] of Object.entries(reading.values)) {
        const path = PATH_OF[key];
        if (path === undefined) continue;
        const [group, member] = path.split(".");
        ((values[group] ??= {}) as Record<string, unknown>)[member] = value;
    }
    return {
        values: values as unknown as ConfigValues,
        set: new Set([...reading.set].map((key) => (PATH_OF[key] ?? key) as ConfigPath)),
        errors: reading.errors.map(pathsIn),
    };
}
