import * as keyvault from "@pulumi/azure-native/keyvault";
import * as pulumi from "@pulumi/pulumi";
import type * as azureInputs from "@pulumi/azure-native/types/input";
import { keyVaultItemOptions, type KeyVault } from "./keyVault";

/** The only operations the seal calls: no encrypt, decrypt, sign or verify. */
export const UNSEAL_KEY_OPS = [keyvault.JsonWebKeyOperation.WrapKey, keyvault.JsonWebKeyOperation.UnwrapKey] as const;

export interface UnsealKeyArgs {
    /** Vault that holds the key (dedicated to unsealing); the key is deleted with it, never on its own. */
    readonly vault: KeyVault;
    /** Resource group of that vault. */
    readonly resourceGroupName: pulumi.Input<string>;
    /** Key name, e.g. vault-unseal. */
    readonly keyName: string;
    /** RSA modulus size: 2048, 3072 or 4096. Fixed once the key exists (see unsealKeyMismatch). */
    readonly size: 2048 | 3072 | 4096;
    /** Days between automatic rotations; 0 (default) for none. Vault keeps unwrapping with older versions. */
    readonly rotationDays?: number;
    /** Keep the key from being deleted (prod): losing it makes Vault's data unrecoverable. Default false. */
    readonly protect?: boolean;
    /**
     * Whether the vault's data plane has a public endpoint. Default true. Only the advice changes: a
     * changed rotation policy is set with `az keyvault key rotation-policy update` from the operator's
     * machine, or, for a vault behind private endpoints only, from inside the VNet.
     */
    readonly deployerReachesDataPlane?: boolean;
}

/** rotationPolicy in ARM's shape: the same lifetime actions, with ARM's lowercase action types. */
function armRotationPolicy(rotationDays: number): azureInputs.keyvault.RotationPolicyArgs {
    const policy = rotationPolicy(rotationDays) as { lifetimeActions: { trigger: object; action: { type: string } }[] };
    return {
        lifetimeActions: policy.lifetimeActions.map((a) => ({
            trigger: a.trigger,
            action: {
                type:
                    a.action.type === "Rotate" ? keyvault.KeyRotationPolicyActionType.Rotate : keyvault.KeyRotationPolicyActionType.Notify,
            },
        })),
    };
}

/** The rotate trigger of a policy (the `timeAfterCreate` of its Rotate action), or undefined for none. */
function rotateTrigger(
    policy: { lifetimeActions?: readonly { trigger?: { timeAfterCreate?: string }; action?: { type?: string } }[] } | undefined,
): string | undefined {
    return policy?.lifetimeActions?.find((a) => a.action?.type?.toLowerCase() === "rotate")?.trigger?.timeAfterCreate;
}

/**
 * The Key Vault rotation policy for `rotationDays` (0: no automatic rotation), as the data plane's
 * rotation-policy API and `az keyvault key rotation-policy update --value` take it. No expiry: a
 * version the seal wrapped Vault's root key with must stay usable for as long as that wrap exists.
 */
export function rotationPolicy(rotationDays: number): object {
    return rotationDays > 0
        ? { lifetimeActions: [{ trigger: { timeAfterCreate: `P${rotationDays}D` }, action: { type: "Rotate" } }], attributes: {} }
        : // Key Vault's own default policy: a notification before an expiry the key does not have.
          { lifetimeActions: [{ trigger: { timeBeforeExpiry: "P30D" }, action: { type: "Notify" } }], attributes: {} };
}

/**
 * What differs between the key the program asks for and the one Azure holds; [] when they agree (or
 * Azure has not reported yet). Key size and operations cannot change on an existing key: the ARM
 * Keys_CreateIfNotExist PUT "does not update existing keys" (azure-rest-api-specs keyvault
 * stable/2024-11-01/keys.json), so a changed value would otherwise be a silent no-op.
 */
export function unsealKeyMismatch(
    desired: { readonly size: number; readonly keyOps: readonly string[] },
    actual: { readonly size?: number; readonly keyOps?: readonly string[] },
): string[] {
    const problems: string[] = [];
    if (actual.size !== undefined && actual.size !== desired.size) {
        problems.push(`keyVault.unsealKeySize: the existing unseal key is RSA ${actual.size}, the configuration asks for ${desired.size}`);
    }
    const sorted = (ops: readonly string[]) => [...ops].sort().join(",");
    if (actual.keyOps !== undefined && sorted(actual.keyOps) !== sorted(desired.keyOps)) {
        problems.push(`the existing unseal key allows ${sorted(actual.keyOps)}, the program asks for ${sorted(desired.keyOps)}`);
    }
    return problems;
}

/**
 * The RSA key that HashiCorp Vault's azurekeyvault seal wraps its root key with. azure-native creates it
 * through ARM, which creates a key once and never updates it (azure-native implements only its delete
 * itself: provider/pkg/resources/customresources/custom_keyvault.go). So:
 * - size and operations are create-only: Pulumi ignores changes to them, and a program that asks for
 *   other values than the key has fails with the steps to take (docs/operations.md, "Rotate the unseal
 *   key"), never a silent no-op;
 * - the rotation policy goes with the key's creation through ARM (`properties.rotationPolicy`), on every
 *   stack: `pulumi up` calls nothing but ARM, so no Azure CLI session or data-plane token has to last
 *   the run (a CI login's federated token expires after minutes) and no data-plane role is needed. A
 *   later change of the policy is one ARM cannot apply: it fails the up with the command to run.
 */
export class UnsealKey extends pulumi.ComponentResource {
    /** Key name as Vault's seal stanza expects it (key_name). */
    readonly keyName: pulumi.Output<string>;
    /** ARM resource ID: the narrowest scope for the seal identity's role assignment. */
    readonly keyId: pulumi.Output<string>;
    /** Versionless data-plane URI of the key. */
    readonly keyUri: pulumi.Output<string>;
    /** Resolves once the live key matches the program; rejects (failing the update) when it does not. */
    readonly verified: pulumi.Output<boolean>;

    constructor(name: string, args: UnsealKeyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:UnsealKey", name, {}, opts);
        const privateVault = args.deployerReachesDataPlane === false;

        const key = new keyvault.Key(
            name,
            {
                vaultName: args.vault.vaultName,
                resourceGroupName: args.resourceGroupName,
                keyName: args.keyName,
                properties: {
                    kty: keyvault.JsonWebKeyType.RSA,
                    keySize: args.size,
                    keyOps: [...UNSEAL_KEY_OPS],
                    // ARM takes the policy with the key's creation (azure-rest-api-specs keyvault
                    // stable/2024-11-01/keys.json, KeyProperties.rotationPolicy; azure-native 3.28.0
                    // keyvault/key.d.ts, KeyPropertiesArgs.rotationPolicy): a control-plane write
                    // (Microsoft.KeyVault/vaults/keys/write), no data-plane token or role from the deployer.
                    rotationPolicy: armRotationPolicy(args.rotationDays ?? 0),
                },
            },
            // An update would be a PUT that ARM answers with the unchanged key (Keys_CreateIfNotExist).
            // Keys created while a data-plane command set the policy have none in their inputs: ignoring
            // the path keeps them without a diff, and `verified` below compares what Azure reports.
            // The key is deleted with its vault (keyVaultItemOptions), never through the data plane on its own.
            {
                parent: this,
                ...keyVaultItemOptions(args.vault, args.protect),
                ignoreChanges: ["properties.keySize", "properties.keyOps", "properties.rotationPolicy"],
            },
        );

        this.verified = pulumi.all([key.keySize, key.keyOps, key.rotationPolicy]).apply(([size, keyOps, policy]) => {
            const problems = unsealKeyMismatch({ size: args.size, keyOps: UNSEAL_KEY_OPS }, { size, keyOps });
            const wanted = rotateTrigger(rotationPolicy(args.rotationDays ?? 0) as Parameters<typeof rotateTrigger>[0]);
            if (policy !== undefined && rotateTrigger(policy) !== wanted) {
                const where = privateVault ? "from inside the VNet (docs/platform.md, 'Key Vaults off the internet')" : "as the deployer";
                problems.push(
                    `keyVault.unsealKeyRotationDays: the key rotates ${rotateTrigger(policy) ?? "never"}, the configuration asks for ${wanted ?? "never"}; ` +
                        `ARM cannot change an existing key's policy: run az keyvault key rotation-policy update --vault-name <unseal vault> --name ${args.keyName} --value '${JSON.stringify(rotationPolicy(args.rotationDays ?? 0))}' ${where}, then pulumi up --refresh`,
                );
            }
            if (problems.length > 0) {
                throw new pulumi.ResourceError(
                    `${name}: ${problems.join("; ")}. Key Vault cannot change an existing key; to move to another size, ` +
                        "create a new key version of that size and let Vault re-wrap (docs/operations.md, 'Rotate the unseal key'), " +
                        "then set the configuration to match.",
                    this,
                );
            }
            return true;
        });

        this.keyName = key.name;
        this.keyId = key.id;
        this.keyUri = key.keyUri;
        this.registerOutputs({ keyName: this.keyName, keyId: this.keyId, keyUri: this.keyUri, verified: this.verified });
    }
}
