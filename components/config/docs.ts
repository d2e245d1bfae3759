// The key table rendered for people: the configuration reference (docs/configuration.md) and Pulumi.yaml's
// `template.config` (what `pulumi new` prompts with). A test checks both files hold exactly this;
// `npm run config:docs` writes them.
import { ENVIRONMENTS } from "./constants";
import { KEY_NAMES, specOf, type ConfigKey } from "./keys";

const scopeText = { any: "all", azure: "dev, prod", none: "local" } as const;

function render(value: unknown): string {
    if (Array.isArray(value)) return value.length === 0 ? "none" : value.join(", ");
    return String(value);
}

/** The default as the configuration reference states it: one value, or one per environment. */
export function defaultText(key: ConfigKey): string {
    const spec = specOf(key);
    if (spec.defaultText !== undefined) return spec.defaultText;
    const d = spec.default;
    if (d !== null && typeof d === "object" && !Array.isArray(d) && "dev" in d) {
        const perEnvironment = d as Record<string, unknown>;
        return ENVIRONMENTS.filter((e) => e in perEnvironment)
            .map((e) => `${e} ${render(perEnvironment[e])}`)
            .join(", ");
    }
    return render(d);
}

export const CONFIG_TABLE_HEADER = ["| Key | Type | Stacks | Default | Meaning |", "|---|---|---|---|---|"];

/** The configuration reference's table (docs/configuration.md), one row per key in table order. */
export function configTable(): string {
    const rows = KEY_NAMES.map((key) => {
        const spec = specOf(key);
        const type = spec.secret ? `${spec.type}, secret` : spec.type;
        const meaning = spec.enabledBy ? `${spec.description} Read with \`${spec.enabledBy}: true\`.` : spec.description;
        return `| \`${key}\` | ${type} | ${scopeText[spec.scope]} | ${defaultText(key).replace(/\|/g, "\\|")} | ${meaning.replace(/\|/g, "\\|")} |`;
    });
    return [...CONFIG_TABLE_HEADER, ...rows].join("\n");
}

/** Pulumi.yaml's `template.config`: description (with the default) and the secret flag per key. */
export function templateConfig(): Record<string, { description: string; secret?: true }> {
    return Object.fromEntries(
        KEY_NAMES.map((key) => {
            const spec = specOf(key);
            const description = `${spec.description} Stacks: ${scopeText[spec.scope]}. Default: ${defaultText(key)}.`;
            return [key, spec.secret ? { description, secret: true as const } : { description }];
        }),
    );
}
