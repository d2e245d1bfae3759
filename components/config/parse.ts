// Raw stack config into one typed, validated PlatformConfig. Every problem is reported together, each
// naming the key, the value given and what is allowed; nothing is registered before this has passed.
import * as pulumi from "@pulumi/pulumi";
import {
    appNamespace,
    cloudOf,
    ENVIRONMENTS,
    SERVICE_NAMES,
    VAULT_NAMESPACE,
    VAULT_ZRS_STORAGE_CLASS,
    VERSION_KEEPING_CHANNELS,
    type Environment,
    type ServiceName,
} from "./constants";
import type { ConfigKey } from "./keys";
import { namesFor } from "./names";
import { ConfigError, readValues, type Raw } from "./read";
import type { ImageRef, NodePoolConfig, PlatformConfig, ServiceAccountRef } from "./types";
import { addressInCidr, checkPool, checkRecoverySplit, checkTlsPair, cidrsOverlap, checkHostName, show } from "./validators";

/** The environment: the `environment` key, else the stack name when that is one. */
function environmentOf(raw: Raw, stack: string): Environment {
    const text = raw.environment ?? ((ENVIRONMENTS as readonly string[]).includes(stack) ? stack : undefined);
    if (text === undefined) {
        throw new ConfigError([
            `environment: is not set and the stack name ${show(stack)} is not one of ${ENVIRONMENTS.join(", ")}; set it with pulumi config set environment dev`,
        ]);
    }
    if (!(ENVIRONMENTS as readonly string[]).includes(text)) {
        throw new ConfigError([`environment: ${show(text)} is not allowed; use one of ${ENVIRONMENTS.join(", ")}`]);
    }
    return text as Environment;
}

export interface ParseOptions {
    /** Whether a key arrived encrypted; keys the table marks secret must. Default: every key did. */
    readonly isSecret?: (key: ConfigKey) => boolean;
}

/**
 * Parses and validates raw stack configuration (bare key -> string) for `stack` of `project`.
 * Throws ConfigError listing every problem; unknown keys are problems too (they are usually typos).
 */
export function parseConfig(raw: Raw, project: string, stack: string, options: ParseOptions = {}): PlatformConfig {
    const environment = environmentOf(raw, stack);
    const cloud = cloudOf(environment);
    const { values: v, set, errors } = readValues(raw, environment, options.isSecret ?? (() => true));
    const check = (...results: (string | undefined | readonly (string | undefined)[])[]) => {
        for (const result of results.flat()) if (result !== undefined) errors.push(result);
    };

    const names = namesFor(v.namePrefix, environment);

    const tags: Record<string, string> = Object.fromEntries(v.tags.map((t) => [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)]));
    Object.assign(tags, { project, stack, environment });

    if (/^1\.\d+\.\d+$/.test(v.kubernetesVersion) && !VERSION_KEEPING_CHANNELS.includes(v.autoUpgradeChannel as never)) {
        check(
            `kubernetesVersion: ${show(v.kubernetesVersion)} pins a patch release, but autoUpgradeChannel ${show(v.autoUpgradeChannel)} upgrades the cluster past it, and the next pulumi up after a refresh would try to downgrade; use major.minor (e.g. "${v.kubernetesVersion.split(".").slice(0, 2).join(".")}") or autoUpgradeChannel ${VERSION_KEEPING_CHANNELS.join(" or ")}`,
        );
    }

    const systemPool: NodePoolConfig = {
        vmSize: v.systemPoolVmSize,
        nodeCount: v.systemPoolNodeCount,
        autoscaling: v.systemPoolAutoscaling,
        minCount: v.systemPoolMinCount,
        maxCount: v.systemPoolMaxCount,
        zones: v.systemPoolZones,
    };
    const userPool: NodePoolConfig = {
        vmSize: v.userPoolVmSize,
        nodeCount: v.userPoolNodeCount,
        autoscaling: v.userPoolAutoscaling,
        minCount: v.userPoolMinCount,
        maxCount: v.userPoolMaxCount,
        zones: v.userPoolZones,
    };
    check(checkPool("systemPool", systemPool));
    check(checkPool("userPool", userPool).map((e) => (v.userPoolEnabled ? e : `${e} (checked although userPoolEnabled is false)`)));

    if (!errors.some((e) => /^(podCidr|serviceCidr):/.test(e)) && cidrsOverlap(v.podCidr, v.serviceCidr)) {
        check(`serviceCidr: ${show(v.serviceCidr)} overlaps podCidr ${show(v.podCidr)}; the two ranges must be disjoint`);
    }

    if (v.disableLocalAccounts && (!v.entraIdEnabled || v.entraAdminGroupObjectIds.length === 0)) {
        check(
            "disableLocalAccounts: true needs entraIdEnabled: true and at least one entraAdminGroupObjectIds entry; without them nobody could reach the cluster",
        );
    }
    if (environment === "prod" && !v.keyVaultPurgeProtection) {
        check("keyVaultPurgeProtection: false is not allowed for environment prod; prod Key Vaults keep purge protection on");
    }
    if (v.keyVaultNetworkAclMode === "deny" && v.keyVaultAllowedIpRanges.length === 0) {
        check(
            'keyVaultNetworkAclMode: "deny" with no keyVaultAllowedIpRanges would block the cluster; list the cluster egress IP and your own',
        );
    }
    if (environment === "prod" && v.meshMtlsMode === "PERMISSIVE") {
        check('meshMtlsMode: "PERMISSIVE" is not allowed for environment prod; the prod mesh requires STRICT mutual TLS');
    }

    const certificate = v.ingressTlsCertificate;
    const privateKey = v.ingressTlsPrivateKey;
    if (certificate !== undefined && privateKey !== undefined) {
        if (!checkHostName("ingressHost", v.ingressHost)) check(checkTlsPair(certificate, privateKey, v.ingressHost));
    } else if (certificate !== undefined || privateKey !== undefined) {
        const [given, missing] =
            certificate !== undefined
                ? ["ingressTlsCertificate", "ingressTlsPrivateKey"]
                : ["ingressTlsPrivateKey", "ingressTlsCertificate"];
        check(`${missing}: is not set but ${given} is; set both (pulumi config set --secret ${missing} < file.pem) or neither`);
    }
    check(checkRecoverySplit(v.vaultRecoveryShares, v.vaultRecoveryThreshold));
    if (environment === "prod" && !v.vaultTlsEnabled) {
        check(
            "vaultTlsEnabled: false is not allowed for environment prod; tokens and database credentials must not cross the network in clear text",
        );
    }

    // The images are the team's own builds (this repository's workflow pushes them): no default.
    const images = {} as Record<ServiceName, ImageRef>;
    for (const [service, repositoryKey, tagKey] of [
        ["product-service", "productServiceImage", "productServiceTag"],
        ["order-service", "orderServiceImage", "orderServiceTag"],
    ] as const) {
        const repository = v[repositoryKey];
        const tag = v[tagKey];
        if (repository === undefined && !set.has(repositoryKey))
            check(`${repositoryKey}: is not set; set the ${service} image repository, e.g. ghcr.io/<owner>/${service}`);
        if (tag === undefined && !set.has(tagKey)) check(`${tagKey}: is not set; set the pinned ${service} image tag, e.g. v1.0.0`);
        images[service] = { repository: repository ?? "", tag: tag ?? "" };
    }
    if (v.argocdEnabled && v.argocdRepoUrl === undefined && !set.has("argocdRepoUrl")) {
        check("argocdRepoUrl: is not set but argocdEnabled is true; set the Git repository Argo CD deploys from");
    }

    if (errors.length > 0) throw new ConfigError([...new Set(errors)]);

    const appNs = appNamespace(environment);
    return {
        project,
        stack,
        environment,
        cloud,
        kubeconfigContext: v.kubeconfigContext,
        location: v.location,
        namePrefix: v.namePrefix,
        names,
        tags,
        cluster: {
            kubernetesVersion: v.kubernetesVersion,
            tier: v.clusterTier,
            systemPool,
            userPool: v.userPoolEnabled ? userPool : undefined,
            podCidr: v.podCidr,
            serviceCidr: v.serviceCidr,
            dnsServiceIp: addressInCidr(v.serviceCidr, 10),
            autoUpgradeChannel: v.autoUpgradeChannel,
            nodeOsUpgradeChannel: v.nodeOsUpgradeChannel,
            maintenanceWindow: {
                dayOfWeek: v.maintenanceDay,
                startHour: v.maintenanceStartHour,
                durationHours: v.maintenanceDurationHours,
            },
            entraId: v.entraIdEnabled ? { adminGroupObjectIds: v.entraAdminGroupObjectIds } : undefined,
            disableLocalAccounts: v.disableLocalAccounts,
        } as PlatformConfig["cluster"],
        monitoring: { logRetentionDays: v.logRetentionDays },
        keyVault: {
            sku: v.keyVaultSku,
            softDeleteRetentionDays: v.keyVaultRetentionDays,
            purgeProtection: v.keyVaultPurgeProtection,
            networkAclMode: v.keyVaultNetworkAclMode,
            allowedIpRanges: v.keyVaultAllowedIpRanges,
        } as PlatformConfig["keyVault"],
        unsealKey: { size: v.unsealKeySize, rotationDays: v.unsealKeyRotationDays } as PlatformConfig["unsealKey"],
        identities: {
            vaultUnseal: [{ namespace: VAULT_NAMESPACE, name: "vault" }],
            // Each service runs as its own service account, named after it.
            appSecrets: SERVICE_NAMES.map((name) => ({ namespace: appNs, name })),
            ingressTls: [{ namespace: "istio-ingress", name: "istio-ingressgateway" }],
            vaultInit: environment === "prod" ? [{ namespace: VAULT_NAMESPACE, name: "vault-init" }] : [],
            vaultSnapshot: environment === "prod" ? [{ namespace: VAULT_NAMESPACE, name: "vault-snapshot" }] : [],
        },
        protectStatefulResources: environment === "prod",
        highAvailability: environment === "prod",
        mesh: { mtlsMode: v.meshMtlsMode as PlatformConfig["mesh"]["mtlsMode"] },
        secretsStore: { rotationPollInterval: v.csiRotationPollInterval },
        ingress: {
            host: v.ingressHost,
            serviceType: cloud === "azure" ? "LoadBalancer" : "NodePort",
            tls:
                certificate !== undefined && privateKey !== undefined
                    ? { certificate: pulumi.secret(certificate), privateKey: pulumi.secret(privateKey) }
                    : undefined,
        },
        workloads: {
            images,
            argocd:
                v.argocdEnabled && v.argocdRepoUrl
                    ? { repoUrl: v.argocdRepoUrl, path: v.argocdPath, revision: v.argocdRevision }
                    : undefined,
        },
        vault: {
            mode: environment === "prod" ? "ha" : "dev",
            replicas: v.vaultVoters,
            storageClass: VAULT_ZRS_STORAGE_CLASS,
            tls: environment === "prod" && v.vaultTlsEnabled,
            snapshot: { schedule: v.vaultSnapshotSchedule, retentionDays: v.vaultSnapshotRetentionDays },
            recoveryShares: v.vaultRecoveryShares,
            recoveryThreshold: v.vaultRecoveryThreshold,
        },
    };
}

/**
 * What a stack must hold to be deployed beyond valid values: prod serves a real certificate, whose PEM
 * certificate and key only an encrypted stack file can carry (`pulumi config set --secret`).
 */
export function checkDeployable(cfg: PlatformConfig): string[] {
    if (cfg.environment !== "prod" || cfg.ingress.tls) return [];
    return ["ingressTlsCertificate", "ingressTlsPrivateKey"].map(
        (key) =>
            `${key}: is not set; environment prod serves the certificate for ingressHost ${show(cfg.ingress.host)} from Key Vault: pulumi config set --secret ${key} < ${key === "ingressTlsCertificate" ? "cert.pem" : "key.pem"}`,
    );
}

/** The one service account of a binding that a single chart or Job runs as. */
export function singleServiceAccount(binding: readonly ServiceAccountRef[], what: string): ServiceAccountRef {
    if (binding.length !== 1) throw new Error(`${what}: expected exactly one service account, got ${binding.length}`);
    return binding[0];
}
