// The zod schema of the stack configuration, built from the one table (keys.ts): the root object of
// top-level keys (`environment` and one strict object per group), each member's type, its own rule as a
// refinement, and which stacks may set it. Every zod issue becomes one line of our message standard,
// `<path>: <value shown> <what is wrong>; <what is allowed>`, and every problem is reported in one round.
//
// What the schema receives (pulumi/pulumi at the pinned CLI): PULUMI_CONFIG maps each top-level key to a
// string; a group (a YAML mapping in the stack file) arrives as the JSON text of the object, secure
// leaves decrypted (sdk/go/common/resource/config/value.go `Value.Value`, object.go `MarshalString`).
// So YAML scalars inside a group keep their YAML type: `nodeCount: 3` is the number 3, `enabled: true`
// the boolean, an unquoted `kubernetesVersion: 1.30` the number 1.3. And `pulumi config set --path`
// turns `true`/`false` into booleans and base-10 digits not starting with 0 into integers, anything
// else into a string (object.go `coerce`: strconv.ParseInt/ParseUint, an exact int64 or uint64), so a
// string member must take an integer as its digits (`pulumi config set --path services.productTag 42`
// stores the number 42) and an integer member the string of its digits (`"3"` written quoted in YAML).
// But JSON.parse in the program reads every number as a float64: an integer beyond 2^53 - 1 arrives
// rounded (20261203151500123 reads 20261203151500124), and an unquoted 1.10 arrives as 1.1. Neither can
// be told apart from what the stack meant, so a string member (and a list item) takes a number only when
// Number.isSafeInteger, and refuses any other number, naming the two ways to write text: quoted in YAML,
// or `pulumi config set --path <path> <value> --type string` (pulumi/pulumi pkg/cmd/pulumi/config/config.go:
// `--type string` makes a config.NewTypedValue of TypeString, which value.go `coerceObject` stores as
// the string as given; the flag cannot be combined with --secret, and a secure value is a string anyway).
import { z } from "zod";
import { type Environment } from "./constants";
import {
    CONFIG_PATHS,
    GROUP_NAMES,
    defaultOf,
    flatKeyPath,
    groupHoldsSecret,
    inScope,
    isConfigPath,
    membersOf,
    specOf,
    splitPath,
    type ConfigPath,
    type GroupName,
    type KeySpec,
} from "./keys";
import { FLAT_KEY_PATHS } from "./layout";
import { configSetCommand, P, type MemberPath } from "./paths";
import { nearest, show } from "./validators";

const FLAT_KEYS = Object.keys(FLAT_KEY_PATHS);

/** What a message shows instead of a secret member's value. */
export const HIDDEN = "(value not shown)";

/**
 * YAML reads an unquoted 1.30 as the number 1.3, and the CLI hands the program the number; `pulumi config
 * set --path` stores digits as an integer. `shown` is the number as a message may show it (HIDDEN for a
 * secret member). `rounded`: a whole number beyond ±(2^53 - 1), which YAML (yaml.v3 reads it as an int64)
 * and the CLI kept exactly, and which the program's JSON reading (JavaScript numbers) rounded to `shown`.
 */
export const yamlNumberHint = (path: string, shown: string, rounded = false) =>
    rounded
        ? ` (a whole number beyond ±${Number.MAX_SAFE_INTEGER} (2^53 - 1): the CLI (beyond the int64 range) or the program's JSON reading rounded it to ${shown}; if Pulumi.<stack>.yaml has it unquoted, YAML read it as a number: quote the value; if pulumi config set --path stored it, it stored digits as a number: set it as text with pulumi config set --path ${path} <value> --type string)`
        : ` (if Pulumi.<stack>.yaml has it unquoted, YAML read it as the number ${shown}, dropping any trailing zero: quote the value; if pulumi config set --path stored it, it stored digits as a number: set it as text with pulumi config set --path ${path} <value> --type string)`;

/** The text a string member (or a list item) reads from `input`: a string, or a safe integer as its digits. */
export function textOf(input: unknown): string | undefined {
    if (typeof input === "string") return input;
    if (typeof input === "number" && Number.isSafeInteger(input)) return String(input);
    return undefined;
}

/**
 * Why `input` (not text, see textOf) is refused where text is wanted, after `<where>: <value shown> `:
 * `where` is the member's path or, for a list item, `<path>[<i>]`.
 */
function notTextReason(input: unknown, where: string, shown: string, item: boolean): string {
    const wanted = item ? "list items are text" : "the member is text";
    const path = where.includes("[") ? `'${where}'` : where;
    if (typeof input === "number") {
        return `is not allowed; ${wanted}, and a number counts only when it is a whole number within ±${Number.MAX_SAFE_INTEGER} (read as its digits), since any other may have lost digits before the program saw it${yamlNumberHint(path, shown, Number.isInteger(input) && !Number.isSafeInteger(input))}`;
    }
    const empty = item
        ? "an empty list item `- ` is null"
        : `an empty value is null: to take the default, pulumi config rm --path ${where}`;
    return `is not allowed; ${wanted} (quote it in YAML where it would read as a number, true/false or null; ${empty})`;
}

const INTEGER_TEXT = /^-?\d+$/;

/**
 * The forms a member's value may take in the group's JSON, and the typed value each form means:
 * string: a string, or a safe integer as its digits (textOf); integer: a JSON integer or a string of base-10
 * digits; boolean: true/false or "true"/"false"; array: a list of such text items.
 */
function inputOf(spec: KeySpec, path: string) {
    const shown = (input: unknown) => (spec.secret ? HIDDEN : show(input));
    switch (spec.type) {
        case "string": {
            return z.unknown().transform((input, ctx): unknown => {
                const text = textOf(input);
                if (text !== undefined) return text;
                ctx.addIssue({ code: "custom", message: `${path}: ${shown(input)} ${notTextReason(input, path, shown(input), false)}` });
                return z.NEVER;
            });
        }
        case "integer": {
            const error = (iss: { input?: unknown }) => `${path}: ${shown(iss.input)} is not a whole number; use base-10 digits, e.g. 3`;
            // abort: a number that is not a safe integer (zod's int() reports a continuable too_big for one
            // beyond 2^53) and a string that is not digits must stop here, before the member's rule sees it.
            return z
                .union([z.number().int({ error, abort: true }), z.string().regex(INTEGER_TEXT, { error, abort: true })], { error })
                .transform((value): unknown => Number(value));
        }
        case "boolean": {
            const error = (iss: { input?: unknown }) => `${path}: ${shown(iss.input)} is not allowed; use true or false`;
            return z
                .union([z.boolean(), z.enum(["true", "false"])], { error })
                .transform((value): unknown => value === true || value === "true");
        }
        case "array": {
            const error = (iss: { input?: unknown }) =>
                `${path}: ${shown(iss.input)} is not a list; write it as a YAML list of strings, or set each item with pulumi config set --path '${path}[<i>]' <item>`;
            // Each item on its own, so that a message names the item's index and value (zod's union of
            // string and number would say only "Invalid input").
            return z.array(z.unknown(), { error }).transform((items, ctx): unknown => {
                const texts = items.map(textOf);
                texts.forEach((text, i) => {
                    if (text !== undefined) return;
                    const where = `${path}[${i}]`;
                    ctx.addIssue({
                        code: "custom",
                        message: `${where}: ${shown(items[i])} ${notTextReason(items[i], where, shown(items[i]), true)}`,
                    });
                });
                return texts.every((text) => text !== undefined) ? texts : z.NEVER;
            });
        }
    }
}

const FORMS = new Map<ConfigPath, ReturnType<typeof inputOf>>();

/** The typed value of `input` at `path`, or undefined when it is not of the member's type. */
export function typedValue(path: ConfigPath, input: unknown): { value: unknown } | undefined {
    let form = FORMS.get(path);
    if (form === undefined) FORMS.set(path, (form = inputOf(specOf(path), path)));
    const result = form.safeParse(input);
    return result.success ? { value: result.data } : undefined;
}

/** The group's members as the stack set them: the parsed group when it is a mapping, else nothing. */
export function membersSet(group: unknown): Readonly<Record<string, unknown>> {
    return group !== null && typeof group === "object" && !Array.isArray(group) ? (group as Record<string, unknown>) : {};
}

/** A top-level value as the CLI handed it: a group's JSON text parsed, a scalar kept as its text. */
export function parseTopLevel(text: string): unknown {
    try {
        return JSON.parse(text) as unknown;
    } catch {
        return text;
    }
}

/** Whether the boolean member at `path` is off for this stack: as set in `input`, else its default. */
function switchedOff(path: ConfigPath, input: Readonly<Record<string, unknown>>, environment: Environment): boolean {
    const { group, member } = splitPath(path);
    const members = membersSet(group === undefined ? undefined : input[group]);
    if (member in members) return typedValue(path, members[member])?.value !== true;
    return defaultOf(path, environment) !== true;
}

const scopeReason = {
    azure: (environment: Environment) =>
        `is not allowed for environment ${environment}, which creates no Azure resources (the member only configures Azure, or what exists only with Azure: the Key Vault CSI path, the backups to Azure Storage)`,
    none: (environment: Environment) =>
        `is not allowed for environment ${environment}, which deploys to the AKS cluster it creates through that cluster's own credentials, never a kubeconfig context`,
} as const;

/**
 * A member's schema for this stack: out of its scope, any value is a problem; otherwise its input forms
 * (inputOf), then its own rule as a refinement on the typed value. The refinement also sees the raw
 * input, for the YAML-number hint (a string member given a JSON number).
 */
function memberSchema(path: ConfigPath, environment: Environment) {
    const spec = specOf(path);
    if (!inScope(spec, environment)) {
        const reason = scopeReason[spec.scope as "azure" | "none"](environment);
        return z.unknown().superRefine((input, ctx) => {
            ctx.addIssue({
                code: "custom",
                message: `${path}: ${spec.secret ? HIDDEN : show(input)} ${reason}; remove it with pulumi config rm --path ${path}`,
            });
        });
    }
    return z
        .unknown()
        .transform((raw) => ({ raw, value: raw }))
        .pipe(z.object({ raw: z.unknown(), value: inputOf(spec, path) }))
        .superRefine(({ raw, value }, ctx) => {
            const problems = [spec.check?.(path, value as never, environment)].flat().filter((p) => p !== undefined);
            for (const problem of problems) {
                // No rule of a secret member quotes its value (config-schema.test.ts checks each one).
                let message = problem;
                if (spec.type === "string" && typeof raw === "number") message += yamlNumberHint(path, spec.secret ? HIDDEN : show(raw));
                // The note on a switched-off feature depends on the whole stack: schemaProblems adds it,
                // so that the schema is built once per environment.
                ctx.addIssue({ code: "custom", message });
            }
        })
        .transform(({ value }) => value);
}

/** A group's value is not a mapping; `shown` is the value as the message may show it (HIDDEN when it may be secret). */
function notGroupMessage(group: GroupName, shown: string): string {
    return `${group}: ${shown} is not a group of members; write it as a YAML mapping under aks-platform:${group} in Pulumi.<stack>.yaml, or set each member with pulumi config set --path ${group}.<member> <value> (docs/configuration.md lists the members of ${group})`;
}

/** One group: a strict object of its members, each optional (a member not set takes its default). */
function groupSchema(group: GroupName, environment: Environment) {
    const shape = Object.fromEntries(
        membersOf(group).map((member) => [member, memberSchema(`${group}.${member}` as ConfigPath, environment).optional()]),
    );
    // A value that is not a mapping: schemaProblems writes the message, knowing whether the group arrived secret.
    return z.strictObject(shape);
}

/** The root: `environment` (its value is parse.ts's to judge) and every group. */
function buildSchema(environment: Environment) {
    const shape = Object.fromEntries(GROUP_NAMES.map((group) => [group, groupSchema(group, environment).optional()]));
    return z.strictObject({ environment: z.unknown().optional(), ...shape });
}

const SCHEMAS = new Map<Environment, ReturnType<typeof buildSchema>>();

/** The schema for a stack of `environment` (built once per environment: which members it may set differs). */
export function configSchema(environment: Environment): ReturnType<typeof buildSchema> {
    let schema = SCHEMAS.get(environment);
    if (schema === undefined) SCHEMAS.set(environment, (schema = buildSchema(environment)));
    return schema;
}

/** Paths whose member is `member`, for a did-you-mean across groups (e.g. vmSize: systemPool.vmSize or userPool.vmSize). */
function pathsNamed(member: string): ConfigPath[] {
    return CONFIG_PATHS.filter((path) => splitPath(path).member === member);
}

const ALL_MEMBER_NAMES = [...new Set(CONFIG_PATHS.filter((p) => p !== "environment").map((p) => splitPath(p).member))];

/** The path nearest to `name` (a full path, case-insensitively), if it is close enough to be a typo. */
export function nearestPath(name: string): ConfigPath | undefined {
    return nearest(name, CONFIG_PATHS);
}

/** `<group>.<member>` is not a member of the group: the nearest member of the group, else the nearest path anywhere. */
export function unknownMemberMessage(group: GroupName, member: string): string {
    const head = `${group}.${member}: is not a member of ${group}`;
    const inGroup = nearest(member, membersOf(group));
    if (inGroup !== undefined) return `${head}; did you mean ${group}.${inGroup}?`;
    const moved = flatKeyPath(member);
    if (moved !== undefined) return `${head}; did you mean ${moved}? (${member} is the old flat key of ${moved})`;
    const elsewhere = nearest(member, ALL_MEMBER_NAMES);
    if (elsewhere !== undefined) return `${head}; did you mean ${pathsNamed(elsewhere).join(" or ")}?`;
    return `${head}; docs/configuration.md lists the members of ${group}`;
}

/** How to set a secret member encrypted: from a file for the PEM members, else the value on the command line. */
export function secretHint(path: ConfigPath): string {
    const pem = path === P.ingress.tlsCertificate || path === P.ingress.tlsPrivateKey;
    return `${configSetCommand(path as MemberPath, { secret: true })} ${pem ? "< file.pem" : "<value>"}`;
}

/** A word as the shell passes it through: kept bare when it holds no shell syntax, else single-quoted. */
function shellWord(text: string): string {
    return /^[\w.:/@=+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The shell words of `pulumi config set --path` that store `value` at `path` (a member, or a list item `<path>[<i>]`). */
function setCommand(path: string, value: unknown, secret: boolean): string {
    if (secret) return isConfigPath(path) ? secretHint(path) : `pulumi config set --path --secret ${shellWord(path)} <value>`;
    if (Array.isArray(value)) return `pulumi config set --path '${path}[<i>]' <item>, for each item of ${show(value)}`;
    return `pulumi config set --path ${shellWord(path)} ${shellWord(String(value))}`;
}

/**
 * A top-level key that reads as a path (its first segment a group, e.g. `cluster.tier`, or holding an
 * index, e.g. `zones[0]`): `pulumi config set` without --path stores the whole text as one top-level key
 * (pulumi/pulumi sdk/go/common/resource/config/map.go `Map.Set`: with path false, `m[k] = v`). The
 * message says so, with the command that removes it and the one that sets the member; `secret` (the key
 * arrived secret, or the member is a secret) keeps the value out of it. Undefined for any other key.
 */
function withoutPathMessage(key: string, value: unknown, secret: boolean): string | undefined {
    const [first] = key.split(/[.[]/);
    const indexed = /\[\d+\]/.test(key);
    if (!indexed && !(GROUP_NAMES.includes(first as GroupName) && key.length > first.length)) return undefined;
    const memberPath = key.replace(/\[\d+\]/g, "");
    const known = isConfigPath(memberPath);
    const hide = secret || (known && specOf(memberPath as ConfigPath).secret === true);
    const head = `${key}: is a top-level key named ${show(key)}, set without --path`;
    const fix = `remove it with pulumi config rm ${shellWord(key)}`;
    if (known) return `${head}; ${fix}, then ${setCommand(key, value, hide)}`;
    const near = nearestPath(memberPath);
    const guess = near === undefined ? "docs/configuration.md lists every member" : `did you mean ${near}?`;
    return `${head}, and ${memberPath} is not a member of this program (${guess}); ${fix}, then pulumi config set --path <path> <value>`;
}

/**
 * A top-level key that is not `environment` or a group: a path set without --path, an old flat key
 * (named its path), or a typo. `secret`: the key arrived secret (PULUMI_CONFIG_SECRET_KEYS), so its
 * value is not shown whatever the table says of the member.
 */
export function unknownTopLevelMessage(key: string, value: unknown, secret = false): string {
    const withoutPath = withoutPathMessage(key, value, secret);
    if (withoutPath !== undefined) return withoutPath;
    const path = flatKeyPath(key);
    if (path !== undefined) {
        const { group } = splitPath(path);
        return `${key}: is the flat key of the old layout; it is now ${path}: move it under aks-platform:${group} in Pulumi.<stack>.yaml (pulumi config rm ${key}, then ${setCommand(path, value, secret || specOf(path).secret === true)})`;
    }
    const topLevel = ["environment", ...GROUP_NAMES];
    const near = nearest(key, topLevel);
    if (near !== undefined) return `${key}: is not a config key of this program; did you mean ${near}?`;
    const nearFlat = nearest(key, FLAT_KEYS);
    if (nearFlat !== undefined) return `${key}: is not a config key of this program; did you mean ${flatKeyPath(nearFlat)}?`;
    return `${key}: is not a config key of this program; docs/configuration.md lists every key`;
}

/**
 * The switch (`enabledBy`) of the member an issue is about, when the member is one the stack may set:
 * a member of a switched-off feature is still checked, and its messages (type or rule) name the switch.
 */
function switchOf(issuePath: readonly PropertyKey[], environment: Environment): ConfigPath | undefined {
    const [group, member] = issuePath;
    if (typeof group !== "string" || typeof member !== "string" || !isConfigPath(`${group}.${member}`)) return undefined;
    const spec = specOf(`${group}.${member}` as ConfigPath);
    if (!inScope(spec, environment)) return undefined;
    return spec.enabledBy as ConfigPath | undefined;
}

/**
 * Every problem the schema finds in `input` (the parsed top-level values), in our message standard.
 * `isSecret(topLevelKey)`: whether the key arrived secret; an unknown key's value is then never shown.
 */
export function schemaProblems(
    input: Readonly<Record<string, unknown>>,
    environment: Environment,
    isSecret: (topLevelKey: string) => boolean,
): string[] {
    const result = configSchema(environment).safeParse(input);
    if (result.success) return [];
    const problems: string[] = [];
    for (const issue of result.error.issues) {
        if (issue.code === "unrecognized_keys") {
            const [group] = issue.path as string[];
            for (const key of issue.keys) {
                problems.push(
                    group === undefined
                        ? unknownTopLevelMessage(key, input[key], isSecret(key))
                        : unknownMemberMessage(group as GroupName, key),
                );
            }
        } else if (issue.code === "invalid_type" && issue.path.length === 1 && GROUP_NAMES.includes(issue.path[0] as GroupName)) {
            // A group's own value (not a mapping): the whole top-level key arrived secret when any leaf of
            // it was encrypted (object.go object.Secure), so its value is shown only when it did not.
            const group = issue.path[0] as GroupName;
            const hide = groupHoldsSecret(group) || isSecret(group);
            problems.push(notGroupMessage(group, hide ? HIDDEN : show(input[group])));
        } else {
            const enabledBy = switchOf(issue.path, environment);
            problems.push(
                enabledBy !== undefined && switchedOff(enabledBy, input, environment)
                    ? `${issue.message} (checked although ${enabledBy} is false: the member counts only with ${enabledBy}: true)`
                    : issue.message,
            );
        }
    }
    return problems;
}
