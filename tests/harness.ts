// Test helpers over the program's mocks (tools/mocks.ts, shared with the offline plan): the committed
// stacks' config as the CLI hands it over, prod's secrets as a real stack holds them, and table runners
// for rejected configuration.
import { strict as assert } from "assert";
import { ConfigError, parseConfig, type Raw } from "../components/config";
import { goJson, unmarshalObject, valueObject, type CfgObject } from "../tools/cliConfig";
import * as mocks from "../tools/mocks";
import { PROJECT, type ConfigValue, type Overrides, type StackRun } from "../tools/mocks";

export * from "../tools/mocks";

/** The committed stacks' secrets by path (tools/mocks.ts), written `secure:`: evaluateStack adds them; an override of undefined removes one. */
export const STACK_SECRETS = mocks.STAND_IN_SECRETS;

/** Argo CD on, with a repository: one evaluation per stack for every test of a stack with Argo CD. */
export const ARGOCD = {
    "argocd.enabled": true,
    "argocd.repoUrl": "https://github.com/my-org/gitops-helm.git",
} as const satisfies Overrides;

/**
 * Settings moved off their defaults (components/config/keys.ts) and off the committed stacks' values,
 * all at once: the tests of these settings share one evaluation per stack, each checking that its own
 * setting reaches its resources, instead of one evaluation per setting. They are independent of each
 * other (no test of one reads what another changes). Dev runs Vault as a dev server, so its set holds
 * no Vault settings.
 */
export const TUNED = {
    dev: {
        "mongodb.backupSchedule": "15 4 * * 1-5",
        "mongodb.backupRetentionDays": 12,
        // On in prod by default.
        "governance.azurePolicyEnabled": true,
        "systemPool.autoscaling": true,
        "apiServer.vnetIntegration": true,
        "mesh.mtlsMode": "PERMISSIVE",
        "keyVault.csiRotationPollInterval": "90s",
        // No upgrade channels, so no maintenance windows.
        "cluster.autoUpgradeChannel": "none",
        "cluster.nodeOsUpgradeChannel": "Unmanaged",
        // A hub's DDoS protection plan.
        "network.ddosProtection": "existing",
        "network.ddosProtectionPlanId":
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/hub/providers/Microsoft.Network/ddosProtectionPlans/shared",
        // A certificate of the stack's own instead of the generated one.
        "ingress.tlsCertificate": mocks.TEST_TLS.certificate,
        "ingress.tlsPrivateKey": mocks.TEST_TLS.privateKey,
    },
    prod: {
        "mongodb.backupSchedule": "15 4 * * 1-5",
        "mongodb.backupRetentionDays": 12,
        "vault.voters": 5,
        "vault.operatorGroups": ["11111111-2222-3333-4444-555555555555"],
        // Daily: the snapshot staleness alert's window is twice the schedule's longest gap.
        "vault.snapshotSchedule": "15 2 * * *",
        "vault.snapshotRetentionDays": 90,
        "vault.snapshotKeepLast": 12,
        // A promotion by digest.
        "services.productTag": `sha256:${"ab".repeat(32)}`,
        // Who deploys and who previews (tests/deployer-access.test.ts).
        "access.deployerObjectId": "0f0f0f0f-1111-2222-3333-444444444444",
        "access.previewerObjectId": "5a5a5a5a-6666-7777-8888-999999999999",
        // A DDoS protection plan of the stack's own.
        "network.ddosProtection": "create",
        // Alerts to a webhook instead of prod's mail address, with the API server's log.
        "monitoring.alertEmail": undefined,
        "monitoring.alertWebhookUrl": "https://hooks.example.com/t0ken",
        "monitoring.kubeApiServerLogs": true,
    },
} as const satisfies Record<string, Overrides>;

/**
 * dev egressing through a NAT gateway, with what rides on its IP: a user pool without zones, a Key
 * Vault firewall in deny mode, the CI runner. One evaluation for the tests of each.
 */
export const DEV_NAT = {
    "network.egressType": "natGateway",
    "userPool.enabled": true,
    "userPool.zones": [],
    "keyVault.networkAclMode": "deny",
    "keyVault.allowedIpRanges": ["198.51.100.7"],
    "ciRunner.enabled": true,
    "ciRunner.repository": "ci-owner/aks-platform",
    "ciRunner.githubToken": "stand-in-runner-token",
} as const satisfies Overrides;

/** Runs index.ts for a committed stack (plus its STACK_SECRETS), adjusted by `overrides` (by path, YAML values). */
export function evaluateStack(stack: string, overrides: Overrides = {}): Promise<StackRun> {
    // An override wins over the stand-in of the same path.
    const secrets = Object.fromEntries(Object.entries(STACK_SECRETS[stack] ?? {}).filter(([key]) => !(key in overrides)));
    return mocks.evaluateStack(stack, overrides, secrets);
}

/**
 * The committed stack as the program receives it: bare top-level key (no project prefix) -> the CLI's
 * text (a group's is JSON), with its STACK_SECRETS unless `withSecrets` is false.
 */
export function stackRaw(stack: string, withSecrets = true): Record<string, string> {
    const prefix = `${PROJECT}:`;
    const { config } = mocks.programConfig(stack, {}, withSecrets ? (STACK_SECRETS[stack] ?? {}) : {});
    return Object.fromEntries(
        Object.entries(config)
            .filter(([k]) => k.startsWith(prefix))
            .map(([k, v]) => [k.slice(prefix.length), v]),
    );
}

/**
 * `raw` (bare top-level key -> the CLI's text) with the members at the paths of `overrides` set to
 * their YAML values or removed (undefined; a group left empty goes too), each group's text rewritten as
 * the CLI writes it (JSON, members sorted: tools/cliConfig.ts goJson). `environment` and other paths of
 * one segment set the top-level key's text (a string as it is, anything else as JSON). A group that is
 * not a JSON object in `raw` is replaced by one holding the member, as `pulumi config set --path` does.
 */
export function withOverrides(raw: Raw, overrides: Overrides): Raw {
    const result: Record<string, string | undefined> = { ...raw };
    for (const [path, value] of Object.entries(overrides)) {
        const dot = path.indexOf(".");
        if (dot < 0) {
            result[path] = value === undefined ? undefined : typeof value === "string" ? value : goJson(unmarshalObject(value));
            continue;
        }
        const group = path.slice(0, dot);
        const member = path.slice(dot + 1);
        const text = result[group];
        let members: Record<string, CfgObject> = {};
        if (text !== undefined) {
            try {
                const parsed = valueObject({ text, secure: false, object: true });
                if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed))
                    members = { ...(parsed as Record<string, CfgObject>) };
            } catch {
                // Not JSON: replaced, as the CLI's COMPAT rule replaces a scalar at the first level.
            }
        }
        if (value === undefined) delete members[member];
        else members[member] = unmarshalObject(value as ConfigValue);
        result[group] = Object.keys(members).length === 0 && value === undefined ? undefined : goJson(members);
    }
    return Object.fromEntries(Object.entries(result).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

/** The problems parseConfig reports for `raw` (keys set to undefined are left out); [] when it parses. */
export function configProblems(raw: Raw, stack = "dev"): string[] {
    const clean = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as Record<string, string>;
    try {
        parseConfig(clean, PROJECT, stack);
    } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        return [...error.problems];
    }
    return [];
}

/** A bad configuration and what its rejection must say. */
export interface BadConfigRow {
    readonly name: string;
    /** Members set (or removed: undefined) by path on top of the stack's committed config, YAML values. */
    readonly raw: Overrides;
    /** Default dev. */
    readonly stack?: string;
    /** How many problems are reported. Default 1. */
    readonly count?: number;
    /** Fragments the report must contain: the key, the value given, what is allowed. */
    readonly expect: readonly string[];
}

/**
 * One test per row: parseConfig reports exactly `count` problems, their text contains every fragment,
 * and no message quotes PEM text (certificates and keys are secrets).
 */
export function itRejectsConfig(rows: readonly BadConfigRow[]): void {
    for (const row of rows) {
        it(row.name, () => {
            const stack = row.stack ?? "dev";
            const problems = configProblems(withOverrides(stackRaw(stack), row.raw), stack);
            const text = problems.join("\n");
            assert.equal(problems.length, row.count ?? 1, text);
            for (const fragment of row.expect) assert.ok(text.includes(fragment), `${JSON.stringify(fragment)} not in:\n${text}`);
            assert.doesNotMatch(text, /BEGIN|END (CERTIFICATE|PRIVATE KEY)/, "a message quotes PEM text");
        });
    }
}
