import type * as authorization from "@pulumi/azure-native/authorization";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { AppSecrets } from "./appSecrets";
import { KEY_VAULT_SECRETS_USER, resourceGroupCustomRole } from "./roles";
import type { RoleGrant } from "./workloadIdentity";
import type { KeyVault } from "./keyVault";

/** Key Vault secrets (unseal vault) holding Vault's listener certificate, its key and the internal CA. */
export const VAULT_TLS_SECRETS = { caCertificate: "vault-tls-ca", certificate: "vault-tls-crt", privateKey: "vault-tls-key" } as const;
/**
 * The internal CA's private key, beside them in the same Key Vault: read by the renewal CronJob only
 * (components/platform/vaultTlsRenew.ts), never mounted into Vault's pods.
 */
export const VAULT_TLS_CA_KEY_SECRET = "vault-tls-ca-key";

/**
 * The server certificate's life; how early the in-cluster CronJob renews it; how close to expiry the
 * served certificate raises the alert (issue 20 item 3: 14 days). The CA lives ten years. Pulumi issues
 * the server certificate once (VaultTls) and never renews it: the CronJob alone does.
 */
export const VAULT_TLS_VALIDITY = {
    serverHours: 24 * 365,
    renewBeforeDays: 30,
    expiryAlertDays: 14,
    caHours: 24 * 365 * 10,
} as const;

/**
 * What the renewal needs on the server's certificate and key secrets, and nothing more: read the value
 * (getSecret), write a new version (setSecret: `az keyvault secret set` is the data plane's Set Secret,
 * PUT {vault}/secrets/{name}), read the attributes (readMetadata). Key Vault Secrets Officer
 * (`Microsoft.KeyVault/vaults/secrets/*`) would add delete, backup, restore, recover and purge. Names
 * from Azure's resource provider operations for Microsoft.KeyVault (learn.microsoft.com
 * role-based-access-control/permissions/security; the access-policy mapping of
 * Azure/KeyVault-AccessPolicyToRBAC-CompareTool gives Secret Get = getSecret/action, Secret Set =
 * setSecret/action, Secret List = readMetadata/action).
 */
const VAULT_TLS_RENEW_DATA_ACTIONS = [
    "Microsoft.KeyVault/vaults/secrets/getSecret/action",
    "Microsoft.KeyVault/vaults/secrets/setSecret/action",
    "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
] as const;

/**
 * The custom role holding VAULT_TLS_RENEW_DATA_ACTIONS, defined on the stack's resource group
 * (resourceGroupCustomRole) and assigned on each of the two secrets only. Custom role names are unique
 * per Entra tenant (MicrosoftDocs azure-docs articles/role-based-access-control/custom-roles.md), and the
 * same prefix and environment can recur in another subscription of the tenant, so the name carries a
 * hash of the group's ID (customRoleName); an existing role is renamed in place (the definition's GUID
 * is its path; azure-native's replacement.go forces no replacement of a RoleDefinition).
 */
export function vaultTlsRenewRole(
    name: string,
    args: { readonly roleName: string; readonly resourceGroupId: pulumi.Input<string> },
    opts?: pulumi.CustomResourceOptions,
): authorization.RoleDefinition {
    return resourceGroupCustomRole(
        name,
        {
            roleName: args.roleName,
            description:
                "Reads and writes new versions of Vault's TLS server certificate and key secrets (no delete, backup, restore or purge).",
            resourceGroupId: args.resourceGroupId,
            permissions: { actions: [], dataActions: VAULT_TLS_RENEW_DATA_ACTIONS },
        },
        opts,
    );
}

/**
 * The renewal identity's grants, one per secret: Key Vault Secrets User on the CA's certificate and key
 * (read only), the custom role (`writeRoleId`, vaultTlsRenewRole) on the server's certificate and key.
 */
export function vaultTlsRenewGrants(tls: VaultTls, writeRoleId: pulumi.Input<string>): RoleGrant[] {
    return [
        { roleId: KEY_VAULT_SECRETS_USER, scope: tls.secretIds[VAULT_TLS_SECRETS.caCertificate] },
        { roleId: KEY_VAULT_SECRETS_USER, scope: tls.caKeySecretId },
        { definitionId: writeRoleId, scope: tls.secretIds[VAULT_TLS_SECRETS.certificate] },
        { definitionId: writeRoleId, scope: tls.secretIds[VAULT_TLS_SECRETS.privateKey] },
    ];
}

/** The server certificate's subject and IP SAN, shared by the first issuance here and every renewal. */
export function vaultServerSubject(release: string, namespace: string): { commonName: string; organization: string } {
    return { commonName: `${release}.${namespace}.svc`, organization: namespace };
}
/** The chart points the CLI inside each server pod at https://127.0.0.1:8200 (VAULT_ADDR). */
export const VAULT_SERVER_IP_ADDRESSES = ["127.0.0.1"] as const;

/**
 * Every name a client or a raft peer reaches Vault by: the vault, vault-active and vault-internal
 * Services and each pod through the headless one (vault-N.vault-internal, as retry_join dials it),
 * each bare, with its namespace, and in its .svc and .svc.cluster.local forms.
 */
export function vaultServerNames(release: string, namespace: string, replicas: number): string[] {
    const services = [release, `${release}-active`, `${release}-internal`];
    const pods = Array.from({ length: replicas }, (_, i) => `${release}-${i}.${release}-internal`);
    return [...services, ...pods].flatMap((host) => [
        host,
        `${host}.${namespace}`,
        `${host}.${namespace}.svc`,
        `${host}.${namespace}.svc.cluster.local`,
    ]);
}

export interface VaultTlsArgs {
    /** Vault's Helm release name and namespace: the certificate's names derive from them. */
    readonly release: string;
    readonly namespace: string;
    /** Server replicas (raft voters): one pod name each. */
    readonly replicas: number;
    /** Key Vault (Vault's own, the unseal vault) that keeps the key material. */
    readonly vault: KeyVault;
    readonly resourceGroupName: pulumi.Input<string>;
    /** Keep the secrets through `destroy --exclude-protected` (prod). Default false. */
    readonly protect?: boolean;
}

/**
 * An internal CA and the Vault server certificate it signs, kept as Key Vault secrets that the Secrets
 * Store CSI driver mounts into the server pods as Vault's own identity. The keys are @pulumi/tls
 * resources: in Pulumi state they are secrets (encrypted), never clear text, and no key is ever a Helm
 * value.
 *
 * This is the first issuance only. From then on the renewal CronJob (platform layer,
 * components/platform/vaultTlsRenew.ts) owns the server certificate and key: it signs a new pair with
 * the CA key kept here and writes both as new secret versions. Pulumi must never write either again,
 * or it would put back its own certificate beside the CronJob's key (or the reverse): a pair that does
 * not match, which Vault refuses on SIGHUP and fails to start with. So:
 *   - the two server secrets are written once (AppSecrets writeOnce: ignoreChanges on `properties`,
 *     whatever the tls resources below do later);
 *   - the certificate has no earlyRenewalHours: in the tls provider a certificate inside its early
 *     renewal window is marked ready_for_renewal and replaced by every plan
 *     (hashicorp/terraform-provider-tls internal/provider/common_cert.go,
 *     modifyPlanIfCertificateReadyForRenewal; @pulumi/tls bridges it), and that window would open the
 *     day the CronJob renews. With the default 0 it is replaced once a year, at its expiry: a local
 *     replacement in state that writes nothing (docs/operations.md, "Vault's TLS certificate").
 * A deliberate change (other SANs from vault.voters, a forced re-issue) goes through the CronJob too: it
 * re-issues when the stored certificate's names differ from the ones it is given, or on FORCE_RENEW.
 */
export class VaultTls extends pulumi.ComponentResource {
    /** The CA certificate (public): what every Vault client verifies against. */
    readonly caCertificate: pulumi.Output<string>;
    /** The SANs of the server certificate. */
    readonly dnsNames: readonly string[];
    /** ARM ID of each of the three secrets, by VAULT_TLS_SECRETS name: the readers' role scopes. */
    readonly secretIds: Readonly<Record<string, pulumi.Output<string>>>;
    /** ARM ID of the CA key's secret (VAULT_TLS_CA_KEY_SECRET): the renewal identity's role scope only. */
    readonly caKeySecretId: pulumi.Output<string>;

    constructor(name: string, args: VaultTlsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:VaultTls", name, {}, opts);
        const child = { parent: this };

        const caKey = new tls.PrivateKey(`${name}-ca`, { algorithm: "ECDSA", ecdsaCurve: "P384" }, child);
        const ca = new tls.SelfSignedCert(
            `${name}-ca`,
            {
                privateKeyPem: caKey.privateKeyPem,
                subject: { commonName: `${args.release} internal CA`, organization: args.namespace },
                isCaCertificate: true,
                validityPeriodHours: VAULT_TLS_VALIDITY.caHours,
                allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
            },
            child,
        );

        this.dnsNames = vaultServerNames(args.release, args.namespace, args.replicas);
        const serverKey = new tls.PrivateKey(`${name}-server`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, child);
        const request = new tls.CertRequest(
            `${name}-server`,
            {
                privateKeyPem: serverKey.privateKeyPem,
                subject: vaultServerSubject(args.release, args.namespace),
                dnsNames: [...this.dnsNames],
                ipAddresses: [...VAULT_SERVER_IP_ADDRESSES],
            },
            child,
        );
        const server = new tls.LocallySignedCert(
            `${name}-server`,
            {
                certRequestPem: request.certRequestPem,
                caPrivateKeyPem: caKey.privateKeyPem,
                caCertPem: ca.certPem,
                validityPeriodHours: VAULT_TLS_VALIDITY.serverHours,
                // No earlyRenewalHours (see the class comment): Pulumi never renews it.
                // Raft peers present it both ways on the API port when joining.
                allowedUses: ["digital_signature", "key_encipherment", "server_auth", "client_auth"],
            },
            child,
        );

        const secrets = new AppSecrets(
            `${name}-kv`,
            {
                vault: args.vault,
                resourceGroupName: args.resourceGroupName,
                protect: args.protect,
                // The renewal CronJob writes these from the day it first renews: Pulumi, only at creation.
                writeOnce: [VAULT_TLS_SECRETS.certificate, VAULT_TLS_SECRETS.privateKey],
                provided: {
                    [VAULT_TLS_SECRETS.caCertificate]: ca.certPem,
                    // The chain Vault serves: its certificate, then the CA.
                    [VAULT_TLS_SECRETS.certificate]: pulumi.interpolate`${server.certPem}${ca.certPem}`,
                    [VAULT_TLS_SECRETS.privateKey]: pulumi.secret(serverKey.privateKeyPem),
                    // For the renewal CronJob, which signs the next server certificate in the cluster.
                    [VAULT_TLS_CA_KEY_SECRET]: pulumi.secret(caKey.privateKeyPem),
                },
            },
            child,
        );

        this.caCertificate = ca.certPem;
        this.secretIds = Object.fromEntries(
            Object.values(VAULT_TLS_SECRETS).map((secretName) => [secretName, secrets.secretIds[secretName]]),
        );
        this.caKeySecretId = secrets.secretIds[VAULT_TLS_CA_KEY_SECRET];
        this.registerOutputs({
            caCertificate: this.caCertificate,
            dnsNames: this.dnsNames,
            secretIds: this.secretIds,
            caKeySecretId: this.caKeySecretId,
        });
    }
}
