import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import {
    addressInCidr,
    checkCidr,
    checkKeyVaultName,
    checkKubernetesVersion,
    checkTag,
    CONFIG_KEYS,
    parseConfig,
} from "../components/config";
import {
    configProblems,
    documentedNames,
    evaluateStack,
    EvaluationError,
    PROJECT,
    ROOT,
    stackRaw,
    itRejectsConfig,
    type BadConfigRow,
} from "./harness";

const rawOf = stackRaw;
const problemsOf = configProblems;

describe("config", () => {
    describe("the committed stacks", () => {
        it("dev parses to a small, cheap cluster", () => {
            const cfg = parseConfig(rawOf("dev"), PROJECT, "dev");
            assert.equal(cfg.environment, "dev");
            assert.equal(cfg.cluster.tier, "Free");
            assert.equal(cfg.cluster.systemPool.nodeCount, 2);
            assert.equal(cfg.cluster.systemPool.autoscaling, false);
            assert.deepEqual(cfg.cluster.systemPool.zones, []);
            assert.equal(cfg.cluster.userPool, undefined);
            assert.equal(cfg.keyVault.purgeProtection, false);
            assert.equal(cfg.keyVault.softDeleteRetentionDays, 7);
            assert.equal(cfg.protectStatefulResources, false);
            assert.deepEqual(cfg.tags, { owner: "platform-team", project: PROJECT, stack: "dev", environment: "dev" });
        });

        it("prod parses to a zoned, autoscaled, protected cluster", () => {
            const cfg = parseConfig(rawOf("prod"), PROJECT, "prod");
            assert.equal(cfg.environment, "prod");
            assert.equal(cfg.cluster.tier, "Standard");
            assert.deepEqual(cfg.cluster.systemPool, {
                vmSize: "Standard_D4s_v5",
                nodeCount: 3,
                autoscaling: true,
                minCount: 3,
                maxCount: 5,
                zones: ["1", "2", "3"],
            });
            assert.ok(cfg.cluster.userPool, "prod has a user pool");
            assert.equal(cfg.cluster.userPool.maxCount, 10);
            assert.equal(cfg.cluster.autoUpgradeChannel, "patch");
            assert.equal(cfg.cluster.nodeOsUpgradeChannel, "NodeImage");
            assert.deepEqual(cfg.cluster.maintenanceWindow, { dayOfWeek: "Sunday", startHour: 2, durationHours: 4 });
            assert.equal(cfg.keyVault.purgeProtection, true);
            assert.equal(cfg.keyVault.softDeleteRetentionDays, 90);
            assert.equal(cfg.unsealKey.size, 4096);
            assert.equal(cfg.unsealKey.rotationDays, 365);
            assert.equal(cfg.protectStatefulResources, true);
        });

        it("derives names from the prefix and environment, and the DNS IP from the service CIDR", () => {
            const cfg = parseConfig({ ...rawOf("prod"), namePrefix: "shop", serviceCidr: "172.16.0.0/16" }, PROJECT, "prod");
            assert.equal(cfg.names.resourceGroup, "shop-prod-rg");
            assert.equal(cfg.names.cluster, "shop-prod-aks");
            assert.equal(cfg.names.appVaultStem, "shop-prod-app");
            assert.equal(cfg.names.unsealVaultStem, "shop-prod-seal");
            assert.equal(cfg.cluster.dnsServiceIp, "172.16.0.10");
        });

        it("binds each identity to service accounts in the environment's namespace", () => {
            const cfg = parseConfig(rawOf("prod"), PROJECT, "prod");
            assert.deepEqual(
                cfg.identities.appSecrets.map((sa) => sa.namespace),
                ["microservices-prod", "microservices-prod"],
            );
            assert.deepEqual(cfg.identities.vaultUnseal, [{ namespace: "vault", name: "vault" }]);
        });

        it("takes the environment from config when the stack has another name", () => {
            assert.equal(parseConfig({ ...rawOf("prod"), environment: "prod" }, PROJECT, "staging").environment, "prod");
        });
    });

    describe("Pulumi.yaml schema", () => {
        const schema: Record<string, { type: string; description?: string; items?: { type: string } }> = parse(
            fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"),
        ).config;

        it("declares exactly the keys the program reads, with the same types", () => {
            const declared = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, v.type]));
            assert.deepEqual(declared, { ...CONFIG_KEYS });
        });

        it("describes every key, and says what its default is", () => {
            for (const [key, decl] of Object.entries(schema)) {
                assert.ok(decl.description && /Default/.test(decl.description), `${key} needs a description with its default`);
                if (decl.type === "array") assert.equal(decl.items?.type, "string", `${key} items`);
            }
        });

        it("the README documents every key", () => {
            const documented = documentedNames("Configuration");
            for (const key of Object.keys(CONFIG_KEYS)) assert.ok(documented.includes(key), `README does not document config key ${key}`);
        });

        it("stack files set only declared keys", () => {
            for (const stack of ["dev", "prod"]) {
                for (const key of Object.keys(rawOf(stack))) assert.ok(key in CONFIG_KEYS, `${stack}: ${key}`);
            }
        });
    });

    describe("bad configuration is rejected with the key, the value and what is allowed", () => {
        // Each row: config on top of the dev stack (or prod where named), and fragments that the one
        // resulting message must contain.
        const rows: BadConfigRow[] = [
            { name: "unknown environment", raw: { environment: "staging" }, expect: ["environment", '"staging"', "dev, prod"] },
            { name: "region with a space", raw: { location: "East US" }, expect: ["location", '"East US"', "eastus"] },
            { name: "prefix with upper case", raw: { namePrefix: "MyApp" }, expect: ["namePrefix", '"MyApp"', "lowercase"] },
            { name: "prefix longer than 12", raw: { namePrefix: "verylongprefix" }, expect: ["namePrefix", '"verylongprefix"', "2-12"] },
            {
                name: "Key Vault name over 24 characters",
                raw: { namePrefix: "platformteam" },
                expect: ["namePrefix", '"platformteam-dev-seal-xxxx"', "26 characters", "3-24"],
            },
            { name: "old Kubernetes", raw: { kubernetesVersion: "1.27" }, expect: ["kubernetesVersion", '"1.27"', "1.31 or newer"] },
            {
                name: "garbled Kubernetes version",
                raw: { kubernetesVersion: "v1.33" },
                expect: ["kubernetesVersion", '"v1.33"', "major.minor"],
            },
            { name: "unknown tier", raw: { clusterTier: "Gold" }, expect: ["clusterTier", '"Gold"', "Free, Standard, Premium"] },
            {
                name: "VM size without Standard_",
                raw: { systemPoolVmSize: "D4s_v5" },
                expect: ["systemPoolVmSize", '"D4s_v5"', "Standard_D4s_v5"],
            },
            { name: "zero nodes", raw: { systemPoolNodeCount: "0" }, expect: ["systemPoolNodeCount", "0", "1 to 100"] },
            {
                name: "node count not a number",
                raw: { systemPoolNodeCount: "three" },
                expect: ["systemPoolNodeCount", '"three"', "whole number"],
            },
            {
                name: "autoscaler minimum above maximum",
                raw: { systemPoolAutoscaling: "true", systemPoolMinCount: "5", systemPoolMaxCount: "2", systemPoolNodeCount: "3" },
                expect: ["systemPoolMinCount", "5", "systemPoolMaxCount 2", "at most the maximum"],
            },
            {
                name: "initial count outside the autoscaler bounds",
                raw: { userPoolEnabled: "true", userPoolMinCount: "3", userPoolMaxCount: "5", userPoolNodeCount: "8" },
                expect: ["userPoolNodeCount", "8", "3..5"],
            },
            { name: "zone 4", raw: { systemPoolZones: '["1","4"]' }, expect: ["systemPoolZones", '["1","4"]', '"1", "2", "3"'] },
            { name: "zones not a list", raw: { systemPoolZones: "1,2,3" }, expect: ["systemPoolZones", '"1,2,3"', "YAML list"] },
            { name: "boolean spelled yes", raw: { userPoolEnabled: "yes" }, expect: ["userPoolEnabled", '"yes"', "true or false"] },
            { name: "retention below 7", raw: { keyVaultRetentionDays: "3" }, expect: ["keyVaultRetentionDays", "3", "7 to 90"] },
            { name: "retention above 90", raw: { keyVaultRetentionDays: "120" }, expect: ["keyVaultRetentionDays", "120", "7 to 90"] },
            {
                name: "purge protection off in prod",
                raw: { keyVaultPurgeProtection: "false" },
                stack: "prod",
                expect: ["keyVaultPurgeProtection", "false", "prod"],
            },
            { name: "unseal key 1024 bits", raw: { unsealKeySize: "1024" }, expect: ["unsealKeySize", "1024", "2048, 3072, 4096"] },
            { name: "rotation every day", raw: { unsealKeyRotationDays: "1" }, expect: ["unsealKeyRotationDays", "1", "28 to 730"] },
            {
                name: "unknown ACL mode",
                raw: { keyVaultNetworkAclMode: "block" },
                expect: ["keyVaultNetworkAclMode", '"block"', "allow, deny"],
            },
            {
                name: "deny with nobody allowed",
                raw: { keyVaultNetworkAclMode: "deny" },
                expect: ["keyVaultNetworkAclMode", '"deny"', "keyVaultAllowedIpRanges"],
            },
            {
                name: "allowed range not an address",
                raw: { keyVaultNetworkAclMode: "deny", keyVaultAllowedIpRanges: '["10.0.0.300/24"]' },
                expect: ["keyVaultAllowedIpRanges", '"10.0.0.300/24"', "CIDR"],
            },
            { name: "tag without =", raw: { tags: '["owner"]' }, expect: ["tags", '"owner"', "key=value"] },
            {
                name: "service CIDR overlapping pods",
                raw: { podCidr: "10.0.0.0/8", serviceCidr: "10.1.0.0/16" },
                expect: ["serviceCidr", '"10.1.0.0/16"', "podCidr", "disjoint"],
            },
            {
                name: "maintenance window of two hours",
                raw: { maintenanceDurationHours: "2" },
                expect: ["maintenanceDurationHours", "2", "4 to 24"],
            },
            { name: "maintenance on a holiday", raw: { maintenanceDay: "Caturday" }, expect: ["maintenanceDay", '"Caturday"', "Monday"] },
            {
                name: "unknown upgrade channel",
                raw: { autoUpgradeChannel: "latest" },
                expect: ["autoUpgradeChannel", '"latest"', "patch, stable"],
            },
            {
                name: "local accounts off without Entra ID",
                raw: { disableLocalAccounts: "true" },
                expect: ["disableLocalAccounts", "true", "entraIdEnabled", "entraAdminGroupObjectIds"],
            },
            {
                name: "admin group not a GUID",
                raw: { entraIdEnabled: "true", entraAdminGroupObjectIds: '["admins"]' },
                expect: ["entraAdminGroupObjectIds", '"admins"', "GUID"],
            },
            { name: "log retention of a week", raw: { logRetentionDays: "7" }, expect: ["logRetentionDays", "7", "30 to 730"] },
            {
                name: "misspelt key",
                raw: { kubernetesVerison: "1.33" },
                expect: ["kubernetesVerison", "not a config key", "kubernetesVersion"],
            },
        ];

        itRejectsConfig(rows);

        it("reports every problem at once", () => {
            const problems = problemsOf({ ...rawOf("dev"), location: "East US", unsealKeySize: "1000", clusterTier: "Gold" });
            assert.equal(problems.length, 3, problems.join("\n"));
        });

        it("a stack that is neither dev nor prod must say which it is", () => {
            const problems = problemsOf(rawOf("dev"), "feature-x");
            assert.equal(problems.length, 1);
            assert.match(problems[0], /environment: is not set and the stack name "feature-x"/);
        });

        it("fails before any resource is registered", async () => {
            const failure = await evaluateStack("prod", { keyVaultPurgeProtection: "false" }).then(
                () => assert.fail("the program accepted purge protection off in prod"),
                (error: unknown) => error,
            );
            assert.ok(failure instanceof EvaluationError, String(failure));
            // index.ts loads its own copy of the config module, so compare by name, not by class.
            assert.equal((failure.cause as Error).name, "ConfigError");
            assert.match(failure.message, /keyVaultPurgeProtection: false is not allowed for environment prod/);
            assert.deepEqual(failure.resources, []);
        });
    });

    describe("validators", () => {
        it("Key Vault names", () => {
            for (const good of ["abc", "gitops-dev-app-x1y2", "a".repeat(24)]) assert.equal(checkKeyVaultName("k", good), undefined, good);
            for (const bad of ["ab", "a".repeat(25), "1abc", "abc-", "a--b", "a_b"]) assert.ok(checkKeyVaultName("k", bad), bad);
        });

        it("Kubernetes versions", () => {
            for (const good of ["1.31", "1.33", "1.34.2"]) assert.equal(checkKubernetesVersion("k", good), undefined, good);
            for (const bad of ["1.30", "2.0", "1.33.", "latest", ""]) assert.ok(checkKubernetesVersion("k", bad), bad);
        });

        it("CIDRs and addresses", () => {
            for (const good of ["10.0.0.0/16", "203.0.113.7", "0.0.0.0/0"]) assert.equal(checkCidr("k", good), undefined, good);
            for (const bad of ["10.0.0.0/33", "256.0.0.0/8", "10.0.0/16", "::1"]) assert.ok(checkCidr("k", bad), bad);
            assert.equal(addressInCidr("10.0.0.0/16", 10), "10.0.0.10");
            assert.equal(addressInCidr("192.168.255.250/24", 10), "192.169.0.4");
        });

        it("tags", () => {
            for (const good of ["owner=team", "empty=", "url=https://x/y"]) assert.equal(checkTag("k", good), undefined, good);
            for (const bad of ["novalue", "=v", "a/b=c", `${"k".repeat(513)}=v`]) assert.ok(checkTag("k", bad), bad);
        });
    });
});
