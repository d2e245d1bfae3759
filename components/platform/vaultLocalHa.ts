import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { VAULT_SERVER_IP_ADDRESSES, VAULT_TLS_SECRETS, VAULT_TLS_VALIDITY, vaultServerNames, vaultServerSubject } from "../azure/vaultTls";
import { VAULT_INIT_PLACEHOLDER } from "../foundation";
import { PORTS } from "../topology";
import { VAULT_RELEASE, VAULT_TLS_DIR, vaultPodHost, type TransitSealArgs, type VaultTlsFiles } from "./vault";
import { VaultUnsealer, VAULT_UNSEALER } from "./vaultUnsealer";

/** The Kubernetes Secret (Vault's namespace) that is the ha Vault's TLS volume: keys named like prod's Key Vault secrets. */
const LOCAL_VAULT_TLS_SECRET = "vault-tls";
/** The Secret and key the init Job keeps the recovery keys in (where prod has its Key Vault secret). */
const LOCAL_VAULT_RECOVERY_KEYS = { name: "vault-recovery-keys", key: "recovery-keys" } as const;
/** The claim the snapshot CronJob keeps raft snapshots on (where prod has its blob container). */
const LOCAL_VAULT_SNAPSHOT_CLAIM = "vault-snapshots";

export interface LocalVaultHaArgs {
    /** Vault's namespace (its name: the certificates' names derive from it). */
    readonly namespace: string;
    /** Vault's namespace as an output of its Namespace resource, so everything here waits for it. */
    readonly namespaceOutput: pulumi.Input<string>;
    /** Raft voters: one pod name each in the server certificate. */
    readonly replicas: number;
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
}

/**
 * What the ha Vault stands on in a stack without Azure (the local stack with `local.vaultMode: ha`),
 * in place of Key Vault: an internal CA and the server certificate it signs (generated as prod's first
 * issuance is, components/azure/vaultTls.ts: same names, subject, IP SAN and lifetimes), kept in a
 * Kubernetes Secret mounted as the server's TLS volume (no Secrets Store CSI driver without Key Vault);
 * the transit unsealer (vaultUnsealer.ts, its key on a claim of its own) in place of the Key Vault key; a Secret holding the
 * placeholder until the init Job writes the recovery keys into it; a volume for the raft snapshots.
 * The keys are @pulumi/tls resources: secrets in the stack's state, never a Helm value.
 */
export class LocalVaultHa extends pulumi.ComponentResource {
    readonly seal: TransitSealArgs;
    /** The server's TLS volume source, file names and what it needs first. */
    readonly tls: { readonly secretName: string; readonly files: VaultTlsFiles; readonly ready: readonly pulumi.Resource[] };
    /** The internal CA certificate (public). */
    readonly caCertificate: pulumi.Output<string>;
    readonly recoveryKeys: { readonly secretName: string; readonly key: string; readonly ready: readonly pulumi.Resource[] };
    readonly snapshotClaim: pulumi.Output<string>;

    constructor(name: string, args: LocalVaultHaArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:LocalVaultHa", name, {}, opts);
        const child = { parent: this };
        const k8sChild = { parent: this, provider: args.provider };
        const ns = args.namespaceOutput;

        const caKey = new tls.PrivateKey(`${name}-ca`, { algorithm: "ECDSA", ecdsaCurve: "P384" }, child);
        const ca = new tls.SelfSignedCert(
            `${name}-ca`,
            {
                privateKeyPem: caKey.privateKeyPem,
                subject: { commonName: `${VAULT_RELEASE} internal CA`, organization: args.namespace },
                isCaCertificate: true,
                validityPeriodHours: VAULT_TLS_VALIDITY.caHours,
                allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
            },
            child,
        );
        const issue = (
            resource: string,
            subject: { commonName: string; organization: string },
            dnsNames: string[],
            ipAddresses: string[],
            lifetime: { readonly validityPeriodHours: number; readonly earlyRenewalHours?: number },
        ) => {
            const key = new tls.PrivateKey(resource, { algorithm: "ECDSA", ecdsaCurve: "P256" }, child);
            const request = new tls.CertRequest(resource, { privateKeyPem: key.privateKeyPem, subject, dnsNames, ipAddresses }, child);
            const cert = new tls.LocallySignedCert(
                resource,
                {
                    certRequestPem: request.certRequestPem,
                    caPrivateKeyPem: caKey.privateKeyPem,
                    caCertPem: ca.certPem,
                    ...lifetime,
                    // Raft peers present it both ways on the API port when joining. No key encipherment: the
                    // key is ECDSA, with which TLS only signs, and RFC 8813 section 3 (updating RFC 5480)
                    // forbids keyEncipherment with an id-ecPublicKey key (as components/generated.ts).
                    allowedUses: ["digital_signature", "server_auth", "client_auth"],
                },
                child,
            );
            // The chain served: the certificate, then the CA.
            return { chain: pulumi.interpolate`${cert.certPem}${ca.certPem}`, key: pulumi.secret(key.privateKeyPem) };
        };
        const server = issue(
            `${name}-server`,
            vaultServerSubject(VAULT_RELEASE, args.namespace),
            vaultServerNames(VAULT_RELEASE, args.namespace, args.replicas),
            [...VAULT_SERVER_IP_ADDRESSES],
            {
                validityPeriodHours: VAULT_TLS_VALIDITY.serverHours,
                // No renewal CronJob here (it renews through Key Vault): an `up` in the last renewBeforeDays
                // re-issues (the tls provider marks the certificate ready_for_renewal in that window,
                // hashicorp/terraform-provider-tls internal/provider/common_cert.go,
                // modifyPlanIfCertificateReadyForRenewal); the kubelet updates the Secret volume and the
                // servers' reload sidecar makes Vault read it.
                earlyRenewalHours: VAULT_TLS_VALIDITY.renewBeforeDays * 24,
            },
        );
        const unsealerHost = VAULT_UNSEALER.name;
        const unsealerCert = issue(
            `${name}-unsealer`,
            { commonName: `${unsealerHost}.${args.namespace}.svc`, organization: args.namespace },
            [
                unsealerHost,
                `${unsealerHost}.${args.namespace}`,
                `${unsealerHost}.${args.namespace}.svc`,
                `${unsealerHost}.${args.namespace}.svc.cluster.local`,
            ],
            [],
            // The CA's lifetime and no early renewal: no `up` ever re-issues it before it expires (the
            // provider marks a certificate ready_for_renewal only from validity_end - early_renewal_hours,
            // common_cert.go above; with 0 that is its expiry, when the CA expires too). Should it change
            // anyway (the CA replaced), the unsealer's pod restarts on it (its checksum annotation) and
            // the servers, which verify the unsealer against the CA of their own TLS volume, take the
            // new CA with their rollout (docs/local.md).
            { validityPeriodHours: VAULT_TLS_VALIDITY.caHours },
        );

        const files: VaultTlsFiles = VAULT_TLS_SECRETS;
        const tlsSecret = new k8s.core.v1.Secret(
            `${name}-tls`,
            {
                metadata: { name: LOCAL_VAULT_TLS_SECRET, namespace: ns },
                type: "Opaque",
                stringData: { [files.caCertificate]: ca.certPem, [files.certificate]: server.chain, [files.privateKey]: server.key },
            },
            k8sChild,
        );
        const unsealer = new VaultUnsealer(
            `${name}-unsealer`,
            {
                namespace: ns,
                tls: { certificate: unsealerCert.chain, privateKey: unsealerCert.key, caCertificate: ca.certPem },
                // The server's TLS volume carries the same CA.
                serverCaFile: `${VAULT_TLS_DIR}/${files.caCertificate}`,
                // Fully qualified, with the root's trailing dot: the resolver then asks for that one name only
                // (no search list), which CoreDNS answers itself (its `kubernetes cluster.local` zone: NXDOMAIN
                // for a pod that does not exist), so "no such host" never depends on an upstream resolver's
                // answer for a bare short name. TLS still verifies: Go drops the trailing dot before
                // matching the certificate's names (golang/go src/crypto/x509/verify.go matchHostnames,
                // TrimSuffix(host, ".")) and before sending SNI (src/crypto/tls/handshake_client.go
                // hostnameInSNI), and vaultPodHost's name is a SAN of the server certificate.
                serverAddresses: Array.from(
                    { length: args.replicas },
                    (_, i) => `https://${vaultPodHost(args.namespace, i)}.:${PORTS.vaultApi}`,
                ),
                provider: args.provider,
            },
            { parent: this },
        );

        // The init Job writes the recovery keys over the placeholder (scripts/vault-init.sh, KEY_STORE
        // kubernetes). Pulumi ignores changes to the data from then on, as prod's Key Vault placeholders
        // (components/azure/layer.ts): an update would put the placeholder back over the keys.
        const recoveryKeys = new k8s.core.v1.Secret(
            `${name}-recovery-keys`,
            {
                metadata: { name: LOCAL_VAULT_RECOVERY_KEYS.name, namespace: ns },
                type: "Opaque",
                stringData: { [LOCAL_VAULT_RECOVERY_KEYS.key]: VAULT_INIT_PLACEHOLDER },
            },
            { ...k8sChild, ignoreChanges: ["stringData", "data"] },
        );
        const claim = new k8s.core.v1.PersistentVolumeClaim(
            `${name}-snapshots`,
            {
                metadata: {
                    name: LOCAL_VAULT_SNAPSHOT_CLAIM,
                    namespace: ns,
                    // The cluster's default class (kind: local-path, volumeBindingMode WaitForFirstConsumer)
                    // binds it when the first snapshot pod runs: nothing to wait for at `up`
                    // (pulumi-kubernetes' documented pulumi.com/skipAwait annotation).
                    annotations: { "pulumi.com/skipAwait": "true" },
                },
                spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
            },
            k8sChild,
        );

        this.seal = unsealer.seal;
        this.tls = { secretName: LOCAL_VAULT_TLS_SECRET, files, ready: [tlsSecret] };
        this.caCertificate = ca.certPem;
        this.recoveryKeys = { secretName: LOCAL_VAULT_RECOVERY_KEYS.name, key: LOCAL_VAULT_RECOVERY_KEYS.key, ready: [recoveryKeys] };
        this.snapshotClaim = claim.metadata.name;
        this.registerOutputs({ caCertificate: this.caCertificate, snapshotClaim: this.snapshotClaim });
    }
}
