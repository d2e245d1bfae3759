// Raw stack config into one typed, validated PlatformConfig. Every problem is reported together, each
// naming the member's path, the value given and what is allowed; nothing is registered before this has
// passed. Each member's own rule is the key table's (keys.ts); the rules across members are rules.ts's.
import * as pulumi from "@pulumi/pulumi";
import { NAMESPACES, SERVICE_ACCOUNTS } from "../topology";
import {
    appNamespace,
    cloudOf,
    AZURE_RESERVED_SUBNET_ADDRESSES,
    CONTAINER_APPS_DELEGATION,
    ciRunnerLabel,
    ENVIRONMENTS,
    IMAGE_SOURCES,
    POLICY_EFFECTS,
    SERVICE_NAMES,
    VAULT_NAMESPACE,
    VAULT_ZRS_STORAGE_CLASS,
    type Environment,
} from "./constants";
import { namesFor } from "./names";
import { ENVIRONMENT_PATH, P } from "./paths";
import { ConfigError, type Raw } from "./read";
import { crossKeyProblems, missingForDeploy, missingImages, missingRunner, nodePoolConfig, serviceImages, subnetRanges } from "./rules";
import type { IngressWafConfig, PlatformConfig, ServiceAccountRef } from "./types";
import { addressInCidr, show } from "./validators";
import { isConfigPath, specOf, type ConfigValues } from "./keys";
import { readValues } from "./read";
import { HIDDEN, membersSet, parseTopLevel } from "./schema";

/**
 * The environment: the `environment` key, else the stack name when that is one. `secret`: the key
 * arrived encrypted, so a refused value is not shown.
 */
function environmentOf(raw: Raw, stack: string, secret: boolean): Environment {
    const text = raw[ENVIRONMENT_PATH] ?? ((ENVIRONMENTS as readonly string[]).includes(stack) ? stack : undefined);
    if (text === undefined) {
        throw new ConfigError([
            `${ENVIRONMENT_PATH}: is not set and the stack name ${show(stack)} is not one of ${ENVIRONMENTS.join(", ")}; set it with pulumi config set ${ENVIRONMENT_PATH} dev`,
        ]);
    }
    if (!(ENVIRONMENTS as readonly string[]).includes(text)) {
        const shown = secret && raw[ENVIRONMENT_PATH] !== undefined ? HIDDEN : show(text);
        throw new ConfigError([`${ENVIRONMENT_PATH}: ${shown} is not allowed; use one of ${ENVIRONMENTS.join(", ")}`]);
    }
    return text as Environment;
}

/** Every string in `value` (itself, or the leaves of a list or mapping). */
function stringsIn(value: unknown): string[] {
    if (typeof value === "string") return [value];
    if (Array.isArray(value)) return value.flatMap(stringsIn);
    if (value !== null && typeof value === "object") return Object.values(value).flatMap(stringsIn);
    return [];
}

/**
 * The texts of `raw` that may be secret: every string (a list's items, a mapping's leaves) of a
 * top-level key that arrived secret, since the CLI marks a whole group secret when any one leaf is and
 * does not say which (pulumi/pulumi sdk/go/common/resource/config/object.go `object.Secure`); every
 * value of a member the table marks secret, wherever it arrived; and a secret `environment`'s text.
 */
function secretTexts(raw: Raw, isSecret: (topLevelKey: string) => boolean): string[] {
    const texts: string[] = [];
    for (const [key, text] of Object.entries(raw)) {
        if (text === undefined) continue;
        if (key === ENVIRONMENT_PATH) {
            if (isSecret(key)) texts.push(text);
            continue;
        }
        const value = parseTopLevel(text);
        if (isSecret(key)) texts.push(...stringsIn(value));
        const members = membersSet(value);
        for (const [member, memberValue] of Object.entries(members)) {
            const path = `${key}.${member}`;
            if (isConfigPath(path) && specOf(path).secret === true) {
                texts.push(...stringsIn(memberValue));
                if (typeof memberValue === "number" || typeof memberValue === "boolean") texts.push(String(memberValue));
            }
        }
    }
    return [...new Set(texts)].filter((t) => t.length > 0).sort((a, b) => b.length - a.length);
}

/** How short a text may be and still be left in a message where it stands bare (not JSON-quoted). */
const SHORTEST_HIDDEN_BARE = 8;

/**
 * The safety net under every message: each text that may be secret (secretTexts) is replaced by HIDDEN
 * where it stands JSON-quoted, as show() writes a value, and, when it is at least 8 characters, where
 * it stands bare. A short value (a zone "1", a mode "On") stays readable where it is only a word of the
 * message; the messages that show a secret member's value never show it in the first place.
 */
export function scrubSecrets(problems: readonly string[], raw: Raw, isSecret: (topLevelKey: string) => boolean): string[] {
    const texts = secretTexts(raw, isSecret);
    if (texts.length === 0) return [...problems];
    return problems.map((problem) => {
        let scrubbed = problem;
        for (const text of texts) {
            scrubbed = scrubbed.split(show(text)).join(HIDDEN);
            if (text.length >= SHORTEST_HIDDEN_BARE) scrubbed = scrubbed.split(text).join(HIDDEN);
        }
        return scrubbed;
    });
}

/**
 * Whether a top-level key arrived secret, for hiding values where the caller did not say (the tests and
 * the offline tools): a group that holds a member the table marks secret is taken to have arrived
 * secret when the stack sets that member, as the CLI would have it when the member is `secure:`.
 */
function assumedSecret(raw: Raw): (topLevelKey: string) => boolean {
    return (key) => {
        const text = raw[key];
        if (text === undefined || key === ENVIRONMENT_PATH) return false;
        return Object.keys(membersSet(parseTopLevel(text))).some((member) => {
            const path = `${key}.${member}`;
            return isConfigPath(path) && specOf(path).secret === true;
        });
    };
}

function activeSubnets(v: ConfigValues): PlatformConfig["network"]["subnets"] {
    const s = subnetRanges(v);
    return {
        system: v.network.systemSubnetCidr,
        user: s[P.network.userSubnetCidr],
        privateEndpoints: v.network.privateEndpointSubnetCidr,
        apiServer: s[P.apiServer.subnetCidr],
        runner: s[P.network.runnerSubnetCidr],
        firewall: s[P.network.firewallSubnetCidr],
        appGateway: s[P.ingress.appGatewaySubnetCidr],
        ingressLb: s[P.ingress.lbSubnetCidr],
    };
}

export interface ParseOptions {
    /**
     * Whether a top-level key (`environment` or a group) arrived encrypted; a group with a secret member
     * that is set must. Default: every key did.
     */
    readonly isSecret?: (topLevelKey: string) => boolean;
    /**
     * Also require what a deploy needs beyond valid values (missingForDeploy: prod's certificate and
     * key), reported in the same round as every other problem. Default false: the offline plan and
     * the tests parse prod without them.
     */
    readonly deployable?: boolean;
}

/**
 * Parses and validates raw stack configuration (top-level key -> the CLI's string, JSON for a group)
 * for `stack` of `project`. Throws ConfigError listing every problem; unknown keys are problems too
 * (they are usually typos).
 */
export function parseConfig(raw: Raw, project: string, stack: string, options: ParseOptions = {}): PlatformConfig {
    const hiding = options.isSecret ?? assumedSecret(raw);
    const environment = (() => {
        try {
            return environmentOf(raw, stack, hiding(ENVIRONMENT_PATH));
        } catch (error) {
            if (error instanceof ConfigError) throw new ConfigError(scrubSecrets(error.problems, raw, hiding));
            throw error;
        }
    })();
    const cloud = cloudOf(environment);
    const { values: v, set, errors: reported, malformed } = readValues(raw, environment, options.isSecret ?? (() => true));
    const errors = [
        ...reported,
        ...crossKeyProblems({ v, set, environment, cloud, reported, malformed, deployable: options.deployable ?? false }),
    ];

    const names = namesFor(v.azure.namePrefix, environment);

    const tags: Record<string, string> = Object.fromEntries(
        v.azure.tags.map((t) => [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)]),
    );
    Object.assign(tags, { project, stack, environment });

    const systemPool = nodePoolConfig(v, set, "systemPool");
    const userPool = nodePoolConfig(v, set, "userPool");
    const certificate = v.ingress.tlsCertificate;
    const privateKey = v.ingress.tlsPrivateKey;
    const imageSource = v.services.imageSource as (typeof IMAGE_SOURCES)[number];
    const { images, anyImage } = serviceImages(v, set);

    if (errors.length > 0) throw new ConfigError([...new Set(scrubSecrets(errors, raw, hiding))]);

    const appNs = appNamespace(environment);
    // Vault raft x3 with TLS, initialised by the init Job: prod, and the local stack in ha mode (issue 20 item 8).
    const vaultHa = environment === "prod" || (cloud === "none" && v.local.vaultMode === "ha");
    return {
        project,
        stack,
        environment,
        cloud,
        kubeconfigContext: v.local.kubeconfigContext,
        localCluster: { podCidr: v.local.podCidr, serviceCidr: v.local.serviceCidr, apiServerPort: v.local.apiServerPort },
        location: v.azure.location,
        namePrefix: v.azure.namePrefix,
        names,
        tags,
        cluster: {
            kubernetesVersion: v.cluster.kubernetesVersion,
            tier: v.cluster.tier,
            systemPool,
            userPool: v.userPool.enabled ? userPool : undefined,
            podCidr: v.network.podCidr,
            serviceCidr: v.network.serviceCidr,
            dnsServiceIp: addressInCidr(v.network.serviceCidr, 10),
            autoUpgradeChannel: v.cluster.autoUpgradeChannel,
            nodeOsUpgradeChannel: v.cluster.nodeOsUpgradeChannel,
            maintenanceWindow: {
                dayOfWeek: v.cluster.maintenanceDay,
                startHour: v.cluster.maintenanceStartHour,
                durationHours: v.cluster.maintenanceDurationHours,
            },
            entraId: v.access.entraIdEnabled
                ? {
                      adminGroupObjectIds: v.access.entraAdminGroupObjectIds,
                      deployerObjectId: v.access.deployerObjectId,
                      previewerObjectId: v.access.previewerObjectId,
                  }
                : undefined,
            disableLocalAccounts: v.access.disableLocalAccounts,
            apiServer: {
                authorizedIpRanges: v.apiServer.authorizedIpRanges,
                vnetIntegration: v.apiServer.vnetIntegration,
                private: v.apiServer.private,
            },
        } as PlatformConfig["cluster"],
        network: {
            addressSpace: v.network.vnetAddressSpace,
            subnets: activeSubnets(v),
            runnerDelegation: v.ciRunner.enabled ? CONTAINER_APPS_DELEGATION : undefined,
            wafIngress: v.ingress.waf,
            perZoneNodePools: v.network.perZoneNodePools,
            egress: { type: v.network.egressType, natGatewayPublicIpCount: v.network.natGatewayPublicIpCount },
            ddosProtection:
                v.network.ddosProtection === "create"
                    ? { mode: "create" }
                    : v.network.ddosProtection === "existing" && v.network.ddosProtectionPlanId !== undefined
                      ? { mode: "existing", planId: v.network.ddosProtectionPlanId }
                      : undefined,
        } as PlatformConfig["network"],
        monitoring: {
            logRetentionDays: v.monitoring.logRetentionDays,
            kubeApiServerLogs: v.monitoring.kubeApiServerLogs,
            kubeAuditReads: v.monitoring.kubeAuditReads,
            alertReceiver:
                v.monitoring.alertEmail !== undefined || v.monitoring.alertWebhookUrl !== undefined
                    ? {
                          email: v.monitoring.alertEmail,
                          webhookUrl: v.monitoring.alertWebhookUrl === undefined ? undefined : pulumi.secret(v.monitoring.alertWebhookUrl),
                      }
                    : undefined,
            managedPrometheus: v.monitoring.managedPrometheus,
        },
        governance: {
            azurePolicy: v.governance.azurePolicyEnabled
                ? { effect: v.governance.podSecurityPolicyEffect as (typeof POLICY_EFFECTS)[number] }
                : undefined,
            defender: v.governance.defenderEnabled,
        },
        keyVault: {
            sku: v.keyVault.sku,
            softDeleteRetentionDays: v.keyVault.retentionDays,
            purgeProtection: v.keyVault.purgeProtection,
            networkAclMode: v.keyVault.networkAclMode,
            allowedIpRanges: v.keyVault.allowedIpRanges,
            privateEndpoints: v.keyVault.privateEndpoints,
            publicNetworkAccess: v.keyVault.publicNetworkAccess,
        } as PlatformConfig["keyVault"],
        registry: {
            mode: v.registry.mode,
            id: v.registry.id,
            privateEndpoint: v.registry.privateEndpoint,
            publicNetworkAccess: v.registry.publicNetworkAccess,
        } as PlatformConfig["registry"],
        backupStorage: { privateEndpoint: v.backupStorage.privateEndpoint, publicNetworkAccess: v.backupStorage.publicNetworkAccess },
        resourceLocks: v.governance.resourceLocks,
        ciRunner:
            cloud === "azure" && v.ciRunner.enabled
                ? {
                      repository: v.ciRunner.repository,
                      githubToken: v.ciRunner.githubToken === undefined ? undefined : pulumi.secret(v.ciRunner.githubToken),
                      label: ciRunnerLabel(environment),
                      maxRunners: v.ciRunner.maxRunners,
                  }
                : undefined,
        unsealKey: { size: v.keyVault.unsealKeySize, rotationDays: v.keyVault.unsealKeyRotationDays } as PlatformConfig["unsealKey"],
        identities: {
            vaultUnseal: [{ namespace: VAULT_NAMESPACE, name: "vault" }],
            // Each service runs as its own service account, named after it.
            appSecrets: SERVICE_NAMES.map((name) => ({ namespace: appNs, name })),
            ingressTls: [{ namespace: NAMESPACES.ingress, name: SERVICE_ACCOUNTS.ingressGateway }],
            vaultInit: vaultHa ? [{ namespace: VAULT_NAMESPACE, name: "vault-init" }] : [],
            // Beside MongoDB, whose root Secret it reads; only where there is backup storage (Azure).
            mongoBackup: cloud === "azure" ? [{ namespace: appNs, name: "mongodb-backup" }] : [],
            vaultSnapshot: vaultHa ? [{ namespace: VAULT_NAMESPACE, name: "vault-snapshot" }] : [],
            vaultTlsRenew: environment === "prod" && v.vault.tlsEnabled ? [{ namespace: VAULT_NAMESPACE, name: "vault-tls-renew" }] : [],
        },
        protectStatefulResources: environment === "prod",
        highAvailability: environment === "prod",
        mesh: { mtlsMode: v.mesh.mtlsMode as PlatformConfig["mesh"]["mtlsMode"] },
        secretsStore: { rotationPollInterval: v.keyVault.csiRotationPollInterval },
        ingress: {
            host: v.ingress.host,
            serviceType: cloud === "azure" ? "LoadBalancer" : "NodePort",
            tls:
                certificate !== undefined && privateKey !== undefined
                    ? { certificate: pulumi.secret(certificate), privateKey: pulumi.secret(privateKey) }
                    : undefined,
            waf:
                cloud === "azure" && v.ingress.waf
                    ? {
                          mode: v.ingress.wafMode as IngressWafConfig["mode"],
                          minCapacity: v.ingress.appGatewayMinCapacity,
                          maxCapacity: v.ingress.appGatewayMaxCapacity,
                          // Azure keeps a subnet's first four addresses: the fifth is the first a frontend may take.
                          internalLoadBalancerIp: addressInCidr(v.ingress.lbSubnetCidr, AZURE_RESERVED_SUBNET_ADDRESSES - 1),
                      }
                    : undefined,
        },
        workloads: {
            imageSource,
            images: anyImage ? images : undefined,
            imageSourceCredentials:
                imageSource === "import" && v.services.imageSourceUsername !== undefined && v.services.imageSourceToken !== undefined
                    ? { username: v.services.imageSourceUsername, token: pulumi.secret(v.services.imageSourceToken) }
                    : undefined,
            argocd:
                v.argocd.enabled && v.argocd.repoUrl
                    ? { repoUrl: v.argocd.repoUrl, path: v.argocd.path, revision: v.argocd.revision }
                    : undefined,
        },
        mongo: {
            backup:
                cloud === "azure" ? { schedule: v.mongodb.backupSchedule.trim(), retentionDays: v.mongodb.backupRetentionDays } : undefined,
        },
        vault: {
            mode: vaultHa ? "ha" : "dev",
            replicas: v.vault.voters,
            storageClass: VAULT_ZRS_STORAGE_CLASS,
            // local ha: always (vault.tlsEnabled configures Key Vault's certificate and is an Azure key).
            tls: (environment === "prod" && v.vault.tlsEnabled) || (vaultHa && cloud === "none"),
            snapshot: {
                schedule: v.vault.snapshotSchedule,
                retentionDays: v.vault.snapshotRetentionDays,
                keepLast: v.vault.snapshotKeepLast,
            },
            operatorGroups: v.vault.operatorGroups,
            recoveryShares: v.vault.recoveryShares,
            recoveryThreshold: v.vault.recoveryThreshold,
        },
    };
}

/**
 * What a stack must hold to be deployed beyond valid values: prod serves a real certificate, whose PEM
 * certificate and key only an encrypted stack file can carry (`pulumi config set --path --secret`).
 */
export function checkDeployable(cfg: PlatformConfig): string[] {
    return [
        ...missingForDeploy(cfg.environment, cfg.ingress.host, cfg.ingress.tls !== undefined),
        ...missingImages(cfg.workloads.imageSource, cfg.workloads.images !== undefined, cfg.workloads.argocd !== undefined),
        ...missingRunner(cfg.ciRunner !== undefined, cfg.ciRunner?.repository, cfg.ciRunner?.githubToken === undefined ? undefined : "set"),
    ];
}

/** The one service account of a binding that a single chart or Job runs as. */
export function singleServiceAccount(binding: readonly ServiceAccountRef[], what: string): ServiceAccountRef {
    if (binding.length !== 1) throw new Error(`${what}: expected exactly one service account, got ${binding.length}`);
    return binding[0];
}
