// Reads this stack's configuration from the Pulumi runtime, as the CLI hands it to the program after
// its own config pass (tools/cliConfig.ts models that pass for the tests and the offline plan).
import * as pulumi from "@pulumi/pulumi";
import { parseConfig } from "./parse";
import type { PlatformConfig } from "./types";

/**
 * Whether the CLI handed `key` over as a secret. The SDK exports isConfigSecret at run time but marks it
 * @internal, so its typings leave it out (sdk/nodejs/runtime/config.ts); it reads the key list the CLI
 * passes in PULUMI_CONFIG_SECRET_KEYS. Should a later SDK drop it, every key counts as secret, which
 * only loses the "set it with --secret" hint, never a secret.
 */
function isConfigSecret(key: string): boolean {
    const fn = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
    return typeof fn === "function" ? fn(key) : true;
}

/**
 * The project's keys, bare, and whether each arrived encrypted. The Node SDK receives them in
 * PULUMI_CONFIG, secret keys listed in PULUMI_CONFIG_SECRET_KEYS (sdk/nodejs/runtime/config.ts,
 * allConfig and isConfigSecret).
 */
export function loadConfig(): PlatformConfig {
    const project = pulumi.getProject();
    const prefix = `${project}:`;
    const raw: Record<string, string> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
    }
    // Secret keys arrive decrypted like the others; parseConfig marks them secret (pulumi.secret). What a
    // deploy needs beyond valid values (prod's certificate) is reported in the same round as the rest.
    return parseConfig(raw, project, pulumi.getStack(), { isSecret: (key) => isConfigSecret(`${prefix}${key}`), deployable: true });
}
