import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { CONFIG_DOC, GENERATED } from "../tools/configDocs";
import { documentedNames } from "./docText";
import {
    addressInCidr,
    ConfigError,
    defaultOf,
    CONFIG_PATHS,
    maxNamePrefixLength,
    specOf,
    type ConfigPath,
    checkCidr,
    checkKeyVaultName,
    checkKubernetesVersion,
    checkTag,
    parseConfig,
} from "../components/config";
import {
    configProblems,
    evaluateStack,
    EvaluationError,
    PROJECT,
    ROOT,
    stackRaw,
    itRejectsConfig,
    type BadConfigRow,
    withOverrides,
} from "./harness";

const rawOf = stackRaw;
/** The top-level keys of `paths` in their order: environment, or the group of "group.member". */
const topLevelKeys = (paths: readonly string[]) => [...new Set(paths.map((p) => p.split(".")[0]))];
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
                vmSize: "Standard_D4ds_v5",
                nodeCount: 3,
                autoscaling: true,
                minCount: 3,
                maxCount: 5,
                zones: ["1", "2", "3"],
                // mspnp/aks-baseline's ephemeral OS disks, on a size with a 150 GiB local disk.
                osDiskType: "Ephemeral",
                osDiskSizeGb: 128,
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
            const cfg = parseConfig(
                withOverrides(rawOf("prod"), { "azure.namePrefix": "shop", "network.serviceCidr": "172.16.0.0/16" }),
                PROJECT,
                "prod",
            );
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
            assert.equal(parseConfig(withOverrides(rawOf("prod"), { environment: "prod" }), PROJECT, "staging").environment, "prod");
        });
    });

    describe("the key table", () => {
        it("is the only list of keys: Pulumi.yaml's template.config and docs/configuration.md's table are generated from it", () => {
            for (const [file, render] of Object.entries(GENERATED)) {
                const current = fs.readFileSync(path.join(ROOT, file), "utf8");
                assert.equal(current, render(current), `${file} is not current: run npm run config:docs`);
            }
            const template = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")).template.config;
            // template.config: one entry per top-level key (environment, then each group), as `pulumi new`
            // stores an answer under the key it prompted for; the reference: one row per path.
            assert.deepEqual(Object.keys(template), topLevelKeys(CONFIG_PATHS));
            assert.deepEqual(documentedNames(CONFIG_DOC, "## Keys"), CONFIG_PATHS);
        });

        it("Pulumi.yaml declares no project config, so the CLI requires and injects nothing", () => {
            const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
            assert.equal(project.config, undefined);
        });

        it("marks exactly the TLS pair, the alert webhook, the image source token and the runner token secret, in the table and (by their groups) in template.config", () => {
            const template = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")).template.config;
            const secret = CONFIG_PATHS.filter((k) => specOf(k).secret);
            assert.deepEqual([...secret].sort(), [
                "ciRunner.githubToken",
                "ingress.tlsCertificate",
                "ingress.tlsPrivateKey",
                "monitoring.alertWebhookUrl",
                "services.imageSourceToken",
            ]);
            // A group holding a secret member is marked secret in template.config (the program requires such a
            // group to arrive secret).
            assert.deepEqual(
                Object.keys(template).filter((k) => template[k].secret),
                topLevelKeys(secret),
            );
        });

        it("gives every key with a per-environment default a value for dev and prod, of the key's type", () => {
            const typeOf = (v: unknown) => (Array.isArray(v) ? "array" : typeof v === "number" ? "integer" : typeof v);
            for (const key of CONFIG_PATHS) {
                const spec = specOf(key);
                for (const environment of ["dev", "prod", "local"] as const) {
                    const d = defaultOf(key, environment);
                    if (d === undefined) assert.ok(spec.defaultText, `${key} has neither a default nor a defaultText`);
                    else assert.equal(typeOf(d), spec.type, `${key} default on ${environment}`);
                }
            }
        });

        it("every switch a key names is a boolean key", () => {
            for (const key of CONFIG_PATHS) {
                const enabledBy = specOf(key).enabledBy;
                if (enabledBy) assert.equal(specOf(enabledBy as ConfigPath).type, "boolean", key);
            }
        });

        it("the committed stacks set only known keys", () => {
            for (const stack of ["dev", "prod", "local"]) {
                // Top-level keys are `environment` and the groups; every member of a group is a known path.
                const known = new Set<string>(CONFIG_PATHS);
                for (const [key, text] of Object.entries(rawOf(stack))) {
                    if (key === "environment") continue;
                    const members = Object.keys(JSON.parse(text ?? "{}") as Record<string, unknown>);
                    assert.ok(members.length > 0, `${stack}: ${key} is not a group`);
                    for (const member of members) assert.ok(known.has(`${key}.${member}`), `${stack}: ${key}.${member}`);
                }
            }
        });

        it("rejects a group holding a secret member that arrived in plain text", () => {
            // PULUMI_CONFIG_SECRET_KEYS names top-level keys only (pulumi/pulumi sdk/go/common/resource/config/
            // object.go, object.Secure()): a group with a secret member set must be among them; which leaf was
            // not encrypted cannot be told, so the message names the group's secret members that are set.
            const problems = (() => {
                try {
                    parseConfig(rawOf("prod"), PROJECT, "prod", { isSecret: (key) => key !== "ingress" });
                    return [];
                } catch (error) {
                    return [...(error as ConfigError).problems];
                }
            })();
            // Both secret members prod sets in the group are named, each with its own command; no PEM text.
            assert.deepEqual(
                [...problems].sort(),
                ["ingress.tlsCertificate", "ingress.tlsPrivateKey"].map(
                    (path) =>
                        `${path}: (value not shown) is set in plain text; it is a secret: pulumi config set --path --secret ${path} < file.pem`,
                ),
            );
        });

        it("names the nearest key for a typo, and none for a word far from every key", () => {
            const member = problemsOf(withOverrides(rawOf("dev"), { "cluster.kubernetesVerison": "1.36" })).join("\n");
            assert.match(member, /^cluster\.kubernetesVerison: .*did you mean cluster\.kubernetesVersion\?/m);
            const group = problemsOf({ ...rawOf("dev"), clustr: JSON.stringify({ tier: "Free" }) }).join("\n");
            assert.match(group, /^clustr: .*did you mean cluster\?/m);
            const far = problemsOf({ ...rawOf("dev"), colour: "blue" });
            assert.equal(far.length, 1, far.join("\n"));
            assert.match(far[0], /^colour: is not a config key/);
            assert.doesNotMatch(far[0], /did you mean/);
        });

        it("states the real namePrefix maximum per environment: 10 on dev, 9 on prod", () => {
            assert.equal(maxNamePrefixLength("dev"), 10);
            assert.equal(maxNamePrefixLength("prod"), 9);
            for (const environment of ["dev", "prod"] as const) {
                const longest = "a".repeat(maxNamePrefixLength(environment));
                const stem = parseConfig(withOverrides(rawOf(environment), { "azure.namePrefix": longest }), PROJECT, environment).names
                    .unsealVaultStem;
                assert.equal(checkKeyVaultName("namePrefix", `${stem}-xxxx`), undefined);
                assert.equal(`${stem}-xxxx`.length, 24);
                assert.deepEqual(
                    problemsOf(withOverrides(rawOf(environment), { "azure.namePrefix": `${longest}a` }), environment).length,
                    1,
                );
            }
        });
    });

    describe("bad configuration is rejected with the key, the value and what is allowed", () => {
        // Each row: config on top of the dev stack (or prod where named), and fragments that the one
        // resulting message must contain.
        const rows: BadConfigRow[] = [
            { name: "unknown environment", raw: { environment: "staging" }, expect: ["environment", '"staging"', "dev, prod"] },
            {
                name: "region with a space",
                raw: { "azure.location": "East US" },
                expect: ["azure.location", '"East US"', "did you mean eastus?"],
            },
            // Well-formed but no such region: Azure would refuse it only at the first create (issue 17 item 7).
            {
                name: "region that does not exist",
                raw: { "azure.location": "eastus3" },
                expect: ["azure.location", '"eastus3"', "not an Azure region", "did you mean eastus"],
            },
            {
                name: "region misspelt",
                raw: { "azure.location": "westeruope" },
                expect: ["azure.location", '"westeruope"', "did you mean westeurope?"],
            },
            {
                name: "region nowhere near a real one",
                raw: { "azure.location": "mars" },
                expect: ["azure.location", '"mars"', "az account list-locations"],
            },
            { name: "prefix with upper case", raw: { "azure.namePrefix": "MyApp" }, expect: ["azure.namePrefix", '"MyApp"', "lowercase"] },
            {
                name: "prefix too long for dev",
                raw: { "azure.namePrefix": "platformtea" },
                expect: ["azure.namePrefix", '"platformtea"', "2-10", "24"],
            },
            {
                name: "prefix too long for prod's Key Vault names",
                stack: "prod",
                raw: { "azure.namePrefix": "platformt" + "e" },
                expect: ["azure.namePrefix", '"platformte"', "2-9", "on prod"],
            },
            {
                name: "a disabled user pool's keys are still checked, naming the switch",
                raw: { "userPool.nodeCount": "three" },
                expect: ["userPool.nodeCount", '"three"', "whole number", "userPool.enabled is false", "userPool.enabled: true"],
            },
            {
                name: "a disabled Argo CD's keys are still checked, naming the switch",
                raw: { "argocd.repoUrl": "github.com/x/y" },
                expect: ["argocd.repoUrl", '"github.com/x/y"', "Git URL", "argocd.enabled is false"],
            },
            {
                name: "a patch-level version with an upgrade channel that moves past it",
                raw: { "cluster.kubernetesVersion": "1.36.2" },
                expect: [
                    "cluster.kubernetesVersion",
                    '"1.36.2"',
                    'cluster.autoUpgradeChannel "patch"',
                    "downgrade",
                    '"1.36"',
                    "none or node-image",
                ],
            },
            {
                name: "an unquoted version YAML read as a number",
                // YAML `kubernetesVersion: 1.30` unquoted: the group's JSON carries the number 1.3.
                raw: { "cluster.kubernetesVersion": 1.3 },
                expect: ["cluster.kubernetesVersion", "1.3", "YAML read it as the number 1.3", "quote the value"],
            },
            {
                name: "an unknown key names the nearest known key",
                raw: { "cluster.kubernetesVerison": "1.33" },
                expect: ["cluster.kubernetesVerison: is not a member of cluster; did you mean cluster.kubernetesVersion?"],
            },
            {
                name: "old Kubernetes",
                raw: { "cluster.kubernetesVersion": "1.27" },
                expect: ["cluster.kubernetesVersion", '"1.27"', "1.35 to 1.36", "1.35 or newer"],
            },
            // Past AKS support (its N-2 window, AKS release calendar): upstream end of life 2026-10-27.
            {
                name: "a minor AKS left in 2026-11",
                raw: { "cluster.kubernetesVersion": "1.34" },
                expect: ["cluster.kubernetesVersion", '"1.34"', "no longer supports", "1.35 to 1.36", "az aks get-versions"],
            },
            // Not yet served by AKS: 1.36 is the newest minor of the AKS release calendar as of 2026-12.
            {
                name: "a minor newer than AKS serves",
                raw: { "cluster.kubernetesVersion": "1.37" },
                expect: ["cluster.kubernetesVersion", '"1.37"', "newer than", "1.35 to 1.36", "1.36 or older"],
            },
            {
                name: "a patch of a minor newer than AKS serves, reported with the other problems",
                raw: { "cluster.kubernetesVersion": "1.40.1", "cluster.autoUpgradeChannel": "none", "cluster.tier": "Gold" },
                count: 2,
                expect: ["cluster.kubernetesVersion", '"1.40.1"', "1.35 to 1.36", "cluster.tier", '"Gold"'],
            },
            {
                name: "a major other than 1",
                raw: { "cluster.kubernetesVersion": "2.0" },
                expect: ["cluster.kubernetesVersion", '"2.0"', "1.35 to 1.36"],
            },
            {
                name: "garbled Kubernetes version",
                raw: { "cluster.kubernetesVersion": "v1.33" },
                expect: ["cluster.kubernetesVersion", '"v1.33"', "major.minor"],
            },
            { name: "unknown tier", raw: { "cluster.tier": "Gold" }, expect: ["cluster.tier", '"Gold"', "Free, Standard, Premium"] },
            {
                name: "VM size without Standard_",
                raw: { "systemPool.vmSize": "D4s_v5" },
                expect: ["systemPool.vmSize", '"D4s_v5"', "Standard_D4s_v5"],
            },
            { name: "zero nodes", raw: { "systemPool.nodeCount": 0 }, expect: ["systemPool.nodeCount", "0", "1 to 100"] },
            {
                name: "node count not a number",
                raw: { "systemPool.nodeCount": "three" },
                expect: ["systemPool.nodeCount", '"three"', "whole number"],
            },
            {
                name: "autoscaler minimum above maximum",
                raw: { "systemPool.autoscaling": true, "systemPool.minCount": 5, "systemPool.maxCount": 2, "systemPool.nodeCount": 3 },
                expect: ["systemPool.minCount", "5", "systemPool.maxCount 2", "at most the maximum"],
            },
            {
                name: "initial count outside the autoscaler bounds",
                raw: { "userPool.enabled": true, "userPool.minCount": 3, "userPool.maxCount": 5, "userPool.nodeCount": 8 },
                expect: ["userPool.nodeCount", "8", "3..5"],
            },
            { name: "zone 4", raw: { "systemPool.zones": ["1", "4"] }, expect: ["systemPool.zones", '["1","4"]', '"1", "2", "3"'] },
            { name: "zones not a list", raw: { "systemPool.zones": "1,2,3" }, expect: ["systemPool.zones", '"1,2,3"', "YAML list"] },
            { name: "boolean spelled yes", raw: { "userPool.enabled": "yes" }, expect: ["userPool.enabled", '"yes"', "true or false"] },
            { name: "retention below 7", raw: { "keyVault.retentionDays": 3 }, expect: ["keyVault.retentionDays", "3", "7 to 90"] },
            { name: "retention above 90", raw: { "keyVault.retentionDays": 120 }, expect: ["keyVault.retentionDays", "120", "7 to 90"] },
            {
                name: "purge protection off in prod",
                raw: { "keyVault.purgeProtection": false },
                stack: "prod",
                expect: ["keyVault.purgeProtection", "false", "prod"],
            },
            {
                name: "unseal key 1024 bits",
                raw: { "keyVault.unsealKeySize": 1024 },
                expect: ["keyVault.unsealKeySize", "1024", "2048, 3072, 4096"],
            },
            {
                name: "rotation every day",
                raw: { "keyVault.unsealKeyRotationDays": 1 },
                expect: ["keyVault.unsealKeyRotationDays", "1", "28 to 730"],
            },
            {
                name: "unknown ACL mode",
                raw: { "keyVault.networkAclMode": "block" },
                expect: ["keyVault.networkAclMode", '"block"', "allow, deny"],
            },
            {
                name: "deny with nobody allowed",
                raw: { "keyVault.networkAclMode": "deny" },
                expect: ["keyVault.networkAclMode", '"deny"', "keyVault.allowedIpRanges"],
            },
            {
                name: "allowed range not an address",
                raw: { "keyVault.networkAclMode": "deny", "keyVault.allowedIpRanges": ["10.0.0.300/24"] },
                expect: ["keyVault.allowedIpRanges", '"10.0.0.300/24"', "CIDR"],
            },
            { name: "tag without =", raw: { "azure.tags": ["owner"] }, expect: ["azure.tags", '"owner"', "key=value"] },
            {
                name: "service CIDR overlapping pods",
                raw: {
                    "network.podCidr": "10.0.0.0/8",
                    "network.serviceCidr": "10.1.0.0/16",
                    "network.vnetAddressSpace": "172.16.0.0/16",
                    "network.systemSubnetCidr": "172.16.0.0/22",
                    "network.privateEndpointSubnetCidr": "172.16.8.0/24",
                    // Dev declares the ingress WAF's subnets with the WAF off too.
                    "ingress.appGatewaySubnetCidr": "172.16.14.0/24",
                    "ingress.lbSubnetCidr": "172.16.13.0/28",
                },
                expect: ["network.serviceCidr", '"10.1.0.0/16"', "network.podCidr", "disjoint"],
            },
            {
                name: "maintenance window of two hours",
                raw: { "cluster.maintenanceDurationHours": 2 },
                expect: ["cluster.maintenanceDurationHours", "2", "4 to 24"],
            },
            {
                name: "maintenance on a holiday",
                raw: { "cluster.maintenanceDay": "Caturday" },
                expect: ["cluster.maintenanceDay", '"Caturday"', "Monday"],
            },
            {
                name: "unknown upgrade channel",
                raw: { "cluster.autoUpgradeChannel": "latest" },
                expect: ["cluster.autoUpgradeChannel", '"latest"', "patch, stable"],
            },
            {
                name: "local accounts off without Entra ID",
                raw: { "access.disableLocalAccounts": true },
                expect: ["access.disableLocalAccounts", "true", "access.entraIdEnabled", "access.entraAdminGroupObjectIds"],
            },
            {
                name: "admin group not a GUID",
                raw: { "access.entraIdEnabled": true, "access.entraAdminGroupObjectIds": ["admins"] },
                expect: ["access.entraAdminGroupObjectIds", '"admins"', "GUID"],
            },
            {
                name: "log retention of a week",
                raw: { "monitoring.logRetentionDays": 7 },
                expect: ["monitoring.logRetentionDays", "7", "30 to 730"],
            },
            {
                name: "alert e-mail without a domain",
                raw: { "monitoring.alertEmail": "ops" },
                expect: ["monitoring.alertEmail", '"ops"', "e-mail address"],
            },
            {
                name: "alert webhook over plain http, not quoted back",
                raw: { "monitoring.alertWebhookUrl": "http://hooks.example.com/token-abc" },
                expect: ["monitoring.alertWebhookUrl", "https URL"],
            },
            {
                name: "pod security effect of warn",
                raw: { "governance.azurePolicyEnabled": true, "governance.podSecurityPolicyEffect": "warn" },
                expect: ["governance.podSecurityPolicyEffect", '"warn"', "audit, deny"],
            },
            {
                name: "misspelt key",
                raw: { "cluster.kubernetesVerison": "1.33" },
                expect: ["cluster.kubernetesVerison", "not a member of cluster", "cluster.kubernetesVersion"],
            },
        ];

        itRejectsConfig(rows);

        it("reports every problem at once", () => {
            const problems = problemsOf(
                withOverrides(rawOf("dev"), { "azure.location": "East US", "keyVault.unsealKeySize": 1000, "cluster.tier": "Gold" }),
            );
            assert.equal(problems.length, 3, problems.join("\n"));
        });

        it("accepts the regions Azure lists, including ones the old shape check would have taken on faith", () => {
            // Names as `az account list-locations` prints them (learn.microsoft.com/azure/reliability/regions-list).
            for (const location of ["eastus", "eastus2", "westeurope", "swedencentral", "australiacentral2", "newzealandnorth"])
                assert.deepEqual(problemsOf(withOverrides(rawOf("dev"), { "azure.location": location })), [], location);
        });

        it("a stack that is neither dev nor prod must say which it is", () => {
            const problems = problemsOf(rawOf("dev"), "feature-x");
            assert.equal(problems.length, 1);
            assert.match(problems[0], /environment: is not set and the stack name "feature-x"/);
        });

        it("fails before any resource is registered", async () => {
            const failure = await evaluateStack("prod", { "keyVault.purgeProtection": false }).then(
                () => assert.fail("the program accepted purge protection off in prod"),
                (error: unknown) => error,
            );
            assert.ok(failure instanceof EvaluationError, String(failure));
            // index.ts loads its own copy of the config module, so compare by name, not by class.
            assert.equal((failure.cause as Error).name, "ConfigError");
            assert.match(failure.message, /keyVault\.purgeProtection: false is not allowed for environment prod/);
            assert.deepEqual(failure.resources, []);
        });
    });

    describe("validators", () => {
        it("Key Vault names", () => {
            for (const good of ["abc", "gitops-dev-app-x1y2", "a".repeat(24)]) assert.equal(checkKeyVaultName("k", good), undefined, good);
            for (const bad of ["ab", "a".repeat(25), "1abc", "abc-", "a--b", "a_b"]) assert.ok(checkKeyVaultName("k", bad), bad);
        });

        it("Kubernetes versions", () => {
            for (const good of ["1.35", "1.36", "1.36.2"]) assert.equal(checkKubernetesVersion("k", good), undefined, good);
            // 1.37 and later: not served by AKS as of 2026-12 (its release calendar), so refused until listed.
            for (const bad of ["1.33", "1.34.2", "1.37", "1.99.1", "2.0", "1.36.", "latest", ""])
                assert.ok(checkKubernetesVersion("k", bad), bad);
        });

        it("CIDRs and addresses", () => {
            for (const good of ["10.0.0.0/16", "203.0.113.7", "0.0.0.0/0"]) assert.equal(checkCidr("k", good), undefined, good);
            for (const bad of ["10.0.0.0/33", "256.0.0.0/8", "10.0.0/16", "::1"]) assert.ok(checkCidr("k", bad), bad);
            assert.equal(addressInCidr("10.0.0.0/16", 10), "10.0.0.10");
            // The range's first address, whatever host bits the value carries: 192.168.255.0 + 10.
            assert.equal(addressInCidr("192.168.255.250/24", 10), "192.168.255.10");
            assert.throws(() => addressInCidr("10.0.0.0/29", 10), /outside 10\.0\.0\.0\/29/);
        });

        it("tags", () => {
            for (const good of ["owner=team", "empty=", "url=https://x/y"]) assert.equal(checkTag("k", good), undefined, good);
            for (const bad of ["novalue", "=v", "a/b=c", `${"k".repeat(513)}=v`]) assert.ok(checkTag("k", bad), bad);
        });
    });
});
