import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { VAULT_RELEASE, type ServiceAccountRef } from "../config";
import { zoneSpread } from "./availability";
import { tlsReloadSidecar } from "./vaultTlsRenew";
import { PORTS } from "../topology";
import {
    CHARTS,
    IMAGES,
    pinnedRelease,
    SECRETS_STORE_CSI_DRIVER,
    WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION,
    WORKLOAD_IDENTITY_USE_LABEL,
} from "./charts";

/** Where the azurekeyvault seal finds its key. */
export interface SealSettings {
    readonly tenantId: string;
    readonly vaultName: string;
    readonly keyName: string;
}

/**
 * Where a transit seal finds its key: another Vault's transit secrets engine (the local stack's ha mode,
 * components/platform/vaultUnsealer.ts). Fields as hashicorp/vault
 * website/content/docs/configuration/seal/transit.mdx names them; the token is NOT here: it reaches the
 * server as VAULT_TOKEN from a Secret ("token ... may also be specified by the VAULT_TOKEN environment
 * variable"), so it is in no Helm value and no config file. The seal's client starts from the API
 * client's environment defaults (the chart's VAULT_ADDR and our VAULT_CACERT point at this server) and
 * then the stanza's address and tls_ca_cert override them (hashicorp/go-kms-wrapping
 * wrappers/transit/transit_client.go, newTransitClient), so both are set here explicitly.
 */
export interface TransitSealSettings {
    /** The unsealer's https address. */
    readonly address: string;
    readonly keyName: string;
    /** The transit engine's mount path, with its trailing slash. */
    readonly mountPath: string;
    /** CA file (in the server pod) the unsealer's certificate is verified against. */
    readonly caFile: string;
}

/** The seal stanza of the server config: Key Vault (dev, prod) or transit (local ha). */
export type VaultSealStanza = ({ readonly kind: "azurekeyvault" } & SealSettings) | ({ readonly kind: "transit" } & TransitSealSettings);

/** The server's seal stanza (HCL lines). */
function sealStanza(seal: VaultSealStanza): string[] {
    if (seal.kind === "transit")
        return [
            'seal "transit" {',
            `  address         = "${seal.address}"`,
            `  key_name        = "${seal.keyName}"`,
            `  mount_path      = "${seal.mountPath}"`,
            `  tls_ca_cert     = "${seal.caFile}"`,
            // The unsealer's token is periodic: the seal renews it (the default, spelled out).
            '  disable_renewal = "false"',
            "}",
        ];
    return [
        'seal "azurekeyvault" {',
        `  tenant_id  = "${seal.tenantId}"`,
        `  vault_name = "${seal.vaultName}"`,
        `  key_name   = "${seal.keyName}"`,
        "}",
    ];
}

export { VAULT_RELEASE };
const API_PORT = PORTS.vaultApi;

/** Where the server pods mount the listener's certificate, key and CA (the CSI volume). */
export const VAULT_TLS_DIR = "/vault/userconfig/tls";

/**
 * Server pod `i`'s name under the chart's headless Service `<release>-internal` (vault-helm 0.32.0
 * templates/server-headless-service.yaml), fully qualified in the cluster's default domain: a DNS name
 * of the server certificate (components/azure/vaultTls.ts vaultServerNames).
 */
export function vaultPodHost(namespace: string, i: number): string {
    return `${VAULT_RELEASE}-${i}.${VAULT_RELEASE}-internal.${namespace}.svc.cluster.local`;
}

/** The three files of Vault's TLS volume, each named like the Key Vault secret behind it. */
export interface VaultTlsFiles {
    readonly caCertificate: string;
    readonly certificate: string;
    readonly privateKey: string;
}

/**
 * The label that opts a namespace and a pod into the agent injector: the webhook's namespaceSelector
 * and objectSelector both match it (a label, not the vault.hashicorp.com/agent-inject annotation: an
 * admission webhook's selectors see labels only).
 */
export const VAULT_AGENT_INJECT_LABEL = { key: "vault.hashicorp.com/agent-inject", value: "true" } as const;
/** Seconds the API server waits for the injector on each pod it is asked about. */
const VAULT_INJECTOR_TIMEOUT_SECONDS = 10;

/** `http` or `https`: the scheme every Vault address uses. */
function vaultScheme(tls: boolean): "http" | "https" {
    return tls ? "https" : "http";
}

/**
 * Vault's server configuration for HA mode: integrated raft storage on the pod's volume, every pod
 * retrying to join the others through the chart's headless Service, Kubernetes service registration
 * (it labels the active pod for the vault-active Service), and auto-unseal with the Key Vault key.
 * With TLS the listener serves the CSI-mounted certificate (TLS 1.2 at least) and every retry_join
 * verifies the leader against the internal CA (leader_ca_cert_file; each pod's name is a SAN).
 * The seal's credentials come from Azure Workload Identity: the webhook injects AZURE_CLIENT_ID (from
 * the service account's client-id annotation), AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE.
 * The chart runs it through `tpl` and appends `disable_mlock = true` (0.32.0 checks for it first).
 */
function raftConfig(replicas: number, seal: VaultSealStanza, tls?: VaultTlsFiles): string {
    const scheme = vaultScheme(tls !== undefined);
    const joins = Array.from({ length: replicas }, (_, i) =>
        [
            "  retry_join {",
            `    leader_api_addr = "${scheme}://${VAULT_RELEASE}-${i}.${VAULT_RELEASE}-internal:${API_PORT}"`,
            ...(tls ? [`    leader_ca_cert_file = "${VAULT_TLS_DIR}/${tls.caCertificate}"`] : []),
            "  }",
        ].join("\n"),
    );
    const listenerTls = tls
        ? [
              `  tls_cert_file   = "${VAULT_TLS_DIR}/${tls.certificate}"`,
              `  tls_key_file    = "${VAULT_TLS_DIR}/${tls.privateKey}"`,
              '  tls_min_version = "tls12"',
          ]
        : ["  tls_disable     = 1"];
    return [
        "ui = true",
        "",
        'listener "tcp" {',
        ...listenerTls,
        `  address         = "[::]:${API_PORT}"`,
        '  cluster_address = "[::]:8201"',
        "}",
        "",
        'storage "raft" {',
        '  path = "/vault/data"',
        ...joins,
        "}",
        "",
        'service_registration "kubernetes" {}',
        "",
        ...sealStanza(seal),
        "",
    ].join("\n");
}

/**
 * The env var (from the dev root token's Secret) the dev server's -dev-root-token-id flag reads. Not
 * VAULT_DEV_ROOT_TOKEN_ID: the chart renders that one itself in dev mode.
 */
/**
 * The `vaultRollout` output: the Vault release's revision and what to do when it changed. Without a
 * revision (nothing installed yet, as in the offline plan) it says so rather than print "undefined".
 */
export function rolloutNotice(revision: number | undefined): string {
    const then = `the server pods still run the previous spec; run scripts/vault-rollout.sh (docs/operations.md, "Roll out a Vault change")`;
    if (revision === undefined)
        return `Vault release revision not known until the release is installed; when it changes in an update, ${then}`;
    return `Vault release revision ${revision}: if this changed in this update, ${then}`;
}

const VAULT_DEV_ROOT_TOKEN_ENV = "VAULT_DEV_ROOT_TOKEN_FROM_SECRET";

/** The env var the transit seal reads its token from (seal/transit.mdx: `token` ... VAULT_TOKEN). */
const VAULT_TRANSIT_TOKEN_ENV = "VAULT_TOKEN";

/** The keys of the vault chart's values.yaml (0.32.0) this component sets. */
export interface VaultValues {
    readonly global: { readonly enabled: boolean; readonly tlsDisable: boolean };
    readonly injector: {
        readonly enabled: boolean;
        readonly replicas: number;
        /** The injector's own PDB (ha): one of its two replicas may go at a time. */
        readonly podDisruptionBudget: { readonly maxUnavailable?: number };
        readonly topologySpreadConstraints: readonly object[];
        readonly image: { readonly repository: string; readonly tag: string };
        readonly agentImage: { readonly repository: string; readonly tag: string };
        /** The MutatingWebhookConfiguration (templates/injector-mutating-webhook.yaml). */
        readonly webhook: {
            readonly failurePolicy: "Fail" | "Ignore";
            readonly timeoutSeconds: number;
            readonly namespaceSelector: object;
            readonly objectSelector: object;
        };
    };
    readonly server: {
        readonly image: { readonly repository: string; readonly tag: string };
        readonly extraLabels: Readonly<Record<string, string>>;
        /** VAULT_CACERT for the CLI inside the server pods (TLS). */
        readonly extraEnvironmentVars: Readonly<Record<string, string>>;
        /** Env from Secrets, rendered after the chart's own env (templates/server-statefulset.yaml). */
        readonly extraSecretEnvironmentVars: readonly {
            readonly envName: string;
            readonly secretName: string;
            readonly secretKey: string;
        }[];
        /** TLS: the tls-reload sidecar (SIGHUP on a renewed certificate); null otherwise, as the chart's default. */
        readonly extraContainers: readonly object[] | null;
        /** TLS: the sidecar must see and signal the vault process. */
        readonly shareProcessNamespace: boolean;
        /** The TLS CSI volume and its mount (TLS); null otherwise, as the chart's default. */
        readonly volumes: readonly object[] | null;
        readonly volumeMounts: readonly object[] | null;
        /** Raft voters across zones (ha). */
        readonly topologySpreadConstraints: readonly object[];
        /** Never two voters on one node (required), as the chart's default, pinned here. */
        readonly affinity: object;
        /** Pod annotation with a checksum of the server config: a config or seal change is a new pod spec. */
        readonly includeConfigAnnotation: boolean;
        /** The vault and vault-active Services (not the headless one raft joins through). */
        readonly service: { readonly publishNotReadyAddresses: boolean };
        readonly serviceAccount: {
            readonly create: boolean;
            readonly name: string;
            readonly annotations: Readonly<Record<string, string>>;
        };
        readonly dataStorage: { readonly enabled: boolean; readonly storageClass?: string; readonly size: string };
        readonly resources: object;
        /** Arguments appended to `vault server` (dev: the root token flag, from the Secret's env var). */
        readonly extraArgs: string;
        /** devRootToken "": the chart's VAULT_DEV_ROOT_TOKEN_ID entry carries no token (the flag does). */
        readonly dev: { readonly enabled: boolean; readonly devRootToken?: string };
        readonly ha: {
            readonly enabled: boolean;
            readonly replicas: number;
            readonly raft: { readonly enabled: boolean; readonly setNodeId: boolean; readonly config?: string };
            /** At most one voter down for a voluntary disruption: a 3- or 5-voter quorum holds. */
            readonly disruptionBudget: { readonly enabled: boolean; readonly maxUnavailable?: number };
        };
    };
    /** No UI Service: the UI is reached through the ClusterIP Service (port-forward) only. */
    readonly ui: { readonly enabled: boolean };
}

/** Vault's azurekeyvault seal and the workload identity it authenticates as. */
export interface VaultSealArgs {
    /** Client ID of the unseal identity. */
    readonly clientId: pulumi.Input<string>;
    /** Tenant, Key Vault and key of the seal. */
    readonly settings: { readonly [K in keyof SealSettings]: pulumi.Input<SealSettings[K]> };
    /** The unseal identity's federated credentials and role assignment: the seal needs them at start. */
    readonly identityReady: readonly pulumi.Resource[];
}

/**
 * A transit seal (local ha): the unsealer Vault's address, key and mount, the CA file its certificate
 * is verified against, and the Secret holding the token the seal uses (VAULT_TOKEN in the server pods).
 */
export interface TransitSealArgs {
    readonly kind: "transit";
    readonly settings: { readonly [K in keyof TransitSealSettings]: pulumi.Input<TransitSealSettings[K]> };
    /** Secret (Vault's namespace) and key of the seal's token: the unsealer's periodic, encrypt/decrypt-only token. */
    readonly token: { readonly secretName: string; readonly key: string };
    /** The unsealer, its transit key and the token's Secret: the seal needs them at every start. */
    readonly ready: readonly pulumi.Resource[];
}

/** The TLS volume's source: Key Vault through the Secrets Store CSI driver (dev, prod), or a Kubernetes Secret (local ha). */
export type VaultTlsSource = { readonly secretProviderClass: string } | { readonly secretName: string };

export interface HashiCorpVaultArgs {
    /** Namespace of the release. */
    readonly namespace: pulumi.Input<string>;
    /** dev: one in-memory dev-mode server (root token from devRootToken); ha: raft cluster auto-unsealed by Key Vault. */
    readonly mode: "dev" | "ha";
    /**
     * dev: the Secret (in Vault's namespace) and key holding the generated root token, and what creates
     * it. Required in dev mode: without it the chart's fixed token "root" would be the root token.
     */
    readonly devRootToken?: { readonly secretName: string; readonly key: string; readonly ready: readonly pulumi.Resource[] };
    /** Server replicas in ha mode. */
    readonly replicas: number;
    /** Storage class of the raft volumes (ha). Default: the cluster's default class (local). */
    readonly storageClass?: string;
    /** The server's service account: the unseal identity's federated subject. */
    readonly serviceAccount: ServiceAccountRef;
    /** The seal: required in ha mode, unused in dev mode (nothing to unseal). Default none. */
    readonly seal?: VaultSealArgs | TransitSealArgs;
    /**
     * TLS (ha): where the certificate, key and CA come from (the SecretProviderClass that mounts them as
     * Vault's identity, or a Kubernetes Secret), the three file names, and what the mount needs first.
     * Default none: plain HTTP.
     */
    readonly tls?: VaultTlsSource & { readonly files: VaultTlsFiles; readonly ready: readonly pulumi.Resource[] };
    /** What else must exist first, e.g. the raft volumes' StorageClass. Default none. */
    readonly after?: readonly pulumi.Resource[];
    /** Keep the release from being deleted (prod). Default false. */
    readonly protect?: boolean;
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
}

/**
 * HashiCorp Vault from the official chart as a Helm release (the injector's certificate set-up runs at
 * install), with the agent injector on and no UI or Service exposed outside the cluster.
 */
export class HashiCorpVault extends pulumi.ComponentResource {
    /** In-cluster API address. */
    readonly address: pulumi.Output<string>;
    /** Every server pod's address through the headless Service (ha: replicas; dev: the one pod). */
    readonly peerAddresses: pulumi.Output<string[]>;
    /**
     * Where configuration writes go: the vault-active Service (ha: only the unsealed leader, which
     * service registration labels vault-active=true), or the vault Service (dev: one pod).
     */
    readonly adminAddress: pulumi.Output<string>;
    /**
     * What to run after an update that changed the release: its text names the release revision, so it
     * changes exactly when the release was upgraded (and `pulumi up` then shows it among the outputs).
     */
    readonly rolloutNotice: pulumi.Output<string>;
    readonly release: k8s.helm.v3.Release;
    /** Whether the addresses above are https (verify against the internal CA). */
    readonly tls: boolean;

    constructor(name: string, args: HashiCorpVaultArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:HashiCorpVault", name, {}, opts);
        const ha = args.mode === "ha";
        // Only the ha server talks to Azure; a dev-mode server has no seal to unwrap.
        const seal = ha ? args.seal : undefined;
        if (ha && !seal)
            throw new pulumi.ResourceError(
                `${name}: Vault in ha mode needs its seal (a Key Vault key and the unseal identity, or the local transit unsealer)`,
                this,
            );

        // TLS needs the ha server's listener config; the dev server's listener is built by `vault server -dev`.
        const tls = ha ? args.tls : undefined;
        const devToken = ha ? undefined : args.devRootToken;
        if (!ha && !devToken)
            throw new pulumi.ResourceError(`${name}: dev mode needs devRootToken (the chart's default root token is "root")`, this);
        if (args.tls && !ha)
            throw new pulumi.ResourceError(`${name}: TLS is configured for the ha server only (dev mode has no listener config)`, this);
        const scheme = vaultScheme(tls !== undefined);
        const selector = (component: string) => ({
            "app.kubernetes.io/name": component === "server" ? VAULT_RELEASE : `${VAULT_RELEASE}-agent-injector`,
            "app.kubernetes.io/instance": VAULT_RELEASE,
            component: component === "server" ? "server" : "webhook",
        });
        // The chart renders these with toYaml into the pod specs (templates/server-statefulset.yaml,
        // injector-deployment.yaml, values.yaml server/injector.topologySpreadConstraints).
        // ScheduleAnyway (availability.ts): while a lost zone's nodes still count as a domain, a
        // DoNotSchedule spread would keep the replacement voter Pending and the cluster on two voters
        // until the zone returns. Hostname anti-affinity stays required: two voters never share a node.
        const spread = (component: string) => (ha ? zoneSpread(selector(component)) : []);
        const hostAntiAffinity = (component: string) => ({
            podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                    { labelSelector: { matchLabels: selector(component) }, topologyKey: "kubernetes.io/hostname" },
                ],
            },
        });
        const tlsVolume = "tls";

        const transit = seal && "kind" in seal ? seal : undefined;
        const keyVaultSeal = seal && !("kind" in seal) ? seal : undefined;
        const sealValues = pulumi.output(
            keyVaultSeal
                ? {
                      clientId: keyVaultSeal.clientId as pulumi.Input<string> | undefined,
                      stanza: { kind: "azurekeyvault" as const, ...keyVaultSeal.settings },
                  }
                : transit
                  ? { clientId: undefined, stanza: { kind: "transit" as const, ...transit.settings } }
                  : undefined,
        );
        const values = sealValues.apply((sealed): VaultValues => ({
            global: { enabled: true, tlsDisable: tls === undefined },
            injector: {
                enabled: true,
                replicas: ha ? 2 : 1,
                podDisruptionBudget: ha ? { maxUnavailable: 1 } : {},
                topologySpreadConstraints: spread("injector"),
                image: IMAGES.vaultK8s,
                agentImage: IMAGES.vault,
                // vault-helm 0.32.0 defaults (values.yaml injector.webhook): failurePolicy Ignore,
                // namespaceSelector {}, timeoutSeconds 30, so a pod created while the injector is down
                // starts without its agent, and every pod creation in every namespace may wait 30 s.
                // Scoped to labelled namespaces and pods, it fails closed there (the pod is refused and its
                // controller retries) and nowhere else; the injector's own pods stay excluded (the
                // chart's default objectSelector expression, kept).
                webhook: {
                    failurePolicy: "Fail",
                    timeoutSeconds: VAULT_INJECTOR_TIMEOUT_SECONDS,
                    namespaceSelector: { matchLabels: { [VAULT_AGENT_INJECT_LABEL.key]: VAULT_AGENT_INJECT_LABEL.value } },
                    objectSelector: {
                        matchLabels: { [VAULT_AGENT_INJECT_LABEL.key]: VAULT_AGENT_INJECT_LABEL.value },
                        matchExpressions: [
                            { key: "app.kubernetes.io/name", operator: "NotIn", values: [`${VAULT_RELEASE}-agent-injector`] },
                        ],
                    },
                },
            },
            server: {
                image: IMAGES.vault,
                extraLabels: sealed?.clientId ? { [WORKLOAD_IDENTITY_USE_LABEL]: "true" } : {},
                extraEnvironmentVars: tls ? { VAULT_CACERT: `${VAULT_TLS_DIR}/${tls.files.caCertificate}` } : {},
                // dev: the chart always renders VAULT_DEV_ROOT_TOKEN_ID from server.dev.devRootToken
                // (default "root") as a plain value in dev mode (vault-helm v0.32.0 templates/_helpers.tpl
                // "vault.envs"). A second entry of that name from the Secret would give the container a
                // duplicate env name, which breaks the strategic merge of every later upgrade
                // (kubernetes/kubernetes#86163). So the Secret's value comes in under its own name and
                // reaches Vault as the -dev-root-token-id flag: the chart runs `vault server -dev
                // {{ server.extraArgs }}` in /bin/sh -ec (_helpers.tpl "vault.args"), the shell expands
                // the variable, and an explicit flag overrides the env default (hashicorp/vault
                // command/base_flags.go StringVar: the env var only sets the flag's initial value;
                // command/server.go "dev-root-token-id" EnvVar VAULT_DEV_ROOT_TOKEN_ID). The chart's own
                // entry is emptied, so a lost flag makes Vault generate a random token, never "root".
                // No token goes into the Helm values.
                // transit: the seal's token as VAULT_TOKEN (seal/transit.mdx), from its Secret, never a Helm value.
                extraSecretEnvironmentVars: devToken
                    ? [{ envName: VAULT_DEV_ROOT_TOKEN_ENV, secretName: devToken.secretName, secretKey: devToken.key }]
                    : transit
                      ? [{ envName: VAULT_TRANSIT_TOKEN_ENV, secretName: transit.token.secretName, secretKey: transit.token.key }]
                      : [],
                extraArgs: devToken ? `-dev-root-token-id="\${${VAULT_DEV_ROOT_TOKEN_ENV}}"` : "",
                volumes: tls
                    ? [
                          "secretProviderClass" in tls
                              ? {
                                    name: tlsVolume,
                                    csi: {
                                        driver: SECRETS_STORE_CSI_DRIVER,
                                        readOnly: true,
                                        volumeAttributes: { secretProviderClass: tls.secretProviderClass },
                                    },
                                }
                              : // The kubelet updates a Secret volume in place like the CSI rotation: the sidecar reloads it.
                                { name: tlsVolume, secret: { secretName: tls.secretName } },
                      ]
                    : null,
                volumeMounts: tls ? [{ name: tlsVolume, mountPath: VAULT_TLS_DIR, readOnly: true }] : null,
                // A renewed certificate reaches the pods through the CSI driver's rotation; the sidecar
                // makes Vault reload it with SIGHUP, without a restart (issue 20 item 3).
                extraContainers: tls
                    ? [
                          tlsReloadSidecar({
                              volume: tlsVolume,
                              dir: VAULT_TLS_DIR,
                              certFile: tls.files.certificate,
                              keyFile: tls.files.privateKey,
                          }),
                      ]
                    : null,
                shareProcessNamespace: tls !== undefined,
                topologySpreadConstraints: spread("server"),
                affinity: hostAntiAffinity("server"),
                // The StatefulSet's update strategy is OnDelete (chart values.yaml updateStrategyType): a
                // changed config only reaches pods that scripts/vault-rollout.sh replaces. The checksum
                // annotation makes a config change a new revision that the script can see.
                includeConfigAnnotation: true,
                // The chart defaults to true for vault and vault-active (templates/server-service.yaml,
                // server-ha-active-service.yaml): clients would reach sealed or starting pods.
                service: { publishNotReadyAddresses: false },
                serviceAccount: {
                    create: true,
                    name: args.serviceAccount.name,
                    annotations: sealed?.clientId ? { [WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION]: sealed.clientId } : {},
                },
                dataStorage: ha
                    ? { enabled: true, ...(args.storageClass ? { storageClass: args.storageClass } : {}), size: "10Gi" }
                    : { enabled: false, size: "10Gi" },
                resources: ha ? { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "1Gi" } } : {},
                dev: ha ? { enabled: false } : { enabled: true, devRootToken: "" },
                ha: {
                    enabled: ha,
                    replicas: args.replicas,
                    raft: sealed
                        ? { enabled: true, setNodeId: true, config: raftConfig(args.replicas, sealed.stanza, tls?.files) }
                        : { enabled: false, setNodeId: false },
                    disruptionBudget: ha ? { enabled: true, maxUnavailable: 1 } : { enabled: false },
                },
            },
            ui: { enabled: false },
        }));

        // The seal unwraps Vault's root key at every start: the pods need their federated credential
        // and the key's role assignment before they run.
        const sealReady = [
            ...(keyVaultSeal?.identityReady ?? []),
            ...(transit?.ready ?? []),
            ...(tls?.ready ?? []),
            ...(args.after ?? []),
            ...(devToken?.ready ?? []),
        ];
        this.release = pinnedRelease(
            name,
            CHARTS.vault,
            { releaseName: VAULT_RELEASE, namespace: args.namespace, values, timeoutSeconds: 900 },
            { parent: this, provider: args.provider, dependsOn: [...sealReady], protect: args.protect },
        );

        const ns = pulumi.output(args.namespace);
        // Each name below is a SAN of the server certificate (components/azure/vaultTls.ts).
        this.address = pulumi.interpolate`${scheme}://${VAULT_RELEASE}.${ns}.svc.cluster.local:${API_PORT}`;
        const podAddress = (i: number) => pulumi.interpolate`${scheme}://${ns.apply((n) => vaultPodHost(n, i))}:${API_PORT}`;
        this.peerAddresses = pulumi.all(Array.from({ length: ha ? args.replicas : 1 }, (_, i) => podAddress(i)));
        this.adminAddress = ha ? pulumi.interpolate`${scheme}://${VAULT_RELEASE}-active.${ns}.svc.cluster.local:${API_PORT}` : this.address;
        this.tls = tls !== undefined;
        // OnDelete (chart values.yaml server.updateStrategyType): an upgraded release changes the
        // StatefulSet, not the running pods.
        // The provider fills the release's status (revision included) only once Helm has installed it
        // (pulumi/pulumi-kubernetes provider/pkg/provider/helm_release.go, ReleaseStatus.Revision); before
        // that, as in the offline plan under mocks, there is no revision to name.
        this.rolloutNotice = this.release.status.apply((status) => rolloutNotice(status?.revision));
        this.registerOutputs({
            address: this.address,
            rolloutNotice: this.rolloutNotice,
            peerAddresses: this.peerAddresses,
            adminAddress: this.adminAddress,
            release: this.release,
        });
    }
}
