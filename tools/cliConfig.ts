// The Pulumi CLI's config pass, before the program runs, for the tests and the offline plan: the
// project's declarations (Pulumi.yaml `config:`) merged with a stack file (Pulumi.<stack>.yaml), as
// `pulumi preview` and `pulumi up` do it. Written from pulumi/pulumi (v3.2xx):
//   sdk/go/common/workspace/project.go   RewriteShorthandConfigValues, Project.Validate, ValidateConfigValue
//   sdk/go/common/workspace/config.go    mergeConfig, validateStackConfigValue, createConfigValue
//   sdk/go/common/resource/config/key.go ParseKey; map.go Map.UnmarshalYAML; object.go unmarshalObject,
//                                        MarshalString, isSecureValue
// The messages are the CLI's own. What the program receives is what the Node SDK reads from
// PULUMI_CONFIG (key -> string, lists and maps as JSON) and PULUMI_CONFIG_SECRET_KEYS.
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

/** A failure of the CLI's config pass: `pulumi preview` stops with this message before the program runs. */
export class CliConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CliConfigError";
    }
}

export interface ItemsType {
    readonly type: string;
    readonly items?: ItemsType;
}

/** One entry of Pulumi.yaml's `config:` (ProjectConfigType). */
export interface ProjectConfigType {
    readonly type?: string;
    readonly description?: string;
    readonly items?: ItemsType;
    readonly default?: unknown;
    readonly value?: unknown;
    readonly secret?: boolean;
}

export interface Project {
    readonly name: string;
    readonly config: Readonly<Record<string, ProjectConfigType>>;
}

/** A stack config value as config.Value holds it: text, and whether it is ciphertext or JSON. */
export interface StackValue {
    readonly text: string;
    readonly secure: boolean;
    readonly object: boolean;
}

/** What the program receives: full key (`namespace:name`) -> string, and the keys that are secret. */
export interface ProgramConfig {
    readonly config: Readonly<Record<string, string>>;
    readonly secretKeys: readonly string[];
}

const namespacedByProject = (project: string, key: string) => !key.includes(":") || key.startsWith(`${project}:`);
const isPrimitive = (v: unknown) => typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isInteger(v));

/** InferFullTypeName: array<string> and so on. */
function fullTypeName(type: string, items?: ItemsType): string {
    return items ? `array<${fullTypeName(items.type, items.items)}>` : type;
}

/** ValidateConfigValue: YAML numbers stand for integers when whole; strings that parse as integers too. */
export function validateConfigValue(type: string, items: ItemsType | undefined, value: unknown): boolean {
    switch (type) {
        case "string":
            return typeof value === "string";
        case "integer":
            return (typeof value === "number" && Number.isInteger(value)) || (typeof value === "string" && /^[-+]?\d+$/.test(value));
        case "boolean":
            return typeof value === "boolean" || value === "true" || value === "false";
        case "object":
            return typeof value === "object" && value !== null && !Array.isArray(value);
        default:
            return Array.isArray(value) && items !== undefined && value.every((item) => validateConfigValue(items.type, items.items, item));
    }
}

/** Reads Pulumi.yaml: shorthand values rewritten to declarations, then Project.Validate's rules. */
export function parseProject(text: string): Project {
    const doc = (parse(text) ?? {}) as { name?: string; config?: Record<string, unknown> };
    if (!doc.name) throw new CliConfigError("project is missing a 'name' attribute");
    const name = doc.name;
    const config: Record<string, ProjectConfigType> = {};
    for (const [key, raw] of Object.entries(doc.config ?? {})) {
        // RewriteShorthandConfigValues: `key: value` is a default in the project's namespace, a value elsewhere.
        const isShorthand = isPrimitive(raw) || Array.isArray(raw);
        config[key] = isShorthand
            ? namespacedByProject(name, key)
                ? { default: raw }
                : { value: raw }
            : ((raw ?? {}) as ProjectConfigType);
    }
    for (const [key, t] of Object.entries(config)) {
        if (t.default !== undefined && t.value !== undefined) {
            throw new CliConfigError(`project config '${key}' cannot have both a 'default' and 'value' attribute`);
        }
        if (namespacedByProject(name, key)) {
            if (t.type === "array" && t.items === undefined) {
                throw new CliConfigError(
                    `The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`,
                );
            }
            if (t.type !== undefined && t.default !== undefined && !validateConfigValue(t.type, t.items, t.default)) {
                throw new CliConfigError(
                    `The default value specified for configuration key '${key}' is not of the expected type '${fullTypeName(t.type, t.items)}'`,
                );
            }
        } else if (t.type !== undefined) {
            throw new CliConfigError(`Configuration key '${key}' is not namespaced by the project and should not define a type`);
        } else if (t.default !== undefined) {
            throw new CliConfigError(
                `Configuration key '${key}' is not namespaced by the project and should not define a default value. Did you mean to use the 'value' attribute instead of 'default'?`,
            );
        } else if (t.value === undefined) {
            throw new CliConfigError(`Configuration key '${key}' is namespaced and must provide an attribute 'value'`);
        }
    }
    return { name, config };
}

/** config.ParseKey: `namespace:name`, or the old `namespace:config:name`. */
export function parseKey(key: string): string {
    const parts = key.split(":");
    if (parts.length === 2) return key;
    if (parts.length === 3 && parts[1] === "config") return `${parts[0]}:${parts[2]}`;
    throw new CliConfigError(
        `could not unmarshal map: could not parse ${key} as a configuration key (configuration keys should be of the form \`<namespace>:<name>\`)`,
    );
}

/** unmarshalObject + MarshalString: the text a YAML value becomes (numbers as JSON, so 1.30 is "1.3"). */
function toStackValue(raw: unknown): StackValue {
    if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
        const entries = Object.entries(raw);
        if (entries.length === 1 && entries[0][0] === "secure" && typeof entries[0][1] === "string") {
            return { text: entries[0][1], secure: true, object: false };
        }
    }
    if (typeof raw === "string") return { text: raw, secure: false, object: false };
    if (typeof raw === "boolean" || typeof raw === "number") return { text: JSON.stringify(raw), secure: false, object: false };
    if (raw === null || raw === undefined) return { text: "", secure: false, object: false };
    return { text: JSON.stringify(raw), secure: false, object: true };
}

/** Reads a stack file's `config:` map; every key must name its namespace. */
export function parseStackFile(text: string): Map<string, StackValue> {
    const doc = (parse(text) ?? {}) as { config?: Record<string, unknown> };
    const values = new Map<string, StackValue>();
    for (const [key, raw] of Object.entries(doc.config ?? {})) values.set(parseKey(key), toStackValue(raw));
    return values;
}

/** missingStackConfigurationKeysError: sorted, quoted, "and" before the last. */
function missingKeysMessage(stack: string, keys: string[]): string {
    const sorted = [...keys].sort();
    const list =
        sorted.length === 1
            ? `'${sorted[0]}'`
            : sorted.map((k, i) => (i === sorted.length - 1 ? `and '${k}'` : i === sorted.length - 2 ? `'${k}' ` : `'${k}', `)).join("");
    return `Stack '${stack}' is missing configuration ${sorted.length > 1 ? "values" : "value"} ${list}`;
}

/**
 * mergeConfig with validation, as `pulumi preview`/`up` run it: required project keys present,
 * declared defaults injected, explicitly typed keys checked (secret ones must be ciphertext), and the
 * stack's values decrypted. `decrypt` stands in for the stack's secrets provider: it returns the
 * plaintext of a ciphertext, or undefined when it cannot.
 */
export function mergeConfig(
    stack: string,
    project: Project,
    stackConfig: ReadonlyMap<string, StackValue>,
    decrypt: (key: string, ciphertext: string) => string | undefined,
): ProgramConfig {
    const merged = new Map(stackConfig);
    const missing: string[] = [];
    for (const key of Object.keys(project.config).sort()) {
        const t = project.config[key];
        const full = key.includes(":") ? parseKey(key) : `${project.name}:${key}`;
        const declared = t.default !== undefined ? t.default : t.value;
        if (merged.has(full)) continue;
        if (declared === undefined) {
            if (full.startsWith(`${project.name}:`)) missing.push(key);
            continue;
        }
        // createConfigValue: primitives as text (fmt %v), anything else as JSON.
        merged.set(
            full,
            isPrimitive(declared)
                ? { text: String(declared), secure: false, object: false }
                : { text: JSON.stringify(declared), secure: false, object: true },
        );
    }
    if (missing.length > 0) throw new CliConfigError(missingKeysMessage(stack, missing));

    const plain = new Map<string, string>();
    for (const [key, value] of merged) {
        if (!value.secure) {
            plain.set(key, value.text);
            continue;
        }
        const text = decrypt(key, value.text);
        if (text === undefined)
            throw new CliConfigError(`failed to decrypt configuration key '${key}': no secrets provider can decrypt it here`);
        plain.set(key, text);
    }
    for (const key of Object.keys(project.config).sort()) {
        const t = project.config[key];
        if (t.type === undefined || !namespacedByProject(project.name, key)) continue;
        const full = key.includes(":") ? parseKey(key) : `${project.name}:${key}`;
        const value = merged.get(full);
        if (value === undefined) continue;
        if (t.secret && !value.secure)
            throw new CliConfigError(`Stack '${stack}' with configuration key '${key}' must be encrypted as it's secret`);
        const text = plain.get(full) as string;
        const content: unknown = value.object ? JSON.parse(text) : text;
        if (!validateConfigValue(t.type, t.items, content)) {
            throw new CliConfigError(`Stack '${stack}' with configuration key '${key}' must be of type '${fullTypeName(t.type, t.items)}'`);
        }
    }
    return {
        config: Object.fromEntries(plain),
        secretKeys: [...merged].filter(([, value]) => value.secure).map(([key]) => key),
    };
}

/** The ciphertext our tools write for a value set "with --secret": only they can read it back. */
export const OFFLINE_CIPHERTEXT_PREFIX = "offline-plaintext:";
export function offlineCiphertext(plaintext: string): string {
    return `${OFFLINE_CIPHERTEXT_PREFIX}${Buffer.from(plaintext, "utf8").toString("base64")}`;
}
export function decryptOffline(_key: string, ciphertext: string): string | undefined {
    return ciphertext.startsWith(OFFLINE_CIPHERTEXT_PREFIX)
        ? Buffer.from(ciphertext.slice(OFFLINE_CIPHERTEXT_PREFIX.length), "base64").toString("utf8")
        : undefined;
}

export interface StackSettings {
    /** `pulumi config set <key> <value>` on top of the file (bare keys get the project namespace); undefined removes. */
    readonly set?: Readonly<Record<string, string | undefined>>;
    /** `pulumi config set --secret <key> <value>`. */
    readonly secrets?: Readonly<Record<string, string | undefined>>;
}

/** Reads `root`'s Pulumi.yaml and Pulumi.<stack>.yaml, applies `settings`, and runs the CLI's pass. */
export function cliConfig(root: string, stack: string, settings: StackSettings = {}): ProgramConfig {
    const project = parseProject(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    const values = fs.existsSync(file) ? parseStackFile(fs.readFileSync(file, "utf8")) : new Map<string, StackValue>();
    const full = (key: string) => parseKey(key.includes(":") ? key : `${project.name}:${key}`);
    for (const [key, text] of Object.entries(settings.set ?? {})) {
        if (text === undefined) values.delete(full(key));
        else values.set(full(key), { text, secure: false, object: false });
    }
    for (const [key, text] of Object.entries(settings.secrets ?? {})) {
        if (text === undefined) values.delete(full(key));
        else values.set(full(key), { text: offlineCiphertext(text), secure: true, object: false });
    }
    return mergeConfig(stack, project, values, decryptOffline);
}
