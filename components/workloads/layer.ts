// The workloads layer: the lab's application on the platform. MongoDB, Vault's database secrets
// engine configured for it, product-service and order-service (or, with Argo CD on, the app-of-apps
// that deploys them from Git) and the mesh traffic policy in front of them.
// It reads no Azure resource: secrets, the Vault token and the provider come from the foundation and
// the platform layer, the same way with Key Vault (dev, prod) and without (local).
import * as pulumi from "@pulumi/pulumi";
import { singleServiceAccount, type PlatformConfig, type ServiceAccountRef, type ServiceName } from "../config";
import { retainsMongoData, type ClusterFoundation } from "../foundation";
import { layerChildOptions, type LayerChildOptions } from "../layer";
import type { PlatformHandles } from "../platform/layer";
import { ArgoCd } from "./argocd";
import { Microservice, sizingFor } from "./microservice";
import { MongoBackup } from "./mongoBackup";
import { MongoDb, mongoStorageFor } from "./mongodb";
import { clusterNetwork, NetworkPolicies } from "./networkPolicies";
import { callEnv } from "./serviceCalls";
import { MeshTrafficPolicy, type MeshService } from "./trafficPolicy";
import { VaultDatabaseConfig } from "./vaultDatabase";

/** The settings the workloads layer reads (components/layerArgs.ts picks them out of the program's config). */
export const WORKLOADS_LAYER_CONFIG = [
    "cloud",
    "environment",
    "highAvailability",
    "protectStatefulResources",
    "cluster",
    "network",
    "localCluster",
    "identities",
    "vault",
    "mongo",
    "workloads",
] as const satisfies readonly (keyof PlatformConfig)[];
type WorkloadsSettings = Pick<PlatformConfig, (typeof WORKLOADS_LAYER_CONFIG)[number]>;
export type WorkloadsLayerArgs = WorkloadsSettings & {
    /** What the cluster stands on: its provider, secrets, MongoDB's password and backup target, images. */
    readonly foundation: ClusterFoundation;
    /** The platform it runs on: namespaces, Vault, the mesh, the ingress gateway, how secrets arrive. */
    readonly platform: PlatformHandles;
};

/** MongoDB's root user: Vault's database secrets engine connects as it to create per-pod users. */
const MONGO_ROOT_USER = "root";

/** How often the dev reconciler checks that the in-memory Vault still holds its configuration. */
export const DEV_VAULT_RECONCILE_SECONDS = 30;

/** Where each service is routed at the ingress gateway (the lab's API paths). */
const ROUTES: Readonly<Record<ServiceName, string>> = {
    "product-service": "/api/products",
    "order-service": "/api/orders",
};

/** The application's resources, as the workloads layer exposes them. */
export interface WorkloadsHandles {
    readonly mongo: MongoDb;
    /** Scheduled dumps to the stack's backup storage; absent without one (local). */
    readonly mongoBackup?: MongoBackup;
    readonly vaultDatabase: VaultDatabaseConfig;
    /** The services as Helm releases; empty when Argo CD deploys them. */
    readonly services: readonly Microservice[];
    readonly traffic: MeshTrafficPolicy;
    readonly argocd?: ArgoCd;
    readonly networkPolicies: NetworkPolicies;
}

function workloadsResources(
    cfg: WorkloadsSettings,
    foundation: ClusterFoundation,
    platform: PlatformHandles,
    child: LayerChildOptions,
): WorkloadsHandles {
    const provider = foundation.provider;
    const appNs = platform.namespaces.name(platform.appNamespace);
    const vaultNs = platform.vaultNamespace;
    // The services run as the service accounts the application identity is federated with.
    const serviceAccounts: readonly ServiceAccountRef[] = cfg.identities.appSecrets;
    const serviceNames = serviceAccounts.map((sa) => sa.name as ServiceName);

    const storage = mongoStorageFor(cfg.environment);
    const mongo = new MongoDb(
        "mongodb",
        {
            namespace: appNs,
            rootUsername: MONGO_ROOT_USER,
            rootPassword: foundation.mongoRootPassword,
            storageClassName: storage.storageClassName,
            zoneRedundantStorage: storage.zoneRedundant,
            storageSize: storage.size,
            appNamespace: appNs,
            vaultNamespace: vaultNs,
            retainOnDelete: retainsMongoData(cfg),
            // Kept on destroy, so a re-created stack finds them: the adopting provider takes them over.
            provider: retainsMongoData(cfg) ? (foundation.retainedObjectsProvider ?? provider) : provider,
        },
        child,
    );

    const mongoBackup = createMongoBackup(cfg, foundation, mongo, platform.appNamespace, appNs, child);

    const vaultDatabase = new VaultDatabaseConfig(
        "vault-database",
        {
            vaultNamespace: vaultNs,
            // Writes go to the leader only (ha: the vault-active Service).
            vaultAddress: platform.vault.adminAddress,
            auth: platform.vaultAdmin,
            authReady: platform.vaultAdmin.ready,
            caSecret: platform.vaultCa?.secret,
            // ha: the agents log in with a projected token of Vault's audience, and the roles require it.
            appTokenAudience: platform.vaultAdmin.kind === "kubernetes" ? platform.vaultAdmin.audience : undefined,
            // A dev-mode Vault starts empty after every restart: keep configuring it (docs/operations.md).
            reconcileSeconds: cfg.vault.mode === "dev" ? DEV_VAULT_RECONCILE_SECONDS : undefined,
            mongoHost: mongo.host,
            mongoUsername: MONGO_ROOT_USER,
            mongoPassword: foundation.mongoRootPassword,
            appNamespace: appNs,
            services: serviceNames.map((name) => ({ role: name, serviceAccount: name })),
            // Vault must be serving (and, in prod, initialised) and MongoDB up before the engine connects.
            after: [
                platform.vault.release,
                ...(platform.vaultInit ? [platform.vaultInit] : []),
                ...(platform.vaultCa ? [platform.vaultCa] : []),
                mongo,
            ],
            provider,
        },
        child,
    );

    // The services start only once Vault can issue their MongoDB credentials: the Vault agent init
    // container would otherwise fail. Their secrets need what the platform says they need (with Key
    // Vault the CSI driver and the identity's roles; without, the Secret). They run in the mesh
    // namespace: a pod created before istiod's injector serves gets no sidecar and then fails the
    // gateway's ISTIO_MUTUAL traffic, so they wait for the mesh too.
    const appSecrets = platform.appSecrets;
    const keyVault = appSecrets.keyVault;
    const servicesReady = [
        vaultDatabase,
        mongo,
        platform.appServiceAccounts,
        ...appSecrets.ready,
        ...platform.meshReady,
        ...(platform.vaultCa ? [platform.vaultCa] : []),
    ];
    const argo = cfg.workloads.argocd;
    const services = argo
        ? []
        : serviceNames.map((name) => {
              // The stack's registry's copy (build, import) or the image config names.
              const image = foundation.serviceImages?.[name] ?? cfg.workloads.images?.[name];
              if (!image)
                  throw new Error(`${name}: no image; services.imageSource config needs its services.<service>Image and <service>Tag`);
              return new Microservice(
                  name,
                  {
                      namespace: appNs,
                      serviceName: name,
                      serviceAccountName: name,
                      imageRepository: image.repository,
                      imageTag: image.tag,
                      sizing: sizingFor(cfg.environment),
                      highAvailability: cfg.highAvailability,
                      vaultRole: name,
                      vaultCredsPath: vaultDatabase.credsPath,
                      mongoHost: mongo.host,
                      vaultCaSecret: platform.vaultCa?.secret.name,
                      vaultTokenAudience: platform.vaultAdmin.kind === "kubernetes" ? platform.vaultAdmin.audience : undefined,
                      secretProviderClass: appSecrets.secretProviderClass,
                      keyVaultSecretName: appSecrets.secretName,
                      // The lab seeds sample data outside prod.
                      seedData: cfg.environment !== "prod",
                      // order-service's PRODUCT_SERVICE_URL (SERVICE_CALLS).
                      env: callEnv(name, serviceNames, appNs),
                      provider,
                  },
                  { ...child, dependsOn: servicesReady },
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
                      // The Key Vault facts only where the secrets come from Key Vault.
                      ...(keyVault && {
                          keyVaultName: keyVault.vaultName,
                          tenantId: keyVault.tenantId,
                          identityClientIds: Object.fromEntries(serviceNames.map((name) => [name, keyVault.clientId])),
                      }),
                  },
                  appsAfter: servicesReady,
                  provider,
              },
              child,
          )
        : undefined;

    const meshServices: MeshService[] = serviceNames.map((name) => ({ name, serviceAccount: name, pathPrefix: ROUTES[name] }));
    const traffic = new MeshTrafficPolicy(
        "mesh-traffic",
        {
            namespace: appNs,
            gatewayNamespace: platform.ingressGateway.namespace,
            gatewayServiceAccount: singleServiceAccount(cfg.identities.ingressTls, "identities.ingressTls").name,
            host: platform.ingressHost,
            gateway: platform.ingressGateway.gatewayRef,
            services: meshServices,
            meshReady: platform.meshReady,
            provider,
        },
        child,
    );

    // Default deny in the namespaces the platform's traffic crosses, and an allow per flow (NETWORK_FLOWS).
    const networkPolicies = new NetworkPolicies(
        "netpol",
        {
            namespaces: { app: appNs, vault: vaultNs, ingress: platform.ingressGateway.namespace, argocd: argocd?.namespace },
            network: clusterNetwork(
                cfg.cloud === "azure"
                    ? {
                          target: "aks",
                          podCidr: cfg.cluster.podCidr,
                          serviceCidr: cfg.cluster.serviceCidr,
                          vnetAddressSpace: cfg.network.addressSpace,
                          privateEndpointSubnet: cfg.network.subnets.privateEndpoints,
                          apiServerSubnet: cfg.network.subnets.apiServer,
                          appGatewaySubnet: cfg.network.wafIngress ? cfg.network.subnets.appGateway : undefined,
                      }
                    : { target: "existing", ...cfg.localCluster },
            ),
            provider,
        },
        child,
    );

    return { mongo, mongoBackup, vaultDatabase, services, traffic, argocd, networkPolicies };
}

/**
 * The application on the platform as one component: the resources of WorkloadsHandles are its
 * children. Its args are the settings it reads (WORKLOADS_LAYER_CONFIG), the foundation and the platform
 * layer's handles; each direct child keeps the URN it had as a resource of the stack (components/layer.ts).
 */
// The class has exactly the handles' members (declaration merging), assigned from them in one step, as
// AzureLayer and PlatformLayer.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface WorkloadsLayer extends WorkloadsHandles {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class WorkloadsLayer extends pulumi.ComponentResource {
    constructor(name: string, args: WorkloadsLayerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:workloads:Layer", name, {}, opts);
        const { foundation, platform, ...settings } = args;
        Object.assign(this, workloadsResources(settings, foundation, platform, layerChildOptions(this)));
        this.registerOutputs({});
    }
}

/** The backup CronJob, where the foundation has somewhere to put the dumps (the Azure layer's storage). */
function createMongoBackup(
    cfg: Pick<PlatformConfig, "mongo" | "identities" | "environment">,
    foundation: ClusterFoundation,
    mongo: MongoDb,
    appNamespace: string,
    appNs: pulumi.Output<string>,
    child: LayerChildOptions,
): MongoBackup | undefined {
    const target = foundation.mongoBackup;
    const backup = cfg.mongo.backup;
    if (!target || !backup) return undefined;
    // The same binding the identity's federated credential was made for.
    const account = singleServiceAccount(cfg.identities.mongoBackup, "identities.mongoBackup");
    if (account.namespace !== appNamespace) {
        throw new Error(
            `identities.mongoBackup: the CronJob reads MongoDB's Secret, so it must run in ${appNamespace}, not ${account.namespace}`,
        );
    }
    return new MongoBackup(
        "mongodb-backup",
        {
            namespace: appNs,
            serviceAccountName: account.name,
            clientId: target.identity.clientId,
            identityReady: target.identity.ready,
            schedule: backup.schedule,
            blobContainerUrl: pulumi.interpolate`${target.blobEndpoint}${target.container}`,
            mongoHost: mongo.host,
            // Root, from the Secret MongoDB itself was initialised from (docs/workloads.md: why not a backup user).
            credentialsSecret: mongo.secretName,
            scratchSize: mongoStorageFor(cfg.environment).size,
            after: [mongo],
            provider: foundation.provider,
        },
        child,
    );
}
