// What the in-cluster layers (platform, workloads) stand on, whichever way the stack gets its cluster:
// the explicit Kubernetes provider, and where secrets come from. The Azure layer builds one from AKS and
// Key Vault (dev, prod); the local layer from an existing cluster of the kubeconfig and generated values
// (local). The in-cluster layers take this, never the Azure layer, so Azure stays optional in one place.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "./config";
import type { ServiceName } from "./config/constants";

/**
 * Whether MongoDB's objects, and so its volume and root user, outlive a destroy (retainOnDelete): then
 * the root password must outlive it too (the foundation keeps the generated value in state), or a
 * re-create writes a new password that the kept data does not know. One answer for both sides.
 */
export function retainsMongoData(cfg: Pick<PlatformConfig, "protectStatefulResources">): boolean {
    return cfg.protectStatefulResources;
}

/** The guide's application secrets and the Kubernetes Secret keys the services read them from. */
export const APP_SECRET_KEYS = {
    "applicationinsights-connection-string": "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "applicationinsights-instrumentation-key": "APPINSIGHTS_INSTRUMENTATIONKEY",
    "database-password": "DATABASE_PASSWORD",
    "api-key": "API_KEY",
} as const;
export type AppSecretName = keyof typeof APP_SECRET_KEYS;

/**
 * The value the Key Vault secret for Vault's recovery keys holds until the
 * initialisation Job writes them: the Job initialises Vault only while it still holds it.
 */
export const VAULT_INIT_PLACEHOLDER = "pending: written by the vault-init Job";

/** A managed identity as the cluster side needs it: the client ID to annotate, and what must exist first. */
export interface BoundWorkloadIdentity {
    /** Client ID: the azure.workload.identity/client-id annotation value. */
    readonly clientId: pulumi.Output<string>;
    /** Its federated credentials and role assignments: pods using it wait for them. */
    readonly ready: pulumi.Resource[];
}

/** A PEM certificate and its private key (secret). */
export interface PemPair {
    readonly certificate: pulumi.Input<string>;
    readonly privateKey: pulumi.Input<string>;
}

/**
 * Secrets live in Key Vault and reach pods through the Secrets Store CSI driver, each reader acting as
 * a workload identity (dev, prod).
 */
export interface KeyVaultSecrets {
    readonly kind: "keyvault";
    /** Entra ID tenant of the vaults and identities. */
    readonly tenantId: pulumi.Output<string>;
    /** Application Key Vault: the four APP_SECRET_KEYS secrets and the ingress certificate and key. */
    readonly appVaultName: pulumi.Output<string>;
    /** Key Vault secret names of the ingress gateway's PEM certificate and private key. */
    readonly ingressTlsSecrets: { readonly certificate: string; readonly privateKey: string };
    /** Key Vault of Vault's unseal key (and, prod, of the recovery keys the init Job writes and Vault's TLS material). */
    readonly unsealVaultName: pulumi.Output<string>;
    readonly unsealKeyName: pulumi.Output<string>;
    /** Key Vault secret names the prod Vault initialisation Job writes. */
    readonly vaultInitSecrets: { readonly recoveryKeys: string };
    /**
     * Vault's listener TLS (ha with TLS): the Key Vault secrets (unseal vault) of the CA, the server
     * certificate chain and its key, which Vault's own identity reads, and the CA certificate (public).
     */
    readonly vaultTls?: {
        readonly secretNames: { readonly caCertificate: string; readonly certificate: string; readonly privateKey: string };
        readonly caCertificate: pulumi.Output<string>;
        /**
         * The in-cluster renewal (issue 20 item 3): the CA key's secret, the server certificate's subject,
         * SANs and lifetimes as the first issuance has them, and the identity that reads the CA and writes
         * the server's two secrets. Absent where identities.vaultTlsRenew is empty.
         */
        readonly renewal?: {
            readonly caKeySecret: string;
            readonly subject: { readonly commonName: string; readonly organization: string };
            readonly dnsNames: readonly string[];
            readonly ipAddresses: readonly string[];
            readonly renewBeforeDays: number;
            readonly validityDays: number;
            readonly alertDays: number;
            readonly identity: BoundWorkloadIdentity;
        };
    };
    /**
     * Where the prod raft snapshots go: the backup storage account and its container, and the identity
     * allowed to write there (Storage Blob Data Contributor on the container). Absent in dev.
     */
    readonly vaultSnapshots?: {
        readonly accountName: pulumi.Output<string>;
        readonly containerName: string;
        readonly identity: BoundWorkloadIdentity;
    };
    readonly identities: {
        /** The applications: Key Vault Secrets User on the four application secrets. */
        readonly appSecrets: BoundWorkloadIdentity;
        /** The ingress gateway: reads its certificate and key. */
        readonly ingressTls: BoundWorkloadIdentity;
        /** Vault's server: unwraps its root key with the unseal key (ha). */
        readonly vaultUnseal: BoundWorkloadIdentity;
        /** The prod Vault initialisation Job; absent where Vault runs in dev mode. */
        readonly vaultInit?: BoundWorkloadIdentity;
    };
}

/**
 * Secrets are plain Kubernetes Secrets with values generated by the program (local): no Key Vault, no
 * CSI driver, no identities.
 */
export interface KubernetesSecrets {
    readonly kind: "kubernetes";
    /** The value of each application secret (Pulumi secrets), by its Key Vault name. */
    readonly appSecretValues: Readonly<Record<AppSecretName, pulumi.Output<string>>>;
    /** The ingress gateway's certificate and key. */
    readonly ingressTls: PemPair;
}

export type SecretsSource = KeyVaultSecrets | KubernetesSecrets;

/** Where MongoDB's scheduled dumps go: a blob container written through a workload identity. */
export interface MongoBackupTarget {
    /** https://<account>.blob.core.windows.net/ */
    readonly blobEndpoint: pulumi.Output<string>;
    /** Blob container of the dumps. */
    readonly container: string;
    /** The identity the backup pods act as (its federated subject is identities.mongoBackup). */
    readonly identity: BoundWorkloadIdentity;
    /** Entra ID tenant of the identity. */
    readonly tenantId: pulumi.Output<string>;
}

export interface ClusterFoundation {
    /** The cluster's Kubernetes provider; every in-cluster resource names it explicitly. */
    readonly provider: k8s.Provider;
    /**
     * The same cluster, for the objects kept on destroy (retainOnDelete) only: it adopts such an object
     * when a re-created stack finds it still there (upsertExistingObjects). Absent where nothing is kept.
     */
    readonly retainedObjectsProvider?: k8s.Provider;
    /** Where application secrets, the ingress certificate and Vault's seal come from. */
    readonly secrets: SecretsSource;
    /** MongoDB's generated root password (secret). */
    readonly mongoRootPassword: pulumi.Output<string>;
    /** Where MongoDB's backups go; absent where the stack has no backup storage (local). */
    readonly mongoBackup?: MongoBackupTarget;
    /**
     * The services' images in the stack's registry (services.imageSource build or import), by service;
     * absent where config names them (the stack's <service>Image and <service>Tag are deployed as they are).
     */
    readonly serviceImages?: Readonly<
        Record<ServiceName, { readonly repository: pulumi.Output<string>; readonly tag: pulumi.Output<string> }>
    >;
}
