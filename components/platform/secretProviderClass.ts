import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** One Key Vault secret and the key it gets in the synced Kubernetes Secret. */
export interface SyncedObject {
    /** Key Vault secret name. */
    readonly objectName: string;
    /** Key in the Kubernetes Secret. */
    readonly key: string;
}

export interface KeyVaultSecretProviderClassArgs {
    /** Name of the SecretProviderClass; pods refer to it in their csi volume. */
    readonly className: string;
    /** Namespace of the SecretProviderClass and of the pods that mount it. */
    readonly namespace: pulumi.Input<string>;
    /** Key Vault the objects are read from. */
    readonly keyVaultName: pulumi.Input<string>;
    /** Entra ID tenant of the vault. */
    readonly tenantId: pulumi.Input<string>;
    /** Client ID of the workload identity the mounting pod's service account is federated with. */
    readonly clientId: pulumi.Input<string>;
    /** Key Vault secrets to mount, and their keys in the synced Secret. */
    readonly objects: readonly SyncedObject[];
    /**
     * Kubernetes Secret the objects are synced into while a pod mounts the class. Default none: the
     * objects are files in the pod's CSI volume only (what a private key should be).
     */
    readonly secretName?: string;
    /** Type of that Secret. Default Opaque. */
    readonly secretType?: "Opaque" | "kubernetes.io/tls";
    /** Resources that must exist first: the CSI driver release, which installs the CRD. */
    readonly after: readonly pulumi.Resource[];
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
}

/**
 * The Azure provider's `objects` parameter: a YAML document whose `array` holds one YAML document (a
 * string) per object. Key Vault secret names are letters, digits and hyphens, so no quoting is needed.
 */
function keyVaultObjects(secretNames: readonly string[]): string {
    const entries = secretNames.map((objectName) => `  - |\n    objectName: ${objectName}\n    objectType: secret\n    objectVersion: ""`);
    return ["array:", ...entries].join("\n") + "\n";
}

/**
 * A SecretProviderClass that mounts Key Vault secrets through Azure Workload Identity (the pod's service
 * account token is exchanged for the identity `clientId`) and syncs them into one Kubernetes Secret.
 * The CSI driver syncs the Secret only while at least one pod mounts the class.
 */
export class KeyVaultSecretProviderClass extends pulumi.ComponentResource {
    /** Name of the SecretProviderClass. */
    readonly className: string;
    /** Name of the synced Kubernetes Secret (empty when the class syncs none). */
    readonly secretName: string;

    constructor(name: string, args: KeyVaultSecretProviderClassArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:KeyVaultSecretProviderClass", name, {}, opts);

        new k8s.apiextensions.CustomResource(
            name,
            {
                apiVersion: "secrets-store.csi.x-k8s.io/v1",
                kind: "SecretProviderClass",
                metadata: { name: args.className, namespace: args.namespace },
                spec: {
                    provider: "azure",
                    parameters: {
                        usePodIdentity: "false",
                        useVMManagedIdentity: "false",
                        clientID: args.clientId,
                        keyvaultName: args.keyVaultName,
                        tenantID: args.tenantId,
                        objects: keyVaultObjects(args.objects.map((o) => o.objectName)),
                    },
                    secretObjects: args.secretName
                        ? [
                              {
                                  secretName: args.secretName,
                                  type: args.secretType ?? "Opaque",
                                  data: args.objects.map((o) => ({ objectName: o.objectName, key: o.key })),
                              },
                          ]
                        : undefined,
                },
            },
            { parent: this, provider: args.provider, dependsOn: [...args.after] },
        );

        this.className = args.className;
        this.secretName = args.secretName ?? "";
        this.registerOutputs({ className: this.className, secretName: this.secretName });
    }
}
