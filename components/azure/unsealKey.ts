import * as keyvault from "@pulumi/azure-native/keyvault";
import * as pulumi from "@pulumi/pulumi";

export interface UnsealKeyArgs {
    /** Vault that holds the key (dedicated to unsealing). */
    readonly vaultName: pulumi.Input<string>;
    /** Resource group of that vault. */
    readonly resourceGroupName: pulumi.Input<string>;
    /** Key name, e.g. vault-unseal. */
    readonly keyName: string;
    /** RSA modulus size: 2048, 3072 or 4096. */
    readonly size: 2048 | 3072 | 4096;
    /** Days between automatic rotations; 0 (default) for none. Vault keeps unwrapping with older versions. */
    readonly rotationDays?: number;
    /** Keep the key from being deleted (prod): losing it makes Vault's data unrecoverable. Default false. */
    readonly protect?: boolean;
}

/** The RSA key that HashiCorp Vault's azurekeyvault seal wraps its root key with. */
export class UnsealKey extends pulumi.ComponentResource {
    /** Key name as Vault's seal stanza expects it (key_name). */
    readonly keyName: pulumi.Output<string>;
    /** ARM resource ID: the narrowest scope for the seal identity's role assignment. */
    readonly keyId: pulumi.Output<string>;
    /** Versionless data-plane URI of the key. */
    readonly keyUri: pulumi.Output<string>;

    constructor(name: string, args: UnsealKeyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:UnsealKey", name, {}, opts);

        const rotationDays = args.rotationDays ?? 0;
        const key = new keyvault.Key(
            name,
            {
                vaultName: args.vaultName,
                resourceGroupName: args.resourceGroupName,
                keyName: args.keyName,
                properties: {
                    kty: keyvault.JsonWebKeyType.RSA,
                    keySize: args.size,
                    // The seal only wraps and unwraps; no encrypt, decrypt, sign or verify.
                    keyOps: [keyvault.JsonWebKeyOperation.WrapKey, keyvault.JsonWebKeyOperation.UnwrapKey],
                    rotationPolicy:
                        rotationDays > 0
                            ? {
                                  lifetimeActions: [
                                      {
                                          trigger: { timeAfterCreate: `P${rotationDays}D` },
                                          action: { type: keyvault.KeyRotationPolicyActionType.Rotate },
                                      },
                                  ],
                              }
                            : undefined,
                },
            },
            { parent: this, protect: args.protect },
        );

        this.keyName = key.name;
        this.keyId = key.id;
        this.keyUri = key.keyUri;
        this.registerOutputs({ keyName: this.keyName, keyId: this.keyId, keyUri: this.keyUri });
    }
}
