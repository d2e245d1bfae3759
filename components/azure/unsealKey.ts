import * as authorization from "@pulumi/azure-native/authorization";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type * as azureInputs from "@pulumi/azure-native/types/input";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { SCRIPTS_DIR, SCRIPT_LIB } from "../jobScripts";
import { keyVaultItemOptions, type KeyVault } from "./keyVault";
import { KEY_VAULT_CRYPTO_OFFICER, roleDefinitionId } from "./roles";

/** The script that sets the key's rotation policy through the Key Vault data plane (az CLI). */
export const ROTATION_POLICY_SCRIPT = path.join(SCRIPTS_DIR, "unseal-key-rotation-policy.sh");

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
    /** Object ID of the identity running `pulumi up`: it sets the rotation policy (data plane). */
    readonly deployerObjectId: pulumi.Input<string>;
    /** Subscription of the role definition IDs. */
    readonly subscriptionId: pulumi.Input<string>;
    /** Keep the key from being deleted (prod): losing it makes Vault's data unrecoverable. Default false. */
    readonly protect?: boolean;
    /**
     * Whether the deployer reaches the vault's data plane (a public endpoint). Default true. false (a
     * vault behind private endpoints only): the policy is set through ARM when the key is created, and a
     * later change fails the up with the steps to take from inside the VNet.
     */
    readonly deployerReachesDataPlane?: boolean;
}

/** rotationPolicy in ARM's shape: the same lifetime actions, with ARM's lowercase action types. */
export function armRotationPolicy(rotationDays: number): azureInputs.keyvault.RotationPolicyArgs {
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
export function rotateTrigger(
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
        problems.push(`unsealKeySize: the existing unseal key is RSA ${actual.size}, the configuration asks for ${desired.size}`);
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
 * - the rotation policy is set through the data plane by a command that runs whenever the policy
 *   changes (the deployer gets Key Vault Crypto Officer on this key alone for it).
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
                    // stable/2024-11-01/keys.json, KeyProperties.rotationPolicy): the one path to a
                    // private vault's data-plane setting that needs no network path from the deployer.
                    rotationPolicy: privateVault ? armRotationPolicy(args.rotationDays ?? 0) : undefined,
                },
            },
            // An update would be a PUT that ARM answers with the unchanged key. The rotation policy moved
            // to the command below: a stack created with it in the key's inputs keeps it there, untouched.
            // Its delete would go through the data plane after the policy writer's role is gone (dev) or
            // with no route at all (prod): keyVaultItemOptions.
            {
                parent: this,
                ...keyVaultItemOptions(args.vault, args.protect),
                ignoreChanges: ["properties.keySize", "properties.keyOps", "properties.rotationPolicy"],
            },
        );

        this.verified = pulumi.all([key.keySize, key.keyOps, key.rotationPolicy]).apply(([size, keyOps, policy]) => {
            const problems = unsealKeyMismatch({ size: args.size, keyOps: UNSEAL_KEY_OPS }, { size, keyOps });
            const wanted = rotateTrigger(rotationPolicy(args.rotationDays ?? 0) as Parameters<typeof rotateTrigger>[0]);
            if (privateVault && policy !== undefined && rotateTrigger(policy) !== wanted) {
                problems.push(
                    `unsealKeyRotationDays: the private vault's key rotates ${rotateTrigger(policy) ?? "never"}, the configuration asks for ${wanted ?? "never"}; ` +
                        "set the policy from inside the VNet (docs/platform.md, 'Key Vaults off the internet')",
                );
            }
            if (problems.length > 0) {
                throw new Error(
                    `${name}: ${problems.join("; ")}. Key Vault cannot change an existing key; to move to another size, ` +
                        "create a new key version of that size and let Vault re-wrap (docs/operations.md, 'Rotate the unseal key'), " +
                        "then set the configuration to match.",
                );
            }
            return true;
        });

        if (!privateVault) this.setPolicyFromDeployer(name, key, args);

        this.keyName = key.name;
        this.keyId = key.id;
        this.keyUri = key.keyUri;
        this.registerOutputs({ keyName: this.keyName, keyId: this.keyId, keyUri: this.keyUri, verified: this.verified });
    }

    /** Sets the rotation policy through the data plane from the deployer's machine, whenever it changes. */
    private setPolicyFromDeployer(name: string, key: keyvault.Key, args: UnsealKeyArgs): void {
        // The data plane needs a data-plane role even for the subscription's Owner (RBAC vault).
        const policyWriter = new authorization.RoleAssignment(
            `${name}-policy-writer`,
            {
                principalId: args.deployerObjectId,
                roleDefinitionId: pulumi.output(args.subscriptionId).apply((sub) => roleDefinitionId(sub, KEY_VAULT_CRYPTO_OFFICER)),
                scope: key.id,
            },
            { parent: this },
        );

        const read = (file: string) => fs.readFileSync(file, "utf8");
        const scriptDigest = createHash("sha256")
            .update(read(ROTATION_POLICY_SCRIPT))
            .update(read(path.join(SCRIPTS_DIR, SCRIPT_LIB)))
            .digest("hex");
        // Relative to the program's directory (where `pulumi up` runs it), so the input is the same on
        // every checkout. No delete command: removing this resource leaves Azure's policy as it is.
        const run = `sh ./${path.relative(process.cwd(), ROTATION_POLICY_SCRIPT).split(path.sep).join("/")}`;
        new command.local.Command(
            `${name}-rotation-policy`,
            {
                create: run,
                update: run,
                environment: {
                    VAULT_NAME: args.vault.vaultName,
                    KEY_NAME: key.name,
                    POLICY: JSON.stringify(rotationPolicy(args.rotationDays ?? 0)),
                    SCRIPT_SHA256: scriptDigest,
                },
            },
            { parent: this, dependsOn: [policyWriter] },
        );
    }
}
