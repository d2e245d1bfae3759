// Evaluates the real program (index.ts) for a stack under Pulumi mocks that answer like Azure does,
// and records every resource registration with its inputs, options and dependencies. The stack's
// config reaches the program as the CLI would hand it over (cliConfig.ts). Used by the tests and by
// the offline plan; nothing here is test-only.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { performance } from "perf_hooks";
import { sharedEvaluation } from "./evaluationCache";
import { parse } from "yaml";
// Contract A names (components/config, keys.ts/schema.ts): every config path, and each one's spec.
import { isConfigPath, specOf } from "../components/config";
import { cliConfig, type ProgramConfig } from "./cliConfig";

export const ROOT = path.resolve(__dirname, "..");
export const PROJECT: string = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")).name;
export const SUBSCRIPTION = "11111111-2222-3333-4444-555555555555";
/** An obviously fake tenant: no real directory's ID belongs in the mocks. */
export const TENANT = "00000000-0000-0000-0000-000000000001";
export const DEPLOYER_OBJECT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
export const MOCK_ARM_TOKEN = "mock-arm-access-token";

/** The registry's answer to the Entra ID token exchange (components/azure/acrToken.ts), by login server. */
export const mockAcrRefreshToken = (loginServer: string) => `mock-acr-refresh-token-for-${loginServer}`;

/**
 * fetch as the program meets it under the mocks: ACR's POST /oauth2/exchange is answered like the
 * registry does (a refresh_token for the form's `service`), and recorded; anything else throws, so an
 * unmocked call is a test gap, not a request to the internet.
 */
function mockFetch(exchanges: { url: string; form: Record<string, string> }[]): typeof fetch {
    return (async (input: string | URL | Request, init?: RequestInit) => {
        const url = String(input instanceof Request ? input.url : input);
        const exchange = /^https:\/\/([a-z0-9.-]+\.azurecr\.io)\/oauth2\/exchange$/.exec(url);
        if (exchange && init?.method === "POST") {
            const form = Object.fromEntries(new URLSearchParams(String(init.body)));
            exchanges.push({ url, form });
            const ok = form.grant_type === "access_token" && form.service === exchange[1] && form.access_token === MOCK_ARM_TOKEN;
            return new Response(JSON.stringify(ok ? { refresh_token: mockAcrRefreshToken(exchange[1]) } : { errors: ["bad exchange"] }), {
                status: ok ? 200 : 400,
                headers: { "Content-Type": "application/json" },
            });
        }
        throw new Error(`unmocked fetch ${init?.method ?? "GET"} ${url}`);
    }) as typeof fetch;
}

// The SDK's marker for a secret value inside mock inputs.
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface Registration {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    /** Inputs with secrets unwrapped. */
    readonly inputs: any;
    /** Inputs as the SDK sent them: secret values still wrapped (see isSecretValue). */
    readonly rawInputs: any;
    /** What the mock answered: the resource's ID and outputs. */
    readonly id: string;
    readonly state: any;
    readonly parent: string;
    /** URNs this resource waits for: explicit dependsOn plus the resources behind its inputs. */
    readonly dependencies: readonly string[];
    /** URN of the explicit provider, if any. */
    readonly provider: string;
    readonly protect: boolean;
    readonly retainOnDelete: boolean;
    /** URN of the resource whose delete makes this one's unnecessary (deletedWith), or "". */
    readonly deletedWith: string;
    /** customTimeouts as the SDK sent them ("" where unset). */
    readonly customTimeouts: { readonly create: string; readonly update: string; readonly delete: string };
    /** The `import` ID, or "". */
    readonly importId: string;
    readonly ignoreChanges: readonly string[];
    /** replaceOnChanges as the SDK sent it. */
    readonly replaceOnChanges: readonly string[];
    readonly additionalSecretOutputs: readonly string[];
    readonly custom: boolean;
    /** The `aliases` option as the SDK sent it to the engine (tools/urns.ts resolves them as the engine does). */
    readonly aliases: readonly AliasSpec[];
}

/**
 * One alias as the engine receives it: a whole URN, or a spec whose empty fields the engine fills in
 * from the resource (proto/alias.proto; the SDK builds it in runtime/resource.ts mapAliasesForRequest).
 */
export type AliasSpec =
    | { readonly urn: string }
    | {
          readonly name: string;
          readonly type: string;
          readonly stack: string;
          readonly project: string;
          readonly parentUrn: string;
          /** `{ parent: pulumi.rootStackResource }`: the old URN had no parent. */
          readonly noParent: boolean;
      };

/** Reads the aliases off a RegisterResourceRequest (the mock interface does not pass them on). */
function aliasesOf(req: any): AliasSpec[] {
    const urns: string[] = req.getAliasurnsList?.() ?? [];
    return [
        ...urns.map((urn) => ({ urn })),
        ...(req.getAliasesList?.() ?? []).map((alias: any): AliasSpec => {
            if (!alias.hasSpec()) return { urn: alias.getUrn() };
            const spec = alias.getSpec();
            return {
                name: spec.getName(),
                type: spec.getType(),
                stack: spec.getStack(),
                project: spec.getProject(),
                parentUrn: spec.getParenturn() ?? "",
                noParent: spec.getNoparent() === true,
            };
        }),
    ];
}

export interface ExportedOutput {
    readonly value: any;
    readonly secret: boolean;
}

export interface StackRun {
    readonly resources: readonly Registration[];
    readonly invokes: readonly { token: string; inputs: any }[];
    /** The registry token exchanges the program made (mockFetch). */
    readonly tokenExchanges: readonly { url: string; form: Record<string, string> }[];
    readonly outputs: Readonly<Record<string, ExportedOutput>>;
    /** All registrations of a type token. */
    ofType(type: string): Registration[];
    /** The one registration of `type` whose name is `name`; throws if there is not exactly one. */
    get(type: string, name: string): Registration;
    byUrn(urn: string): Registration;
    /** True if `urn` waits for `on`, directly or through the resources it waits for. */
    dependsOn(urn: string, on: string): boolean;
}

/** The program threw; `resources` are the registrations made before it did. */
export class EvaluationError extends Error {
    constructor(
        readonly cause: unknown,
        readonly resources: readonly Registration[],
    ) {
        super(cause instanceof Error ? cause.message : String(cause));
        this.name = "EvaluationError";
    }
}

export function isSecretValue(value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as any)[SIG_KEY] === SECRET_SIG;
}

export function unwrapSecrets(value: any): any {
    if (isSecretValue(value)) return unwrapSecrets(value.value);
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value && typeof value === "object" && !pulumi.Resource.isInstance(value)) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

/** Inputs as the provider would log or diff them in plain text: every secret value replaced by "[secret]". */
export function plainText(rawInputs: unknown): string {
    const redact = (value: any): any => {
        if (isSecretValue(value)) return "[secret]";
        if (Array.isArray(value)) return value.map(redact);
        if (value && typeof value === "object" && !pulumi.Resource.isInstance(value)) {
            return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v)]));
        }
        return value;
    };
    return JSON.stringify(redact(rawInputs));
}

/** A kubeconfig for component tests that build their own provider; nothing ever connects to it. */
export const TEST_KUBECONFIG = [
    "apiVersion: v1",
    "kind: Config",
    "clusters: [{name: test, cluster: {server: 'https://test.invalid:443'}}]",
    "contexts: [{name: test, context: {cluster: test, user: test}}]",
    "current-context: test",
    "users: [{name: test, user: {token: test}}]",
].join("\n");

/** A stable GUID derived from a seed, so mock IDs are deterministic across runs. */
export function guid(seed: string): string {
    const h = createHash("sha256").update(seed).digest("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const ARM_TYPES: Record<string, string> = {
    "azure-native:operationalinsights:Workspace": "Microsoft.OperationalInsights/workspaces",
    "azure-native:applicationinsights:Component": "Microsoft.Insights/components",
    "azure-native:containerservice:ManagedCluster": "Microsoft.ContainerService/managedClusters",
    "azure-native:keyvault:Vault": "Microsoft.KeyVault/vaults",
    "azure-native:managedidentity:UserAssignedIdentity": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "azure-native:monitor:DataCollectionRule": "Microsoft.Insights/dataCollectionRules",
    "azure-native:monitor:DataCollectionEndpoint": "Microsoft.Insights/dataCollectionEndpoints",
    "azure-native:monitor:AzureMonitorWorkspace": "Microsoft.Monitor/accounts",
    "azure-native:network:DdosProtectionPlan": "Microsoft.Network/ddosProtectionPlans",
    "azure-native:network:VirtualNetwork": "Microsoft.Network/virtualNetworks",
    "azure-native:network:NetworkSecurityGroup": "Microsoft.Network/networkSecurityGroups",
    "azure-native:network:PublicIPAddress": "Microsoft.Network/publicIPAddresses",
    "azure-native:network:NatGateway": "Microsoft.Network/natGateways",
    "azure-native:network:AzureFirewall": "Microsoft.Network/azureFirewalls",
    "azure-native:network:FirewallPolicy": "Microsoft.Network/firewallPolicies",
    "azure-native:network:RouteTable": "Microsoft.Network/routeTables",
    "azure-native:network:ApplicationGateway": "Microsoft.Network/applicationGateways",
    "azure-native:network:WebApplicationFirewallPolicy": "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies",
    "azure-native:network:PrivateEndpoint": "Microsoft.Network/privateEndpoints",
    "azure-native:privatedns:PrivateZone": "Microsoft.Network/privateDnsZones",
    "azure-native:containerregistry:Registry": "Microsoft.ContainerRegistry/registries",
    "azure-native:storage:StorageAccount": "Microsoft.Storage/storageAccounts",
    "azure-native:app:ManagedEnvironment": "Microsoft.App/managedEnvironments",
    "azure-native:app:Job": "Microsoft.App/jobs",
    "azure-native:monitor:ScheduledQueryRule": "Microsoft.Insights/scheduledQueryRules",
    "azure-native:monitor:ActionGroup": "Microsoft.Insights/actionGroups",
    "azure-native:monitor:ActivityLogAlert": "Microsoft.Insights/activityLogAlerts",
    "azure-native:monitor:MetricAlert": "Microsoft.Insights/metricAlerts",
    "azure-native:alertsmanagement:PrometheusRuleGroup": "Microsoft.AlertsManagement/prometheusRuleGroups",
};

/** A stable public IPv4 address for a mocked public IP resource (Azure assigns one from its pools). */
export function mockPublicIp(name: string): string {
    const h = createHash("sha256").update(`pip-${name}`).digest();
    return `20.${h[0]}.${h[1]}.${(h[2] % 254) + 1}`;
}

/** The private address the mocked Azure Firewall reports (Azure picks one of AzureFirewallSubnet's). */
export const MOCK_FIREWALL_PRIVATE_IP = "10.240.12.4";

/** ARM resources whose mock answer is only their ID and name: the input that holds the name, by type. */
const NAME_INPUTS: Record<string, string> = {
    "azure-native:network:NetworkSecurityGroup": "networkSecurityGroupName",
    "azure-native:network:NatGateway": "natGatewayName",
    "azure-native:network:RouteTable": "routeTableName",
    "azure-native:network:FirewallPolicy": "firewallPolicyName",
    "azure-native:network:ApplicationGateway": "applicationGatewayName",
    "azure-native:network:WebApplicationFirewallPolicy": "policyName",
    "azure-native:network:PrivateEndpoint": "privateEndpointName",
    "azure-native:privatedns:PrivateZone": "privateZoneName",
    "azure-native:monitor:DataCollectionRule": "dataCollectionRuleName",
    "azure-native:monitor:DataCollectionEndpoint": "dataCollectionEndpointName",
    "azure-native:monitor:AzureMonitorWorkspace": "azureMonitorWorkspaceName",
    "azure-native:network:DdosProtectionPlan": "ddosProtectionPlanName",
    "azure-native:app:ManagedEnvironment": "environmentName",
    "azure-native:app:Job": "jobName",
    "azure-native:monitor:ScheduledQueryRule": "ruleName",
    "azure-native:monitor:ActionGroup": "actionGroupName",
    "azure-native:monitor:ActivityLogAlert": "activityLogAlertName",
    "azure-native:monitor:MetricAlert": "ruleName",
    "azure-native:alertsmanagement:PrometheusRuleGroup": "ruleGroupName",
};

/** Mocks that answer as Azure does: ARM IDs, issuer URLs, client IDs, vault URIs, keys' URIs. */
function azureState(type: string, name: string, inputs: any): { id: string; extra: Record<string, unknown> } {
    const rgId = (rg: string) => `/subscriptions/${SUBSCRIPTION}/resourceGroups/${rg}`;
    const arm = (path: string, resourceName: string) => `${rgId(inputs.resourceGroupName)}/providers/${path}/${resourceName}`;
    switch (type) {
        case "azure-native:resources:ResourceGroup":
            return { id: rgId(inputs.resourceGroupName), extra: { name: inputs.resourceGroupName } };
        case "azure-native:operationalinsights:Workspace":
            return {
                id: arm(ARM_TYPES[type], inputs.workspaceName),
                extra: { name: inputs.workspaceName },
            };
        case "azure-native:applicationinsights:Component": {
            const key = guid(`appi-key-${name}`);
            return {
                id: arm(ARM_TYPES[type], inputs.resourceName),
                extra: {
                    name: inputs.resourceName,
                    instrumentationKey: key,
                    connectionString: `InstrumentationKey=${key};IngestionEndpoint=https://${inputs.location}-8.in.applicationinsights.azure.com/;LiveEndpoint=https://${inputs.location}.livediagnostics.monitor.azure.com/;ApplicationId=${guid(`appi-app-${name}`)}`,
                },
            };
        }
        case "azure-native:containerservice:ManagedCluster":
            return {
                id: arm(ARM_TYPES[type], inputs.resourceName),
                extra: {
                    name: inputs.resourceName,
                    oidcIssuerProfile: {
                        enabled: inputs.oidcIssuerProfile?.enabled ?? false,
                        issuerURL: inputs.oidcIssuerProfile?.enabled
                            ? `https://${inputs.location}.oic.prod-aks.azure.com/${TENANT}/${guid(`issuer-${name}`)}/`
                            : undefined,
                    },
                    identity: { ...inputs.identity, principalId: guid(`aks-principal-${name}`), tenantId: TENANT },
                    // AKS creates the kubelet identity in the node resource group and reports it here.
                    identityProfile: {
                        kubeletidentity: {
                            clientId: guid(`kubelet-client-${name}`),
                            objectId: guid(`kubelet-object-${name}`),
                            resourceId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/MC_${inputs.resourceGroupName}_${inputs.resourceName}_${inputs.location}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${inputs.resourceName}-agentpool`,
                        },
                    },
                },
            };
        case "azure-native:network:VirtualNetwork": {
            const id = arm(ARM_TYPES[type], inputs.virtualNetworkName);
            const subnets = (inputs.subnets ?? []).map((subnet: any) => ({ ...subnet, id: `${id}/subnets/${subnet.name}` }));
            return { id, extra: { name: inputs.virtualNetworkName, subnets } };
        }
        case "azure-native:network:PublicIPAddress":
            return {
                id: arm(ARM_TYPES[type], inputs.publicIpAddressName),
                extra: { name: inputs.publicIpAddressName, ipAddress: mockPublicIp(name) },
            };
        case "azure-native:network:AzureFirewall":
            // Azure gives the firewall an address of its subnet and reports it on the IP configuration.
            return {
                id: arm(ARM_TYPES[type], inputs.azureFirewallName),
                extra: {
                    name: inputs.azureFirewallName,
                    ipConfigurations: (inputs.ipConfigurations ?? []).map((c: any) => ({
                        ...c,
                        privateIPAddress: MOCK_FIREWALL_PRIVATE_IP,
                    })),
                },
            };
        case "azure-native:network:FirewallPolicyRuleCollectionGroup":
            return {
                id: `${arm(ARM_TYPES["azure-native:network:FirewallPolicy"], inputs.firewallPolicyName)}/ruleCollectionGroups/${inputs.ruleCollectionGroupName}`,
                extra: { name: inputs.ruleCollectionGroupName },
            };
        case "azure-native:network:Route":
            return {
                id: `${arm(ARM_TYPES["azure-native:network:RouteTable"], inputs.routeTableName)}/routes/${inputs.routeName}`,
                extra: { name: inputs.routeName },
            };
        case "azure-native:network:PrivateDnsZoneGroup":
            return {
                id: `${arm(ARM_TYPES["azure-native:network:PrivateEndpoint"], inputs.privateEndpointName)}/privateDnsZoneGroups/${inputs.privateDnsZoneGroupName}`,
                extra: { name: inputs.privateDnsZoneGroupName },
            };
        case "azure-native:privatedns:VirtualNetworkLink":
            return {
                id: `${arm(ARM_TYPES["azure-native:privatedns:PrivateZone"], inputs.privateZoneName)}/virtualNetworkLinks/${inputs.virtualNetworkLinkName}`,
                extra: { name: inputs.virtualNetworkLinkName },
            };
        // A pushed image: its digest as the registry reports it (deterministic per name here).
        case "docker-build:index:Image": {
            const digest = `sha256:${createHash("sha256").update(`image-${name}`).digest("hex")}`;
            const [tag] = inputs.tags ?? [];
            return { id: tag ? `${tag}@${digest}` : digest, extra: { digest } };
        }
        case "azure-native:containerregistry:Registry":
            return {
                id: arm(ARM_TYPES[type], inputs.registryName),
                extra: { name: inputs.registryName, loginServer: `${String(inputs.registryName).toLowerCase()}.azurecr.io` },
            };
        case "azure-native:authorization:ManagementLockAtResourceGroupLevel":
            return {
                id: `${rgId(inputs.resourceGroupName)}/providers/Microsoft.Authorization/locks/${inputs.lockName}`,
                extra: { name: inputs.lockName },
            };
        case "azure-native:containerservice:MaintenanceConfiguration":
            return {
                id: `${arm(ARM_TYPES["azure-native:containerservice:ManagedCluster"], inputs.resourceName)}/maintenanceConfigurations/${inputs.configName}`,
                extra: { name: inputs.configName },
            };
        case "azure-native:containerservice:AgentPool":
            return {
                id: `${arm(ARM_TYPES["azure-native:containerservice:ManagedCluster"], inputs.resourceName)}/agentPools/${inputs.agentPoolName}`,
                extra: { name: inputs.agentPoolName },
            };
        case "azure-native:authorization:ManagementLockByScope":
            return { id: `${inputs.scope}/providers/Microsoft.Authorization/locks/${inputs.lockName}`, extra: { name: inputs.lockName } };
        case "azure-native:keyvault:Vault":
            return {
                id: arm(ARM_TYPES[type], inputs.vaultName),
                extra: {
                    name: inputs.vaultName,
                    properties: { ...inputs.properties, vaultUri: `https://${inputs.vaultName}.vault.azure.net/` },
                },
            };
        case "azure-native:keyvault:Key":
            return {
                id: `${arm(ARM_TYPES["azure-native:keyvault:Vault"], inputs.vaultName)}/keys/${inputs.keyName}`,
                extra: {
                    name: inputs.keyName,
                    keyUri: `https://${inputs.vaultName}.vault.azure.net/keys/${inputs.keyName}`,
                },
            };
        case "azure-native:keyvault:Secret":
            return {
                id: `${arm(ARM_TYPES["azure-native:keyvault:Vault"], inputs.vaultName)}/secrets/${inputs.secretName}`,
                extra: { name: inputs.secretName },
            };
        case "azure-native:managedidentity:UserAssignedIdentity":
            return {
                id: arm(ARM_TYPES[type], inputs.resourceName),
                extra: {
                    name: inputs.resourceName,
                    clientId: guid(`client-${name}`),
                    principalId: guid(`principal-${name}`),
                    tenantId: TENANT,
                },
            };
        case "azure-native:managedidentity:FederatedIdentityCredential":
            return {
                id: `${arm(ARM_TYPES["azure-native:managedidentity:UserAssignedIdentity"], inputs.resourceName)}/federatedIdentityCredentials/${inputs.federatedIdentityCredentialResourceName}`,
                extra: { name: inputs.federatedIdentityCredentialResourceName },
            };
        case "azure-native:authorization:RoleAssignment": {
            const assignment = guid(`ra-${name}`);
            return { id: `${inputs.scope}/providers/Microsoft.Authorization/roleAssignments/${assignment}`, extra: { name: assignment } };
        }
        case "azure-native:storage:StorageAccount":
            return {
                id: arm(ARM_TYPES[type], inputs.accountName),
                extra: {
                    name: inputs.accountName,
                    primaryEndpoints: { blob: `https://${inputs.accountName}.blob.core.windows.net/` },
                },
            };
        case "azure-native:storage:BlobContainer":
            return {
                id: `${arm(ARM_TYPES["azure-native:storage:StorageAccount"], inputs.accountName)}/blobServices/default/containers/${inputs.containerName}`,
                extra: { name: inputs.containerName },
            };
        case "random:index/randomString:RandomString":
        case "random:index/randomPassword:RandomPassword": {
            // Deterministic, and of the requested length and alphabet.
            const alphabet = inputs.upper === false ? "abcdefghijklmnopqrstuvwxyz0123456789" : "Aa0-bB1_cC2.dD3~";
            const seed = createHash("sha256").update(name).digest();
            const result = Array.from({ length: inputs.length }, (_, i) => alphabet[seed[i % seed.length] % alphabet.length]).join("");
            return { id: name, extra: { result } };
        }
        // A generated key pair as the tls provider returns it (PEM text; a fixture key stands in): each
        // generated key is its own, so a CA's key (the program names them <name>-ca) is the fixture CA's
        // and every other one the server certificates', and a request or a signature wired to the
        // wrong key shows in the certificates' public keys.
        case "tls:index/privateKey:PrivateKey":
            return {
                id: name,
                extra: { privateKeyPem: name.endsWith("-ca") ? TEST_TLS.caPrivateKey : TEST_TLS.privateKey, algorithm: inputs.algorithm },
            };
        // A CA (basic constraints CA:TRUE) only when asked for one, as the tls provider signs it
        // (hashicorp/terraform-provider-tls internal/provider/common_cert.go, createCertificate: IsCA and
        // a subject key ID only with is_ca_certificate). The renewed one when MOCK_CLOCK says so.
        case "tls:index/selfSignedCert:SelfSignedCert":
            if (!inputs.isCaCertificate) return { id: name, extra: { certPem: TEST_TLS.leafCertificate } };
            return { id: name, extra: { certPem: renewed(inputs) ? TEST_TLS.renewedCaCertificate : TEST_TLS.caCertificate } };
        case "tls:index/certRequest:CertRequest":
            return {
                id: name,
                extra: { certRequestPem: `-----BEGIN CERTIFICATE REQUEST-----\n${name}\n-----END CERTIFICATE REQUEST-----\n` },
            };
        // Signed by the CA in caCertPem: the provider makes a certificate with basic constraints CA:FALSE
        // (resource_locally_signed_cert.go: BasicConstraintsValid, IsCA only with is_ca_certificate) whose
        // authority key ID is the CA's subject key ID; the mock answers the fixture leaf the fixture CA
        // signed (the renewed one when MOCK_CLOCK says so).
        case "tls:index/locallySignedCert:LocallySignedCert":
            return { id: name, extra: { certPem: renewed(inputs) ? TEST_TLS.renewedServerCertificate : TEST_TLS.serverCertificate } };
        // A custom role: ARM names it with a GUID (the given roleDefinitionId, or a new one) below its scope.
        case "azure-native:authorization:RoleDefinition": {
            const definition = inputs.roleDefinitionId ?? guid(`rd-${name}`);
            return { id: `${inputs.scope}/providers/Microsoft.Authorization/roleDefinitions/${definition}`, extra: { name: definition } };
        }
        // Extension and child resources: their ID below the resource they belong to, and their name.
        case "azure-native:authorization:PolicyAssignment":
            return {
                id: `${inputs.scope}/providers/Microsoft.Authorization/policyAssignments/${inputs.policyAssignmentName}`,
                extra: { name: inputs.policyAssignmentName },
            };
        case "azure-native:monitor:DiagnosticSetting":
            return { id: `${inputs.resourceUri}/providers/Microsoft.Insights/diagnosticSettings/${inputs.name}`, extra: {} };
        case "azure-native:monitor:DataCollectionRuleAssociation":
            return {
                id: `${inputs.resourceUri}/providers/Microsoft.Insights/dataCollectionRuleAssociations/${inputs.associationName}`,
                extra: { name: inputs.associationName },
            };
        case "azure-native:storage:BlobServiceProperties":
            return {
                id: `${arm(ARM_TYPES["azure-native:storage:StorageAccount"], inputs.accountName)}/blobServices/${inputs.blobServicesName}`,
                extra: { name: inputs.blobServicesName },
            };
        case "azure-native:storage:ManagementPolicy":
            return {
                id: `${arm(ARM_TYPES["azure-native:storage:StorageAccount"], inputs.accountName)}/managementPolicies/${inputs.managementPolicyName}`,
                extra: { name: inputs.managementPolicyName },
            };
        // The dynamic provider of components/azure/acrImport.ts: its create answers this ID and echoes
        // the inputs (what the program reads, targetRepository); any other dynamic resource is unmocked.
        case "pulumi-nodejs:dynamic:Resource":
            if (inputs.registryId === undefined || inputs.targetRepository === undefined) break;
            return { id: `${inputs.registryId}/repositories/${inputs.targetRepository}`, extra: {} };
        // pulumiverse/time's sleep: its ID is the time it was created (RFC 3339); nothing else is read.
        case "time:index/sleep:Sleep":
            return { id: "2027-01-01T00:00:00Z", extra: {} };
        case "pulumi:providers:kubernetes":
            return { id: guid(`provider-${name}`), extra: {} };
        case "kubernetes:helm.sh/v3:Release":
            return helmRelease(name, inputs);
        default:
            if (type in NAME_INPUTS) {
                const resourceName = inputs[NAME_INPUTS[type]];
                return { id: arm(ARM_TYPES[type], resourceName), extra: { name: resourceName } };
            }
            if (KUBERNETES_KINDS.has(type)) return kubernetesObject(name, inputs);
    }
    // Strict: a type nobody mocked would be answered with its inputs alone, hiding what the provider
    // returns (an ID's shape, a generated name, a status the program reads): a test gap.
    throw new Error(`unmocked resource type ${type} (${name}): add what its provider returns to tools/mocks.ts`);
}

/**
 * The Kubernetes kinds the program creates. The provider answers the object as the API server stores
 * it; of that, the program reads only metadata.name, which the provider generates where the program
 * gives none: the resource's name plus "-" and 8 random DNS-1123 characters (pulumi/pulumi-kubernetes
 * provider/pkg/metadata/naming.go, AssignNameIfAutonamable; deterministic here). The ID is
 * <namespace>/<name>, or <name> for a cluster-scoped object (provider/pkg/provider/provider.go, Create:
 * FqObjName).
 */
const KUBERNETES_KINDS = new Set([
    "kubernetes:argoproj.io/v1alpha1:AppProject",
    "kubernetes:argoproj.io/v1alpha1:Application",
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:batch/v1:CronJob",
    "kubernetes:batch/v1:Job",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:core/v1:Secret",
    "kubernetes:core/v1:Service",
    "kubernetes:core/v1:ServiceAccount",
    "kubernetes:networking.istio.io/v1:DestinationRule",
    "kubernetes:networking.istio.io/v1:Gateway",
    "kubernetes:networking.istio.io/v1:VirtualService",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:policy/v1:PodDisruptionBudget",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
    "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass",
    "kubernetes:security.istio.io/v1:AuthorizationPolicy",
    "kubernetes:security.istio.io/v1:PeerAuthentication",
    "kubernetes:storage.k8s.io/v1:StorageClass",
]);

function kubernetesObject(name: string, inputs: any): { id: string; extra: Record<string, unknown> } {
    const given: string | undefined = inputs.metadata?.name;
    const objectName = given ?? `${name}-${guid(`autoname-${name}`).replace(/-/g, "").slice(0, 8)}`;
    const namespace: string | undefined = inputs.metadata?.namespace;
    return {
        id: namespace ? `${namespace}/${objectName}` : objectName,
        extra: given === undefined ? { metadata: { ...inputs.metadata, name: objectName } } : {},
    };
}

/**
 * A Helm release: its ID (<namespace>/<name>). The status block (an output only) is left out: the
 * offline plan stands for a preview before anything is installed, where the provider has no revision
 * yet (components/platform/vault.ts, rolloutNotice; tests/docs.test.ts).
 */
function helmRelease(name: string, inputs: any): { id: string; extra: Record<string, unknown> } {
    const releaseName: string = inputs.name ?? `${name}-${guid(`autoname-${name}`).replace(/-/g, "").slice(0, 8)}`;
    return { id: `${inputs.namespace ?? "default"}/${releaseName}`, extra: inputs.name === undefined ? { name: releaseName } : {} };
}

function kubeconfigFor(resourceGroupName: string, clusterName: string): string {
    return [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        `- name: ${clusterName}`,
        "  cluster:",
        `    server: https://${clusterName}-dns.hcp.eastus.azmk8s.io:443`,
        "    certificate-authority-data: TU9DSw==",
        "contexts:",
        `- name: ${clusterName}`,
        `  context: {cluster: ${clusterName}, user: clusterUser_${resourceGroupName}_${clusterName}}`,
        `current-context: ${clusterName}`,
        "users:",
        `- name: clusterUser_${resourceGroupName}_${clusterName}`,
        "  user: {token: mock-token-for-" + clusterName + "}",
    ].join("\n");
}

function answerInvoke(token: string, inputs: any): Record<string, unknown> {
    switch (token) {
        // The deployer's ARM access token (ServiceImages: the registry token exchange, the image import).
        case "azure-native:authorization:getClientToken":
            return { token: MOCK_ARM_TOKEN };
        case "azure-native:authorization:getClientConfig":
            return { clientId: guid("deployer-client"), objectId: DEPLOYER_OBJECT_ID, subscriptionId: SUBSCRIPTION, tenantId: TENANT };
        case "azure-native:containerservice:listManagedClusterUserCredentials":
            return {
                kubeconfigs: [
                    {
                        name: "clusterUser",
                        value: Buffer.from(kubeconfigFor(inputs.resourceGroupName, inputs.resourceName)).toString("base64"),
                    },
                ],
            };
        default:
            // Strict: an invoke nobody mocked is a test gap, not something to answer with {}.
            // `details` is what the SDK hands the program as the invoke's error (runtime/invoke.js).
            throw Object.assign(new Error(`unmocked invoke ${token} ${JSON.stringify(inputs)}`), {
                details: `unmocked invoke ${token}`,
            });
    }
}

const fixture = (file: string) => fs.readFileSync(path.join(ROOT, "tools", "fixtures", file), "utf8");
/** Test certificates for app.prod.example.com and app.dev.example.com, on two keys (tools/fixtures/README.md): never deployed. */
export const TEST_TLS = {
    /** A private CA's chain with its root: the server certificate, then the CA. */
    certificate: fixture("ingress-tls-server.crt") + fixture("ingress-ca.crt"),
    /** The key of every certificate below but the CA's. */
    privateKey: fixture("ingress-tls.key"),
    /** The CA's key (ingress-ca.crt and ingress-ca-renewed.crt), which signed the server certificates. */
    caPrivateKey: fixture("ingress-ca.key"),
    /** The CA (CA:TRUE, certificate and CRL signing), self-signed. */
    caCertificate: fixture("ingress-ca.crt"),
    /** The server certificate the CA signed (CA:FALSE, digital signature, server auth). */
    serverCertificate: fixture("ingress-tls-server.crt"),
    /** The CA and the server certificate as the tls provider re-issues them when they are due (another serial). */
    renewedCaCertificate: fixture("ingress-ca-renewed.crt"),
    renewedServerCertificate: fixture("ingress-tls-server-renewed.crt"),
    /** Self-signed but not a CA (CA:FALSE, no certificate signing). */
    leafCertificate: fixture("ingress-tls-leaf.crt"),
    /** Self-signed and a CA, with the server names: a CA served as the server's own certificate. */
    caAsLeafCertificate: fixture("ingress-tls.crt"),
};

/**
 * The time the mocked tls provider answers at, in hours since the stack's certificates were issued (0:
 * the first `up`). A certificate is re-issued once it is within its early-renewal window: the provider
 * marks it ready_for_renewal when now >= notAfter - early_renewal_hours, and the plan replaces it
 * (hashicorp/terraform-provider-tls internal/provider/common_cert.go,
 * modifyPlanIfCertificateReadyForRenewal). Part of the evaluation cache's key.
 */
export const MOCK_CLOCK = { hoursSinceIssue: 0 };

function renewed(inputs: { validityPeriodHours?: number; earlyRenewalHours?: number }): boolean {
    const due = (inputs.validityPeriodHours ?? 0) - (inputs.earlyRenewalHours ?? 0);
    return MOCK_CLOCK.hoursSinceIssue > 0 && MOCK_CLOCK.hoursSinceIssue >= due;
}

/**
 * Drops index.ts from the require cache so that requiring it runs the program's top level again. The
 * components it imports are kept: they register nothing when loaded (only when called), so reusing
 * them is the same program and saves compiling them again for every evaluation.
 */
function forgetProgram(): void {
    delete require.cache[require.resolve(path.join(ROOT, "index.ts"))];
}

async function resolveOutput(output: pulumi.Output<unknown>): Promise<ExportedOutput> {
    const value = await new Promise<unknown>((resolve) => output.apply(resolve));
    return { value, secret: await pulumi.isSecret(output) };
}

/**
 * A config value as a stack file holds it at a path (YAML): `"natGateway"`, `5`, `true`, `["1", "2"]`.
 * Numbers and booleans are YAML's: `5` is the integer the file would hold unquoted, `"5"` a string.
 */
export type ConfigValue = string | number | boolean | readonly string[];

/**
 * Settings by path (`<group>.<member>`, or `environment`) -> the value the stack file would hold there;
 * undefined removes the member (a group left empty goes too). `{ "network.egressType": "natGateway",
 * "userPool.enabled": true, "userPool.zones": [], "vault.voters": 5 }`.
 */
export type Overrides = Readonly<Record<string, ConfigValue | undefined>>;

/**
 * Stand-ins for the images a prod stack imports (services.imageSource import): the stack file names
 * them once the first release is promoted (tools/promote.ts), or the admin sets them before the first
 * `up` (docs/delivery.md); the committed file names none. With GHCR's read token. Never deployed.
 */
export const STAND_IN_IMAGES: Overrides = {
    "services.productImage": "ghcr.io/ci-owner/product-service",
    "services.productTag": "v1.0.0",
    "services.orderImage": "ghcr.io/ci-owner/order-service",
    "services.orderTag": "v1.0.0",
    "services.imageSourceUsername": "ci-owner",
    "services.imageSourceToken": "stand-in-read-packages-token",
};

/** The CI runner's repository and token, for a plan of prod before the admin has set them (ciRunner.enabled). */
export const STAND_IN_RUNNER: Overrides = {
    "ciRunner.repository": "ci-owner/aks-platform",
    "ciRunner.githubToken": "stand-in-runner-token",
};

/**
 * Stand-ins for the secret config a real stack holds encrypted in its Pulumi.<stack>.yaml
 * (`pulumi config set --path --secret`), which the committed files cannot carry: the fixture pair above
 * as prod's ingress TLS, the images and the runner's settings. Keyed by path; each member is written
 * `secure:` into its group, so the group arrives secret (tools/cliConfig.ts). For tests and tools that
 * evaluate a committed stack; never deployed.
 */
export const STAND_IN_SECRETS: Readonly<Record<string, Overrides>> = {
    prod: {
        "ingress.tlsCertificate": TEST_TLS.certificate,
        "ingress.tlsPrivateKey": TEST_TLS.privateKey,
        ...STAND_IN_IMAGES,
        // The runners' repository and token (ciRunner.enabled): set by the admin before the first `up`.
        ...STAND_IN_RUNNER,
    },
};

/** Whether the schema marks a path secret (it is then written `secure:`, as `pulumi config set --path --secret` does). */
function isSecretPath(key: string): boolean {
    return isConfigPath(key) && specOf(key).secret === true;
}

/** The text a secure member holds encrypted: a string as it is, anything else as the CLI would be given it. */
const secretText = (value: ConfigValue): string => (typeof value === "string" ? value : JSON.stringify(value));

/**
 * The config `pulumi up` would hand the program for `stack`: Pulumi.yaml and Pulumi.<stack>.yaml
 * through the CLI's config pass, with the file's members at the paths of `overrides` set to their
 * values (undefined removes one; paths the schema marks secret are written `secure:`) and the members
 * of `secrets` written `secure:`. Throws CliConfigError where the CLI would stop before the program.
 */
export function programConfig(stack: string, overrides: Overrides = {}, secrets: Overrides = {}): ProgramConfig {
    const file: Record<string, ConfigValue | undefined> = {};
    const secure: Record<string, string | undefined> = {};
    for (const [key, value] of Object.entries(secrets)) secure[key] = value === undefined ? undefined : secretText(value);
    for (const [key, value] of Object.entries(overrides)) {
        if (isSecretPath(key)) secure[key] = value === undefined ? undefined : secretText(value);
        else {
            file[key] = value;
            // An override wins over a secret of the same path.
            if (key in secure) delete secure[key];
        }
    }
    return cliConfig(ROOT, stack, { file, secure });
}

/**
 * Runs index.ts for `stack` with the config programConfig gives. Resolves once every registration has
 * completed.
 */
export function evaluateStack(stack: string, overrides: Overrides = {}, secrets: Overrides = {}): Promise<StackRun> {
    let config: ProgramConfig;
    try {
        config = programConfig(stack, overrides, secrets);
    } catch (error) {
        return Promise.reject(error);
    }
    // The program is deterministic under the mocks, so callers share one evaluation per stack and
    // config: every test of a run (npm test evaluates each distinct stack and config once). The run is
    // frozen, deeply, so that a caller that changed it (sorted its resources in place, edited an
    // input) throws instead of changing what every other caller sees.
    // The config as a set (sorted keys; each group's text is JSON with sorted members, tools/cliConfig.ts
    // goJson): the same overrides in another order, by path or by value, are the same program input.
    const key = JSON.stringify([
        stack,
        Object.entries(config.config).sort(([a], [b]) => a.localeCompare(b)),
        [...config.secretKeys].sort(),
        MOCK_CLOCK,
    ]);
    let run = evaluations.get(key);
    if (!run) {
        run = sharedEvaluation(key, async () => {
            const started = performance.now();
            const record = (ok: boolean) => {
                const log = process.env[EVALUATION_LOG];
                if (log)
                    fs.appendFileSync(
                        log,
                        `${JSON.stringify({ stack, key: createHash("sha256").update(key).digest("hex").slice(0, 16), ok, ms: Math.round(performance.now() - started) })}\n`,
                    );
            };
            try {
                const data = await evaluate(
                    stack,
                    config.config,
                    () => {
                        forgetProgram();
                        // A fresh require is what runs the program's top level again, as `pulumi up` would.
                        // eslint-disable-next-line @typescript-eslint/no-require-imports
                        return require(path.join(ROOT, "index.ts")) as Record<string, unknown>;
                    },
                    config.secretKeys,
                );
                record(true);
                return data;
            } catch (error) {
                record(false);
                throw error;
            }
        }).then((data) => deepFreeze(stackRun(data)));
        evaluations.set(key, run);
    }
    return run;
}
const evaluations = new Map<string, Promise<StackRun>>();

/** An environment variable naming a file to which evaluateStack appends a line per evaluation (tools/benchmark.ts). */
export const EVALUATION_LOG = "AKSPLATFORM_EVALUATION_LOG";

/**
 * Freezes `value` and every array and plain object it holds (the registrations' inputs and state are
 * plain data, deserialised from the SDK's wire form). Other objects (a Resource, a function) are left
 * as they are. Returns `value`.
 */
function deepFreeze<T>(value: T): T {
    const visit = (v: unknown): void => {
        if (typeof v !== "object" || v === null || Object.isFrozen(v)) return;
        const proto = Object.getPrototypeOf(v);
        if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) return;
        Object.freeze(v);
        for (const item of Object.values(v)) visit(item);
    };
    visit(value);
    return value;
}

/**
 * Runs `program` under the Azure mocks as stack `stack` with the given full config (project:key ->
 * value; undefined values dropped; `secretKeys` arrived encrypted). `program` registers resources and
 * returns its outputs; use it to test one component on its own.
 */
export async function evaluate(
    stack: string,
    fullConfig: Record<string, string | undefined>,
    program: () => Record<string, unknown> | Promise<Record<string, unknown>>,
    secretKeys: readonly string[] = [],
): Promise<StackRun> {
    const registrations: Registration[] = [];
    /** One registration in flight: its additionalSecretOutputs (the engine marks them secret; the mock monitor does not) and the mock's answer. */
    type Slot = { secretOutputs: string[]; answer?: { args: pulumi.runtime.MockResourceArgs; id: string; state: Record<string, unknown> } };
    let pending: Slot | undefined;
    /** What the strict mocks refused (an unmocked type or invoke): the evaluation fails with it. */
    const mockErrors: unknown[] = [];
    let refuse: (error: unknown) => void = () => undefined;
    const invokes: { token: string; inputs: any }[] = [];
    const tokenExchanges: { url: string; form: Record<string, string> }[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = mockFetch(tokenExchanges);

    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                // What the SDK's mock interface hands over (type, name, inputs, custom, provider, import
                // ID) is recorded from here; the monitor below adds what it leaves out.
                const slot = pending;
                pending = undefined;
                if (!args.custom) {
                    // A component: the engine keeps no state for it beyond its URN.
                    if (slot) slot.answer = { args, id: "", state: {} };
                    return { id: undefined, state: {} };
                }
                let answer: { id: string; extra: Record<string, unknown> };
                try {
                    answer = azureState(args.type, args.name, unwrapSecrets(args.inputs));
                } catch (error) {
                    mockErrors.push(error);
                    refuse(error);
                    throw error;
                }
                // The provider's state: the inputs plus the output-only fields it answers.
                const state: Record<string, unknown> = { ...args.inputs, ...answer.extra };
                for (const field of slot?.secretOutputs ?? []) {
                    if (field in state && !isSecretValue(state[field])) state[field] = { [SIG_KEY]: SECRET_SIG, value: state[field] };
                }
                if (slot) slot.answer = { args, id: answer.id, state };
                return { id: answer.id, state };
            },
            call(args) {
                const inputs = unwrapSecrets(args.inputs);
                invokes.push({ token: args.token, inputs });
                try {
                    return answerInvoke(args.token, inputs);
                } catch (error) {
                    mockErrors.push(error);
                    refuse(error);
                    throw error;
                }
            },
        },
        PROJECT,
        stack,
        false,
    );

    // The mock interface passes no parent, dependencies or options to newResource: they are read off
    // the request the SDK sends the (mock) monitor, which calls newResource synchronously with it
    // (@pulumi/pulumi runtime/mocks.js, MockMonitor.registerResource), so the slot pairs the two.
    const monitor = pulumi.runtime.getMonitor() as any;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: any, res: any) => void) => {
        const slot: Slot = { secretOutputs: req.getAdditionalsecretoutputsList() };
        pending = slot;
        const registered = register(req, (err: any, res: any) => {
            if (!err) {
                // A test that answers a type itself (a StackReference read) bypasses the slot: the request tells.
                const { args, id, state } = slot.answer ?? {
                    args: { type: req.getType(), name: req.getName(), inputs: {}, custom: req.getCustom(), provider: req.getProvider() },
                    id: res.getId(),
                    state: {},
                };
                registrations.push({
                    urn: res.getUrn(),
                    type: args.type,
                    name: args.name,
                    rawInputs: args.inputs,
                    inputs: unwrapSecrets(args.inputs),
                    id,
                    state: unwrapSecrets(state),
                    parent: req.getParent(),
                    dependencies: req.getDependenciesList(),
                    provider: (args.provider ?? "").split("::").slice(0, -1).join("::"),
                    protect: req.getProtect() === true,
                    retainOnDelete: req.getRetainondelete() === true,
                    deletedWith: req.getDeletedwith() ?? "",
                    customTimeouts: {
                        create: req.getCustomtimeouts()?.getCreate() ?? "",
                        update: req.getCustomtimeouts()?.getUpdate() ?? "",
                        delete: req.getCustomtimeouts()?.getDelete() ?? "",
                    },
                    importId: args.id ?? "",
                    ignoreChanges: req.getIgnorechangesList(),
                    replaceOnChanges: req.getReplaceonchangesList?.() ?? [],
                    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                    custom: args.custom === true,
                    aliases: aliasesOf(req),
                });
            }
            callback(err, res);
        });
        pending = undefined;
        return registered;
    };

    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(fullConfig)) if (value !== undefined) config[key] = value;
    pulumi.runtime.setAllConfig(config, [...secretKeys]);

    let exported: Record<string, unknown>;
    const outputs: Record<string, ExportedOutput> = {};
    try {
        try {
            exported = await program();
        } catch (error) {
            await pulumi.runtime.disconnect();
            throw new EvaluationError(error, registrations);
        }
        // An output that waits for a resource the mocks refused never resolves: stop at the refusal.
        const refused = new Promise<never>((_, reject) => (refuse = reject));
        refused.catch(() => undefined);
        if (mockErrors.length > 0) refuse(mockErrors[0]);
        try {
            for (const [name, value] of Object.entries(exported)) {
                if (pulumi.Output.isInstance(value)) outputs[name] = await Promise.race([resolveOutput(value), refused]);
            }
            await Promise.race([pulumi.runtime.disconnect(), refused]);
        } catch (error) {
            throw new EvaluationError(error, registrations);
        }
        if (mockErrors.length > 0) throw new EvaluationError(mockErrors[0], registrations);
    } finally {
        globalThis.fetch = realFetch;
    }

    return stackRun({ resources: registrations, invokes, tokenExchanges, outputs });
}

/** A run's data: what an evaluation records, without the look-ups (JSON-serialisable, see evaluationCache.ts). */
export type StackRunData = Pick<StackRun, "resources" | "invokes" | "tokenExchanges" | "outputs">;

/** A run from its data: the look-ups over the registrations. */
export function stackRun(data: StackRunData): StackRun {
    const registrations = data.resources;
    const byUrn = new Map(registrations.map((r) => [r.urn, r]));
    const run: StackRun = {
        ...data,
        ofType: (type) => registrations.filter((r) => r.type === type),
        get(type, name) {
            const found = registrations.filter((r) => r.type === type && r.name === name);
            if (found.length !== 1) {
                const names = run.ofType(type).map((r) => r.name);
                throw new Error(`expected one ${type} named ${name}, found ${found.length}; names: ${names.join(", ")}`);
            }
            return found[0];
        },
        byUrn(urn) {
            const found = byUrn.get(urn);
            if (!found) throw new Error(`no registration with URN ${urn}`);
            return found;
        },
        dependsOn(urn, on) {
            const seen = new Set<string>();
            const visit = (u: string): boolean => {
                if (seen.has(u)) return false;
                seen.add(u);
                const r = byUrn.get(u);
                if (!r) return false;
                return r.dependencies.some((d) => d === on || visit(d));
            };
            return visit(urn);
        },
    };
    return run;
}

/** Bare keys become `<project>:<key>`; keys that already name a namespace stay as they are. */
export function prefixed(overrides: Record<string, string | undefined>): Record<string, string | undefined> {
    return Object.fromEntries(Object.entries(overrides).map(([k, v]) => [k.includes(":") ? k : `${PROJECT}:${k}`, v]));
}
