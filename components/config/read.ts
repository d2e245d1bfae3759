// Raw stack config (bare key -> the string the Pulumi CLI hands the program; lists as JSON) into typed
// values, driven by the key table: defaults per environment, which stacks may set a key, each key's own
// rule, and hints for the mistakes YAML invites. Cross-key rules are parse.ts's.
import { cloudOf, type Environment } from "./constants";
import { CONFIG_KEYS, defaultOf, KEY_NAMES, specOf, type ConfigKey, type KeyValues } from "./keys";
import { nearest, show } from "./validators";

export type Raw = Readonly<Record<string, string | undefined>>;

/** Raised for invalid stack configuration; `problems` holds one line per bad key. */
export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`Invalid stack configuration:\n  - ${problems.join("\n  - ")}`);
        this.name = "ConfigError";
    }
}

export interface Reading {
    readonly values: KeyValues;
    /** Keys the stack sets (as opposed to defaults). */
    readonly set: ReadonlySet<ConfigKey>;
    readonly errors: string[];
}

/** The known key nearest to `unknown` (case-insensitively), if it is close enough to be a typo. */
export function nearestKey(unknown: string): ConfigKey | undefined {
    return nearest(unknown, KEY_NAMES);
}

function unknownKeyMessage(key: string): string {
    const near = nearestKey(key);
    return near
        ? `${key}: is not a config key of this program; did you mean ${near}?`
        : `${key}: is not a config key of this program; docs/configuration.md lists every key`;
}

/** YAML reads an unquoted 1.30 as the number 1.3 and the CLI hands the program "1.3". */
const NUMBER_TEXT = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
const yamlNumberHint = (text: string) =>
    ` (if Pulumi.<stack>.yaml has it unquoted, YAML read it as the number ${text}, dropping any trailing zero: quote the value)`;

function parseText(key: ConfigKey, text: string): { value?: unknown; error?: string } {
    switch (specOf(key).type) {
        case "string":
            return { value: text };
        case "integer": {
            const value = Number(text);
            return text.trim() !== "" && Number.isInteger(value) ? { value } : { error: `${key}: ${show(text)} is not a whole number` };
        }
        case "boolean":
            return text === "true" || text === "false"
                ? { value: text === "true" }
                : { error: `${key}: ${show(text)} is not allowed; use true or false` };
        case "array": {
            let value: unknown;
            try {
                value = JSON.parse(text);
            } catch {
                value = undefined;
            }
            return Array.isArray(value) && value.every((item) => typeof item === "string" || typeof item === "number")
                ? { value: value.map(String) }
                : { error: `${key}: ${show(text)} is not a list; write it as a YAML list of strings` };
        }
    }
}

/**
 * Reads every key of the table for `environment`. `isSecret` says whether a key arrived encrypted
 * (pulumi.runtime.isConfigSecret); keys the table marks secret must.
 */
export function readValues(raw: Raw, environment: Environment, isSecret: (key: ConfigKey) => boolean): Reading {
    const errors: string[] = [];
    const set = new Set<ConfigKey>();
    const values: Record<string, unknown> = {};
    const cloud = cloudOf(environment);
    for (const key of Object.keys(raw)) if (raw[key] !== undefined && !(key in CONFIG_KEYS)) errors.push(unknownKeyMessage(key));

    for (const key of KEY_NAMES) {
        const spec = specOf(key);
        const text = raw[key];
        values[key] = defaultOf(key, environment);
        if (text === undefined) continue;
        if (spec.scope === "azure" && cloud === "none") {
            errors.push(
                `${key}: ${show(text)} is not allowed for environment ${environment}, which creates no Azure resources (the key only configures Azure, or what exists only with Azure: the Key Vault CSI path, the backups to Azure Storage); remove it with pulumi config rm ${key}`,
            );
            continue;
        }
        if (spec.scope === "none" && cloud === "azure") {
            errors.push(
                `${key}: ${show(text)} is not allowed for environment ${environment}, which deploys to the AKS cluster it creates through that cluster's own credentials, never a kubeconfig context; remove it with pulumi config rm ${key}`,
            );
            continue;
        }
        if (spec.secret && !isSecret(key)) {
            // Still read, so that rules over the pair do not also call it missing.
            errors.push(`${key}: (value not shown) is set in plain text; it is a secret: pulumi config set --secret ${key} < file.pem`);
        }
        set.add(key);
        const parsed = parseText(key, text);
        const keyErrors = parsed.error
            ? [parsed.error]
            : [spec.check?.(key, parsed.value as never, environment)].flat().filter((e) => e !== undefined);
        // A value of the right type is kept even when its own rule fails, so that cross-key rules judge
        // what the stack says (a bad list item must not read as an empty list).
        if (!parsed.error) values[key] = parsed.value;
        if (keyErrors.length === 0) continue;
        const switchKey = spec.enabledBy as ConfigKey | undefined;
        const switchOff =
            switchKey !== undefined &&
            (raw[switchKey] !== undefined ? raw[switchKey] !== "true" : defaultOf(switchKey, environment) !== true);
        for (const error of keyErrors) {
            let message = error;
            if (spec.type === "string" && NUMBER_TEXT.test(text)) message += yamlNumberHint(text);
            if (switchOff) message += ` (checked although ${spec.enabledBy} is false: the key counts only with ${spec.enabledBy}: true)`;
            errors.push(message);
        }
    }
    return { values: values as unknown as KeyValues, set, errors };
}
