import * as keyvault from "@pulumi/azure-native/keyvault";
import * as pulumi from "@pulumi/pulumi";
import { generatedPassword } from "../generated";
import { keyVaultItemOptions, type KeyVault } from "./keyVault";

export interface AppSecretsArgs {
    /** Vault that stores the secrets (they are deleted with it, never on their own: keyVaultItemOptions). */
    readonly vault: KeyVault;
    /** Resource group of that vault. */
    readonly resourceGroupName: pulumi.Input<string>;
    /** Secrets whose values come from elsewhere in the graph, by Key Vault secret name. */
    readonly provided: Readonly<Record<string, pulumi.Input<string>>>;
    /** Secret names whose values are generated here (32 random characters). Default none. */
    readonly generated?: readonly string[];
    /**
     * Keep the secrets, and the generated values, through `pulumi destroy --exclude-protected` (the
     * stacks whose vaults are kept: prod). Default false.
     */
    readonly protect?: boolean;
    /**
     * Names whose value Pulumi writes only when it creates the secret (ignoreChanges on `properties`):
     * something else writes their later versions (a renewal Job), which an `up` must never overwrite
     * with the program's value. Default none.
     */
    readonly writeOnce?: readonly string[];
}

/** Application secrets in Key Vault, every value a Pulumi secret. */
export class AppSecrets extends pulumi.ComponentResource {
    /** ARM ID of each secret, by name: the scope for a per-secret role assignment. */
    readonly secretIds: Readonly<Record<string, pulumi.Output<string>>>;
    /** The generated values (secret), by name, for consumers such as a database. */
    readonly generatedValues: Readonly<Record<string, pulumi.Output<string>>>;

    constructor(name: string, args: AppSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:AppSecrets", name, {}, opts);

        const generatedValues: Record<string, pulumi.Output<string>> = {};
        for (const secretName of args.generated ?? []) {
            generatedValues[secretName] = generatedPassword(`${name}-${secretName}`, { parent: this, protect: args.protect });
        }

        const secretIds: Record<string, pulumi.Output<string>> = {};
        for (const [secretName, value] of Object.entries({ ...args.provided, ...generatedValues })) {
            const secret = new keyvault.Secret(
                `${name}-${secretName}`,
                {
                    vaultName: args.vault.vaultName,
                    resourceGroupName: args.resourceGroupName,
                    secretName,
                    properties: { value: pulumi.secret(value), contentType: "text/plain" },
                },
                {
                    parent: this,
                    additionalSecretOutputs: ["properties"],
                    ...(args.writeOnce?.includes(secretName) ? { ignoreChanges: ["properties"] } : {}),
                    ...keyVaultItemOptions(args.vault, args.protect),
                },
            );
            secretIds[secretName] = secret.id;
        }

        this.secretIds = secretIds;
        this.generatedValues = generatedValues;
        this.registerOutputs({ secretIds, generatedValues });
    }
}
