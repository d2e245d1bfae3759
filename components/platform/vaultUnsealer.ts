import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import * as random from "@pulumi/random";
import {
    JOB_ANNOTATIONS,
    JOB_CONTAINER_DEFAULTS,
    JOB_CONTAINER_SECURITY_CONTEXT,
    JOB_POD_SECURITY_CONTEXT,
    jobScriptFiles,
    scriptPhase,
    scriptVolumes,
    secretEnv,
} from "../jobScripts";
import { PORTS, POD_LABELS } from "../topology";
import { VAULT_IMAGE } from "./charts";
import type { TransitSealArgs } from "./vault";

/** The script of the unsealer's sidecar (phase unseal) and setup Job (phase setup), checked with shellcheck. */
const VAULT_UNSEALER_SCRIPT_FILE = "vault-unsealer.sh";

/** The unsealer's names: its Deployment and Service, the transit mount and key, the seal's policy and token Secret. */
export const VAULT_UNSEALER = {
    name: "vault-unsealer",
    transitMount: "transit/",
    transitKey: "vault-autounseal",
    policy: "vault-autounseal",
    /** The seal's token: read by the ha Vault's pods (VAULT_TOKEN) and by the setup Job, which gives the token this ID. */
    sealTokenSecret: { name: "vault-transit-seal", key: "token" },
    rootTokenSecret: { name: "vault-unsealer-root-token", key: "token" },
    /**
     * The seal token's period: it lives as long as something renews it within this time. The unsealer's
     * sidecar does, once half of it is gone (scripts/vault-unsealer.sh, ensure_seal_token).
     */
    sealTokenPeriodSeconds: 24 * 3600,
} as const;

/**
 * What every random.RandomPassword input would do if it changed: replace the password, so the token IDs
 * in the Secrets change. The unsealer's root token is adopted once, at its first initialisation
 * (scripts/vault-unsealer.sh, adopt_root_token): a new ID in the Secret would be a token nobody created,
 * and nothing would hold root at the unsealer any more (no setup Job, no seal token re-created). So
 * every input is ignored (Pulumi diffs the old value in their place: pulumi/pulumi
 * pkg/resource/deploy/step_generator.go, processIgnoreChanges), and a later edit of the arguments
 * never replaces either password. `protect` would refuse `pulumi destroy` of a throwaway local stack.
 * (@pulumi/random RandomPasswordArgs, 4.x.)
 */
const RANDOM_PASSWORD_INPUTS = [
    "length",
    "keepers",
    "lower",
    "minLower",
    "minNumeric",
    "minSpecial",
    "minUpper",
    "number",
    "numeric",
    "overrideSpecial",
    "special",
    "upper",
] as const;

const TLS_DIR = "/vault/tls";
const CONFIG_DIR = "/vault/config";
const CA_DIR = "/vault/ca";
/** The unsealer's claim: its file storage and, in a directory of its own, its unseal key. */
const DATA_DIR = "/vault/data";

/** The unsealer's claim (Vault's namespace): its transit key lives here, so it outlives any pod. */
const VAULT_UNSEALER_DATA_CLAIM = "vault-unsealer-data";

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
    /**
     * The ha Vault's servers, one https address per pod (their certificates come from the same CA): the
     * setup Job refuses to create a missing transit key while any of them is initialised.
     */
    readonly serverAddresses: readonly string[];
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
}

/**
 * The "unsealer" of the local stack's ha Vault: a small in-cluster Vault whose transit secrets engine
 * plays the role Key Vault's key plays in prod. Why transit and not Shamir: with a transit seal the ha
 * Vault auto-unseals like prod (recovery keys, not unseal keys; the same `vault operator init
 * -recovery-shares` path of scripts/vault-init.sh; a replaced pod unseals itself, so
 * scripts/vault-rollout.sh runs unchanged), whereas Shamir would need an unseal step after every pod
 * restart that prod never has.
 *
 * The transit key is the one thing here that must never be lost: the ha Vault's root key is wrapped by
 * it (hashicorp/vault website/content/docs/configuration/seal/transit.mdx), and no other key of the
 * same name can unwrap it. So the unsealer is not a dev server (in memory: a restart, a rescheduling or
 * an image bump of IMAGES.vault would lose the key): it keeps its data in `storage "file"` on its own
 * claim, and its pod runs a sidecar (scripts/vault-unsealer.sh, phase unseal) that initialises it once
 * (one Shamir share, kept on the claim; never while the ha Vault is already initialised: an empty
 * unsealer then means the key is lost) and unseals it after every start. A Vault image bump recreates
 * the pod (Recreate: one pod on the claim at a time) and the new one unseals itself with the same key.
 *
 * Listeners: the pod's loopback, plain HTTP (probes, the sidecar), and a TLS listener with a
 * certificate of the ha Vault's internal CA (the Service's port). The root token the setup Job uses has
 * an ID Pulumi generates (the sidecar creates it once, as `vault server -dev` does for its dev root
 * token ID) and is kept in a Secret only the setup Job and the sidecar read. The setup Job
 * (scripts/vault-unsealer.sh, phase setup) creates the transit key, a policy that may only encrypt and
 * decrypt with it, and the seal's periodic orphan token, whose ID is the generated value in the seal
 * token's Secret; it fails, and never re-creates the key, when the key is missing while the ha Vault is
 * already initialised. The sidecar keeps that token alive from then on (renews it, or creates it again
 * with the same ID), since the servers stop renewing it when their first renewal fails (a cluster
 * restart: scripts/vault-unsealer.sh, ensure_seal_token).
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
            pulumi.secret(
                new random.RandomPassword(
                    resource,
                    { length: 32, special: false },
                    { parent: this, ignoreChanges: [...RANDOM_PASSWORD_INPUTS] },
                ).result,
            );
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
                    "server.hcl": [
                        // No IPC_LOCK capability in a restricted pod (hashicorp/vault
                        // website/content/docs/configuration/index.mdx, disable_mlock).
                        "disable_mlock = true",
                        "ui            = false",
                        "",
                        'storage "file" {',
                        `  path = "${DATA_DIR}/storage"`,
                        "}",
                        "",
                        // The pod's own: readiness probe and the unseal sidecar.
                        'listener "tcp" {',
                        `  address     = "127.0.0.1:${PORTS.vaultApi}"`,
                        "  tls_disable = true",
                        "}",
                        "",
                        'listener "tcp" {',
                        `  address         = "[::]:${PORTS.vaultUnsealerTls}"`,
                        `  tls_cert_file   = "${TLS_DIR}/tls.crt"`,
                        `  tls_key_file    = "${TLS_DIR}/tls.key"`,
                        '  tls_min_version = "tls12"',
                        "}",
                        "",
                    ].join("\n"),
                    // Public: the setup Job verifies the unsealer (and the ha Vault's servers) against it.
                    "ca.crt": args.tls.caCertificate,
                },
            },
            child,
        );
        // The cluster's default class (kind: local-path, WaitForFirstConsumer) binds it when the pod
        // first runs: nothing to wait for before the Deployment (pulumi.com/skipAwait).
        const claim = new k8s.core.v1.PersistentVolumeClaim(
            `${name}-data`,
            {
                metadata: { name: VAULT_UNSEALER_DATA_CLAIM, namespace: ns, annotations: { "pulumi.com/skipAwait": "true" } },
                spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "256Mi" } } },
            },
            child,
        );

        const image = VAULT_IMAGE;
        const labels = { ...POD_LABELS.vaultUnsealer, "sidecar.istio.io/inject": "false" };
        const script = new k8s.core.v1.ConfigMap(
            `${name}-script`,
            { metadata: { namespace: ns }, data: jobScriptFiles(VAULT_UNSEALER_SCRIPT_FILE) },
            child,
        );
        const loopback = { name: "VAULT_ADDR", value: `http://127.0.0.1:${PORTS.vaultApi}` };
        const sealTokenEnv = [
            secretEnv("SEAL_TOKEN", names.sealTokenSecret.name, names.sealTokenSecret.key),
            { name: "SEAL_POLICY", value: names.policy },
            { name: "SEAL_TOKEN_PERIOD_SECONDS", value: String(names.sealTokenPeriodSeconds) },
        ];
        const readyFile = "/tmp/unsealer-ready";
        const serverAddrs = args.serverAddresses.join(" ");
        const deployment = new k8s.apps.v1.Deployment(
            name,
            {
                metadata: { name: names.name, namespace: ns },
                spec: {
                    replicas: 1,
                    // Never two servers on one file storage (and the claim is ReadWriteOnce).
                    strategy: { type: "Recreate" },
                    selector: { matchLabels: { ...POD_LABELS.vaultUnsealer } },
                    template: {
                        metadata: {
                            labels,
                            // A new certificate restarts the pod (Vault reads its listener's files at start;
                            // the new pod unseals itself from the claim), so it never serves a stale one.
                            annotations: {
                                "checksum/tls": pulumi
                                    .output(args.tls.certificate)
                                    .apply((pem) => createHash("sha256").update(pem).digest("hex")),
                            },
                        },
                        spec: {
                            securityContext: JOB_POD_SECURITY_CONTEXT,
                            automountServiceAccountToken: false,
                            containers: [
                                {
                                    name: "vault",
                                    image,
                                    // The binary itself, not the image's entrypoint (which would try setcap as root).
                                    command: ["vault", "server", `-config=${CONFIG_DIR}/server.hcl`],
                                    ...JOB_CONTAINER_DEFAULTS,
                                    // For the readiness probe's CLI: exit 0 only once unsealed (command/status.go).
                                    env: [loopback, { name: "HOME", value: "/tmp" }],
                                    ports: [{ name: "https", containerPort: PORTS.vaultUnsealerTls }],
                                    // timeoutSeconds as vault-helm 0.32.0 values.yaml server.readinessProbe (the
                                    // kubelet's default is 1 s, short for the CLI under load).
                                    readinessProbe: {
                                        exec: { command: ["vault", "status"] },
                                        periodSeconds: 5,
                                        failureThreshold: 3,
                                        timeoutSeconds: 3,
                                    },
                                    resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
                                    securityContext: JOB_CONTAINER_SECURITY_CONTEXT,
                                    volumeMounts: [
                                        { name: "tls", mountPath: TLS_DIR, readOnly: true },
                                        { name: "config", mountPath: CONFIG_DIR, readOnly: true },
                                        { name: "data", mountPath: DATA_DIR },
                                        { name: "tmp", mountPath: "/tmp" },
                                    ],
                                },
                                {
                                    name: "unseal",
                                    image,
                                    command: ["/bin/sh", `/scripts/${VAULT_UNSEALER_SCRIPT_FILE}`, "unseal"],
                                    ...JOB_CONTAINER_DEFAULTS,
                                    env: [
                                        loopback,
                                        secretEnv("ROOT_TOKEN", names.rootTokenSecret.name, names.rootTokenSecret.key),
                                        // The seal's token, kept alive (renewed, or created again with this
                                        // ID; checked once a minute and after every unseal): the servers may
                                        // have stopped renewing it.
                                        ...sealTokenEnv,
                                        { name: "KEY_DIR", value: `${DATA_DIR}/unseal` },
                                        // Asked before a first initialisation: an empty unsealer beside an
                                        // initialised ha Vault means the key is lost, and it stays down.
                                        { name: "SERVER_ADDRS", value: serverAddrs },
                                        { name: "VAULT_CACERT", value: `${CA_DIR}/ca.crt` },
                                        { name: "READY_FILE", value: readyFile },
                                        { name: "HOME", value: "/tmp" },
                                    ],
                                    // Ready once the unsealer is unsealed and the Secret's root token works.
                                    readinessProbe: { exec: { command: ["test", "-f", readyFile] }, periodSeconds: 5 },
                                    // The vault CLI has hung at 64 MB (hashicorp/vault#14039); 128Mi as vault-helm
                                    // 0.32.0 values.yaml injector.agentDefaults.memLimit (and the repo's reconciler).
                                    resources: { requests: { cpu: "5m", memory: "32Mi" }, limits: { cpu: "100m", memory: "128Mi" } },
                                    securityContext: JOB_CONTAINER_SECURITY_CONTEXT,
                                    volumeMounts: [
                                        { name: "script", mountPath: "/scripts", readOnly: true },
                                        { name: "ca", mountPath: CA_DIR, readOnly: true },
                                        { name: "data", mountPath: DATA_DIR },
                                        { name: "tmp", mountPath: "/tmp" },
                                    ],
                                },
                            ],
                            volumes: [
                                { name: "tls", secret: { secretName: tlsSecret.metadata.name } },
                                {
                                    name: "config",
                                    configMap: { name: config.metadata.name, items: [{ key: "server.hcl", path: "server.hcl" }] },
                                },
                                { name: "script", configMap: { name: script.metadata.name, defaultMode: 0o555 } },
                                { name: "ca", configMap: { name: config.metadata.name, items: [{ key: "ca.crt", path: "ca.crt" }] } },
                                { name: "data", persistentVolumeClaim: { claimName: claim.metadata.name } },
                                { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
                            ],
                        },
                    },
                },
            },
            { ...child, dependsOn: [rootSecret, sealSecret] },
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

        const setupContainer = scriptPhase(
            VAULT_UNSEALER_SCRIPT_FILE,
            "setup",
            image,
            [
                { name: "VAULT_ADDR", value: this.address },
                { name: "VAULT_CACERT", value: `${CA_DIR}/ca.crt` },
                secretEnv("VAULT_TOKEN", names.rootTokenSecret.name, names.rootTokenSecret.key),
                ...sealTokenEnv,
                { name: "TRANSIT_MOUNT", value: names.transitMount },
                { name: "TRANSIT_KEY", value: names.transitKey },
                { name: "SERVER_ADDRS", value: serverAddrs },
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
                            containers: [setupContainer],
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
