// Reading the structured config as the program receives it (issue 23 item 1): a Raw maps each top-level
// key (`environment`, a group such as `cluster`) to the CLI's text, a group as the JSON of its object
// (pulumi/pulumi sdk/go/common/resource/config/object.go, MarshalString). Tests that look at one member of
// a committed stack read it here instead of parsing group JSON themselves.
import type { Raw } from "../components/config";

/** The value at `path` ("group.member", or a top-level key) in `raw`; undefined when unset. */
export function rawMember(raw: Raw, path: string): unknown {
    const dot = path.indexOf(".");
    if (dot < 0) return raw[path];
    const text = raw[path.slice(0, dot)];
    if (text === undefined) return undefined;
    const group = JSON.parse(text) as Record<string, unknown>;
    return group[path.slice(dot + 1)];
}

/** The string member at `path`; fails when it is set to anything but a string. */
export function rawString(raw: Raw, path: string): string | undefined {
    const value = rawMember(raw, path);
    if (value !== undefined && typeof value !== "string") throw new Error(`${path}: ${JSON.stringify(value)} is not a string`);
    return value;
}

/** The list member at `path`; fails when it is set to anything but a list of strings. */
export function rawList(raw: Raw, path: string): readonly string[] | undefined {
    const value = rawMember(raw, path);
    if (value !== undefined && !(Array.isArray(value) && value.every((v) => typeof v === "string")))
        throw new Error(`${path}: ${JSON.stringify(value)} is not a list of strings`);
    return value as readonly string[] | undefined;
}

/** Every path set in `raw`: top-level scalars by their key, group members as "group.member". */
export function rawPaths(raw: Raw): string[] {
    return Object.entries(raw).flatMap(([key, text]) => {
        if (text === undefined) return [];
        if (key === "environment") return [key];
        let group: unknown;
        try {
            group = JSON.parse(text);
        } catch {
            return [key];
        }
        return group !== null && typeof group === "object" && !Array.isArray(group) ? Object.keys(group).map((m) => `${key}.${m}`) : [key];
    });
}

/**
 * A parsed stack file's `config:` as path -> value: `<project>:environment` as "environment", each member of
 * a group `<project>:<group>` as "group.member"; keys of other namespaces are left out.
 */
export function stackFilePaths(config: Readonly<Record<string, unknown>>, project: string): Map<string, unknown> {
    const prefix = `${project}:`;
    const paths = new Map<string, unknown>();
    for (const [key, value] of Object.entries(config ?? {})) {
        if (!key.startsWith(prefix)) continue;
        const bare = key.slice(prefix.length);
        if (value !== null && typeof value === "object" && !Array.isArray(value)) {
            for (const [member, v] of Object.entries(value)) paths.set(`${bare}.${member}`, v);
        } else paths.set(bare, value);
    }
    return paths;
}
