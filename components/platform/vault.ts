import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceAccountRef } from "../config";
import { CHARTS, IMAGES, pinnedRelease, WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION, WORKLOAD_IDENTITY_USE_LABEL } from "./charts";

/** Where the azurekeyvault seal finds its key. */
export interface SealSettings {
    readonly tenantId: string;
    readonly vaultName: string;
    readonly keyName: string;
}

/** The release name: the chart's fullname, so its Services, pods and service account default follow it. */
export const VAULT_RELEASE = "vault";
const API_PORT = 8200;

/**
 * Vault's server configuration for HA mode: integrated raft storage on the pod's volume, every pod
 * retrying to join the others through the chart's headless Service, Kubernetes service registration
 * (it labels the active pod for the vault-active Service), and auto-unseal with the Key Vault key.
 * The seal's credentials come from Azure Workload Identity: the webhook injects AZURE_CLIENT_ID (from
 * the service account's client-id annotation), AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE.
 * The chart runs it through `tpl` and appends `disable_mlock = true` (0.32.0 checks for it first).
 */
export function raftConfig(replicas: number, seal: SealSettings): string {
    const joins = Array.from(
        { length: replicas },
        (_, i) => `  retry_join {\n    leader_api_addr = "http://${VAULT_RELEASE}-${i}.${VAULT_RELEASE}-internal:${API_PORT}"\n  }`,
    );
    return [
        "ui = true",
        "",
        'listener "tcp" {',
        "  tls_disable     = 1",
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
        'seal "azurekeyvault" {',
        `  tenant_id  = "${seal.tenantId}"`,
        `  vault_name = "${seal.vaultName}"`,
        `  key_name   = "${seal.keyName}"`,
        "}",
        "",
    ].join("\n");
}

/** The keys of the vault chart's values.yaml (0.32.0) this component sets. */
export interface VaultValues {
    readonly global: { readonly enabled: boolean; readonly tlsDisable: boolean };
    readonly injector: {
        readonly enabled: boolean;
        readonly replicas: number;
        readonly image: { readonly repository: string; readonly tag: string };
        readonly agentImage: { readonly repository: string; readonly tag: string };
    };
    readonly server: {
        readonly image: { readonly repository: string; readonly tag: string };
        readonly extraLabels: Readonly<Record<string, string>>;
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
        readonly dev: { readonly enabled: boolean };
        readonly ha: {
            readonly enabled: boolean;
            readonly replicas: number;
            readonly raft: { readonly enabled: boolean; readonly setNodeId: boolean; readonly config?: string };
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

export interface HashiCorpVaultArgs {
    /** Namespace of the release. */
    readonly namespace: pulumi.Input<string>;
    /** dev: one in-memory dev-mode server (root token "root"); ha: raft cluster auto-unsealed by Key Vault. */
    readonly mode: "dev" | "ha";
    /** Server replicas in ha mode. */
    readonly replicas: number;
    /** Storage class of the raft volumes (ha). */
    readonly storageClass: string;
    /** The server's service account: the unseal identity's federated subject. */
    readonly serviceAccount: ServiceAccountRef;
    /** The seal: required in ha mode, unused in dev mode (nothing to unseal). Default none. */
    readonly seal?: VaultSealArgs;
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

    constructor(name: string, args: HashiCorpVaultArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:HashiCorpVault", name, {}, opts);
        const ha = args.mode === "ha";
        // Only the ha server talks to Azure; a dev-mode server has no seal to unwrap.
        const seal = ha ? args.seal : undefined;
        if (ha && !seal) throw new Error(`${name}: Vault in ha mode needs its seal (a Key Vault key and the unseal identity)`);

        const sealValues = pulumi.output(seal ? { clientId: seal.clientId, settings: seal.settings } : undefined);
        const values = sealValues.apply((sealed): VaultValues => ({
            global: { enabled: true, tlsDisable: true },
            injector: {
                enabled: true,
                replicas: ha ? 2 : 1,
                image: IMAGES.vaultK8s,
                agentImage: IMAGES.vault,
            },
            server: {
                image: IMAGES.vault,
                extraLabels: sealed ? { [WORKLOAD_IDENTITY_USE_LABEL]: "true" } : {},
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
                    annotations: sealed ? { [WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION]: sealed.clientId } : {},
                },
                dataStorage: ha ? { enabled: true, storageClass: args.storageClass, size: "10Gi" } : { enabled: false, size: "10Gi" },
                resources: ha ? { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "1Gi" } } : {},
                dev: { enabled: !ha },
                ha: {
                    enabled: ha,
                    replicas: args.replicas,
                    raft: sealed
                        ? { enabled: true, setNodeId: true, config: raftConfig(args.replicas, sealed.settings) }
                        : { enabled: false, setNodeId: false },
                },
            },
            ui: { enabled: false },
        }));

        // The seal unwraps Vault's root key at every start: the pods need their federated credential
        // and the key's role assignment before they run.
        const sealReady = seal?.identityReady ?? [];
        this.release = pinnedRelease(
            name,
            CHARTS.vault,
            { releaseName: VAULT_RELEASE, namespace: args.namespace, values, timeoutSeconds: 900 },
            { parent: this, provider: args.provider, dependsOn: [...sealReady], protect: args.protect },
        );

        const ns = pulumi.output(args.namespace);
        this.address = pulumi.interpolate`http://${VAULT_RELEASE}.${ns}.svc.cluster.local:${API_PORT}`;
        const podAddress = (i: number) =>
            pulumi.interpolate`http://${VAULT_RELEASE}-${i}.${VAULT_RELEASE}-internal.${ns}.svc.cluster.local:${API_PORT}`;
        this.peerAddresses = pulumi.all(Array.from({ length: ha ? args.replicas : 1 }, (_, i) => podAddress(i)));
        this.adminAddress = ha ? pulumi.interpolate`http://${VAULT_RELEASE}-active.${ns}.svc.cluster.local:${API_PORT}` : this.address;
        // OnDelete (chart values.yaml server.updateStrategyType): an upgraded release changes the
        // StatefulSet, not the running pods.
        this.rolloutNotice = pulumi.interpolate`Vault release revision ${this.release.status.revision}: if this changed in this update, the server pods still run the previous spec; run scripts/vault-rollout.sh (docs/operations.md, "Roll out a Vault change")`;
        this.registerOutputs({
            address: this.address,
            rolloutNotice: this.rolloutNotice,
            peerAddresses: this.peerAddresses,
            adminAddress: this.adminAddress,
            release: this.release,
        });
    }
}
