// Secret values the program generates itself, the same way for Key Vault (Azure layer) and for plain
// Kubernetes Secrets (local layer): passwords and the ingress gateway's certificate and its CA.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { selfSignedRootPem } from "./config/validators";
import type { PemPair } from "./foundation";

/** 32 random characters, none that need quoting in a connection string or a shell. Secret. */
export function generatedPassword(name: string, opts?: pulumi.CustomResourceOptions): pulumi.Output<string> {
    const password = new random.RandomPassword(
        name,
        { length: 32, special: true, overrideSpecial: "-_.~", minLower: 1, minUpper: 1, minNumeric: 1 },
        opts,
    );
    return pulumi.secret(password.result);
}

/** The ingress certificate chain and key, and the root the chain ends in when it is not a public CA's. */
export interface IngressCertificate extends PemPair {
    /**
     * The PEM root certificate a client of the ingress gateway must be told to trust (Application
     * Gateway's trusted root for its re-encrypted hop, ingress.waf): the generated CA, or the self-signed
     * root a configured private CA's chain ends with; undefined for a chain a public CA issued.
     */
    readonly root: pulumi.Output<string | undefined>;
}

/** Validity of the generated server certificate, and how long before its end an `up` re-issues it. */
const GENERATED_SERVER_VALIDITY = { hours: 24 * 365, earlyRenewalHours: 24 * 30 } as const;
/**
 * Validity of the generated CA, and how long before its end an `up` re-issues it: two years, longer
 * than a server certificate lives, so that no server certificate outlives the CA that signed it (one
 * issued in an `up` is signed by a CA with more than two years left; see ingressCertificate).
 */
const GENERATED_CA_VALIDITY = { hours: 24 * 365 * 10, earlyRenewalHours: 24 * 365 * 2 } as const;

/**
 * The configured ingress certificate and key when there are some; otherwise a generated pair for
 * `host` (`name` stems its resources): a server certificate signed by a generated CA, served with
 * that CA after it (the chain).
 *
 * Two certificates, not one self-signed CA served as the server's own: NSS, the verifier of Firefox,
 * refuses a CA certificate as a server's (mozilla::pkix pkixcheck.cpp, CheckBasicConstraints:
 * ERROR_CA_CERT_USED_AS_END_ENTITY for an end entity with CA:TRUE), while Application Gateway v2
 * trusts a backend whose chain ends in a root it holds as a trusted root certificate; a self-signed
 * certificate that is not a CA it takes for a leaf and marks the backend unhealthy (MicrosoftDocs
 * azure-docs articles/application-gateway/ssl-overview.md, "End-to-end TLS with the v2 SKU";
 * application-gateway-backend-health-troubleshooting.md). So the CA is the root the gateway trusts
 * (IngressCertificate.root) and the server certificate is an end entity: CA:FALSE (the tls provider
 * sets basic constraints on every certificate it signs and CA:TRUE only with isCaCertificate,
 * hashicorp/terraform-provider-tls internal/provider/resource_locally_signed_cert.go and
 * common_cert.go createCertificate), server auth, and digital signature only: the key is ECDSA, with
 * which TLS signs and never encrypts a key, and RFC 8813 section 3 (updating RFC 5480) forbids
 * keyEncipherment and dataEncipherment with an id-ecPublicKey key.
 *
 * Renewal: the server certificate has earlyRenewalHours, so the first `up` in its last 30 days
 * re-issues it (the provider marks it ready_for_renewal and plans a replacement, common_cert.go
 * modifyPlanIfCertificateReadyForRenewal) under the same CA, with the same key (the key and the request
 * are resources of their own): what Application Gateway trusts does not change, and the gateway
 * resource itself is not updated (it reads the served PFX by a versionless Key Vault URI). The CA is
 * re-issued by the first `up` in its last two years (GENERATED_CA_VALIDITY), once in eight years: a
 * server certificate is issued only by an `up`, and an `up` in that window renews the CA first, so the
 * CA that signs a server certificate has more than two years left and outlives it (a year). The
 * renewed CA has the same key (its own resource) and subject; its new certificate replaces the server
 * certificate too (ca_cert_pem forces a replacement) and becomes the gateway's trusted root in the same
 * `up`. Until the gateway pods serve the new chain (the CSI driver's poll), they serve a certificate
 * the old root's key signed, under the same issuer name; the one trusted root is not both (the program
 * keeps no old CA certificate), so a gateway that matches the uploaded root exactly fails the backend
 * hop for those minutes, once in eight years (docs/operations.md, "Rotate the ingress certificate").
 * Adding earlyRenewalHours to an existing CA is an update of the state only (the tls provider's
 * Update copies the plan, hashicorp/terraform-provider-tls internal/provider/common.go
 * updatedUsingPlan; only its PEM and subject attributes require a replacement).
 */
export function ingressCertificate(
    name: string,
    args: { readonly host: string; readonly environment: string; readonly configured?: PemPair },
    opts?: pulumi.CustomResourceOptions,
): IngressCertificate {
    if (args.configured) {
        return { ...args.configured, root: pulumi.output(args.configured.certificate).apply((pem) => selfSignedRootPem(pem)) };
    }
    const organization = `generated (${args.environment})`;
    const caKey = new tls.PrivateKey(`${name}-ca`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, opts);
    const ca = new tls.SelfSignedCert(
        `${name}-ca`,
        {
            privateKeyPem: caKey.privateKeyPem,
            subject: { commonName: `${args.host} ingress CA`, organization },
            isCaCertificate: true,
            // The server certificate's authority key ID is this one (Go's x509.CreateCertificate), which
            // chain builders match on.
            setSubjectKeyId: true,
            validityPeriodHours: GENERATED_CA_VALIDITY.hours,
            earlyRenewalHours: GENERATED_CA_VALIDITY.earlyRenewalHours,
            allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
        },
        opts,
    );
    // The served key: the name the single self-signed pair's key had, so that an existing stack keeps it.
    const key = new tls.PrivateKey(name, { algorithm: "ECDSA", ecdsaCurve: "P256" }, opts);
    const request = new tls.CertRequest(
        name,
        { privateKeyPem: key.privateKeyPem, subject: { commonName: args.host, organization }, dnsNames: [args.host] },
        opts,
    );
    const server = new tls.LocallySignedCert(
        name,
        {
            certRequestPem: request.certRequestPem,
            caPrivateKeyPem: caKey.privateKeyPem,
            caCertPem: ca.certPem,
            validityPeriodHours: GENERATED_SERVER_VALIDITY.hours,
            earlyRenewalHours: GENERATED_SERVER_VALIDITY.earlyRenewalHours,
            allowedUses: ["digital_signature", "server_auth"],
        },
        opts,
    );
    return {
        // The chain: the server certificate, then the CA ("it is recommended the backend server
        // certificate contain both the root and intermediate CAs", ssl-overview.md).
        certificate: pulumi.interpolate`${server.certPem}${ca.certPem}`,
        privateKey: pulumi.secret(key.privateKeyPem),
        root: ca.certPem,
    };
}
