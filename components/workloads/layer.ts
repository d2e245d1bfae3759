// The workloads layer: the lab's application on the platform. MongoDB, Vault's database secrets
// engine configured for it, product-service and order-service (or, with Argo CD on, the app-of-apps
// that deploys them from Git) and the mesh traffic policy in front of them.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MONGO_ROOT_PASSWORD_SECRET, VAULT_INIT_SECRETS, type AzureLayer } from "../azure/layer";
import { singleServiceAccount, type PlatformConfig, type ServiceAccountRef, type ServiceName } from "../config";
import type { PlatformLayer } from "../platform/layer";
import { KeyVaultSecretProviderClass } from "../platform/secretProviderClass";
import { ArgoCd } from "./argocd";
import { Microservice, sizingFor } from "./microservice";
import { MongoDb, mongoStorageFor } from "./mongodb";
import { MeshTrafficPolicy, type MeshService } from "./trafficPolicy";
import { VaultDatabaseConfig, type SecretKeyRef } from "./vaultDatabase";

/** MongoDB's root user: Vault's database secrets engine connects as it to create per-pod users. */
const MONGO_ROOT_USER = "root";

/** Where each service is routed at the ingress gateway (the lab's API paths). */
const ROUTES: Readonly<Record<ServiceName, string>> = {
    "product-service": "/api/products",
    "order-service": "/api/orders",
};

export interface WorkloadsLayer {
    readonly mongo: MongoDb;
    readonly vaultDatabase: VaultDatabaseConfig;
    /** The services as Helm releases; empty when Argo CD deploys them. */
    readonly services: readonly Microservice[];
    readonly traffic: MeshTrafficPolicy;
    readonly argocd?: ArgoCd;
}

export function createWorkloadsLayer(cfg: PlatformConfig, azure: AzureLayer, platform: PlatformLayer): WorkloadsLayer {
    const provider = azure.cluster.provider;
    const appNs = platform.namespaces.name(platform.appNamespace);
    const vaultNs = platform.namespaces.name(singleServiceAccount(cfg.identities.vaultUnseal, "identities.vaultUnseal").namespace);
    // The services run as the service accounts the application identity is federated with.
    const serviceAccounts: readonly ServiceAccountRef[] = cfg.identities.appSecrets;
    const serviceNames = serviceAccounts.map((sa) => sa.name as ServiceName);

    const mongo = new MongoDb("mongodb", {
        namespace: appNs,
        rootUsername: MONGO_ROOT_USER,
        rootPassword: azure.appSecrets.generatedValues[MONGO_ROOT_PASSWORD_SECRET],
        ...mongoStorageForArgs(cfg),
        appNamespace: appNs,
        vaultNamespace: vaultNs,
        retainOnDelete: cfg.protectStatefulResources,
        provider,
    });

    const vaultDatabase = new VaultDatabaseConfig(
        "vault-database",
        {
            vaultNamespace: vaultNs,
            vaultAddress: platform.vault.address,
            ...vaultToken(cfg, azure, platform, vaultNs),
            mongoHost: mongo.host,
            mongoUsername: MONGO_ROOT_USER,
            mongoPassword: azure.appSecrets.generatedValues[MONGO_ROOT_PASSWORD_SECRET],
            appNamespace: appNs,
            services: serviceNames.map((name) => ({ role: name, serviceAccount: name })),
            // Vault must be serving (and, in prod, initialised) and MongoDB up before the engine connects.
            after: [platform.vault.release, ...(platform.vaultInit ? [platform.vaultInit] : []), mongo],
            provider,
        },
    );

    // The services start only once Vault can issue their MongoDB credentials: the Vault agent init
    // container would otherwise fail, and their Key Vault secrets need the CSI driver and identity.
    const servicesReady = [vaultDatabase, mongo, platform.appServiceAccounts, ...platform.secretsStoreReady, ...azure.appSecretsIdentity.ready];
    const argo = cfg.workloads.argocd;
    const services = argo
        ? []
        : serviceNames.map((name) => {
              const image = cfg.workloads.images[name];
              return new Microservice(
                  name,
                  {
                      namespace: appNs,
                      serviceName: name,
                      serviceAccountName: name,
                      imageRepository: image.repository,
                      imageTag: image.tag,
                      sizing: sizingFor(cfg.environment),
                      vaultRole: name,
                      vaultCredsPath: vaultDatabase.credsPath,
                      mongoHost: mongo.host,
                      secretProviderClass: platform.appSecretProviderClass.className,
                      keyVaultSecretName: platform.appSecretProviderClass.secretName,
                      // The lab seeds sample data in dev only.
                      seedData: cfg.environment === "dev",
                      provider,
                  },
                  { dependsOn: servicesReady },
              );
          });

    const argocd = argo
        ? new ArgoCd(
              "argocd",
              {
                  environment: cfg.environment,
                  repoUrl: argo.repoUrl,
                  path: argo.path,
                  targetRevision: argo.revision,
                  // What the Git-side manifests need to know about this cluster, from the graph.
                  clusterFacts: {
                      appNamespace: appNs,
                      vaultNamespace: vaultNs,
                      keyVaultName: azure.appVault.vaultName,
                      tenantId: azure.tenantId,
                      identityClientIds: Object.fromEntries(serviceNames.map((name) => [name, azure.appSecretsIdentity.clientId])),
                  },
                  appsAfter: servicesReady,
                  provider,
              },
          )
        : undefined;

    const meshServices: MeshService[] = serviceNames.map((name) => ({ name, serviceAccount: name, pathPrefix: ROUTES[name] }));
    const traffic = new MeshTrafficPolicy("mesh-traffic", {
        namespace: appNs,
        gatewayNamespace: platform.ingressGateway.namespace,
        gatewayServiceAccount: singleServiceAccount(cfg.identities.ingressTls, "identities.ingressTls").name,
        host: platform.ingressHost,
        tlsSecretName: platform.ingressGateway.tlsSecretName,
        existingGateway: platform.ingressGateway.gatewayRef,
        services: meshServices,
        meshReady: platform.meshReady,
        provider,
    });

    return { mongo, vaultDatabase, services, traffic, argocd };
}

function mongoStorageForArgs(cfg: PlatformConfig): { storageClassName?: string; storageSize: string } {
    const storage = mongoStorageFor(cfg.environment);
    return { storageClassName: storage.storageClassName, storageSize: storage.size };
}

/**
 * The Vault token the configuration Job uses. dev: the dev server's root token, put in a Secret (it is
 * the chart's fixed dev token, but still a credential). prod: the root token the initialisation Job
 * stored in Key Vault, synced by the CSI driver through the vault-init identity (the one allowed to read it).
 */
function vaultToken(
    cfg: PlatformConfig,
    azure: AzureLayer,
    platform: PlatformLayer,
    vaultNs: pulumi.Input<string>,
): { tokenSecret: SecretKeyRef; tokenFromKeyVault?: { secretProviderClass: pulumi.Input<string>; serviceAccountName: pulumi.Input<string> } } {
    const provider = azure.cluster.provider;
    if (cfg.vault.mode === "dev") {
        const secret = new k8s.core.v1.Secret(
            "vault-dev-root-token",
            {
                metadata: { name: "vault-dev-root-token", namespace: vaultNs },
                type: "Opaque",
                stringData: { token: pulumi.secret("root") },
            },
            { provider },
        );
        return { tokenSecret: { name: secret.metadata.name, key: "token" } };
    }
    const initIdentity = azure.vaultInitIdentity;
    if (!initIdentity) throw new Error("Vault in ha mode needs the vault-init identity to read its root token");
    const tokenClass = new KeyVaultSecretProviderClass("vault-root-token", {
        className: "vault-root-token",
        namespace: vaultNs,
        keyVaultName: azure.unsealVault.vaultName,
        tenantId: azure.tenantId,
        clientId: initIdentity.clientId,
        objects: [{ objectName: VAULT_INIT_SECRETS.rootToken, key: "token" }],
        secretName: "vault-root-token",
        after: platform.secretsStoreReady,
        provider,
    });
    return {
        tokenSecret: { name: tokenClass.secretName, key: "token" },
        tokenFromKeyVault: {
            secretProviderClass: tokenClass.className,
            serviceAccountName: singleServiceAccount(cfg.identities.vaultInit, "identities.vaultInit").name,
        },
    };
}
