// Test helpers over the program's mocks (tools/mocks.ts, shared with the offline plan): the committed
// stacks' config as the CLI hands it over, prod's secrets as a real stack holds them, and table runners
// for rejected configuration.
import { strict as assert } from "assert";
import { ConfigError, parseConfig } from "../components/config";
import * as mocks from "../tools/mocks";
import { PROJECT, type StackRun } from "../tools/mocks";

export * from "../tools/mocks";

/** The committed stacks' secrets (tools/mocks.ts): evaluateStack adds them; an override of undefined removes one. */
export const STACK_SECRETS = mocks.STAND_IN_SECRETS;

/** Argo CD on, with a repository: one evaluation per stack for every test of a stack with Argo CD. */
export const ARGOCD = { argocdEnabled: "true", argocdRepoUrl: "https://github.com/my-org/gitops-helm.git" } as const;

/**
 * Settings moved off their defaults (components/config/keys.ts) and off the committed stacks' values,
 * all at once: the tests of these settings share one evaluation per stack, each checking that its own
 * setting reaches its resources, instead of one evaluation per setting. They are independent of each
 * other (no test of one reads what another changes). Dev runs Vault as a dev server, so its set holds
 * no Vault settings.
 */
export const TUNED = {
    dev: {
        mongoBackupSchedule: "15 4 * * 1-5",
        mongoBackupRetentionDays: "12",
        // On in prod by default.
        azurePolicyEnabled: "true",
        systemPoolAutoscaling: "true",
        apiServerVnetIntegration: "true",
        meshMtlsMode: "PERMISSIVE",
        csiRotationPollInterval: "90s",
        // No upgrade channels, so no maintenance windows.
        autoUpgradeChannel: "none",
        nodeOsUpgradeChannel: "Unmanaged",
        // A hub's DDoS protection plan.
        ddosProtection: "existing",
        ddosProtectionPlanId:
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/hub/providers/Microsoft.Network/ddosProtectionPlans/shared",
        // A certificate of the stack's own instead of the generated one.
        ingressTlsCertificate: mocks.TEST_TLS.certificate,
        ingressTlsPrivateKey: mocks.TEST_TLS.privateKey,
    },
    prod: {
        mongoBackupSchedule: "15 4 * * 1-5",
        mongoBackupRetentionDays: "12",
        vaultVoters: "5",
        vaultOperatorGroups: JSON.stringify(["11111111-2222-3333-4444-555555555555"]),
        // Daily: the snapshot staleness alert's window is twice the schedule's longest gap.
        vaultSnapshotSchedule: "15 2 * * *",
        vaultSnapshotRetentionDays: "90",
        vaultSnapshotKeepLast: "12",
        // A promotion by digest.
        productServiceTag: `sha256:${"ab".repeat(32)}`,
        // Who deploys and who previews (tests/deployer-access.test.ts).
        deployerObjectId: "0f0f0f0f-1111-2222-3333-444444444444",
        previewerObjectId: "5a5a5a5a-6666-7777-8888-999999999999",
        // A DDoS protection plan of the stack's own.
        ddosProtection: "create",
        // Alerts to a webhook instead of prod's mail address, with the API server's log.
        alertEmail: undefined,
        alertWebhookUrl: "https://hooks.example.com/t0ken",
        kubeApiServerLogs: "true",
    },
} as const satisfies Record<string, Record<string, string | undefined>>;

/**
 * dev egressing through a NAT gateway, with what rides on its IP: a user pool without zones, a Key
 * Vault firewall in deny mode, the CI runner. One evaluation for the tests of each.
 */
export const DEV_NAT = {
    egressType: "natGateway",
    userPoolEnabled: "true",
    userPoolZones: "[]",
    keyVaultNetworkAclMode: "deny",
    keyVaultAllowedIpRanges: '["198.51.100.7"]',
    ciRunnerEnabled: "true",
    ciRunnerRepository: "ci-owner/aks-platform",
    ciRunnerGithubToken: "stand-in-runner-token",
} as const;

/** Runs index.ts for a committed stack (plus its STACK_SECRETS), adjusted by `overrides`. */
export function evaluateStack(stack: string, overrides: Record<string, string | undefined> = {}): Promise<StackRun> {
    // An override wins over the stand-in of the same key.
    const secrets = Object.fromEntries(Object.entries(STACK_SECRETS[stack] ?? {}).filter(([key]) => !(key in overrides)));
    return mocks.evaluateStack(stack, overrides, secrets);
}

/**
 * The committed stack as the program receives it, bare keys (no project prefix), with its
 * STACK_SECRETS unless `withSecrets` is false.
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

/** The problems parseConfig reports for `raw` (keys set to undefined are left out); [] when it parses. */
export function configProblems(raw: Record<string, string | undefined>, stack = "dev"): string[] {
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
    /** Keys set on top of the stack's committed file. */
    readonly raw: Readonly<Record<string, string>>;
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
            const problems = configProblems({ ...stackRaw(stack), ...row.raw }, stack);
            const text = problems.join("\n");
            assert.equal(problems.length, row.count ?? 1, text);
            for (const fragment of row.expect) assert.ok(text.includes(fragment), `${JSON.stringify(fragment)} not in:\n${text}`);
            assert.doesNotMatch(text, /BEGIN|END (CERTIFICATE|PRIVATE KEY)/, "a message quotes PEM text");
        });
    }
}
