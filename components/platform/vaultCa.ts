import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** The Secret holding Vault's internal CA certificate, and its key, in every namespace it is put in. */
export const VAULT_CA_SECRET = { name: "vault-ca", key: "ca.crt" } as const;

export interface VaultCaBundleArgs {
    /** The CA certificate (public PEM). */
    readonly caCertificate: pulumi.Input<string>;
    /** The namespaces that get a copy, by role (Vault's, for its Jobs; the applications', for their agents). */
    readonly namespaces: Readonly<Record<string, pulumi.Input<string>>>;
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
}

/**
 * Vault's internal CA certificate as a Secret (VAULT_CA_SECRET) in each given namespace: the Jobs
 * mount it for VAULT_CACERT, and the Vault agents mount it through `vault.hashicorp.com/tls-secret`
 * (hashicorp/vault-k8s agent-inject/agent/annotations.go: the Secret is mounted at /vault/tls), which
 * takes a Secret, not a ConfigMap. The certificate is public; only the server's key is secret, and it
 * never leaves Key Vault and the server pods' CSI volume.
 */
export class VaultCaBundle extends pulumi.ComponentResource {
    /** Name and key of the Secret, the same in every namespace. */
    readonly secret = VAULT_CA_SECRET;

    constructor(name: string, args: VaultCaBundleArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:VaultCaBundle", name, {}, opts);
        for (const [role, namespace] of Object.entries(args.namespaces)) {
            new k8s.core.v1.Secret(
                `${name}-${role}`,
                {
                    metadata: { name: VAULT_CA_SECRET.name, namespace },
                    type: "Opaque",
                    stringData: { [VAULT_CA_SECRET.key]: args.caCertificate },
                },
                { parent: this, provider: args.provider },
            );
        }
        this.registerOutputs({ secret: this.secret });
    }
}
