import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import * as random from "@pulumi/random";
import {
    JOB_ANNOTATIONS,
    JOB_CONTAINER_SECURITY_CONTEXT,
    JOB_POD_SECURITY_CONTEXT,
    jobScriptFiles,
    SCRIPTS_DIR,
    scriptPhase,
    scriptVolumes,
} from "../jobScripts";
import { PORTS, POD_LABELS } from "../topology";
import { IMAGES } from "./charts";
import type { TransitSealArgs } from "./vault";

/** The Job script that prepares the transit key, policy and seal token (checked with shellcheck). */
export const VAULT_UNSEALER_SCRIPT_FILE = "vault-unsealer.sh";
export const VAULT_UNSEALER_SCRIPT = path.join(SCRIPTS_DIR, VAULT_UNSEALER_SCRIPT_FILE);

/** The unsealer's names: its Deployment and Service, the transit mount and key, the seal's policy and token Secret. */
export const VAULT_UNSEALER = {
    name: "vault-unsealer",
    transitMount: "transit/",
    transitKey: "vault-autounseal",
    policy: "vault-autounseal",
    /** The seal's token: read by the ha Vault's pods (VAULT_TOKEN) and by the setup Job, which gives the token this ID. */
    sealTokenSecret: { name: "vault-transit-seal", key: "token" },
    rootTokenSecret: { name: "vault-unsealer-root-token", key: "token" },
} as const;

const TLS_DIR = "/vault/tls";
const CONFIG_DIR = "/vault/config";
const CA_DIR = "/vault/ca";

export interface VaultUnsealerArgs {
    /** Vault's namespace: the unsealer runs beside the server it unseals. */
    readonly namespace: pulumi.Input<string>;
    /** The unsealer's TLS certificate (chain) and key, and the CA that signed them (the ha Vault's own internal CA). */
    readonly tls: {
        readonly certificate: pulumi.Input<string>;
        readonly privateKey: pulumi.Input<string>;
        readonly caCertificate: pulumi.Input<string>;
    };
    /** CA file in the ha Vault's server pods that verifies the unsealer (the server's TLS volume carries the same CA). */
    readonly serverCaFile: string;
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
}

/**
 * The "unsealer" of the local stack's ha Vault: a small in-cluster Vault in dev mode whose transit
 * secrets engine plays the role Key Vault's key plays in prod. Why transit and not Shamir: with a
 * transit seal the ha Vault auto-unseals like prod (recovery keys, not unseal keys; the same
 * `vault operator init -recovery-shares` path of scripts/vault-init.sh; a replaced pod unseals itself,
 * so scripts/vault-rollout.sh runs unchanged), whereas Shamir would need an unseal step after every
 * pod restart that prod never has.
 *
 * The dev server listens on its pod's loopback (plain HTTP, for its readiness probe) and, from
 * `-config`, on a TLS listener with a certificate of the ha Vault's internal CA: `vault server -dev`
 * merges the config files into its dev config (hashicorp/vault command/server.go: `config =
 * config.Merge(parsedConfig)`), and Merge appends the listeners (internalshared/configutil/merge.go).
 * Its root token is generated (the dev flag's env VAULT_DEV_ROOT_TOKEN_ID, command/server.go) and kept
 * in a Secret the setup Job alone reads. The setup Job (scripts/vault-unsealer.sh) creates the transit
 * key, a policy that may only encrypt and decrypt with it, and the seal's periodic orphan token, whose
 * ID is the generated value in the seal token's Secret.
 *
 * A dev server keeps everything in memory: if the unsealer's pod restarts, its transit key is gone and
 * the ha Vault cannot unseal again after its own next restart. That is acceptable for what this mode
 * is for (an e2e run, a local trial); docs/local.md says so and how to start over.
 */
export class VaultUnsealer extends pulumi.ComponentResource {
    /** The transit seal as the ha Vault's server takes it. */
    readonly seal: TransitSealArgs;
    /** The unsealer's https address. */
    readonly address: pulumi.Output<string>;

    constructor(name: string, args: VaultUnsealerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:VaultUnsealer", name, {}, opts);
        const child = { parent: this, provider: args.provider };
        const ns = args.namespace;
        const names = VAULT_UNSEALER;

        // Token IDs without a ".": Vault refuses a custom token ID that contains one (hashicorp/vault
        // website/content/api-docs/auth/token.mdx, create: `id` "may not contain a . character").
        const tokenValue = (resource: string) =>
            pulumi.secret(new random.RandomPassword(resource, { length: 32, special: false }, { parent: this }).result);
        const rootToken = tokenValue(`${name}-root-token`);
        const sealToken = tokenValue(`${name}-seal-token`);
        const tokenSecret = (resource: string, secret: { readonly name: string; readonly key: string }, value: pulumi.Output<string>) =>
            new k8s.core.v1.Secret(
                resource,
                { metadata: { name: secret.name, namespace: ns }, type: "Opaque", stringData: { [secret.key]: value } },
                child,
            );
        const rootSecret = tokenSecret(`${name}-root-token`, names.rootTokenSecret, rootToken);
        const sealSecret = tokenSecret(`${name}-seal-token`, names.sealTokenSecret, sealToken);
        const tlsSecret = new k8s.core.v1.Secret(
            `${name}-tls`,
            {
                metadata: { name: `${names.name}-tls`, namespace: ns },
                type: "kubernetes.io/tls",
                stringData: { "tls.crt": args.tls.certificate, "tls.key": pulumi.secret(args.tls.privateKey) },
            },
            child,
        );
        const config = new k8s.core.v1.ConfigMap(
            `${name}-config`,
            {
                metadata: { name: `${names.name}-config`, namespace: ns },
                data: {
                    "listener.hcl": [
                        'listener "tcp" {',
                        `  address         = "[::]:${PORTS.vaultUnsealerTls}"`,
                        `  tls_cert_file   = "${TLS_DIR}/tls.crt"`,
                        `  tls_key_file    = "${TLS_DIR}/tls.key"`,
                        '  tls_min_version = "tls12"',
                        "}",
                        "",
                    ].join("\n"),
                    // Public: the setup Job verifies the unsealer against it.
                    "ca.crt": args.tls.caCertificate,
                },
            },
            child,
        );

        const image = `${IMAGES.vault.repository}:${IMAGES.vault.tag}`;
        const labels = { ...POD_LABELS.vaultUnsealer, "sidecar.istio.io/inject": "false" };
        const deployment = new k8s.apps.v1.Deployment(
            name,
            {
                metadata: { name: names.name, namespace: ns },
                spec: {
                    replicas: 1,
                    // Never two dev servers: each would hold a different transit key.
                    strategy: { type: "Recreate" },
                    selector: { matchLabels: { ...POD_LABELS.vaultUnsealer } },
                    template: {
                        metadata: { labels },
                        spec: {
                            securityContext: JOB_POD_SECURITY_CONTEXT,
                            automountServiceAccountToken: false,
                            containers: [
                                {
                                    name: "vault",
                                    image,
                                    // The binary itself, not the image's entrypoint (which would try setcap as root).
                                    command: ["vault", "server", "-dev", "-dev-no-store-token", `-config=${CONFIG_DIR}/listener.hcl`],
                                    env: [
                                        {
                                            name: "VAULT_DEV_ROOT_TOKEN_ID",
                                            valueFrom: {
                                                secretKeyRef: { name: names.rootTokenSecret.name, key: names.rootTokenSecret.key },
                                            },
                                        },
                                        // For the readiness probe's CLI: the dev listener on the loopback.
                                        { name: "VAULT_ADDR", value: `http://127.0.0.1:${PORTS.vaultApi}` },
                                        { name: "HOME", value: "/tmp" },
                                    ],
                                    ports: [{ name: "https", containerPort: PORTS.vaultUnsealerTls }],
                                    readinessProbe: { exec: { command: ["vault", "status"] }, periodSeconds: 5, failureThreshold: 3 },
                                    resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
                                    securityContext: JOB_CONTAINER_SECURITY_CONTEXT,
                                    volumeMounts: [
                                        { name: "tls", mountPath: TLS_DIR, readOnly: true },
                                        { name: "config", mountPath: CONFIG_DIR, readOnly: true },
                                        { name: "tmp", mountPath: "/tmp" },
                                    ],
                                },
                            ],
                            volumes: [
                                { name: "tls", secret: { secretName: tlsSecret.metadata.name } },
                                {
                                    name: "config",
                                    configMap: { name: config.metadata.name, items: [{ key: "listener.hcl", path: "listener.hcl" }] },
                                },
                                { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
                            ],
                        },
                    },
                },
            },
            { ...child, dependsOn: [rootSecret] },
        );
        const service = new k8s.core.v1.Service(
            name,
            {
                metadata: { name: names.name, namespace: ns },
                spec: {
                    selector: { ...POD_LABELS.vaultUnsealer },
                    ports: [{ name: "https", port: PORTS.vaultApi, targetPort: "https" }],
                },
            },
            child,
        );
        this.address = pulumi.interpolate`https://${names.name}.${pulumi.output(ns)}.svc:${PORTS.vaultApi}`;

        const script = new k8s.core.v1.ConfigMap(
            `${name}-script`,
            { metadata: { namespace: ns }, data: jobScriptFiles(VAULT_UNSEALER_SCRIPT_FILE) },
            child,
        );
        const fromSecret = (envName: string, secret: { readonly name: string; readonly key: string }) => ({
            name: envName,
            valueFrom: { secretKeyRef: { name: secret.name, key: secret.key } },
        });
        const setupContainer = scriptPhase(
            VAULT_UNSEALER_SCRIPT_FILE,
            "setup",
            image,
            [
                { name: "VAULT_ADDR", value: this.address },
                { name: "VAULT_CACERT", value: `${CA_DIR}/ca.crt` },
                fromSecret("VAULT_TOKEN", names.rootTokenSecret),
                fromSecret("SEAL_TOKEN", names.sealTokenSecret),
                { name: "TRANSIT_MOUNT", value: names.transitMount },
                { name: "TRANSIT_KEY", value: names.transitKey },
                { name: "SEAL_POLICY", value: names.policy },
            ],
            [{ name: "ca", mountPath: CA_DIR, readOnly: true }],
        );
        const setup = new k8s.batch.v1.Job(
            `${name}-setup`,
            {
                metadata: { namespace: ns, annotations: JOB_ANNOTATIONS },
                spec: {
                    backoffLimit: 6,
                    activeDeadlineSeconds: 900,
                    template: {
                        metadata: { labels: { ...POD_LABELS.vaultUnsealerSetup, "sidecar.istio.io/inject": "false" } },
                        spec: {
                            restartPolicy: "OnFailure",
                            automountServiceAccountToken: false,
                            securityContext: JOB_POD_SECURITY_CONTEXT,
                            containers: [{ ...setupContainer, command: ["/bin/sh", `/scripts/${VAULT_UNSEALER_SCRIPT_FILE}`] }],
                            volumes: [
                                ...scriptVolumes(script.metadata.name, "1Mi"),
                                { name: "ca", configMap: { name: config.metadata.name, items: [{ key: "ca.crt", path: "ca.crt" }] } },
                            ],
                        },
                    },
                },
            },
            { ...child, dependsOn: [deployment, service, sealSecret, rootSecret] },
        );

        this.seal = {
            kind: "transit",
            settings: {
                address: this.address,
                keyName: names.transitKey,
                mountPath: names.transitMount,
                caFile: args.serverCaFile,
            },
            token: { secretName: names.sealTokenSecret.name, key: names.sealTokenSecret.key },
            ready: [setup, sealSecret, service],
        };
        this.registerOutputs({ address: this.address });
    }
}
