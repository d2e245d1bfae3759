import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Environment } from "../config";
import { secretEnv } from "../jobScripts";
import { PORTS, POD_LABELS } from "../topology";
import { ZONE_REDUNDANT_DISK_SKU, ZoneRedundantStorageClass } from "../platform/storageClass";

/**
 * The official image, pinned to a patch release of the 7.0 series the lab uses (docker-library/mongo
 * versions.json: 7.0.28, 2025-12-16). Bump deliberately: a new patch restarts the database.
 */
export const MONGO_IMAGE = "docker.io/library/mongo:7.0.28";
/** Port MongoDB listens and its Services answer on. */
export const MONGO_PORT = PORTS.mongodb;
/** The image's `mongodb` user and group (created with uid/gid 999 in its Dockerfile). */
export const MONGO_UID = 999;
/** Keys of the root credentials Secret. */
export const MONGO_SECRET_KEYS = { username: "username", password: "password" } as const;

/**
 * Azure Disk's zone-redundant Premium SSD (kubernetes-sigs/azuredisk-csi-driver docs/driver-parameters.md,
 * skuName): the disk is written synchronously in three zones and can attach to a node in any of them.
 */
export { ZONE_REDUNDANT_DISK_SKU };

/** Where the data volume comes from. */
export interface MongoStorage {
    /** StorageClass of the volume claim; undefined for the cluster's default class (or zoneRedundant's). */
    readonly storageClassName?: string;
    /** Claim from a zone-redundant Premium SSD class the stack creates (ZONE_REDUNDANT_DISK_SKU). */
    readonly zoneRedundant?: boolean;
    readonly size: string;
}

const STORAGE: Readonly<Record<Environment, MongoStorage>> = {
    dev: { size: "1Gi" },
    // Whatever the existing cluster provisions by default: kind's and k3d's local-path, minikube's
    // standard, MicroK8s's hostpath (the lab's microk8s-hostpath), so one stack file fits them all.
    local: { size: "1Gi" },
    // One member on a zone-redundant Premium SSD: losing a zone loses no data, and the pod comes back
    // on a node of another zone with the same disk (docs/workloads.md: why not a replica set). Azure
    // bills a premium disk by its tier and the smallest tier (P1) is 4 GiB, so asking for less buys nothing.
    prod: { zoneRedundant: true, size: "4Gi" },
};

/** Storage class and size of MongoDB's volume in `environment` (the lab's storage table). */
export function mongoStorageFor(environment: Environment): MongoStorage {
    return STORAGE[environment];
}

export interface MongoDbArgs {
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
    /** Namespace MongoDB runs in (created by the platform layer). */
    readonly namespace: pulumi.Input<string>;
    /** Name of the client Service, StatefulSet and the stem of the other objects. Default: mongodb. */
    readonly serviceName?: string;
    /** Root user created on first start. Default: root. */
    readonly rootUsername?: pulumi.Input<string>;
    /** Root password: a secret Output (generated upstream with @pulumi/random). */
    readonly rootPassword: pulumi.Input<string>;
    /** Container image. Default: MONGO_IMAGE. */
    readonly image?: pulumi.Input<string>;
    /** StorageClass of the data volume. Default: the cluster's default class. */
    readonly storageClassName?: pulumi.Input<string>;
    /**
     * Create a StorageClass of zone-redundant Premium SSDs (`<serviceName>-premium-zrs`) and claim the
     * volume from it; excludes storageClassName. Default: false.
     */
    readonly zoneRedundantStorage?: boolean;
    /** Size of the data volume. Default: 1Gi. */
    readonly storageSize?: pulumi.Input<string>;
    /** Container requests and limits. Default: 250m/512Mi requests, 1 CPU/1Gi limits. */
    readonly resources?: pulumi.Input<k8s.types.input.core.v1.ResourceRequirements>;
    /** Namespace of the applications, allowed to connect. Default: `namespace`. */
    readonly appNamespace?: pulumi.Input<string>;
    /** Namespace of HashiCorp Vault, allowed to connect (its database secrets engine manages users). */
    readonly vaultNamespace: pulumi.Input<string>;
    /** Keep the objects and the volume claim when the stack is destroyed (prod). Default: false. */
    readonly retainOnDelete?: boolean;
    /**
     * Inject the Istio sidecar. Default: false: Vault reaches MongoDB from outside the mesh, which
     * STRICT mTLS in the app namespace would refuse; the NetworkPolicy limits who may connect instead.
     */
    readonly istioSidecar?: boolean;
}

/**
 * A single MongoDB on the official image: root credentials in a Secret, a StatefulSet with its own
 * volume claim, a headless Service for the stable pod identity, a ClusterIP Service for clients, and a
 * NetworkPolicy that admits only the application and Vault namespaces.
 */
export class MongoDb extends pulumi.ComponentResource {
    /** Name of the client Service. */
    readonly serviceName: pulumi.Output<string>;
    /** In-cluster host name of the client Service. */
    readonly host: pulumi.Output<string>;
    /** Port of the client Service. */
    readonly port: number = MONGO_PORT;
    /** Namespace MongoDB runs in. */
    readonly namespace: pulumi.Output<string>;
    /** Secret holding the root credentials (keys MONGO_SECRET_KEYS), e.g. for Vault's connection setup. */
    readonly secretName: pulumi.Output<string>;
    /** Name of the StatefulSet; it is ready once MongoDB answers its readiness probe. */
    readonly statefulSetName: pulumi.Output<string>;
    /** StorageClass of the data volume; undefined for the cluster's default class. */
    readonly storageClassName: pulumi.Output<string | undefined>;

    constructor(name: string, args: MongoDbArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:workloads:MongoDb", name, {}, opts);

        const svc = args.serviceName ?? "mongodb";
        // The labels the flow table selects MongoDB by (components/topology.ts).
        const labels = { ...POD_LABELS.mongodb };
        const childOpts = { parent: this, provider: args.provider, retainOnDelete: args.retainOnDelete ?? false };
        const meta = (objectName: string) => ({ name: objectName, namespace: args.namespace, labels });

        const secret = new k8s.core.v1.Secret(
            `${name}-root`,
            {
                metadata: meta(`${svc}-root`),
                type: "Opaque",
                stringData: {
                    [MONGO_SECRET_KEYS.username]: args.rootUsername ?? "root",
                    // Secret however it arrives, so it never lands in state or a diff in plaintext.
                    [MONGO_SECRET_KEYS.password]: pulumi.secret(args.rootPassword),
                },
            },
            childOpts,
        );

        if (args.zoneRedundantStorage && args.storageClassName !== undefined) {
            throw new pulumi.ResourceError(
                `${name}: zoneRedundantStorage creates the storage class; do not also set storageClassName`,
                this,
            );
        }
        // Retain: the disk (with the data) outlives its claim, whatever deletes the claim. Wait for the
        // first consumer: the claim binds when the pod is scheduled, as AKS's own classes do.
        const zrsClass = args.zoneRedundantStorage
            ? new ZoneRedundantStorageClass(
                  `${name}-zrs`,
                  {
                      className: `${svc}-premium-zrs`,
                      retain: true,
                      retainOnDelete: args.retainOnDelete,
                      labels,
                      provider: args.provider,
                  },
                  { parent: this },
              )
            : undefined;
        const storageClassName = zrsClass ? zrsClass.className : args.storageClassName;

        // appProtocol tcp: clients' sidecars proxy it as plain TCP instead of sniffing the protocol.
        const port = { name: "mongodb", port: MONGO_PORT, targetPort: "mongodb", protocol: "TCP", appProtocol: "tcp" };
        // Gives the pod its stable DNS name (<svc>-0.<svc>-headless); the StatefulSet requires one.
        const headless = new k8s.core.v1.Service(
            `${name}-headless`,
            {
                metadata: meta(`${svc}-headless`),
                spec: { clusterIP: "None", selector: labels, ports: [port], publishNotReadyAddresses: true },
            },
            childOpts,
        );
        const service = new k8s.core.v1.Service(
            name,
            { metadata: meta(svc), spec: { type: "ClusterIP", selector: labels, ports: [port] } },
            childOpts,
        );

        // mongosh answers `ping` without credentials, so the probes need no secret.
        const ping = { exec: { command: ["mongosh", "--quiet", "--eval", "db.adminCommand('ping')"] }, timeoutSeconds: 10 };
        const retain = args.retainOnDelete ?? false;

        const statefulSet = new k8s.apps.v1.StatefulSet(
            name,
            {
                metadata: meta(svc),
                spec: {
                    serviceName: headless.metadata.name,
                    replicas: 1,
                    selector: { matchLabels: labels },
                    // Claims outlive the StatefulSet where data must survive; in dev they go with it.
                    persistentVolumeClaimRetentionPolicy: retain
                        ? { whenDeleted: "Retain", whenScaled: "Retain" }
                        : { whenDeleted: "Delete", whenScaled: "Retain" },
                    template: {
                        metadata: {
                            labels: { ...labels, "sidecar.istio.io/inject": String(args.istioSidecar ?? false) },
                        },
                        spec: {
                            // No Kubernetes API access needed.
                            automountServiceAccountToken: false,
                            terminationGracePeriodSeconds: 30,
                            securityContext: {
                                runAsNonRoot: true,
                                runAsUser: MONGO_UID,
                                runAsGroup: MONGO_UID,
                                // Makes the new volume writable by mongod, which never runs as root here
                                // (the entrypoint skips its chown-and-gosu step for a non-root start).
                                fsGroup: MONGO_UID,
                                // The restricted Azure Policy initiative requires supplementalGroups in 1-65535 (components/azure/clusterPolicy.ts).
                                supplementalGroups: [MONGO_UID],
                                fsGroupChangePolicy: "OnRootMismatch",
                                seccompProfile: { type: "RuntimeDefault" },
                            },
                            containers: [
                                {
                                    name: "mongodb",
                                    image: args.image ?? MONGO_IMAGE,
                                    ports: [{ name: "mongodb", containerPort: MONGO_PORT, protocol: "TCP" }],
                                    // Read by the image's entrypoint on first start only (empty volume),
                                    // which creates the root user and then unsets them before exec'ing mongod.
                                    env: [
                                        secretEnv("MONGO_INITDB_ROOT_USERNAME", secret.metadata.name, MONGO_SECRET_KEYS.username),
                                        secretEnv("MONGO_INITDB_ROOT_PASSWORD", secret.metadata.name, MONGO_SECRET_KEYS.password),
                                    ],
                                    resources: args.resources ?? {
                                        requests: { cpu: "250m", memory: "512Mi" },
                                        limits: { cpu: "1", memory: "1Gi" },
                                    },
                                    // First start runs the init pass (a temporary mongod, user creation).
                                    startupProbe: { ...ping, periodSeconds: 10, failureThreshold: 30 },
                                    readinessProbe: { ...ping, periodSeconds: 10, failureThreshold: 3 },
                                    livenessProbe: { ...ping, periodSeconds: 20, failureThreshold: 3 },
                                    securityContext: {
                                        allowPrivilegeEscalation: false,
                                        readOnlyRootFilesystem: true,
                                        capabilities: { drop: ["ALL"] },
                                    },
                                    volumeMounts: [
                                        // Also the image's HOME, where mongosh keeps its state.
                                        { name: "data", mountPath: "/data/db" },
                                        // The entrypoint's temporary config and pid file, mongod's socket.
                                        { name: "tmp", mountPath: "/tmp" },
                                        // A VOLUME of the image: explicit, so it is writable under the read-only
                                        // root whatever the runtime does with image-declared volumes.
                                        { name: "configdb", mountPath: "/data/configdb" },
                                    ],
                                },
                            ],
                            volumes: [
                                { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
                                { name: "configdb", emptyDir: { sizeLimit: "16Mi" } },
                            ],
                        },
                    },
                    volumeClaimTemplates: [
                        {
                            metadata: { name: "data", labels },
                            spec: {
                                accessModes: ["ReadWriteOnce"],
                                storageClassName,
                                resources: { requests: { storage: args.storageSize ?? "1Gi" } },
                            },
                        },
                    ],
                },
            },
            childOpts,
        );

        // Everything else in the cluster is denied: only the applications and Vault's server (its
        // database secrets engine) talk to MongoDB. Probes are exec'd in the container and need no rule.
        const fromNamespace = (ns: pulumi.Input<string>, pods?: Readonly<Record<string, string>>) => ({
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
            ...(pods ? { podSelector: { matchLabels: { ...pods } } } : {}),
        });
        new k8s.networking.v1.NetworkPolicy(
            `${name}-ingress`,
            {
                metadata: meta(`${svc}-ingress`),
                spec: {
                    podSelector: { matchLabels: labels },
                    policyTypes: ["Ingress"],
                    ingress: [
                        {
                            from: [
                                fromNamespace(args.appNamespace ?? args.namespace),
                                fromNamespace(args.vaultNamespace, POD_LABELS.vaultServer),
                            ],
                            ports: [{ protocol: "TCP", port: MONGO_PORT }],
                        },
                    ],
                },
            },
            childOpts,
        );

        this.serviceName = service.metadata.name;
        this.namespace = service.metadata.namespace;
        this.host = pulumi.interpolate`${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`;
        this.secretName = secret.metadata.name;
        this.statefulSetName = statefulSet.metadata.name;
        this.storageClassName = pulumi.output(storageClassName);
        this.registerOutputs({
            serviceName: this.serviceName,
            host: this.host,
            port: this.port,
            namespace: this.namespace,
            secretName: this.secretName,
            statefulSetName: this.statefulSetName,
            storageClassName: this.storageClassName,
        });
    }
}
