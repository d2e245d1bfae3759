// The Pulumi CLI's config pass, before the program runs, for the tests and the offline plan: the
// project's declarations (Pulumi.yaml `config:`) merged with a stack file (Pulumi.<stack>.yaml), as
// `pulumi preview` and `pulumi up` do it, and what `pulumi config set/rm [--path] [--secret]` do to the
// stack's config. Written from pulumi/pulumi (read after v3.259.0, where config/ was last changed by
// "Move config logic to pkg" and "go fix"; our CLI pin is 3.270.0):
//   sdk/go/common/workspace/project.go   RewriteShorthandConfigValues, Project.Validate, ValidateConfigValue
//   pkg/workspace/config.go              mergeConfig, validateStackConfigValue, createConfigValue
//                                        (sdk/go/common/workspace/config.go in older releases)
//   sdk/go/common/resource/config/key.go ParseKey
//   sdk/go/common/resource/config/object.go  unmarshalObject, isSecureValue, Secure, MarshalString,
//                                        UnmarshalString, coerce, object.Set, object.Delete
//   sdk/go/common/resource/config/value.go   Value.Value, coerceObject; plaintext.go marshalText
//   sdk/go/common/resource/config/map.go     Map.Set and Map.Remove with a path, Map.Decrypt, SecureKeys
//   sdk/go/common/resource/properties_path.go ParsePropertyPathStrict (the `--path` syntax)
//   pkg/cmd/pulumi/config/config.go      configSetCmd.Run (`--secret` makes the value secure first)
// The messages are the CLI's own.
//
// Structured values (a group: `aks-platform:cluster:` holding a map): the stack file's map is one
// config value, an object; a member written `secure: <ciphertext>` is a secure leaf. The whole value
// is secure when any leaf is (object.Secure), so the group's top-level key is in the secret keys
// (Map.SecureKeys; pkg/resource/deploy/source_eval.go passes them with the run request). The program
// receives the group as Go's JSON of the map (keys sorted) with every secure leaf decrypted to its
// plaintext string (Map.Decrypt, Plaintext.marshalText); YAML numbers inside stay JSON numbers (an
// unquoted 1.30 arrives as 1.3). The Node language host puts the key -> text map in PULUMI_CONFIG and
// the secret keys in PULUMI_CONFIG_SECRET_KEYS (sdk/nodejs/cmd/pulumi-language-nodejs/main.go,
// constructConfig, constructConfigSecretKeys); the SDK reads them (sdk/nodejs/runtime/config.ts,
// allConfig, isConfigSecret). So the program can tell THAT a group holds a secure leaf, never WHICH.
//
// Numbers: Go keeps int64, uint64 and float64 apart; here an integer is a bigint (its digits exact)
// and a float a JS number. The stored JSON of a group is read back with json.Decoder UseNumber
// (object.go UnmarshalJSON, unmarshalObject): an int64 keeps its digits all the way to the program's
// text (9007199254740993 arrives as written; the program's own JSON.parse then rounds it), a uint64
// beyond int64 becomes a float64 there, as in a real run.
//
// The stack file is read as the CLI reads it, with gopkg.in/yaml.v3 v3.0.1 (sdk/go/common/encoding/
// marshal.go; sdk/go.mod; go-yaml/yaml branch v3 resolve.go, decode.go): plain integers in Go's forms
// (`_` removed, then strconv.ParseInt(s, 0, 64): 010 is 8, 0x1F 31, 0o17 15, 0b11 3, 1_000 1000; 08
// is the float 8), merge keys (`<<: *anchor`) applied (parseGoYaml). Known gaps, not modelled (none
// is met by our stack files): map keys that are not strings (a null key is "<nil>" in Go); explicit
// tags (`!!int "3"`, `!!binary`); the messages of YAML syntax errors and duplicate keys (both fail);
// Pulumi.yaml is read the same way (loaders.go LoadProject).
import * as fs from "fs";
import * as path from "path";
import { isMap, isScalar, isSeq, parseDocument, Scalar, type ScalarTag } from "yaml";

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
/** A Go `int` as yaml.v3 decodes one into `any` (a plain integer in the int64 range; beyond it, a uint64). */
const isGoInt = (v: unknown): v is bigint => typeof v === "bigint" && v >= INT64_MIN && v <= INT64_MAX;
/** project.go isPrimitiveValue: string, int, bool (not a uint64 or a float64). */
const isPrimitive = (v: unknown) => typeof v === "string" || typeof v === "boolean" || isGoInt(v);

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
            // An int, a whole float64, or a string strconv.Atoi reads.
            return (
                isGoInt(value) ||
                (typeof value === "number" && Number.isInteger(value)) ||
                (typeof value === "string" && /^[-+]?\d+$/.test(value))
            );
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
    // pulumi/pulumi sdk/go/common/workspace/loaders.go LoadProject: yaml.v3 too (parseGoYaml).
    const doc = (parseGoYaml(text) ?? {}) as { name?: string; config?: Record<string, unknown> };
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

/**
 * A config value after config/object.go `unmarshalObject`: a bool, an int64 or uint64 (a bigint here,
 * so that its digits stay exact), a float64 (a JS number), a string, a secure string (Ciphertext), a
 * list, a map, or nil (null).
 */
export type CfgObject = null | boolean | bigint | number | string | Ciphertext | CfgObject[] | { [key: string]: CfgObject };

/** object.go CiphertextSecret: a `secure:` leaf, still encrypted. */
class Ciphertext {
    constructor(readonly value: string) {}
}

const isMapObject = (o: CfgObject): o is { [key: string]: CfgObject } =>
    o !== null && typeof o === "object" && !Array.isArray(o) && !(o instanceof Ciphertext);

/**
 * object.go `unmarshalObject` of a value YAML (or JSON) decoded: a map of exactly one key `secure` with a
 * string is a secure leaf (isSecureValue), anywhere in the tree; numbers stay numbers (YAML's 1.30 is
 * the float 1.3); null is nil.
 */
export function unmarshalObject(v: unknown): CfgObject {
    if (v === null || v === undefined) return null;
    if (typeof v === "boolean" || typeof v === "bigint" || typeof v === "number" || typeof v === "string") return v;
    if (v instanceof Ciphertext) return v;
    if (Array.isArray(v)) return v.map(unmarshalObject);
    if (typeof v === "object") {
        const entries = Object.entries(v);
        if (entries.length === 1 && entries[0][0] === "secure" && typeof entries[0][1] === "string") return new Ciphertext(entries[0][1]);
        return Object.fromEntries(entries.map(([k, item]) => [k, unmarshalObject(item)]));
    }
    throw new CliConfigError(`unexpected wire type ${typeof v}`);
}

/** object.go `Secure`: a secure string, or a list or map holding one at any depth. */
function isSecure(o: CfgObject): boolean {
    if (o instanceof Ciphertext) return true;
    if (Array.isArray(o)) return o.some(isSecure);
    if (isMapObject(o)) return Object.values(o).some(isSecure);
    return false;
}

/**
 * Go's encoding/json Marshal as the CLI calls it: map keys sorted, `<`, `>`, `&`, U+2028 and U+2029
 * escaped (HTMLEscape). An int64 or uint64 is written with its exact digits; a float64 as the shortest
 * text that reads back as it (encoding/json floatEncoder: 'f' format, 'e' below 1e-6 and from 1e21,
 * "e-07" cleaned to "e-7": the same text as JavaScript's Number#toString, but for -0, which Go writes
 * "-0"); NaN and infinities are an error ("json: unsupported value"). A Ciphertext is written
 * `{"secure":"..."}` (marshalObject), or its plaintext when `decrypt` is given (Plaintext.marshalText).
 */
export function goJson(o: CfgObject, decrypt?: (ciphertext: string) => string): string {
    const write = (v: CfgObject): string => {
        if (v instanceof Ciphertext) return decrypt ? JSON.stringify(decrypt(v.value)) : `{"secure":${JSON.stringify(v.value)}}`;
        if (Array.isArray(v)) return `[${v.map(write).join(",")}]`;
        if (isMapObject(v)) {
            return `{${Object.keys(v)
                .sort()
                .map((k) => `${JSON.stringify(k)}:${write(v[k])}`)
                .join(",")}}`;
        }
        if (typeof v === "bigint") return v.toString();
        if (typeof v === "number") {
            if (!Number.isFinite(v)) throw new CliConfigError(`json: unsupported value: ${goFloatName(v)}`);
            return Object.is(v, -0) ? "-0" : String(v);
        }
        return JSON.stringify(v);
    };
    return write(o).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
const goFloatName = (v: number) => (Number.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");

/**
 * object.go `UnmarshalJSON`: Go's json.Decoder with UseNumber, then unmarshalObject of each json.Number:
 * Int64 (strconv.ParseInt(text, 10, 64)) when it is one, else Float64. So a uint64 beyond the int64
 * range, read back from the stored JSON text, is a float64 (9223372036854775808 becomes 2^63 as a
 * float, written 9223372036854776000).
 */
function parseGoJson(text: string): unknown {
    const NUMBER = "\u0000json.Number";
    // Number tokens outside strings become a marker object carrying their text (strings match first).
    const marked = text.replace(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g, (token) =>
        token.startsWith('"') ? token : `{${JSON.stringify(NUMBER)}:${JSON.stringify(token)}}`,
    );
    return JSON.parse(marked, (_key, value: unknown) => {
        if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
        const entries = Object.entries(value);
        if (entries.length !== 1 || entries[0][0] !== NUMBER) return value;
        const token = entries[0][1] as string;
        if (/^-?\d+$/.test(token)) {
            const n = BigInt(token);
            if (n >= INT64_MIN && n <= INT64_MAX) return n;
        }
        const f = Number(token);
        if (!Number.isFinite(f))
            throw new CliConfigError(`unrepresentable number ${token}: strconv.ParseFloat: parsing "${token}": value out of range`);
        return f;
    });
}
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** object.go `MarshalString`: scalars as text (numbers and bools as JSON), lists and maps as JSON. */
function marshalString(o: CfgObject): StackValue {
    if (o instanceof Ciphertext) return { text: o.value, secure: true, object: false };
    if (typeof o === "string") return { text: o, secure: false, object: false };
    if (typeof o === "boolean" || typeof o === "bigint" || typeof o === "number") return { text: goJson(o), secure: false, object: false };
    // nil falls to MarshalString's default case: JSON "null", an object.
    if (o === null) return { text: "null", secure: false, object: true };
    return { text: goJson(o), secure: isSecure(o), object: true };
}

/** object.go `UnmarshalString` (Value.unmarshalObject of an untyped value): the text back into an object. */
export function valueObject(value: StackValue): CfgObject {
    if (!value.object) return value.secure ? new Ciphertext(value.text) : value.text;
    return unmarshalObject(parseGoJson(value.text));
}

/**
 * value.go `Value.Value(decrypter)` (map.go `Map.Decrypt` does the same for every key): the text the
 * program receives. A string is itself; a secure string its plaintext; anything else Go's JSON with
 * every secure leaf replaced by its plaintext (Plaintext.marshalText), so a group with a `secure:`
 * member arrives as JSON holding the decrypted text.
 */
function programText(value: StackValue, decrypt: (ciphertext: string) => string): string {
    const o = valueObject(value);
    if (typeof o === "string") return o;
    if (o instanceof Ciphertext) return decrypt(o.value);
    return goJson(o, decrypt);
}

/** unmarshalObject + MarshalString: the text a YAML value becomes (numbers as JSON, so 1.30 is "1.3"). */
function toStackValue(raw: unknown): StackValue {
    // A key with an empty (null) YAML value: the stack file is read with gopkg.in/yaml.v3
    // (sdk/go/common/encoding/marshal.go), whose decoder.prepare returns before calling UnmarshalYAML
    // for a null node, so the key keeps the zero Value: the empty string.
    if (raw === null || raw === undefined) return ZERO_VALUE;
    return marshalString(unmarshalObject(raw));
}
const ZERO_VALUE: StackValue = { text: "", secure: false, object: false };

/** A path segment: a map key or a list index (resource.PropertyPath). */
type PathSegment = string | number;

/**
 * resource.ParsePropertyPathStrict (sdk/go/common/resource/properties_path.go), as `--path` parses a
 * key's name: `a.b`, `a[0]`, `a["b.c"]`; a bare name runs to the next `.` or `[`.
 */
function parsePropertyPath(text: string): PathSegment[] {
    const path: PathSegment[] = [];
    let i = 0;
    const fail = (why: string): never => {
        throw new CliConfigError(`invalid config key path: ${why}`);
    };
    while (i < text.length) {
        if (text[i] === "[") {
            const close = text.indexOf("]", i);
            if (text[i + 1] === '"') {
                let j = i + 2;
                let key = "";
                while (j < text.length && text[j] !== '"') {
                    if (text[j] === "\\" && text[j + 1] === '"') j++;
                    key += text[j++];
                }
                if (text[j + 1] !== "]") fail(`missing closing bracket in ${text}`);
                path.push(key);
                i = j + 2;
            } else {
                if (close < 0) fail(`missing closing bracket in ${text}`);
                const index = text.slice(i + 1, close);
                if (!/^\d+$/.test(index)) fail(`invalid array index ${JSON.stringify(index)}`);
                path.push(Number(index));
                i = close + 1;
            }
        } else {
            if (text[i] === ".") {
                if (i === 0) fail("expected property name");
                i++;
            }
            let j = i;
            while (j < text.length && text[j] !== "." && text[j] !== "[") j++;
            if (j === i) fail("expected property name");
            path.push(text.slice(i, j));
            i = j;
        }
    }
    return path;
}

/** PropertyPath.String: `a.b[0]`, `["a.b"]` where a key needs quoting. */
function pathString(path: readonly PathSegment[]): string {
    return path
        .map((k, i) => {
            if (typeof k === "number") return `[${k}]`;
            if (/[.[\]"]/.test(k)) return `["${k.replace(/"/g, '\\"')}"]`;
            return i === 0 ? k : `.${k}`;
        })
        .join("");
}

/**
 * object.go `coerce`, what `pulumi config set --path` does to a value below the top level: "true" and
 * "false" become booleans; base-10 digits (with a sign) not starting with 0 (but "0" itself) integers
 * (strconv.ParseInt(v, 10, 64), else strconv.ParseUint(v, 10, 64); beyond 64 bits they stay strings);
 * anything else stays a string ("0123", "1.30", "1e3", " 3"). ParseUint takes no sign (Go's strconv
 * atoi.go, ParseUint: "A sign prefix is not permitted"; "+1" is a syntax error there), so a signed value beyond the int64 range
 * ("+9223372036854775808", "+18446744073709551615") stays a string.
 */
export function coerce(v: string): CfgObject {
    if (v === "true") return true;
    if (v === "false") return false;
    if (v.length > 1 && v[0] === "0") return v;
    if (!/^[+-]?\d+$/.test(v)) return v;
    const n = BigInt(v);
    // ParseInt: an int64, with or without a sign.
    if (n >= INT64_MIN && n <= INT64_MAX) return n;
    // ParseUint: unsigned digits only, up to 2^64-1. Its digits kept exact: Go writes them so into the stored JSON.
    if (/^\d+$/.test(v) && n <= UINT64_MAX) return n;
    return v;
}

const ERR_SECURE_RESERVED = 'maps with the single key "secure" are reserved';

/**
 * object.go `newContainer`: a map for a key; for an index, a list long enough to hold it
 * (`make([]object, index+1)`: every item nil), so `--path 'g.l[1]' x` on a missing list gives [null,"x"].
 */
const newContainer = (accessor: PathSegment): CfgObject[] | { [key: string]: CfgObject } =>
    typeof accessor === "number" ? new Array<CfgObject>(accessor + 1).fill(null) : {};

/** object.go `object.Set`: sets the member at `path` below `o` (whose own path is `prefix`); returns the new `o`. */
function setAt(o: CfgObject, prefix: PathSegment[], path: readonly PathSegment[], value: CfgObject): CfgObject {
    if (path.length === 0) return value;
    let container: CfgObject[] | { [key: string]: CfgObject };
    if (Array.isArray(o) || isMapObject(o)) container = o;
    else {
        // nil: a new container; COMPAT: a scalar at the first level is overwritten, deeper it is an error.
        if (o === null || prefix.length === 1) container = newContainer(path[0]);
        else throw new CliConfigError(`${pathString(prefix)}: expected ${typeof path[0] === "number" ? "an array" : "a map"}`);
    }
    const here = [...prefix, path[0]];
    if (Array.isArray(container)) {
        const index = path[0];
        if (typeof index !== "number") throw new CliConfigError(`${pathString(here)}: key for an array must be an int`);
        // An existing list grows by one at most: an index past its end is refused, its length appends.
        if (index < 0 || index > container.length) throw new CliConfigError(`${pathString(here)}: array index out of range`);
        const items = [...container];
        items[index] = setAt(index === items.length ? null : items[index], here, path.slice(1), value);
        return items;
    }
    const key = path[0];
    if (typeof key !== "string") throw new CliConfigError(`${pathString(here)}: key for a map must be a string`);
    if (path.length === 1 && Object.keys(container).length === 0 && key === "secure" && typeof value === "string") {
        throw new CliConfigError(ERR_SECURE_RESERVED);
    }
    return { ...container, [key]: setAt(key in container ? container[key] : null, here, path.slice(1), value) };
}

/** object.go `object.Delete`: removes the member at `path`; a missing one is no error. Returns the new `o`. */
function deleteAt(o: CfgObject, prefix: PathSegment[], path: readonly PathSegment[]): CfgObject {
    if (path.length === 0) return o;
    const here = [...prefix, path[0]];
    if (Array.isArray(o)) {
        const index = path[0];
        if (typeof index !== "number" || index < 0 || index >= o.length) return o;
        if (path.length === 1) return o.filter((_, i) => i !== index);
        return o.map((item, i) => (i === index ? deleteAt(item, here, path.slice(1)) : item));
    }
    if (!isMapObject(o)) return o;
    const key = path[0];
    if (typeof key !== "string" || !(key in o)) return o;
    if (path.length === 1) {
        const rest = Object.keys(o).filter((k) => k !== key);
        if (Object.keys(o).length === 2 && rest[0] === "secure" && typeof o.secure === "string") {
            throw new CliConfigError(`${pathString(here)}: ${ERR_SECURE_RESERVED}`);
        }
        return Object.fromEntries(rest.map((k) => [k, o[k]]));
    }
    return { ...o, [key]: deleteAt(o[key], here, path.slice(1)) };
}

/** config.ParseKey plus the `--path` name: the top-level key, and the path below it. */
function splitKey(project: string, key: string, usePath: boolean): { full: string; path: PathSegment[] } {
    const namespaced = key.includes(":") ? key : `${project}:${key}`;
    const at = namespaced.indexOf(":");
    const ns = namespaced.slice(0, at);
    const name = namespaced.slice(at + 1);
    if (!usePath) return { full: parseKey(namespaced), path: [name] };
    const path = parsePropertyPath(name);
    if (path.length === 0) throw new CliConfigError("empty config key path");
    if (typeof path[0] !== "string") throw new CliConfigError("first path segement of config key must be a string");
    if (path[0] === "") throw new CliConfigError("config key is empty");
    return { full: `${ns}:${path[0]}`, path };
}

/**
 * map.go `Map.Set(key, value, path)`, what `pulumi config set [--path] [--secret] <key> <value>` does
 * to the stack's config (pkg/cmd/pulumi/config/config.go, configSetCmd.Run: `--secret` makes the value
 * a secure one first). Without --path, or with a one-segment path, the value is stored as the string
 * given (top-level entries are always strings); below the top level it is coerced (a secure value stays
 * secure) and set into the group, which is created when absent (a map for a key, a list for an index).
 */
function configSet(values: Map<string, StackValue>, key: { full: string; path: PathSegment[] }, value: StackValue): void {
    if (key.path.length === 1) {
        values.set(key.full, value);
        return;
    }
    // Value.coerceObject: a secure or object value as it is, plain text coerced.
    const member: CfgObject = value.secure || value.object ? valueObject(value) : coerce(value.text);
    const root = values.get(key.full);
    const o = root ? valueObject(root) : newContainer(key.path[1]);
    values.set(key.full, marshalString(setAt(o, key.path.slice(0, 1), key.path.slice(1), member)));
}

/** object.go `object.Get`: the member at `path` below `o`, or undefined where there is none. */
function getAt(o: CfgObject, path: readonly PathSegment[]): CfgObject | undefined {
    if (path.length === 0) return o;
    const [head, ...rest] = path;
    if (Array.isArray(o)) return typeof head === "number" && head >= 0 && head < o.length ? getAt(o[head], rest) : undefined;
    if (isMapObject(o)) return typeof head === "string" && head in o ? getAt(o[head], rest) : undefined;
    return undefined;
}

/** map.go `Map.Get(key, path)`: the value at the key's path (a member of a group is a value of its own), or undefined. */
function configGet(values: ReadonlyMap<string, StackValue>, key: { full: string; path: PathSegment[] }): StackValue | undefined {
    const root = values.get(key.full);
    if (key.path.length === 1 || root === undefined) return root;
    const member = getAt(valueObject(root), key.path.slice(1));
    return member === undefined ? undefined : marshalString(member);
}

/** map.go `Map.Remove(key, path)`: `pulumi config rm [--path]`. A group emptied keeps its `{}`. */
function configRemove(values: Map<string, StackValue>, key: { full: string; path: PathSegment[] }): void {
    if (key.path.length === 1) {
        values.delete(key.full);
        return;
    }
    const root = values.get(key.full);
    if (!root) return;
    values.set(key.full, marshalString(deleteAt(valueObject(root), key.path.slice(0, 1), key.path.slice(1))));
}

/**
 * strconv.ParseInt(s, 0, 64) (or ParseUint with `unsigned`): an optional sign (ParseInt only), then
 * 0x/0X hex, 0o/0O or a leading 0 octal, 0b/0B binary, else decimal; undefined when it is no such
 * integer or out of range.
 */
function goParseInt(s: string, unsigned: boolean): bigint | undefined {
    const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
    if (!m || (unsigned && m[1] !== "")) return undefined;
    const body = m[2];
    const digits = /^0[oO]/.test(body) ? `0o${body.slice(2)}` : /^0[0-7]+$/.test(body) ? `0o${body.slice(1)}` : body.toLowerCase();
    const n = m[1] === "-" ? -BigInt(digits) : BigInt(digits);
    return unsigned ? (n <= UINT64_MAX ? n : undefined) : n >= INT64_MIN && n <= INT64_MAX ? n : undefined;
}

/** yaml.v3 resolve.go's yamlStyleFloat. */
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/**
 * gopkg.in/yaml.v3 resolve.go `resolve` of a plain scalar that begins with a digit, a sign or a dot
 * (true/false/null/.inf/.nan are the same words as YAML 1.2's core schema, left to it): the `_`s
 * removed, strconv.ParseInt(plain, 0, 64) (so 010 is 8, 0x1F is 31, 0o17 15, 0b11 3, 1_000 1000),
 * else ParseUint, else a float when it looks like one (so 08 and 1e3 are floats), else the string.
 * A scalar starting with `.` is only tried as a float, underscores kept. A timestamp (2001-12-14) is
 * resolved as one but decoded into `any` as its text (decode.go, "for backward compatibility"): a string.
 */
export function resolveGoYamlNumber(text: string): bigint | number | string {
    const float = (s: string) => {
        const f = Number(s);
        // strconv.ParseFloat: out of range is an error (and the scalar stays a string).
        return Number.isFinite(f) ? f : undefined;
    };
    if (text.startsWith(".")) return (/^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(text) ? float(text) : undefined) ?? text;
    const plain = text.replace(/_/g, "");
    const n = goParseInt(plain, false) ?? goParseInt(plain, true);
    if (n !== undefined) return n;
    if (YAML_STYLE_FLOAT.test(plain)) return float(plain) ?? text;
    return text;
}

/**
 * The YAML 1.2 core schema's scalars with yaml.v3's numbers in place of its int and float forms (its
 * `.inf`/`.nan` tag kept: the same words as yaml.v3's resolveMap).
 */
const GO_YAML_NUMBER: ScalarTag = {
    tag: "tag:yaml.org,2002:int",
    default: true,
    test: /^[-+.0-9]/,
    resolve: (text: string) => resolveGoYamlNumber(text) as unknown as string,
};

/**
 * Reads a stack file as the CLI does, with gopkg.in/yaml.v3 (sdk/go/common/encoding/marshal.go; v3.0.1,
 * go-yaml/yaml branch v3): plain numbers as resolveGoYamlNumber reads them, and merge keys applied
 * (decode.go `merge`, `isMerge`: `<<: *anchor` or `<<: [*a, *b]` copies the members the map does not
 * set itself, the earlier source first), which the yaml package does with `merge: true`.
 * Known gaps (not modelled, none met by our stack files): a map key that is not a string (yaml.v3
 * decodes `1:` as the int 1, then unmarshalObject writes it with %v: "1", as here; a null key is
 * "<nil>" there, "" here); explicit tags (`!!int "3"`, `!!binary`); duplicate keys fail in both, with
 * other messages; NaN and infinities fail in both, at JSON marshalling.
 */
export function parseGoYaml(text: string): unknown {
    const doc = parseDocument(text, {
        merge: true,
        customTags: (tags) => [
            ...tags.filter(
                (t) =>
                    typeof t === "string" ||
                    !["tag:yaml.org,2002:int", "tag:yaml.org,2002:float"].includes(t.tag) ||
                    ("test" in t && t.test?.test(".nan")),
            ),
            GO_YAML_NUMBER,
        ],
    });
    if (doc.errors.length > 0) throw new CliConfigError(doc.errors[0].message);
    return doc.toJS({ maxAliasCount: -1 });
}

/** A plain (unquoted) scalar in a stack file's config that gopkg.in/yaml.v3 reads as a number. */
interface PlainNumber {
    /** Where it is below the project's namespace: `group.member`, `group.list[0]`, or a top-level name. */
    readonly path: string;
    /** The scalar as written. */
    readonly written: string;
    /** What yaml.v3 reads (resolveGoYamlNumber): an integer (bigint) or a float. */
    readonly read: bigint | number;
}

/**
 * Every plain scalar under the project's keys of a stack file's `config:` that yaml.v3 reads as a
 * number (`2.0`, `010`, `0x1F`, `1e3`, `1_000`, `+7`, `1.10`), where it is. Not part of the CLI's
 * pass, which takes them as the numbers they read as (and hands the program their JSON text): for
 * tools that warn where a text member is written so (tools/plan.ts). A key without a `:` is the
 * project's (loaders.go stackConfigNamespacedWithProject). Aliases and merge keys are not followed.
 */
export function plainNumbersOf(text: string, project: string): PlainNumber[] {
    const found: PlainNumber[] = [];
    const walk = (node: unknown, at: PathSegment[]): void => {
        if (isScalar(node)) {
            if (node.type !== Scalar.PLAIN || typeof node.source !== "string" || node.source === "") return;
            const read = resolveGoYamlNumber(node.source);
            if (typeof read !== "string") found.push({ path: pathString(at), written: node.source, read });
        } else if (isMap(node)) {
            for (const pair of node.items) {
                const key = isScalar(pair.key) ? pair.key.value : pair.key;
                if (typeof key === "string") walk(pair.value, [...at, key]);
            }
        } else if (isSeq(node)) {
            node.items.forEach((item, index) => walk(item, [...at, index]));
        }
    };
    const config = parseDocument(text).get("config", true);
    if (!isMap(config)) return found;
    for (const pair of config.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (typeof key !== "string") continue;
        const namespaced = key.includes(":") ? key : `${project}:${key}`;
        if (!namespaced.startsWith(`${project}:`)) continue;
        walk(pair.value, [namespaced.slice(project.length + 1)]);
    }
    return found;
}

/**
 * Reads a stack file's `config:` map (sdk/go/common/workspace/loaders.go LoadProjectStackBytes): a key
 * without a `:` is the project's (stackConfigNamespacedWithProject: `cluster:` is `<project>:cluster`),
 * then config.ParseKey of each (`a:b:c` is refused unless its middle part is `config`).
 */
export function parseStackFile(text: string, project: string): Map<string, StackValue> {
    const doc = (parseGoYaml(text) ?? {}) as { config?: Record<string, unknown> };
    const values = new Map<string, StackValue>();
    for (const [key, raw] of Object.entries(doc.config ?? {})) {
        values.set(parseKey(key.includes(":") ? key : `${project}:${key}`), toStackValue(raw));
    }
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
    // A declared key is looked up and injected as a path (stackConfig.Get(key, true), Set(key, v, true)):
    // `cluster.tier` declared in Pulumi.yaml is the member of the stack's `cluster` group.
    const keyOf = (key: string) => splitKey(project.name, key.includes(":") ? parseKey(key) : key, true);
    const missing: string[] = [];
    for (const key of Object.keys(project.config).sort()) {
        const t = project.config[key];
        const declared = t.default !== undefined ? t.default : t.value;
        const at = keyOf(key);
        if (configGet(merged, at) !== undefined) continue;
        if (declared === undefined) {
            if (at.full.startsWith(`${project.name}:`)) missing.push(key);
            continue;
        }
        // createConfigValue: primitives as text (fmt %v), anything else as JSON.
        configSet(
            merged,
            at,
            isPrimitive(declared)
                ? { text: String(declared), secure: false, object: false }
                : { text: goJson(unmarshalObject(declared)), secure: false, object: true },
        );
    }
    if (missing.length > 0) throw new CliConfigError(missingKeysMessage(stack, missing));

    // Map.Decrypt / Value.Value: each key's text, its secure leaves (a whole secure value, or `secure:`
    // members of a group) decrypted.
    const decrypter = (key: string) => (ciphertext: string) => {
        const text = decrypt(key, ciphertext);
        if (text === undefined)
            throw new CliConfigError(`failed to decrypt configuration key '${key}': no secrets provider can decrypt it here`);
        return text;
    };
    const plain = new Map<string, string>();
    for (const [key, value] of merged) plain.set(key, programText(value, decrypter(key)));
    // validateStackConfigValues: each explicitly typed key, at its path.
    for (const key of Object.keys(project.config).sort()) {
        const t = project.config[key];
        if (t.type === undefined || !namespacedByProject(project.name, key)) continue;
        const at = keyOf(key);
        const value = configGet(merged, at);
        if (value === undefined) continue;
        if (t.secret && !value.secure)
            throw new CliConfigError(`Stack '${stack}' with configuration key '${key}' must be encrypted as it's secret`);
        const text = programText(value, decrypter(at.full));
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

/** A value as a stack file holds it at a path (what YAML decodes to): a scalar, a list, a map. */
type FileValue = string | number | boolean | null | readonly FileValue[] | { readonly [key: string]: FileValue };

/** One `pulumi config` command on the stack. */
export type ConfigCommand =
    /** `pulumi config set [--path] [--secret] <key> <value>`. */
    | { readonly set: string; readonly value: string; readonly path?: boolean; readonly secret?: boolean }
    /** `pulumi config rm [--path] <key>`. */
    | { readonly rm: string; readonly path?: boolean };

export interface StackSettings {
    /**
     * Edits of the stack file before the CLI reads it, by path (`group.member`, `group.list[0]`, or a
     * top-level key; bare names get the project's namespace): the value as the file would hold it there
     * (`5`, `true`, `[]`, `"1.30"`), or undefined to delete the member (a group left empty is deleted
     * too: a file without the member).
     */
    readonly file?: Readonly<Record<string, FileValue | undefined>>;
    /** Edits like `file`, the member written `secure: <ciphertext of the text>`, as `--secret` leaves it. */
    readonly secure?: Readonly<Record<string, string | undefined>>;
    /** Then these commands, in order. */
    readonly commands?: readonly ConfigCommand[];
}

/**
 * Writes `value` (undefined: deletes) at `path` into the stack file's parsed config `values`, as an
 * editor of the YAML would: the groups on the way are created, the rest of the file stays.
 */
function editStackFile(values: Map<string, StackValue>, project: string, key: string, value: CfgObject | undefined): void {
    const { full, path } = splitKey(project, key, true);
    if (path.length === 1) {
        if (value === undefined) values.delete(full);
        else values.set(full, value === null ? ZERO_VALUE : marshalString(value));
        return;
    }
    const root = values.get(full);
    if (value === undefined) {
        if (!root) return;
        const left = deleteAt(valueObject(root), path.slice(0, 1), path.slice(1));
        if (isMapObject(left) && Object.keys(left).length === 0) values.delete(full);
        else values.set(full, marshalString(left));
        return;
    }
    values.set(full, marshalString(setAt(root ? valueObject(root) : newContainer(path[1]), path.slice(0, 1), path.slice(1), value)));
}

/** The stack's config as the CLI holds it after `settings`: Pulumi.<stack>.yaml edited, then the commands run. */
export function stackConfigWith(project: string, values: Map<string, StackValue>, settings: StackSettings = {}): Map<string, StackValue> {
    const result = new Map(values);
    for (const [key, value] of Object.entries(settings.file ?? {})) {
        editStackFile(result, project, key, value === undefined ? undefined : unmarshalObject(value));
    }
    for (const [key, text] of Object.entries(settings.secure ?? {})) {
        editStackFile(result, project, key, text === undefined ? undefined : new Ciphertext(offlineCiphertext(text)));
    }
    for (const command of settings.commands ?? []) {
        if ("set" in command) {
            const key = splitKey(project, command.set, command.path === true);
            const value = command.secret
                ? { text: offlineCiphertext(command.value), secure: true, object: false }
                : { text: command.value, secure: false, object: false };
            configSet(result, key, value);
        } else {
            configRemove(result, splitKey(project, command.rm, command.path === true));
        }
    }
    return result;
}

/** Reads `root`'s Pulumi.yaml and Pulumi.<stack>.yaml, applies `settings`, and runs the CLI's pass. */
export function cliConfig(root: string, stack: string, settings: StackSettings = {}): ProgramConfig {
    const project = parseProject(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    const values = fs.existsSync(file) ? parseStackFile(fs.readFileSync(file, "utf8"), project.name) : new Map<string, StackValue>();
    return mergeConfig(stack, project, stackConfigWith(project.name, values, settings), decryptOffline);
}

/**
 * The key the stack file holds the group under: `<project>:<group>`, or the bare `<group>`, which the CLI
 * reads as the project's (pulumi/pulumi pkg/workspace/loaders.go, stackConfigNamespacedWithProject).
 * Both at once is refused: the CLI would keep one of them, whichever its map walk meets last.
 */
export function groupKeyOf(config: { has(key: string): boolean } | Record<string, unknown>, project: string, group: string): string {
    const has = (key: string) =>
        typeof (config as { has?: unknown }).has === "function" ? (config as { has(key: string): boolean }).has(key) : key in config;
    const prefixed = `${project}:${group}`;
    if (has(prefixed) && has(group))
        throw new Error(`the stack file has both ${group} and ${prefixed}, which the Pulumi CLI reads as one key; keep one of them`);
    return has(group) ? group : prefixed;
}
