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
 * The project's top-level keys, bare, and whether each arrived encrypted. The CLI decrypts the stack's
 * config (pulumi/pulumi sdk/go/common/resource/config/map.go, Map.Decrypt) and the Node language host
 * hands it over in PULUMI_CONFIG, key -> string, with PULUMI_CONFIG_SECRET_KEYS listing the keys whose
 * value is secure (sdk/nodejs/cmd/pulumi-language-nodejs/main.go constructConfig and
 * constructConfigSecretKeys; the SDK reads them in sdk/nodejs/runtime/config.ts, allConfig and
 * isConfigSecret). A group (`aks-platform:cluster:` holding a map) is ONE key: its text is the JSON of
 * the map, keys sorted, with every `secure:` member decrypted to its plaintext string and YAML numbers
 * kept as JSON numbers (an unquoted `1.30` arrives as 1.3) (config/value.go Value.Value,
 * config/object.go MarshalString, plaintext.go marshalText). The group's key is secret when ANY of its
 * members is `secure:` (object.go object.Secure; map.go Map.SecureKeys), so isSecret answers per group:
 * which member was encrypted cannot be told here. tools/cliConfig.ts models this pass for the tests.
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
