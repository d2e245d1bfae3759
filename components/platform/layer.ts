// The in-cluster platform layer: namespaces, Istio, the Secrets Store CSI driver with its Key Vault
// SecretProviderClasses, HashiCorp Vault and (prod) its initialisation, composed from the components
// beside this file. Every Kubernetes resource goes through the AKS cluster's provider, passed explicitly.
// Ordering follows real need only: the CSI driver, Vault and Istio install side by side once the
// cluster (and, for Vault, its identity) exists; only the gateway waits for istiod and the CSI driver.
import type * as pulumi from "@pulumi/pulumi";
import { INGRESS_TLS_SECRETS, VAULT_INIT_SECRETS, APP_SECRET_KEYS, type AzureLayer } from "../azure/layer";
import { appNamespace, singleServiceAccount as single, type PlatformConfig, type ServiceAccountRef } from "../config";
import { IngressGateway } from "./ingressGateway";
import { IstioControlPlane } from "./istio";
import { Namespaces } from "./namespaces";
import { KeyVaultSecretProviderClass } from "./secretProviderClass";
import { SecretsStoreCsi } from "./secretsStoreCsi";
import { WorkloadServiceAccounts } from "./serviceAccounts";
import { HashiCorpVault } from "./vault";
import { VaultInitJob } from "./vaultInit";

/** Istio's control plane namespace; no workload identity is bound there. */
export const ISTIO_NAMESPACE = "istio-system";
/** The SecretProviderClass the applications mount, and the Secret it syncs (the guide's names). */
export const APP_SECRET_PROVIDER_CLASS = "azure-keyvault-secrets";
export const APP_SECRETS_SECRET = "keyvault-secrets";

export interface PlatformLayer {
    readonly namespaces: Namespaces;
    /** The applications' namespace (sidecar injection on). */
    readonly appNamespace: string;
    /** What workloads in the mesh wait for: a serving istiod. */
    readonly meshReady: pulumi.Resource[];
    /** What pods mounting a SecretProviderClass wait for. */
    readonly secretsStoreReady: pulumi.Resource[];
    /** The SecretProviderClass of the four application secrets, in appNamespace. */
    readonly appSecretProviderClass: KeyVaultSecretProviderClass;
    /** Service accounts the applications run as, annotated for the application-secrets identity. */
    readonly appServiceAccounts: WorkloadServiceAccounts;
    readonly istio: IstioControlPlane;
    readonly ingressGateway: IngressGateway;
    /** Host the ingress gateway serves. */
    readonly ingressHost: string;
    readonly vault: HashiCorpVault;
    /** The prod initialisation Job; absent in dev. */
    readonly vaultInit?: VaultInitJob;
}

/** The one namespace a binding's service accounts live in. */
function namespaceOf(binding: readonly ServiceAccountRef[], what: string): string {
    const namespaces = [...new Set(binding.map((sa) => sa.namespace))];
    if (namespaces.length !== 1) throw new Error(`${what}: expected the service accounts in one namespace, got ${namespaces.join(", ") || "none"}`);
    return namespaces[0];
}

export function createPlatformLayer(cfg: PlatformConfig, azure: AzureLayer): PlatformLayer {
    const provider = azure.cluster.provider;
    const ids = cfg.identities;

    // Namespaces that federated subjects use come from the bindings, never retyped.
    const appNs = namespaceOf(ids.appSecrets, "identities.appSecrets");
    if (appNs !== appNamespace(cfg.environment)) throw new Error(`identities.appSecrets: namespace ${appNs} is not ${appNamespace(cfg.environment)}`);
    const ingressNs = namespaceOf(ids.ingressTls, "identities.ingressTls");
    const vaultNs = namespaceOf(ids.vaultUnseal, "identities.vaultUnseal");
    if (ids.vaultInit.length > 0 && namespaceOf(ids.vaultInit, "identities.vaultInit") !== vaultNs) {
        throw new Error(`identities.vaultInit: the Job must run in Vault's namespace ${vaultNs}`);
    }

    const namespaces = new Namespaces("platform-ns", {
        namespaces: [
            { name: ISTIO_NAMESPACE },
            // The gateway's pods are injected by their own label (the chart sets it).
            { name: ingressNs },
            // Vault stays out of the mesh: raft and the seal need no sidecar, and Jobs would hang on one.
            { name: vaultNs },
            { name: appNs, labels: { "istio-injection": "enabled" } },
        ],
        provider,
    });

    const istio = new IstioControlPlane("istio", {
        namespace: namespaces.name(ISTIO_NAMESPACE),
        highAvailability: cfg.highAvailability,
        mtlsMode: cfg.mesh.mtlsMode,
        provider,
    });

    const csi = new SecretsStoreCsi("secrets-store-csi", { rotationPollInterval: cfg.secretsStore.rotationPollInterval, provider });

    const appSecretProviderClass = new KeyVaultSecretProviderClass("app-secrets", {
        className: APP_SECRET_PROVIDER_CLASS,
        namespace: namespaces.name(appNs),
        keyVaultName: azure.appVault.vaultName,
        tenantId: azure.tenantId,
        clientId: azure.appSecretsIdentity.clientId,
        objects: Object.entries(APP_SECRET_KEYS).map(([objectName, key]) => ({ objectName, key })),
        secretName: APP_SECRETS_SECRET,
        after: csi.ready,
        provider,
    });
    const appServiceAccounts = new WorkloadServiceAccounts("app", {
        serviceAccounts: ids.appSecrets,
        clientId: azure.appSecretsIdentity.clientId,
        namespaces: namespaces.names,
        provider,
    });

    const ingressGateway = new IngressGateway("ingress", {
        namespace: namespaces.name(ingressNs),
        serviceAccount: single(ids.ingressTls, "identities.ingressTls"),
        clientId: azure.ingressTlsIdentity.clientId,
        tenantId: azure.tenantId,
        keyVaultName: azure.appVault.vaultName,
        tlsSecrets: INGRESS_TLS_SECRETS,
        host: cfg.ingress.host,
        highAvailability: cfg.highAvailability,
        meshReady: istio.meshReady,
        secretsStoreReady: csi.ready,
        identityReady: azure.ingressTlsIdentity.ready,
        provider,
    });

    const vault = new HashiCorpVault("vault", {
        namespace: namespaces.name(vaultNs),
        mode: cfg.vault.mode,
        replicas: cfg.vault.replicas,
        storageClass: cfg.vault.storageClass,
        serviceAccount: single(ids.vaultUnseal, "identities.vaultUnseal"),
        clientId: azure.vaultUnsealIdentity.clientId,
        seal: { tenantId: azure.tenantId, vaultName: azure.unsealVault.vaultName, keyName: azure.unsealKey.keyName },
        identityReady: azure.vaultUnsealIdentity.ready,
        protect: cfg.protectStatefulResources,
        provider,
    });

    let vaultInit: VaultInitJob | undefined;
    if (cfg.vault.mode === "ha") {
        const initIdentity = azure.vaultInitIdentity;
        if (!initIdentity) throw new Error("Vault in ha mode needs the vault-init identity (identities.vaultInit is empty)");
        vaultInit = new VaultInitJob("vault-init", {
            namespace: namespaces.name(vaultNs),
            serviceAccount: single(ids.vaultInit, "identities.vaultInit"),
            clientId: initIdentity.clientId,
            keyVaultName: azure.unsealVault.vaultName,
            secretNames: VAULT_INIT_SECRETS,
            vaultAddress: vault.firstPodAddress,
            recoveryShares: cfg.vault.recoveryShares,
            recoveryThreshold: cfg.vault.recoveryThreshold,
            after: [vault.release, ...initIdentity.ready],
            provider,
        });
    }

    return {
        namespaces,
        appNamespace: appNs,
        meshReady: istio.meshReady,
        secretsStoreReady: csi.ready,
        appSecretProviderClass,
        appServiceAccounts,
        istio,
        ingressGateway,
        ingressHost: cfg.ingress.host,
        vault,
        vaultInit,
    };
}
