import { strict as assert } from "assert";
import { APP_SECRET_KEYS } from "../components/azure/layer";
import { KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER, KEY_VAULT_SECRETS_USER, roleDefinitionId } from "../components/azure/roles";
import { SECRET_OUTPUTS } from "../components/outputs";
import { documentedNames } from "./docText";
import { evaluateStack, isSecretValue, PROJECT, stackRaw, SUBSCRIPTION, TENANT, TUNED, type Registration, type StackRun } from "./harness";
import { rawMember } from "./configRaw";

const T = {
    group: "azure-native:resources:ResourceGroup",
    workspace: "azure-native:operationalinsights:Workspace",
    appInsights: "azure-native:applicationinsights:Component",
    cluster: "azure-native:containerservice:ManagedCluster",
    maintenance: "azure-native:containerservice:MaintenanceConfiguration",
    dcr: "azure-native:monitor:DataCollectionRule",
    dcra: "azure-native:monitor:DataCollectionRuleAssociation",
    diagnostics: "azure-native:monitor:DiagnosticSetting",
    vault: "azure-native:keyvault:Vault",
    key: "azure-native:keyvault:Key",
    secret: "azure-native:keyvault:Secret",
    identity: "azure-native:managedidentity:UserAssignedIdentity",
    fic: "azure-native:managedidentity:FederatedIdentityCredential",
    role: "azure-native:authorization:RoleAssignment",
    password: "random:index/randomPassword:RandomPassword",
    k8sProvider: "pulumi:providers:kubernetes",
};

/** The children of a component, by type. */
function childrenOf(run: StackRun, parent: Registration, type: string): Registration[] {
    return run.ofType(type).filter((r) => r.parent === parent.urn);
}

const identityComponent = (run: StackRun, name: string) => run.get("aksplatform:azure:WorkloadIdentity", name);

for (const stack of ["dev", "prod"] as const) {
    describe(`Azure layer (${stack})`, () => {
        let run: StackRun;
        before(async () => {
            run = await evaluateStack(stack);
        });

        it("puts everything in one resource group in the configured region", () => {
            const group = run.get(T.group, "rg");
            assert.equal(group.inputs.resourceGroupName, `gitops-${stack}-rg`);
            assert.equal(group.inputs.location, "eastus");
            for (const r of run.resources.filter((r) => r.type.startsWith("azure-native:") && "resourceGroupName" in r.inputs)) {
                assert.equal(r.inputs.resourceGroupName, `gitops-${stack}-rg`, `${r.type} ${r.name}`);
            }
        });

        it("tags every taggable resource with project, stack and environment", () => {
            const taggable = [T.group, T.workspace, T.appInsights, T.cluster, T.vault, T.identity, T.dcr];
            for (const type of taggable) {
                const found = run.ofType(type);
                assert.ok(found.length > 0, type);
                for (const r of found) {
                    assert.deepEqual(
                        {
                            project: r.inputs.tags.project,
                            stack: r.inputs.tags.stack,
                            environment: r.inputs.tags.environment,
                            owner: r.inputs.tags.owner,
                        },
                        { project: PROJECT, stack, environment: stack, owner: "platform-team" },
                        `${type} ${r.name}`,
                    );
                }
            }
        });

        it("sends Application Insights to the Log Analytics workspace and treats its keys as secrets", () => {
            const workspace = run.get(T.workspace, "monitoring-logs");
            const appInsights = run.get(T.appInsights, "monitoring-appi");
            assert.equal(workspace.inputs.sku.name, "PerGB2018");
            assert.equal(workspace.inputs.retentionInDays, stack === "prod" ? 90 : 30);
            assert.equal(appInsights.inputs.workspaceResourceId, workspace.id);
            assert.equal(run.outputs.logAnalyticsWorkspaceId.value, workspace.id);
            assert.equal(appInsights.inputs.ingestionMode, "LogAnalytics");
            assert.deepEqual([...appInsights.additionalSecretOutputs].sort(), ["connectionString", "instrumentationKey"]);
            assert.equal(workspace.protect, stack === "prod");
        });

        describe("AKS cluster", () => {
            let cluster: Registration;
            before(() => {
                cluster = run.get(T.cluster, "aks");
            });

            it("has the OIDC issuer and workload identity on, and a managed identity instead of a service principal", () => {
                assert.equal(cluster.inputs.oidcIssuerProfile.enabled, true);
                assert.equal(cluster.inputs.securityProfile.workloadIdentity.enabled, true);
                // User-assigned: it holds Network Contributor on the VNet before the cluster exists.
                assert.equal(cluster.inputs.identity.type, "UserAssigned");
                assert.deepEqual(cluster.inputs.identity.userAssignedIdentities, [
                    run.get("azure-native:managedidentity:UserAssignedIdentity", "aks-identity").id,
                ]);
                assert.equal(cluster.inputs.servicePrincipalProfile, undefined);
                // The stack's configured minor (tests/nodepools.test.ts checks it is one upstream still supports).
                assert.equal(cluster.inputs.kubernetesVersion, rawMember(stackRaw(stack), "cluster.kubernetesVersion"));
            });

            it("uses Azure CNI overlay with the Cilium dataplane and network policy", () => {
                const net = cluster.inputs.networkProfile;
                assert.deepEqual(
                    [net.networkPlugin, net.networkPluginMode, net.networkDataplane, net.networkPolicy],
                    ["azure", "overlay", "cilium", "cilium"],
                );
                assert.equal(net.dnsServiceIP, "10.0.0.10");
            });

            it("sends Container Insights to the workspace through a data collection rule", () => {
                const workspaceId = run.get(T.workspace, "monitoring-logs").id;
                assert.equal(cluster.inputs.addonProfiles.omsagent.config.logAnalyticsWorkspaceResourceID, workspaceId);
                const rule = run.get(T.dcr, "aks-ci");
                assert.equal(rule.inputs.destinations.logAnalytics[0].workspaceResourceId, workspaceId);
                const association = run.get(T.dcra, "aks-ci");
                assert.equal(association.inputs.resourceUri, cluster.id);
                assert.equal(association.inputs.dataCollectionRuleId, rule.id);
                assert.equal(rule.inputs.dataCollectionRuleName, `MSCI-gitops-${stack}-aks`);
            });

            if (stack === "dev") {
                it("is small and cheap: Free tier, one pool of two nodes, no zones", () => {
                    assert.equal(cluster.inputs.sku.tier, "Free");
                    assert.equal(cluster.inputs.agentPoolProfiles.length, 1);
                    const [system] = cluster.inputs.agentPoolProfiles;
                    assert.deepEqual(
                        [system.mode, system.count, system.enableAutoScaling, system.availabilityZones, system.nodeTaints],
                        ["System", 2, false, undefined, undefined],
                    );
                    assert.equal(cluster.protect, false);
                });
            } else {
                it("is Standard tier, autoscaled across three zones, with a tainted system pool and a user pool", () => {
                    assert.equal(cluster.inputs.sku.tier, "Standard");
                    const [system] = cluster.inputs.agentPoolProfiles;
                    assert.equal(cluster.inputs.agentPoolProfiles.length, 1, "only the system pool is inline");
                    const user = run.get("azure-native:containerservice:AgentPool", "aks-user").inputs;
                    assert.deepEqual(
                        [
                            system.mode,
                            system.enableAutoScaling,
                            system.minCount,
                            system.maxCount,
                            system.availabilityZones,
                            system.nodeTaints,
                        ],
                        ["System", true, 3, 5, ["1", "2", "3"], ["CriticalAddonsOnly=true:NoSchedule"]],
                    );
                    assert.deepEqual(
                        // No taint on the user pool: workloads schedule there (AKS: system pools only take CriticalAddonsOnly).
                        [user.mode, user.enableAutoScaling, user.minCount, user.maxCount, user.availabilityZones, user.nodeTaints],
                        ["User", true, 3, 10, ["1", "2", "3"], undefined],
                    );
                    assert.equal(cluster.protect, true);
                });

                it("auto-upgrades within a Sunday maintenance window", () => {
                    assert.deepEqual(cluster.inputs.autoUpgradeProfile, { upgradeChannel: "patch", nodeOSUpgradeChannel: "NodeImage" });
                    const windows = run.ofType(T.maintenance);
                    assert.deepEqual(windows.map((w) => w.inputs.configName).sort(), [
                        "aksManagedAutoUpgradeSchedule",
                        "aksManagedNodeOSUpgradeSchedule",
                    ]);
                    for (const w of windows) {
                        assert.equal(w.inputs.resourceName, `gitops-prod-aks`);
                        assert.deepEqual(w.inputs.maintenanceWindow, {
                            schedule: { weekly: { dayOfWeek: "Sunday", intervalWeeks: 1 } },
                            startTime: "02:00",
                            utcOffset: "+00:00",
                            durationHours: 4,
                        });
                    }
                });
            }

            it("dev keeps local accounts without Entra ID; prod has Entra ID with Azure RBAC only", () => {
                const credentials = run.invokes.filter(
                    (i) => i.token === "azure-native:containerservice:listManagedClusterUserCredentials",
                );
                assert.equal(credentials.length, 1);
                if (stack === "dev") {
                    assert.equal(cluster.inputs.aadProfile, undefined);
                    assert.equal(cluster.inputs.disableLocalAccounts, false);
                    assert.equal(credentials[0].inputs.format, undefined);
                } else {
                    assert.deepEqual(cluster.inputs.aadProfile, {
                        managed: true,
                        enableAzureRBAC: true,
                        adminGroupObjectIDs: ["8a3f1c52-6d0e-4b7a-9c21-5e4f3a2b1c0d"],
                        tenantID: TENANT,
                    });
                    assert.equal(cluster.inputs.disableLocalAccounts, true);
                    assert.equal(credentials[0].inputs.format, "exec", "kubelogin");
                }
            });
        });

        describe("Key Vaults", () => {
            it("use RBAC authorization and soft delete; purge protection and protect in prod", () => {
                const vaults = run.ofType(T.vault);
                assert.deepEqual(vaults.map((v) => v.name).sort(), ["app-kv", "unseal-kv"]);
                for (const vault of vaults) {
                    const p = vault.inputs.properties;
                    assert.equal(p.enableRbacAuthorization, true);
                    assert.equal(p.enableSoftDelete, true);
                    assert.equal(p.accessPolicies, undefined);
                    assert.equal(p.tenantId, TENANT);
                    assert.equal(p.softDeleteRetentionInDays, stack === "prod" ? 90 : 7);
                    // Azure refuses enablePurgeProtection=false, so dev leaves it unset.
                    assert.equal(p.enablePurgeProtection, stack === "prod" ? true : undefined);
                    if (stack === "dev") {
                        assert.deepEqual(p.networkAcls, { defaultAction: "Allow", bypass: "AzureServices", ipRules: [] });
                        assert.equal(p.publicNetworkAccess, "Enabled");
                    } else {
                        // Private endpoints only; the NAT gateway's IP stays listed for a later public phase.
                        assert.equal(p.publicNetworkAccess, "Disabled");
                        assert.equal(p.networkAcls.defaultAction, "Deny");
                    }
                    assert.equal(vault.protect, stack === "prod");
                    assert.match(vault.inputs.vaultName, /^[a-z][a-z0-9-]{1,22}[a-z0-9]$/);
                    assert.ok(vault.inputs.vaultName.length <= 24);
                }
                const suffix = run.get("random:index/randomString:RandomString", "kv-suffix").state.result;
                assert.equal(run.get(T.vault, "app-kv").inputs.vaultName, `gitops-${stack}-app-${suffix}`);
                assert.equal(run.get(T.vault, "unseal-kv").inputs.vaultName, `gitops-${stack}-seal-${suffix}`);
            });

            it("send their audit log to Log Analytics", () => {
                for (const name of ["app-kv", "unseal-kv"]) {
                    const setting = run.get(T.diagnostics, `${name}-audit`);
                    assert.equal(setting.inputs.resourceUri, run.get(T.vault, name).id);
                    assert.equal(setting.inputs.workspaceId, run.get(T.workspace, "monitoring-logs").id);
                    assert.deepEqual(setting.inputs.logs, [{ categoryGroup: "audit", enabled: true }]);
                }
            });

            it("hold the unseal key: RSA, configured size, wrap and unwrap only", () => {
                const key = run.get(T.key, "unseal-key");
                assert.equal(key.inputs.vaultName, run.outputs.unsealKeyVaultName.value);
                assert.equal(key.inputs.keyName, "vault-unseal");
                assert.equal(key.inputs.properties.kty, "RSA");
                assert.equal(key.inputs.properties.keySize, stack === "prod" ? 4096 : 3072);
                assert.deepEqual(key.inputs.properties.keyOps, ["wrapKey", "unwrapKey"]);
                // Both stacks set the policy through ARM at creation (the operations tests check its shape).
                assert.ok(key.inputs.properties.rotationPolicy, "the rotation policy goes with the key's creation");
                assert.equal(key.protect, stack === "prod");
            });

            it("hold the guide's four secrets, with Application Insights values taken from the resource", () => {
                const appVaultName = run.outputs.appKeyVaultName.value;
                const appInsights = run.get(T.appInsights, "monitoring-appi").state;
                const expected: Record<string, string> = {
                    "applicationinsights-connection-string": appInsights.connectionString,
                    "applicationinsights-instrumentation-key": appInsights.instrumentationKey,
                    "database-password": run.get(T.password, "app-secrets-database-password").state.result,
                    "api-key": run.get(T.password, "app-secrets-api-key").state.result,
                };
                const appSecrets = run.ofType(T.secret).filter((s) => Object.keys(APP_SECRET_KEYS).includes(s.inputs.secretName));
                assert.deepEqual(appSecrets.map((s) => s.inputs.secretName).sort(), Object.keys(APP_SECRET_KEYS).sort());
                for (const secret of appSecrets) {
                    assert.equal(secret.inputs.vaultName, appVaultName);
                    assert.equal(secret.inputs.properties.value, expected[secret.inputs.secretName], secret.inputs.secretName);
                    // The SDK sends an object holding a secret as one secret value.
                    assert.ok(isSecretValue(secret.rawInputs.properties), `${secret.inputs.secretName} value is not secret`);
                    assert.ok(secret.inputs.properties.value.length >= 32);
                }
            });
        });

        describe("workload identities", () => {
            const expectations = {
                "vault-unseal-id": { subjects: ["system:serviceaccount:vault:vault"] },
                "app-secrets-id": {
                    subjects: [
                        `system:serviceaccount:microservices-${stack}:product-service`,
                        `system:serviceaccount:microservices-${stack}:order-service`,
                    ],
                },
            };

            for (const [name, expected] of Object.entries(expectations)) {
                it(`${name}: federated with the cluster's issuer for exactly its service accounts, one credential at a time`, () => {
                    const issuer = run.get(T.cluster, "aks").state.oidcIssuerProfile.issuerURL;
                    assert.match(issuer, /^https:\/\/eastus\.oic\.prod-aks\.azure\.com\//);
                    assert.equal(run.outputs.oidcIssuerUrl.value, issuer);
                    const component = identityComponent(run, name);
                    const identity = childrenOf(run, component, T.identity)[0];
                    const credentials = childrenOf(run, component, T.fic);
                    assert.deepEqual(
                        credentials.map((c) => c.inputs.subject),
                        expected.subjects,
                    );
                    for (const c of credentials) {
                        assert.equal(c.inputs.issuer, issuer);
                        assert.deepEqual(c.inputs.audiences, ["api://AzureADTokenExchange"]);
                        assert.equal(c.inputs.resourceName, identity.inputs.resourceName);
                    }
                    for (let i = 1; i < credentials.length; i++) {
                        assert.ok(
                            run.dependsOn(credentials[i].urn, credentials[i - 1].urn),
                            `${credentials[i].name} must wait for ${credentials[i - 1].name}`,
                        );
                    }
                });
            }

            it("vault-unseal-id: Crypto Service Encryption User on the unseal key, Secrets User on each TLS secret (prod) only", () => {
                const component = identityComponent(run, "vault-unseal-id");
                const identity = childrenOf(run, component, T.identity)[0];
                const key = run.get(T.key, "unseal-key");
                // By scope, not registration order (each registers once its inputs resolve).
                const roles = childrenOf(run, component, T.role).sort(
                    (a, b) => Number(b.inputs.scope === key.id) - Number(a.inputs.scope === key.id),
                );
                const tlsRoles = roles.slice(1);
                assert.equal(tlsRoles.length, stack === "prod" ? 3 : 0);
                for (const role of tlsRoles) {
                    assert.equal(role.inputs.roleDefinitionId, roleDefinitionId(SUBSCRIPTION, KEY_VAULT_SECRETS_USER));
                    assert.match(role.inputs.scope, /\/vaults\/gitops-prod-seal-[a-z0-9]{4}\/secrets\/vault-tls-(ca|crt|key)$/);
                }
                assert.equal(roles[0].inputs.scope, key.id);
                assert.match(key.id, /\/vaults\/gitops-.*-seal-[a-z0-9]{4}\/keys\/vault-unseal$/);
                assert.equal(roles[0].inputs.principalId, identity.state.principalId);
                assert.equal(roles[0].inputs.principalType, "ServicePrincipal");
                assert.equal(roles[0].inputs.roleDefinitionId, roleDefinitionId(SUBSCRIPTION, KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER));
            });

            it("app-secrets-id: Secrets User on each of the four application secrets, not the vault", () => {
                const component = identityComponent(run, "app-secrets-id");
                const identity = childrenOf(run, component, T.identity)[0];
                const roles = childrenOf(run, component, T.role);
                const secretIds = run
                    .ofType(T.secret)
                    .filter((s) => Object.keys(APP_SECRET_KEYS).includes(s.inputs.secretName))
                    .map((s) => s.id);
                assert.equal(secretIds.length, 4);
                assert.deepEqual(roles.map((r) => r.inputs.scope).sort(), secretIds.sort());
                for (const role of roles) {
                    assert.equal(role.inputs.principalId, identity.state.principalId);
                    assert.equal(role.inputs.roleDefinitionId, roleDefinitionId(SUBSCRIPTION, KEY_VAULT_SECRETS_USER));
                }
            });

            it("exports each identity's client ID with the service accounts bound to it", () => {
                for (const [output, name] of [
                    ["vaultUnsealIdentity", "vault-unseal-id"],
                    ["appSecretsIdentity", "app-secrets-id"],
                ] as const) {
                    const identity = childrenOf(run, identityComponent(run, name), T.identity)[0];
                    const exported = run.outputs[output].value;
                    assert.equal(exported.clientId, identity.state.clientId);
                    assert.deepEqual(
                        exported.serviceAccounts.map((sa: string) => `system:serviceaccount:${sa.replace("/", ":")}`),
                        expectations[name].subjects,
                    );
                }
            });
        });

        describe("Kubernetes provider", () => {
            it("is built from this cluster's user credentials, and the kubeconfig is secret", () => {
                const provider = run.get(T.k8sProvider, "aks-k8s");
                const call = run.invokes.find((i) => i.token === "azure-native:containerservice:listManagedClusterUserCredentials")!;
                assert.deepEqual(call.inputs, {
                    resourceGroupName: `gitops-${stack}-rg`,
                    resourceName: `gitops-${stack}-aks`,
                    // Entra ID in prod: an exec (kubelogin) kubeconfig.
                    ...(stack === "prod" ? { format: "exec" } : {}),
                });
                assert.ok(isSecretValue(provider.rawInputs.kubeconfig), "the provider's kubeconfig input is not secret");
                assert.match(
                    provider.inputs.kubeconfig,
                    new RegExp(`server: https://gitops-${stack}-aks-dns\\.hcp\\.eastus\\.azmk8s\\.io:443`),
                );
                assert.equal(run.outputs.kubeconfig.value, provider.inputs.kubeconfig);
                assert.ok(run.outputs.kubeconfig.secret);
            });
        });

        describe("stack outputs", () => {
            it("match the documented contract", () => {
                const documented = documentedNames("docs/outputs.md", "# Stack outputs");
                for (const name of Object.keys(run.outputs))
                    assert.ok(documented.includes(name), `docs/outputs.md does not document output ${name}`);
                assert.equal(run.outputs.resourceGroupName.value, `gitops-${stack}-rg`);
                assert.equal(run.outputs.clusterName.value, `gitops-${stack}-aks`);
                assert.equal(run.outputs.tenantId.value, TENANT);
                assert.equal(run.outputs.appKeyVaultUri.value, `https://${run.outputs.appKeyVaultName.value}.vault.azure.net/`);
                assert.equal(run.outputs.unsealKeyVaultUri.value, `https://${run.outputs.unsealKeyVaultName.value}.vault.azure.net/`);
                assert.equal(run.outputs.unsealKeyName.value, "vault-unseal");
            });

            it("carry no plaintext secret", () => {
                const secretValues = [
                    run.outputs.kubeconfig.value,
                    ...run.ofType(T.password).map((p) => p.state.result),
                    run.get(T.appInsights, "monitoring-appi").state.connectionString,
                    run.get(T.appInsights, "monitoring-appi").state.instrumentationKey,
                ];
                for (const [name, output] of Object.entries(run.outputs)) {
                    if ((SECRET_OUTPUTS as readonly string[]).includes(name)) {
                        assert.ok(output.secret, `${name} must be secret`);
                        continue;
                    }
                    const text = JSON.stringify(output.value);
                    for (const secret of secretValues) assert.ok(!text.includes(secret), `output ${name} contains a secret value`);
                }
                assert.ok(run.outputs.appInsightsConnectionString.value.startsWith("InstrumentationKey="));
            });
        });
    });
}

describe("Azure layer options", () => {
    it("a Key Vault firewall in deny mode lets through only the listed ranges", async () => {
        const run = await evaluateStack("dev", {
            "keyVault.networkAclMode": "deny",
            "keyVault.allowedIpRanges": ["203.0.113.0/24", "198.51.100.7"],
        });
        for (const vault of run.ofType(T.vault)) {
            assert.deepEqual(vault.inputs.properties.networkAcls, {
                defaultAction: "Deny",
                bypass: "AzureServices",
                // Stored as Azure reports it, so a refresh shows no drift.
                ipRules: [{ value: "203.0.113.0/24" }, { value: "198.51.100.7/32" }],
            });
        }
    });

    it("no upgrade channel means no maintenance configuration for it", async () => {
        assert.deepEqual([TUNED.dev["cluster.autoUpgradeChannel"], TUNED.dev["cluster.nodeOsUpgradeChannel"]], ["none", "Unmanaged"]);
        const run = await evaluateStack("dev", TUNED.dev);
        assert.deepEqual(run.ofType(T.maintenance), []);
    });
});
