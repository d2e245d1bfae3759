// The in-cluster platform layer: namespaces, Istio, the ingress gateway, HashiCorp Vault and (prod) its
// initialisation, and the way application secrets reach pods, composed from the components beside this
// file. Every Kubernetes resource goes through the foundation's provider, passed explicitly.
// Where secrets come from is the one thing that differs between a stack with Azure (Key Vault through
// the Secrets Store CSI driver, as workload identities) and one without (plain Kubernetes Secrets): it
// is decided once, in keyVaultPlumbing / kubernetesPlumbing, and everything after reads the result.
// Ordering follows real need only: the CSI driver, Vault and Istio install side by side once the
// cluster (and, for Vault, its identity) exists; only the gateway waits for istiod and its certificate.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { appNamespace, singleServiceAccount as single, VAULT_NAMESPACE, type PlatformConfig, type ServiceAccountRef } from "../config";
import {
    APP_SECRET_KEYS,
    type AppSecretName,
    type BoundWorkloadIdentity,
    type ClusterFoundation,
    type KeyVaultSecrets,
    type KubernetesSecrets,
} from "../foundation";
import { SUBNET_NAMES } from "../azure/network";
import { layerChildOptions, type LayerChildOptions } from "../layer";
import { NAMESPACES } from "../topology";
import { IngressGateway, type KeyVaultIngressTls, type PemIngressTls } from "./ingressGateway";
import { IstioControlPlane } from "./istio";
import { Namespaces } from "./namespaces";
import { ISTIO_CNI_REASON } from "./podSecurity";
import { METRICS_KEEP_LIST_ADDITIONS, MetricsSettings } from "./metricsSettings";
import { Reloader } from "./reloader";
import { KeyVaultSecretProviderClass } from "./secretProviderClass";
import { SecretsStoreCsi } from "./secretsStoreCsi";
import { WorkloadServiceAccounts } from "./serviceAccounts";
import { ZoneRedundantStorageClass } from "./storageClass";
import {
    HashiCorpVault,
    VAULT_AGENT_INJECT_LABEL,
    VAULT_RELEASE,
    type HashiCorpVaultArgs,
    type TransitSealArgs,
    type VaultSealArgs,
} from "./vault";
import { VaultCaBundle } from "./vaultCa";
import { VaultInitJob } from "./vaultInit";
import { LocalVaultHa } from "./vaultLocalHa";
import { VaultOperatorAccess } from "./vaultOperator";
import { VaultSnapshotCronJob } from "./vaultSnapshot";
import { VaultTlsRenewCronJob } from "./vaultTlsRenew";
import { VaultSyncJob } from "./vaultSync";
import {
    autopilotSettings,
    vaultBootstrapPolicies,
    VAULT_BOOTSTRAP_ROLES,
    VAULT_ROLE_TOKEN_TTL,
    VAULT_TOKEN_AUDIENCE,
} from "./vaultPolicies";

/** Istio's control plane namespace; no workload identity is bound there. */
export const ISTIO_NAMESPACE = NAMESPACES.istio;
/**
 * The Istio CNI node agent's own namespace: the one privileged namespace the program creates, so that
 * istio-system keeps baseline and the application namespace can enforce restricted.
 */
export const ISTIO_CNI_NAMESPACE = "istio-cni";
/** Stakater Reloader's namespace (stacks with Key Vault, where the CSI driver rotates the synced Secret). */
export const RELOADER_NAMESPACE = NAMESPACES.reloader;
/** The SecretProviderClass the applications mount, and the Secret it syncs (the guide's names). */
export const APP_SECRET_PROVIDER_CLASS = "azure-keyvault-secrets";
export const APP_SECRETS_SECRET = "keyvault-secrets";
/** The SecretProviderClass (Vault's namespace) that mounts Vault's listener certificate, key and CA. */
const VAULT_TLS_PROVIDER_CLASS = "vault-tls";

/** How the application secrets reach the services' pods. */
export interface AppSecretsDelivery {
    /** The Kubernetes Secret, in the app namespace, whose keys (APP_SECRET_KEYS values) the services read into env. */
    readonly secretName: string;
    /** The SecretProviderClass a pod must mount for that Secret to exist (Key Vault); absent for a plain Secret. */
    readonly secretProviderClass?: string;
    /** The Key Vault behind the Secret, and the identity reading it; absent without Key Vault. */
    readonly keyVault?: {
        readonly vaultName: pulumi.Output<string>;
        readonly tenantId: pulumi.Output<string>;
        readonly clientId: pulumi.Output<string>;
    };
    /** What pods reading the Secret wait for. */
    readonly ready: pulumi.Resource[];
}

/**
 * How the workloads' Vault configuration authenticates: the dev server's fixed root token from a Secret
 * (dev: an in-memory server that forgets every auth method on restart), or Kubernetes auth as the
 * bootstrapped vault-configure role (ha: no root token exists after the initialisation).
 */
export type VaultAdminAuth =
    | {
          readonly kind: "token";
          /** Secret in Vault's namespace, and its key, holding the token. */
          readonly secret: { readonly name: pulumi.Input<string>; readonly key: string };
          readonly ready: readonly pulumi.Resource[];
      }
    | {
          readonly kind: "kubernetes";
          /** Kubernetes-auth role, the service account (Vault's namespace) it is bound to, and the token audience. */
          readonly role: string;
          readonly serviceAccountName: pulumi.Output<string>;
          readonly audience: string;
          /** The service account, and the initialisation that created the role. */
          readonly ready: readonly pulumi.Resource[];
      };

export interface PlatformHandles {
    readonly namespaces: Namespaces;
    /** The applications' namespace (sidecar injection on). */
    readonly appNamespace: string;
    /** Vault's namespace, as an output of its Namespace resource. */
    readonly vaultNamespace: pulumi.Output<string>;
    /** What workloads in the mesh wait for: a serving istiod. */
    readonly meshReady: pulumi.Resource[];
    /** How the four application secrets reach the services (Key Vault CSI, or a Kubernetes Secret). */
    readonly appSecrets: AppSecretsDelivery;
    /** Service accounts the applications run as (annotated for the application-secrets identity with Key Vault). */
    readonly appServiceAccounts: WorkloadServiceAccounts;
    readonly istio: IstioControlPlane;
    readonly ingressGateway: IngressGateway;
    /** Host the ingress gateway serves. */
    readonly ingressHost: string;
    readonly vault: HashiCorpVault;
    /** The internal CA as a Secret in Vault's and the applications' namespaces (ha with TLS). */
    readonly vaultCa?: VaultCaBundle;
    /** The prod initialisation Job; absent where Vault runs in dev mode. */
    readonly vaultInit?: VaultInitJob;
    /** The prod raft snapshot CronJob; absent elsewhere. */
    readonly vaultSnapshot?: VaultSnapshotCronJob;
    /** The Vault TLS renewal CronJob (prod with Vault TLS); absent elsewhere. */
    readonly vaultTlsRenew?: VaultTlsRenewCronJob;
    /** The Job that keeps the bootstrapped policies and roles in step (ha); absent in dev mode. */
    readonly vaultSync?: VaultSyncJob;
    /** The vault-operator service account and Role (who may run scripts/vault-rollout.sh; ha). */
    readonly vaultOperator?: VaultOperatorAccess;
    /** How the workloads' Vault configuration authenticates. */
    readonly vaultAdmin: VaultAdminAuth;
}

/** The settings the platform layer reads (components/layerArgs.ts picks them out of the program's config). */
export const PLATFORM_LAYER_CONFIG = [
    "environment",
    "cloud",
    "highAvailability",
    "protectStatefulResources",
    "identities",
    "ingress",
    "mesh",
    "monitoring",
    "secretsStore",
    "vault",
] as const satisfies readonly (keyof PlatformConfig)[];
type PlatformSettings = Pick<PlatformConfig, (typeof PLATFORM_LAYER_CONFIG)[number]>;
export type PlatformLayerArgs = PlatformSettings & {
    /** What it stands on: the Azure layer (AKS, Key Vault) or the local layer (an existing cluster). */
    readonly foundation: ClusterFoundation;
};

/** The one namespace a binding's service accounts live in. */
function namespaceOf(binding: readonly ServiceAccountRef[], what: string): string {
    const namespaces = [...new Set(binding.map((sa) => sa.namespace))];
    if (namespaces.length !== 1)
        throw new Error(`${what}: expected the service accounts in one namespace, got ${namespaces.join(", ") || "none"}`);
    return namespaces[0];
}

/** Where Vault's initialisation writes the recovery keys: Key Vault, or (local ha) a Kubernetes Secret. */
type VaultInitStore =
    | {
          readonly kind: "keyvault";
          readonly identity: BoundWorkloadIdentity;
          readonly keyVaultName: pulumi.Output<string>;
          readonly secretNames: KeyVaultSecrets["vaultInitSecrets"];
      }
    | { readonly kind: "kubernetes"; readonly secretName: string; readonly key: string; readonly ready: readonly pulumi.Resource[] };

/** Where raft snapshots go: Azure Storage (prod), or (local ha) a PersistentVolumeClaim. */
type VaultSnapshotStore =
    | ({ readonly kind: "azureBlob" } & NonNullable<KeyVaultSecrets["vaultSnapshots"]>)
    | { readonly kind: "volume"; readonly claimName: pulumi.Output<string> };

/** Everything in the platform that depends on where secrets come from. */
interface SecretsPlumbing {
    readonly appSecrets: AppSecretsDelivery;
    /** Client ID the application service accounts are annotated with; absent without workload identity. */
    readonly appClientId?: pulumi.Output<string>;
    readonly ingressTls: KeyVaultIngressTls | PemIngressTls;
    /** Vault's auto-unseal (used in ha mode): Key Vault, or the local transit unsealer; absent in dev mode without Key Vault. */
    readonly vaultSeal?: VaultSealArgs | TransitSealArgs;
    /** Absent without Key Vault, or where no initialisation identity exists (dev). */
    readonly vaultInitStore?: VaultInitStore;
    /** Vault's listener TLS through the CSI driver (ha with TLS); absent otherwise. */
    readonly vaultTls?: VaultTlsPlumbing;
    /** Where raft snapshots go (prod, local ha); absent otherwise. */
    readonly vaultSnapshots?: VaultSnapshotStore;
}

/** Vault's TLS as the platform layer wires it: the server's CSI mount and the CA its clients trust. */
interface VaultTlsPlumbing {
    readonly server: NonNullable<HashiCorpVaultArgs["tls"]>;
    /** The internal CA certificate (public PEM). */
    readonly caCertificate: pulumi.Output<string>;
    /** The in-cluster renewal and the Key Vault it writes to; absent without the renewal identity. */
    readonly renewal?: NonNullable<NonNullable<KeyVaultSecrets["vaultTls"]>["renewal"]> & {
        readonly keyVaultName: pulumi.Output<string>;
        readonly secretNames: NonNullable<KeyVaultSecrets["vaultTls"]>["secretNames"];
    };
}

/**
 * Key Vault: the Secrets Store CSI driver, the applications' SecretProviderClass syncing keyvault-secrets,
 * and the workload identities of the applications, the gateway and Vault's seal.
 */
function keyVaultPlumbing(
    source: KeyVaultSecrets,
    cfg: Pick<PlatformConfig, "secretsStore">,
    appNs: pulumi.Input<string>,
    reloaderNs: pulumi.Input<string>,
    vaultNs: pulumi.Input<string>,
    provider: k8s.Provider,
    child: LayerChildOptions,
): SecretsPlumbing {
    const ids = source.identities;
    const csi = new SecretsStoreCsi("secrets-store-csi", { rotationPollInterval: cfg.secretsStore.rotationPollInterval, provider }, child);
    const appSecretProviderClass = new KeyVaultSecretProviderClass(
        "app-secrets",
        {
            className: APP_SECRET_PROVIDER_CLASS,
            namespace: appNs,
            keyVaultName: source.appVaultName,
            tenantId: source.tenantId,
            clientId: ids.appSecrets.clientId,
            objects: Object.entries(APP_SECRET_KEYS).map(([objectName, key]) => ({ objectName, key })),
            secretName: APP_SECRETS_SECRET,
            after: csi.ready,
            provider,
        },
        child,
    );
    // Rotation updates the synced Secret; Reloader rolls the services that read it into env.
    const reloader = new Reloader("reloader", { namespace: reloaderNs, watchNamespaces: [appNs], provider }, child);
    // The listener's certificate, key and CA as files in the server pods, read as Vault's own identity;
    // no Kubernetes Secret holds the key (the class syncs none).
    const tlsSource = source.vaultTls;
    const vaultTlsClass =
        tlsSource &&
        new KeyVaultSecretProviderClass(
            "vault-tls",
            {
                className: VAULT_TLS_PROVIDER_CLASS,
                namespace: vaultNs,
                keyVaultName: source.unsealVaultName,
                tenantId: source.tenantId,
                clientId: ids.vaultUnseal.clientId,
                objects: Object.values(tlsSource.secretNames).map((objectName) => ({ objectName, key: objectName })),
                after: csi.ready,
                provider,
            },
            child,
        );
    return {
        vaultSnapshots: source.vaultSnapshots && { kind: "azureBlob", ...source.vaultSnapshots },
        vaultTls: tlsSource &&
            vaultTlsClass && {
                server: {
                    secretProviderClass: vaultTlsClass.className,
                    files: tlsSource.secretNames,
                    ready: [...csi.ready, vaultTlsClass],
                },
                caCertificate: tlsSource.caCertificate,
                renewal: tlsSource.renewal && {
                    ...tlsSource.renewal,
                    keyVaultName: source.unsealVaultName,
                    secretNames: tlsSource.secretNames,
                },
            },
        appSecrets: {
            secretName: appSecretProviderClass.secretName,
            secretProviderClass: appSecretProviderClass.className,
            keyVault: { vaultName: source.appVaultName, tenantId: source.tenantId, clientId: ids.appSecrets.clientId },
            // Pods mounting the class need the driver, the class, and their identity's roles on the secrets.
            ready: [...csi.ready, appSecretProviderClass, ...ids.appSecrets.ready, reloader.release],
        },
        appClientId: ids.appSecrets.clientId,
        ingressTls: {
            kind: "keyvault",
            clientId: ids.ingressTls.clientId,
            tenantId: source.tenantId,
            keyVaultName: source.appVaultName,
            secretNames: source.ingressTlsSecrets,
            secretsStoreReady: csi.ready,
            identityReady: ids.ingressTls.ready,
        },
        vaultSeal: {
            clientId: ids.vaultUnseal.clientId,
            settings: { tenantId: source.tenantId, vaultName: source.unsealVaultName, keyName: source.unsealKeyName },
            identityReady: ids.vaultUnseal.ready,
        },
        vaultInitStore: ids.vaultInit && {
            kind: "keyvault",
            identity: ids.vaultInit,
            keyVaultName: source.unsealVaultName,
            secretNames: source.vaultInitSecrets,
        },
    };
}

/**
 * Plain Kubernetes Secrets: keyvault-secrets written from the generated values, with the same keys the
 * CSI driver would sync, and the gateway's TLS Secret from the PEM pair. No driver, no identities.
 * With Vault in ha mode (the local stack's local.vaultMode ha): the generated CA and certificate in a
 * Secret, the transit unsealer, and Kubernetes targets for the recovery keys and snapshots (vaultLocalHa.ts).
 */
function kubernetesPlumbing(
    source: KubernetesSecrets,
    appNs: pulumi.Input<string>,
    vault: { readonly ha: boolean; readonly namespace: string; readonly namespaceOutput: pulumi.Input<string>; readonly replicas: number },
    provider: k8s.Provider,
    child: LayerChildOptions,
): SecretsPlumbing {
    const names = Object.keys(APP_SECRET_KEYS) as AppSecretName[];
    const stringData = Object.fromEntries(names.map((name) => [APP_SECRET_KEYS[name], pulumi.secret(source.appSecretValues[name])]));
    const appSecrets = new k8s.core.v1.Secret(
        "app-secrets",
        { metadata: { name: APP_SECRETS_SECRET, namespace: appNs }, type: "Opaque", stringData },
        { ...child, provider },
    );
    const ha = vault.ha
        ? new LocalVaultHa(
              "vault-local-ha",
              {
                  namespace: vault.namespace,
                  namespaceOutput: vault.namespaceOutput,
                  replicas: vault.replicas,
                  provider,
              },
              // A new resource under the layer: no earlier URN to alias.
              { parent: child.parent },
          )
        : undefined;
    return {
        appSecrets: { secretName: APP_SECRETS_SECRET, ready: [appSecrets] },
        ingressTls: { kind: "pem", ...source.ingressTls },
        ...(ha && {
            vaultSeal: ha.seal,
            vaultTls: { server: ha.tls, caCertificate: ha.caCertificate },
            vaultInitStore: { kind: "kubernetes", ...ha.recoveryKeys },
            vaultSnapshots: { kind: "volume", claimName: ha.snapshotClaim },
        }),
    };
}

/** The Secret (Vault's namespace) holding the dev server's root token, and its key. */
const VAULT_DEV_ROOT_TOKEN_SECRET = { name: "vault-dev-root-token", key: "token" } as const;

/**
 * dev: the dev server's root token, generated (never the chart's well-known "root") and kept in the
 * Secret the server reads it from and the configuration workload authenticates with. The random value
 * lives in the stack's state (secret), so later `up`s keep it.
 */
function vaultDevRootToken(vaultNs: pulumi.Input<string>, provider: k8s.Provider, child: LayerChildOptions): k8s.core.v1.Secret {
    const token = new random.RandomPassword("vault-dev-root-token", { length: 32, special: false }, child);
    return new k8s.core.v1.Secret(
        "vault-dev-root-token",
        {
            metadata: { name: VAULT_DEV_ROOT_TOKEN_SECRET.name, namespace: vaultNs },
            type: "Opaque",
            stringData: { [VAULT_DEV_ROOT_TOKEN_SECRET.key]: token.result },
        },
        { ...child, provider },
    );
}

/**
 * dev: the dev server's generated root token in its Secret. ha: the vault-configure service account,
 * which the initialisation's Kubernetes-auth role is bound to; no Secret holds any Vault token.
 */
function vaultAdminAuth(
    vaultInit: VaultInitJob | undefined,
    vaultSync: VaultSyncJob | undefined,
    devToken: k8s.core.v1.Secret | undefined,
    vaultNs: pulumi.Input<string>,
    provider: k8s.Provider,
    child: LayerChildOptions,
): VaultAdminAuth {
    if (!vaultInit) {
        if (!devToken) throw new Error("Vault in dev mode: its root token Secret is missing");
        return { kind: "token", secret: { name: devToken.metadata.name, key: VAULT_DEV_ROOT_TOKEN_SECRET.key }, ready: [devToken] };
    }
    const { role, serviceAccount } = VAULT_BOOTSTRAP_ROLES.configure;
    const account = new k8s.core.v1.ServiceAccount(
        "vault-configure-sa",
        // No API token is mounted: the Job projects its own, with Vault's audience.
        { metadata: { name: serviceAccount, namespace: vaultNs }, automountServiceAccountToken: false },
        { ...child, provider },
    );
    return {
        kind: "kubernetes",
        role,
        serviceAccountName: account.metadata.name,
        audience: VAULT_TOKEN_AUDIENCE,
        // After the sync Job: a configuration step that needs a new capability of vault-configure finds it applied.
        ready: [account, vaultInit, ...(vaultSync ? [vaultSync] : [])],
    };
}

function platformResources(cfg: PlatformSettings, foundation: ClusterFoundation, child: LayerChildOptions): PlatformHandles {
    const provider = foundation.provider;
    const ids = cfg.identities;

    // Namespaces that federated subjects use come from the bindings, never retyped.
    const appNs = namespaceOf(ids.appSecrets, "identities.appSecrets");
    if (appNs !== appNamespace(cfg.environment))
        throw new Error(`identities.appSecrets: namespace ${appNs} is not ${appNamespace(cfg.environment)}`);
    const ingressNs = namespaceOf(ids.ingressTls, "identities.ingressTls");
    const vaultNs = namespaceOf(ids.vaultUnseal, "identities.vaultUnseal");
    if (ids.vaultInit.length > 0 && namespaceOf(ids.vaultInit, "identities.vaultInit") !== vaultNs) {
        throw new Error(`identities.vaultInit: the Job must run in Vault's namespace ${vaultNs}`);
    }

    const namespaces = new Namespaces(
        "platform-ns",
        {
            namespaces: [
                {
                    name: ISTIO_CNI_NAMESPACE,
                    podSecurity: { enforce: "privileged", reason: ISTIO_CNI_REASON },
                },
                {
                    name: ISTIO_NAMESPACE,
                    podSecurity: {
                        enforce: "baseline",
                        reason: "the istiod chart's pods set no seccomp profile of their own; restricted is audited and warned",
                    },
                },
                // The gateway's pods are injected by their own label (the chart sets it); the gateway
                // injection template adds no istio-init, so baseline holds here.
                {
                    name: ingressNs,
                    podSecurity: {
                        enforce: "baseline",
                        reason: "the gateway chart lowers net.ipv4.ip_unprivileged_port_start by a pod sysctl (allowed from baseline) and sets no seccomp profile",
                    },
                },
                // Vault stays out of the mesh: raft and the seal need no sidecar, and Jobs would hang on one.
                // Vault's raft volumes (prod) and MongoDB's live in these two: they outlive the stack in prod.
                {
                    name: vaultNs,
                    retainOnDelete: cfg.protectStatefulResources,
                    podSecurity: {
                        enforce: "baseline",
                        reason: "vault-helm's server and injector pods drop no capabilities and set no seccomp profile (chart 0.32.0 defaults); the program's Jobs there are restricted",
                    },
                },
                {
                    name: appNs,
                    // The Vault agent injector's webhook is scoped to namespaces with this label (vault.ts).
                    labels: { "istio-injection": "enabled", [VAULT_AGENT_INJECT_LABEL.key]: VAULT_AGENT_INJECT_LABEL.value },
                    retainOnDelete: cfg.protectStatefulResources,
                    // The CNI node agent redirects the sidecars' traffic, so no istio-init needs NET_ADMIN here:
                    // the services, MongoDB, the Jobs and the injected istio-proxy / istio-validation / vault-agent
                    // containers all meet restricted (pod-level RuntimeDefault seccomp covers the injected ones).
                    podSecurity: { enforce: "restricted" },
                },
                ...(foundation.secrets.kind === "keyvault"
                    ? [{ name: RELOADER_NAMESPACE, podSecurity: { enforce: "restricted" as const } }]
                    : []),
            ],
            provider,
            retainedProvider: foundation.retainedObjectsProvider,
        },
        child,
    );

    const istio = new IstioControlPlane(
        "istio",
        {
            namespace: namespaces.name(ISTIO_NAMESPACE),
            cniNamespace: namespaces.name(ISTIO_CNI_NAMESPACE),
            highAvailability: cfg.highAvailability,
            mtlsMode: cfg.mesh.mtlsMode,
            provider,
        },
        child,
    );

    // The one switch on where secrets come from.
    const source = foundation.secrets;
    const secrets =
        source.kind === "keyvault"
            ? keyVaultPlumbing(
                  source,
                  cfg,
                  namespaces.name(appNs),
                  namespaces.name(RELOADER_NAMESPACE),
                  namespaces.name(vaultNs),
                  provider,
                  child,
              )
            : kubernetesPlumbing(
                  source,
                  namespaces.name(appNs),
                  {
                      ha: cfg.vault.mode === "ha",
                      namespace: vaultNs,
                      namespaceOutput: namespaces.name(vaultNs),
                      replicas: cfg.vault.replicas,
                  },
                  provider,
                  child,
              );

    const appServiceAccounts = new WorkloadServiceAccounts(
        "app",
        {
            serviceAccounts: ids.appSecrets,
            clientId: secrets.appClientId,
            namespaces: namespaces.names,
            provider,
        },
        child,
    );

    const ingressGateway = new IngressGateway(
        "ingress",
        {
            namespace: namespaces.name(ingressNs),
            serviceAccount: single(ids.ingressTls, "identities.ingressTls"),
            tls: secrets.ingressTls,
            host: cfg.ingress.host,
            serviceType: cfg.ingress.serviceType,
            internalLoadBalancer: cfg.ingress.waf && { subnetName: SUBNET_NAMES.ingressLb, ip: cfg.ingress.waf.internalLoadBalancerIp },
            highAvailability: cfg.highAvailability,
            meshReady: istio.meshReady,
            provider,
        },
        child,
    );

    if (secrets.vaultTls && vaultNs !== VAULT_NAMESPACE)
        throw new Error(`identities.vaultUnseal: Vault's certificate names namespace ${VAULT_NAMESPACE}, not ${vaultNs}`);
    if (cfg.vault.mode === "ha" && cfg.vault.tls && !secrets.vaultTls)
        throw new Error("Vault in ha mode with TLS needs its certificate in Key Vault (the Azure layer's VaultTls)");
    // The zone-redundant class is an Azure disk one; without Azure the raft volumes take the cluster's default.
    const raftStorage =
        cfg.vault.mode === "ha" && source.kind === "keyvault"
            ? new ZoneRedundantStorageClass(
                  "vault-raft-storage",
                  {
                      className: cfg.vault.storageClass,
                      retain: cfg.protectStatefulResources,
                      provider,
                  },
                  child,
              )
            : undefined;
    const devToken = cfg.vault.mode === "dev" ? vaultDevRootToken(namespaces.name(vaultNs), provider, child) : undefined;
    const vault = new HashiCorpVault(
        "vault",
        {
            namespace: namespaces.name(vaultNs),
            mode: cfg.vault.mode,
            devRootToken: devToken && {
                secretName: VAULT_DEV_ROOT_TOKEN_SECRET.name,
                key: VAULT_DEV_ROOT_TOKEN_SECRET.key,
                ready: [devToken],
            },
            replicas: cfg.vault.replicas,
            storageClass: raftStorage ? cfg.vault.storageClass : undefined,
            serviceAccount: single(ids.vaultUnseal, "identities.vaultUnseal"),
            seal: secrets.vaultSeal,
            tls: secrets.vaultTls?.server,
            after: raftStorage ? [raftStorage] : [],
            protect: cfg.protectStatefulResources,
            provider,
        },
        child,
    );
    // The CA every Vault client verifies against, beside the Jobs (Vault's namespace) and the
    // applications' agents (vault.hashicorp.com/tls-secret mounts a Secret of the pod's namespace).
    const vaultCa = secrets.vaultTls
        ? new VaultCaBundle(
              "vault-ca",
              {
                  caCertificate: secrets.vaultTls.caCertificate,
                  namespaces: { vault: namespaces.name(vaultNs), app: namespaces.name(appNs) },
                  provider,
              },
              child,
          )
        : undefined;

    let vaultInit: VaultInitJob | undefined;
    if (cfg.vault.mode === "ha") {
        const store = secrets.vaultInitStore;
        if (!store)
            throw new Error(
                "Vault in ha mode keeps its recovery keys in Key Vault (or, without Azure, a Kubernetes Secret): it needs the vault-init identity (identities.vaultInit is empty)",
            );
        vaultInit = new VaultInitJob(
            "vault-init",
            {
                namespace: namespaces.name(vaultNs),
                serviceAccount: single(ids.vaultInit, "identities.vaultInit"),
                store:
                    store.kind === "keyvault"
                        ? {
                              kind: "keyvault",
                              clientId: store.identity.clientId,
                              keyVaultName: store.keyVaultName,
                              secretNames: store.secretNames,
                          }
                        : { kind: "kubernetes", secretName: store.secretName, key: store.key },
                bootstrap: {
                    policies: vaultBootstrapPolicies(vaultNs),
                    roles: Object.values(VAULT_BOOTSTRAP_ROLES),
                    audience: VAULT_TOKEN_AUDIENCE,
                    tokenTtl: VAULT_ROLE_TOKEN_TTL,
                },
                caSecret: vaultCa?.secret,
                peerAddresses: vault.peerAddresses,
                recoveryShares: cfg.vault.recoveryShares,
                recoveryThreshold: cfg.vault.recoveryThreshold,
                after: [vault.release, ...(store.kind === "keyvault" ? store.identity.ready : store.ready), ...(vaultCa ? [vaultCa] : [])],
                provider,
            },
            child,
        );
    }

    // Policy and role changes reach an initialised Vault through the vault-sync role (no root token);
    // the rollout script logs in as vault-operator.
    const { sync: syncRole, ...syncedRoles } = VAULT_BOOTSTRAP_ROLES;
    const vaultSync =
        vaultInit &&
        new VaultSyncJob(
            "vault-sync",
            {
                namespace: namespaces.name(vaultNs),
                vaultAddress: vault.adminAddress,
                self: syncRole,
                roles: Object.values(syncedRoles),
                policies: vaultBootstrapPolicies(vaultNs),
                audience: VAULT_TOKEN_AUDIENCE,
                tokenTtl: VAULT_ROLE_TOKEN_TTL,
                autopilot: autopilotSettings(cfg.vault.replicas),
                caSecret: vaultCa?.secret,
                after: [vaultInit],
                provider,
            },
            child,
        );
    const vaultOperator =
        vaultInit &&
        new VaultOperatorAccess(
            "vault-operator",
            {
                namespace: namespaces.name(vaultNs),
                statefulSet: VAULT_RELEASE,
                operator: VAULT_BOOTSTRAP_ROLES.operator,
                groups: cfg.vault.operatorGroups,
                provider,
            },
            child,
        );

    // Raft snapshots to Azure Storage (prod), once the initialisation has created their role.
    const snapshots = secrets.vaultSnapshots;
    if (snapshots && single(ids.vaultSnapshot, "identities.vaultSnapshot").name !== VAULT_BOOTSTRAP_ROLES.snapshot.serviceAccount)
        throw new Error(`identities.vaultSnapshot: Vault's snapshot role is bound to ${VAULT_BOOTSTRAP_ROLES.snapshot.serviceAccount}`);
    const vaultSnapshot =
        vaultInit && snapshots
            ? new VaultSnapshotCronJob(
                  "vault-snapshot",
                  {
                      namespace: namespaces.name(vaultNs),
                      serviceAccount: single(ids.vaultSnapshot, "identities.vaultSnapshot"),
                      target:
                          snapshots.kind === "azureBlob"
                              ? {
                                    kind: "azureBlob",
                                    clientId: snapshots.identity.clientId,
                                    accountName: snapshots.accountName,
                                    containerName: snapshots.containerName,
                                }
                              : { kind: "volume", claimName: snapshots.claimName },
                      schedule: cfg.vault.snapshot.schedule,
                      retention: { retentionDays: cfg.vault.snapshot.retentionDays, keepLast: cfg.vault.snapshot.keepLast },
                      vaultAddress: vault.adminAddress,
                      vaultRole: VAULT_BOOTSTRAP_ROLES.snapshot.role,
                      audience: VAULT_TOKEN_AUDIENCE,
                      caSecret: vaultCa?.secret,
                      after: [
                          vaultInit,
                          ...(snapshots.kind === "azureBlob" ? snapshots.identity.ready : []),
                          ...(vaultCa ? [vaultCa] : []),
                      ],
                      provider,
                  },
                  child,
              )
            : undefined;
    // Vault's listener certificate renewed in the cluster, with no `up` (issue 20 item 3).
    const renewal = secrets.vaultTls?.renewal;
    const vaultTlsRenew =
        vaultInit && renewal
            ? new VaultTlsRenewCronJob(
                  "vault-tls-renew",
                  {
                      namespace: namespaces.name(vaultNs),
                      serviceAccount: single(ids.vaultTlsRenew, "identities.vaultTlsRenew"),
                      clientId: renewal.identity.clientId,
                      keyVaultName: renewal.keyVaultName,
                      secrets: {
                          caCertificate: renewal.secretNames.caCertificate,
                          caKey: renewal.caKeySecret,
                          certificate: renewal.secretNames.certificate,
                          privateKey: renewal.secretNames.privateKey,
                      },
                      subject: renewal.subject,
                      dnsNames: renewal.dnsNames,
                      ipAddresses: renewal.ipAddresses,
                      renewBeforeDays: renewal.renewBeforeDays,
                      validityDays: renewal.validityDays,
                      alertDays: renewal.alertDays,
                      peerAddresses: vault.peerAddresses,
                      after: [vault.release, ...renewal.identity.ready],
                      provider,
                  },
                  child,
              )
            : undefined;
    // The metrics add-on's keep list, so that every Prometheus alert rule has its metrics (prod with
    // monitoring.managedPrometheus; the add-on exists only on a cluster the Azure layer created with it).
    if (cfg.cloud === "azure" && cfg.monitoring.managedPrometheus)
        new MetricsSettings("ama-metrics-settings", { keepList: METRICS_KEEP_LIST_ADDITIONS, provider }, child);
    return {
        namespaces,
        appNamespace: appNs,
        vaultNamespace: namespaces.name(vaultNs),
        meshReady: istio.meshReady,
        appSecrets: secrets.appSecrets,
        appServiceAccounts,
        istio,
        ingressGateway,
        ingressHost: cfg.ingress.host,
        vault,
        vaultCa,
        vaultInit,
        vaultSnapshot,
        vaultTlsRenew,
        vaultSync,
        vaultOperator,
        vaultAdmin: vaultAdminAuth(vaultInit, vaultSync, devToken, namespaces.name(vaultNs), provider, child),
    };
}

/**
 * The in-cluster platform as one component: the resources of PlatformHandles are its children. Its args
 * are the settings it reads (PLATFORM_LAYER_CONFIG) and the foundation it stands on (the Azure or the
 * local layer); each direct child keeps the URN it had as a resource of the stack (components/layer.ts).
 */
// The class has exactly the handles' members (declaration merging), assigned from them in one step.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface PlatformLayer extends PlatformHandles {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class PlatformLayer extends pulumi.ComponentResource {
    constructor(name: string, args: PlatformLayerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:Layer", name, {}, opts);
        const { foundation, ...settings } = args;
        Object.assign(this, platformResources(settings, foundation, layerChildOptions(this)));
        this.registerOutputs({ appNamespace: this.appNamespace, vaultNamespace: this.vaultNamespace, ingressHost: this.ingressHost });
    }
}
