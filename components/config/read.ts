// Raw stack config (top-level key -> the string the Pulumi CLI hands the program; a group as the JSON
// text of its object) into typed, defaulted values, through the zod schema built from the table
// (schema.ts): defaults per environment (keys.ts DEFAULTS), which stacks may set a member, each
// member's own rule, old flat keys named their new path, and hints for the mistakes YAML invites.
// Cross-member rules are parse.ts's.
import { type Environment } from "./constants";
import { defaultOf, GROUP_NAMES, inScope, membersOf, specOf, type ConfigPath, type ConfigValues, type KeySpec } from "./keys";
import { HIDDEN, membersSet, parseTopLevel, schemaProblems, secretHint, textOf, typedValue } from "./schema";

export type Raw = Readonly<Record<string, string | undefined>>;

/** Raised for invalid stack configuration; `problems` holds one line per problem. */
export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`Invalid stack configuration:\n  - ${problems.join("\n  - ")}`);
        this.name = "ConfigError";
    }
}

export interface Reading {
    readonly values: ConfigValues;
    /** Paths the stack sets (as opposed to defaults). */
    readonly set: ReadonlySet<ConfigPath>;
    readonly errors: string[];
    /** Paths whose value was not of the member's type (reported in `errors`; `values` holds a best-effort form or the default). */
    readonly malformed: ReadonlySet<ConfigPath>;
}

/** The parsed top-level values: a group's JSON text as its object, `environment` as its text. */
function parseRaw(raw: Raw): Record<string, unknown> {
    const input: Record<string, unknown> = {};
    for (const [key, text] of Object.entries(raw)) {
        if (text !== undefined) input[key] = key === "environment" ? text : parseTopLevel(text);
    }
    return input;
}

/**
 * What a value the schema refused (not of its member's type) most likely meant, so that the cross-member
 * rules do not judge the default instead: a list keeps its text items (a bad item dropped), a scalar
 * where a list is wanted reads as a one-item list, a number where text is wanted as its digits.
 */
function bestEffort(spec: KeySpec, input: unknown): { value: unknown } | undefined {
    if (spec.type === "array") {
        if (Array.isArray(input)) return { value: input.map(textOf).filter((item) => item !== undefined) };
        const item = textOf(input);
        return item === undefined ? undefined : { value: [item] };
    }
    if (spec.type === "string" && typeof input === "number") return { value: String(input) };
    return undefined;
}

/**
 * Reads every member of the table for `environment`. `isSecret(topLevelKey)` says whether a top-level
 * key arrived as a secret (pulumi.runtime.isConfigSecret); a group holding a secret member that the
 * stack sets must.
 *
 * Why per group, not per member: the CLI marks a whole top-level key secret when ANY leaf of its object
 * is `secure:` (pulumi/pulumi sdk/go/common/resource/config/object.go, `object.Secure` returns true for
 * a map holding a secure value; `MarshalString` hands the group over as one JSON text with its secure
 * leaves decrypted and reports it secure; sdk/go/common/resource/config/map.go `Map.SecureKeys` lists
 * such a key in PULUMI_CONFIG_SECRET_KEYS). So the program cannot tell WHICH leaf was encrypted: a
 * group with its tlsPrivateKey in plain text but some other member encrypted passes this check. What it
 * does catch is the common mistake, a group with no `secure:` leaf at all.
 */
export function readValues(raw: Raw, environment: Environment, isSecret: (topLevelKey: string) => boolean): Reading {
    const input = parseRaw(raw);
    const errors = schemaProblems(input, environment, isSecret);
    const set = new Set<ConfigPath>();
    const malformed = new Set<ConfigPath>();
    const values: Record<string, unknown> = { environment };
    if (raw.environment !== undefined) set.add("environment");

    for (const group of GROUP_NAMES) {
        const members = membersSet(input[group]);
        const groupValues: Record<string, unknown> = {};
        values[group] = groupValues;
        for (const member of membersOf(group)) {
            const path = `${group}.${member}` as ConfigPath;
            const spec = specOf(path);
            groupValues[member] = defaultOf(path, environment);
            if (!(member in members) || !inScope(spec, environment)) continue;
            set.add(path);
            if (spec.secret && !isSecret(group)) {
                errors.push(`${path}: ${HIDDEN} is set in plain text; it is a secret: ${secretHint(path)}`);
            }
            // A value of the right type is kept even when its own rule fails, so that cross-member rules
            // judge what the stack says (a bad list item must not read as an empty list). A value not of
            // its type (reported above) is kept in a best-effort form where it has one, and the cross-member
            // rules say nothing more about it (rules.ts crossKeyProblems).
            let typed = typedValue(path, members[member]);
            if (typed === undefined) {
                malformed.add(path);
                typed = bestEffort(spec, members[member]);
            }
            if (typed !== undefined) groupValues[member] = typed.value;
        }
    }
    return { values: values as ConfigValues, set, errors, malformed };
}
