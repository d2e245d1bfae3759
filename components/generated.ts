// Secret values the program generates itself, the same way for Key Vault (Azure layer) and for plain
// Kubernetes Secrets (local layer): passwords and the ingress gateway's self-signed certificate.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
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

/**
 * The configured ingress certificate and key when there are some; otherwise a self-signed ECDSA pair
 * for `host` (`name` names its two resources), which `pulumi up` renews in its last 30 days.
 *
 * The generated certificate is its own CA (basic constraints CA:TRUE, certificate signing), so that an
 * Application Gateway in front of the ingress gateway (`ingressWaf`) can take it as the backend's
 * trusted root: v2 treats a self-signed certificate that is not a CA as a leaf and looks for its
 * issuer, marking the backend unhealthy ("A self-signed certificate which is NOT a Certificate
 * Authority will also result in the same error", MicrosoftDocs azure-docs
 * articles/application-gateway/application-gateway-backend-health-troubleshooting.md).
 */
export function ingressCertificate(
    name: string,
    args: { readonly host: string; readonly environment: string; readonly configured?: PemPair },
    opts?: pulumi.CustomResourceOptions,
): PemPair {
    if (args.configured) return args.configured;
    const key = new tls.PrivateKey(name, { algorithm: "ECDSA", ecdsaCurve: "P256" }, opts);
    const cert = new tls.SelfSignedCert(
        name,
        {
            privateKeyPem: key.privateKeyPem,
            subject: { commonName: args.host, organization: `self-signed (${args.environment})` },
            dnsNames: [args.host],
            validityPeriodHours: 24 * 365,
            earlyRenewalHours: 24 * 30,
            isCaCertificate: true,
            allowedUses: ["digital_signature", "key_encipherment", "cert_signing", "server_auth"],
        },
        opts,
    );
    return { certificate: cert.certPem, privateKey: pulumi.secret(key.privateKeyPem) };
}
