// A PEM certificate chain and private key as the PKCS#12 (PFX) file Application Gateway reads from Key
// Vault: "Secret Id of (base-64 encoded unencrypted pfx) 'Secret' or 'Certificate' object stored in
// KeyVault" (azure-native 3.28.0, network ApplicationGatewaySslCertificate.keyVaultSecretId; the
// Azure REST spec's ApplicationGatewaySslCertificatePropertiesFormat). azure-native manages Key Vault
// secrets, not certificates, so the program writes the PFX as a secret of content type
// application/x-pkcs12, the form Key Vault itself gives a certificate's secret.
//
// Built here with node-forge's ASN.1 encoder rather than its pkcs12.toPkcs12Asn1, which wraps RSA keys
// only (node-forge lib/pkcs12.js: `pki.wrapRsaPrivateKey(pki.privateKeyToAsn1(key))`), while the
// generated ingress keys are ECDSA P-256 (components/generated.ts). The layout is RFC 7292's: a PFX
// (version 3) whose authSafe holds two unencrypted `data` ContentInfos, one with a certBag per
// certificate of the chain, one with a keyBag holding the PKCS#8 PrivateKeyInfo Node exports for any
// key type; the leaf's certBag and the keyBag share a localKeyId (SHA-1 of the leaf) that pairs them.
// The integrity MAC uses the empty password (HMAC-SHA1, RFC 7292 appendix B key derivation) as
// password-less PFX files carry it, so OpenSSL and Windows read it with no password. Its salt is
// derived from the content, so the same certificate and key give the same bytes on every `up`: the
// Key Vault secret gets a new version only when they change.
import { createHash, createPrivateKey } from "crypto";
import { pemCertificates } from "../config";
import * as forge from "node-forge";

/** Key Vault's content type for a PFX secret (what a Key Vault certificate's secret carries). */
export const PFX_CONTENT_TYPE = "application/x-pkcs12";

const { asn1, pki } = forge;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;
const seq = (items: forge.asn1.Asn1[]) => asn1.create(U, T.SEQUENCE, true, items);
const set = (items: forge.asn1.Asn1[]) => asn1.create(U, T.SET, true, items);
const oid = (id: string) => asn1.create(U, T.OID, false, asn1.oidToDer(id).getBytes());
const octets = (bytes: string) => asn1.create(U, T.OCTETSTRING, false, bytes);
const integer = (n: number) => asn1.create(U, T.INTEGER, false, asn1.integerToDer(n).getBytes());
const explicit0 = (value: forge.asn1.Asn1) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [value]);
const der = (value: forge.asn1.Asn1) => asn1.toDer(value).getBytes();
/** A PKCS#7 ContentInfo of type data holding `content` (unencrypted). */
const dataContentInfo = (content: forge.asn1.Asn1) => seq([oid(pki.oids.data), explicit0(octets(der(content)))]);
const binary = (buffer: Buffer) => buffer.toString("binary");

/** The certificates of a PEM chain, leaf first, as DER. */
export function pemChain(certificatePem: string): Buffer[] {
    const certificates = pemCertificates(certificatePem);
    if (certificates.length === 0) throw new Error("the ingress certificate holds no PEM certificate");
    return certificates.map((certificate) => certificate.raw);
}

/** MAC iterations (OpenSSL's default, PKCS12_DEFAULT_ITER). */
const MAC_ITERATIONS = 2048;

/** The base64 PFX (no password) of a PEM certificate chain (leaf first) and its unencrypted PEM private key. */
export function pemToPfxBase64(certificatePem: string, privateKeyPem: string): string {
    const chain = pemChain(certificatePem);
    const pkcs8 = createPrivateKey(privateKeyPem).export({ type: "pkcs8", format: "der" });
    const localKeyId = set([octets(binary(createHash("sha1").update(chain[0]).digest()))]);
    const pairing = set([seq([oid(pki.oids.localKeyId), localKeyId])]);

    const certBags = chain.map((cert, i) =>
        seq([
            oid(pki.oids.certBag),
            explicit0(seq([oid(pki.oids.x509Certificate), explicit0(octets(binary(cert)))])),
            ...(i === 0 ? [pairing] : []),
        ]),
    );
    const keyBag = seq([oid(pki.oids.keyBag), explicit0(asn1.fromDer(binary(pkcs8))), pairing]);
    const authSafe = seq([dataContentInfo(seq(certBags)), dataContentInfo(seq([keyBag]))]);
    const authSafeDer = der(authSafe);

    const salt = createHash("sha256").update(Buffer.from(authSafeDer, "binary")).digest().subarray(0, 16);
    const macKey = forge.pkcs12.generateKey("", forge.util.createBuffer(binary(salt)), 3, MAC_ITERATIONS, 20);
    const hmac = forge.hmac.create();
    hmac.start("sha1", macKey);
    hmac.update(authSafeDer);
    const macData = seq([
        seq([seq([oid(pki.oids.sha1), asn1.create(U, T.NULL, false, "")]), octets(hmac.digest().getBytes())]),
        octets(binary(salt)),
        integer(MAC_ITERATIONS),
    ]);

    const pfx = seq([integer(3), seq([oid(pki.oids.data), explicit0(octets(authSafeDer))]), macData]);
    return Buffer.from(der(pfx), "binary").toString("base64");
}
