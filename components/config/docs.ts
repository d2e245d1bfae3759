// The table rendered for people: the configuration reference (docs/configuration.md) and Pulumi.yaml's
// `template.config` (what `pulumi new` prompts with). A test checks both files hold exactly this;
// `npm run config:docs` writes them.
import { ENVIRONMENTS } from "./constants";
import {
    CONFIG_GROUPS,
    DEFAULTS,
    defaultEntry,
    ENVIRONMENT_SPEC,
    GROUP_NAMES,
    GROUP_TITLES,
    groupHoldsSecret,
    membersOf,
    specOf,
    type ConfigPath,
    type GroupName,
    type KeySpec,
} from "./keys";

const scopeText = { any: "all", azure: "dev, prod", none: "local" } as const;

function render(value: unknown): string {
    if (Array.isArray(value)) return value.length === 0 ? "none" : value.join(", ");
    return String(value);
}

/** The default as the configuration reference states it: one value, or one per environment. */
export function defaultText(path: ConfigPath): string {
    const spec = specOf(path);
    if (spec.defaultText !== undefined) return spec.defaultText;
    const perEnvironment = ENVIRONMENTS.flatMap((e) => {
        const entry = defaultEntry(DEFAULTS[e], path);
        return entry === undefined ? [] : [`${e} ${render(entry.value)}`];
    });
    if (perEnvironment.length > 0) return perEnvironment.join(", ");
    return render(defaultEntry(DEFAULTS.shared, path)?.value);
}

const CONFIG_TABLE_HEADER = ["| Path | Type | Stacks | Default | Meaning |", "|---|---|---|---|---|"];

function row(path: ConfigPath): string {
    const spec = specOf(path);
    const type = spec.secret ? `${spec.type}, secret` : spec.type;
    const meaning = spec.enabledBy ? `${spec.description} Read with \`${spec.enabledBy}: true\`.` : spec.description;
    return `| \`${path}\` | ${type} | ${scopeText[spec.scope]} | ${defaultText(path).replace(/\|/g, "\\|")} | ${meaning.replace(/\|/g, "\\|")} |`;
}

const groupSpecs = (group: GroupName) => Object.values(CONFIG_GROUPS[group]) as KeySpec[];

/** The stacks that may set some member of the group. */
function groupScope(group: GroupName): string {
    const scopes = new Set(groupSpecs(group).map((spec) => spec.scope));
    return scopes.size === 1 ? scopeText[[...scopes][0]] : "all (see each member)";
}

/**
 * The configuration reference's tables (docs/configuration.md): `environment`, then one table per
 * group, its heading naming the group's top-level key, one row per member with its full path.
 */
export function configTable(): string {
    const sections = [
        ["### `environment`", "", "`aks-platform:environment`, a plain value.", "", ...CONFIG_TABLE_HEADER, row("environment")].join("\n"),
        ...GROUP_NAMES.map((group) =>
            [
                `### \`${group}\``,
                "",
                `${GROUP_TITLES[group]}: \`aks-platform:${group}\`, a mapping of these members (\`pulumi config set --path ${group}.<member> <value>\`).`,
                "",
                ...CONFIG_TABLE_HEADER,
                ...membersOf(group).map((member) => row(`${group}.${member}` as ConfigPath)),
            ].join("\n"),
        ),
    ];
    return sections.join("\n\n");
}

/**
 * Pulumi.yaml's `template.config`: what `pulumi new` prompts for. One entry per TOP-LEVEL key
 * (`environment` and each group), none per member path, because of how `pulumi new` reads it
 * (pulumi/pulumi pkg/cmd/pulumi/project/newcmd/config.go): `resolveTemplateConfig` parses each
 * template key with `ParseConfigKeyForProject(projectName, k, false)`, path=false, so `cluster.tier`
 * would become a flat key literally named "cluster.tier" (pkg/cmd/pulumi/config/config.go
 * `parseConfigKey`), which this program rejects as unknown; and `encryptTemplateConfig` stores each
 * answer whole as one string value (`config.NewValue` / `config.NewSecureValue`), so a group's answer
 * is its JSON object text, which the program reads like the mapping the CLI would hand it (schema.ts
 * parseTopLevel). But that text is a scalar in the stack file, and the first `pulumi config set --path
 * <group>.<member>` replaces it whole by a new mapping (sdk/go/common/resource/config/object.go
 * `object.Set`, the COMPAT case: at the first level a non-container value is overwritten, not merged),
 * dropping the members answered here; so the prompt says to leave it empty and set members by path. An
 * empty answer stores nothing. A template value is a description, a default string and a secret flag,
 * nothing more (sdk/go/common/apitype/templates.go, ProjectTemplateConfigValue).
 * A group holding a secret member is marked secret, so that an answer carrying it is stored encrypted
 * (the program requires such a group to arrive secret; read.ts says why per group).
 */
export function templateConfig(): Record<string, { description: string; secret?: true }> {
    const entries: [string, { description: string; secret?: true }][] = [
        ["environment", { description: `${ENVIRONMENT_SPEC.description} Stacks: all. Default: ${ENVIRONMENT_SPEC.defaultText}.` }],
    ];
    for (const group of GROUP_NAMES) {
        const secret = groupHoldsSecret(group);
        const members = membersOf(group)
            .map((member) => (specOf(`${group}.${member}` as ConfigPath).secret ? `${member} (secret)` : member))
            .join(", ");
        const description = `${GROUP_TITLES[group]}. Stacks: ${groupScope(group)}. Members: ${members} (types and defaults: docs/configuration.md). Leave it empty and set each member with pulumi config set --path ${group}.<member> <value>${secret ? " (--secret for a secret member)" : ""}; an answer here is stored as one text value (the JSON object of the members), which the first pulumi config set --path on ${group} replaces whole.`;
        entries.push([group, secret ? { description, secret: true as const } : { description }]);
    }
    return Object.fromEntries(entries);
}
