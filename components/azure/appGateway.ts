// The ingress WAF (issue 22 item 2; azure-native 3.28.0 network ApplicationGateway and
// WebApplicationFirewallPolicy, API version 2024-05-01): Application Gateway WAF_v2 as the only public
// entry, in its own subnet, terminating TLS with the ingress certificate from Key Vault and
// re-encrypting to the Istio ingress gateway's internal load balancer, which keeps serving the same
// certificate. The shape of mspnp/aks-baseline (workload-team/cluster-stamp.bicep: a WAF_v2 gateway
// with a user-assigned identity reading its listener certificate from Key Vault, an HTTPS backend to the
// ingress controller's internal load balancer, a custom HTTPS probe, autoscale across zones, a WAF
// policy in Prevention mode).
import * as authorization from "@pulumi/azure-native/authorization";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as monitor from "@pulumi/azure-native/monitor";
import * as network from "@pulumi/azure-native/network";
import * as pulumi from "@pulumi/pulumi";
import type { IngressWafConfig } from "../config";
import { INGRESS_HEALTH_PATH, PORTS } from "../topology";
import { keyVaultItemOptions, type KeyVault } from "./keyVault";
import { PFX_CONTENT_TYPE, pemChain, pemToPfxBase64 } from "./pfx";
import {
    KEY_VAULT_RBAC_PROPAGATION_SECONDS,
    KEY_VAULT_SECRETS_USER,
    rbacPropagation,
    roleDefinitionId,
    roleAssignmentOptions,
} from "./roles";

/**
 * The managed rule sets: Microsoft's Default Rule Set 2.2, the newest ("Among DRS releases, always use
 * the highest available version (DRS 2.2)", learn.microsoft.com/azure/web-application-firewall/ag/
 * upgrade-ruleset-version; MicrosoftDocs azure-docs articles/web-application-firewall/
 * ruleset-support-policy.md lists 2.2 as N and 2.1 as N-1), and the bot manager set 1.1, its newest.
 * DRS 2.2 runs at paranoia level 1, and its newly added rules start in log mode.
 */
const WAF_MANAGED_RULE_SETS = [
    { ruleSetType: "Microsoft_DefaultRuleSet", ruleSetVersion: "2.2" },
    { ruleSetType: "Microsoft_BotManagerRuleSet", ruleSetVersion: "1.1" },
] as const;

/** Key Vault secret (application vault) with the ingress certificate and key as a PFX, for the Application Gateway. */
const INGRESS_PFX_SECRET = "ingress-tls-pfx";

/**
 * TLS 1.2 and newer with strong suites only (Application Gateway's predefined AppGwSslPolicy20220101;
 * azure-native network ApplicationGatewaySslPolicyName).
 */
const APP_GATEWAY_SSL_POLICY = "AppGwSslPolicy20220101";

export interface IngressWafArgs {
    /** Stem of the gateway's, its policy's, identity's and public IP's names. */
    readonly name: string;
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: pulumi.Input<string>;
    readonly subscriptionId: pulumi.Input<string>;
    /** ARM ID of the dedicated Application Gateway subnet. */
    readonly subnetId: pulumi.Input<string>;
    /** Zones of the gateway and its public IP ([] for none). */
    readonly zones: readonly string[];
    /** Mode, autoscale bounds and the internal load balancer's address (the backend). */
    readonly settings: IngressWafConfig;
    /** The host served; the backend's TLS server name and the probe's Host. */
    readonly host: string;
    /** The ingress certificate chain (PEM, leaf first) and key, as the gateway itself serves them. */
    readonly certificatePem: pulumi.Input<string>;
    readonly privateKeyPem: pulumi.Input<string>;
    /**
     * The PEM root the chain ends in when a public CA did not issue it (IngressCertificate.root): the
     * backend hop's trusted root. Its own input, not read off the served chain, so that renewing the
     * server certificate leaves the gateway's inputs as they are.
     */
    readonly rootCertificatePem: pulumi.Input<string | undefined>;
    /** The vault the PFX is kept in (the application vault, beside the PEM secrets). */
    readonly vault: KeyVault;
    /**
     * That vault's URI, resolving only once the gateway can reach it: with private endpoints, after the
     * endpoint's DNS record is registered in the zone linked to the VNet. A gateway created before then
     * fails with ApplicationGatewayKeyVaultSecretException ("If using Private Endpoints to access Key
     * Vault, you must link the privatelink.vaultcore.azure.net private DNS zone ... to the virtual network
     * containing Application Gateway", MicrosoftDocs azure-docs articles/application-gateway/key-vault-certs.md;
     * mspnp/aks-baseline cluster-stamp.bicep puts the vault's private endpoint in the gateway's dependsOn).
     */
    readonly reachableVaultUri: pulumi.Input<string>;
    /** Resource group of that vault. */
    readonly vaultResourceGroupName: pulumi.Input<string>;
    /** Log Analytics workspace of the gateway's access, performance and firewall logs. */
    readonly workspaceId: pulumi.Input<string>;
    /** Keep the PFX secret (prod). */
    readonly protect: boolean;
    readonly tags: pulumi.Input<Record<string, string>>;
}

/** The names of the gateway's sub-resources, which reference each other by ARM ID. */
const PART = {
    gatewayIp: "gateway-ip",
    frontend: "public",
    httpsPort: "https",
    httpPort: "http",
    certificate: "ingress",
    httpsListener: "https",
    httpListener: "http",
    pool: "istio-ingress",
    settings: "istio-ingress-https",
    probe: "istio-ingress-health",
    trustedRoot: "ingress-self-signed-root",
    redirect: "http-to-https",
    clientAddress: "client-address",
    httpsRule: "https-to-istio",
    httpRule: "http-redirect",
} as const;

/**
 * The client's address as the Istio gateway reads it: Application Gateway appends the client as
 * `ip:port` to X-Forwarded-For, which Envoy cannot parse as an address (envoyproxy/envoy#25517), so a
 * rewrite sets the header to `{var_add_x_forwarded_for_proxy}`, the same list with the client's bare IP
 * ("add_x_forwarded_for_proxy", Application Gateway's server variables, MicrosoftDocs azure-docs
 * articles/application-gateway/rewrite-http-headers-url.md). The gateway then trusts exactly this one
 * proxy hop (GATEWAY_TRUSTED_PROXIES in components/platform/ingressGateway.ts).
 */
const CLIENT_ADDRESS_REWRITE = { headerName: "X-Forwarded-For", headerValue: "{var_add_x_forwarded_for_proxy}" } as const;

export class IngressWaf extends pulumi.ComponentResource {
    /** The only public address of the ingress. */
    readonly publicIp: pulumi.Output<string>;
    readonly gatewayId: pulumi.Output<string>;
    readonly policyId: pulumi.Output<string>;
    /** The identity the gateway reads its certificate as. */
    readonly identityPrincipalId: pulumi.Output<string>;

    constructor(name: string, args: IngressWafArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:IngressWaf", name, {}, opts);
        const common = { resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags };
        const zones = args.zones.length > 0 ? [...args.zones] : undefined;
        const gatewayName = `agw-${args.name}`;

        // Standard and static, as v2 requires; in the gateway's zones, so that each zone it runs in has it.
        const ip = new network.PublicIPAddress(
            `${name}-ip`,
            {
                ...common,
                publicIpAddressName: `pip-${args.name}-agw`,
                sku: { name: "Standard", tier: "Regional" },
                publicIPAllocationMethod: "Static",
                publicIPAddressVersion: "IPv4",
                zones,
            },
            { parent: this },
        );

        const policy = new network.WebApplicationFirewallPolicy(
            `${name}-policy`,
            {
                ...common,
                policyName: `waf-${args.name}`,
                policySettings: {
                    state: "Enabled",
                    mode: args.settings.mode,
                    requestBodyCheck: true,
                    maxRequestBodySizeInKb: 128,
                    fileUploadLimitInMb: 100,
                },
                managedRules: { managedRuleSets: WAF_MANAGED_RULE_SETS.map((set) => ({ ...set })) },
            },
            { parent: this },
        );

        // The listener's certificate: the same chain and key the Istio gateway serves, as the PFX the
        // gateway reads (components/azure/pfx.ts), kept beside the PEM secrets in the application vault.
        const pfx = new keyvault.Secret(
            `${name}-pfx`,
            {
                vaultName: args.vault.vaultName,
                resourceGroupName: args.vaultResourceGroupName,
                secretName: INGRESS_PFX_SECRET,
                properties: {
                    value: pulumi.secret(pulumi.all([args.certificatePem, args.privateKeyPem]).apply(([c, k]) => pemToPfxBase64(c, k))),
                    contentType: PFX_CONTENT_TYPE,
                },
            },
            { parent: this, additionalSecretOutputs: ["properties"], ...keyVaultItemOptions(args.vault, args.protect) },
        );

        // A user-assigned identity, the only kind Application Gateway takes for Key Vault ("TLS termination
        // with Key Vault certificates": a user-assigned managed identity with Key Vault Secrets User on
        // an RBAC vault), on this one secret only.
        const identity = new managedidentity.UserAssignedIdentity(
            `${name}-identity`,
            { ...common, resourceName: `${args.name}-appgw` },
            { parent: this },
        );
        const reader = new authorization.RoleAssignment(
            `${name}-pfx-reader`,
            {
                principalId: identity.principalId,
                principalType: authorization.PrincipalType.ServicePrincipal,
                roleDefinitionId: pulumi.output(args.subscriptionId).apply((sub) => roleDefinitionId(sub, KEY_VAULT_SECRETS_USER)),
                scope: pfx.id,
            },
            roleAssignmentOptions({ parent: this }),
        );
        // The gateway reads the PFX as it is created, and a listener whose certificate it cannot read is
        // put in a disabled state ("Common key vault errors in Application Gateway", MicrosoftDocs
        // azure-docs articles/application-gateway/application-gateway-key-vault-common-errors.md), to be
        // retried only at the next four-hourly poll. An assignment exists before it applies (up to
        // KEY_VAULT_RBAC_PROPAGATION_SECONDS), so the gateway waits that long after the grant. The Sleep
        // runs on create, and again only when the grant is replaced (its triggers): a second `up` does not
        // wait. It runs beside the cluster's creation, which takes longer, so the first `up` is no slower.
        const readable = rbacPropagation(`${name}-pfx-reader-propagation`, reader, KEY_VAULT_RBAC_PROPAGATION_SECONDS, { parent: this });

        const gatewayId = pulumi.interpolate`/subscriptions/${args.subscriptionId}/resourceGroups/${args.resourceGroupName}/providers/Microsoft.Network/applicationGateways/${gatewayName}`;
        const part = (collection: string, partName: string) => ({ id: pulumi.interpolate`${gatewayId}/${collection}/${partName}` });
        // A generated CA, or a configured private CA, is no well-known CA: the gateway must be told to
        // trust its root for the re-encrypted hop, or it marks the backend unhealthy ("If the backend
        // server certificate is self-signed, or signed by unknown CA/intermediaries, then ... a trusted
        // root certificate must be uploaded", MicrosoftDocs azure-docs articles/application-gateway/
        // ssl-overview.md). Its data is the root's DER in base64 (the .cer file Azure's docs export;
        // azure-native 3.28.0 network ApplicationGatewayTrustedRootCertificate.data). A public CA's chain
        // needs none (config refuses a chain that is neither: checkWafBackendChain).
        const trustedRoot = pulumi.output(args.rootCertificatePem).apply((pem) => (pem ? pemChain(pem)[0].toString("base64") : undefined));
        // The public ports the subnet's NSG admits (APP_GATEWAY_PUBLIC_PORTS): the same as the Istio gateway's.
        const https = PORTS.gatewayHttps.service;
        const http = PORTS.gatewayHttp.service;

        const gateway = new network.ApplicationGateway(
            name,
            {
                ...common,
                applicationGatewayName: gatewayName,
                sku: { name: "WAF_v2", tier: "WAF_v2" },
                autoscaleConfiguration: { minCapacity: args.settings.minCapacity, maxCapacity: args.settings.maxCapacity },
                zones,
                enableHttp2: true,
                identity: { type: "UserAssigned", userAssignedIdentities: [identity.id] },
                firewallPolicy: { id: policy.id },
                gatewayIPConfigurations: [{ name: PART.gatewayIp, subnet: { id: args.subnetId } }],
                frontendIPConfigurations: [{ name: PART.frontend, publicIPAddress: { id: ip.id } }],
                frontendPorts: [
                    { name: PART.httpsPort, port: https },
                    { name: PART.httpPort, port: http },
                ],
                sslPolicy: { policyType: "Predefined", policyName: APP_GATEWAY_SSL_POLICY },
                // The versionless secret URI: the gateway polls Key Vault (every four hours) and picks up a
                // new version of the PFX on its own ("TLS termination with Key Vault certificates").
                sslCertificates: [
                    {
                        name: PART.certificate,
                        keyVaultSecretId: pulumi.interpolate`${args.reachableVaultUri}secrets/${INGRESS_PFX_SECRET}`,
                    },
                ],
                trustedRootCertificates: trustedRoot.apply((data) => (data ? [{ name: PART.trustedRoot, data }] : [])),
                httpListeners: [
                    {
                        name: PART.httpsListener,
                        frontendIPConfiguration: part("frontendIPConfigurations", PART.frontend),
                        frontendPort: part("frontendPorts", PART.httpsPort),
                        protocol: "Https",
                        hostName: args.host,
                        requireServerNameIndication: true,
                        sslCertificate: part("sslCertificates", PART.certificate),
                    },
                    {
                        name: PART.httpListener,
                        frontendIPConfiguration: part("frontendIPConfigurations", PART.frontend),
                        frontendPort: part("frontendPorts", PART.httpPort),
                        protocol: "Http",
                        hostName: args.host,
                    },
                ],
                backendAddressPools: [{ name: PART.pool, backendAddresses: [{ ipAddress: args.settings.internalLoadBalancerIp }] }],
                // Re-encrypted to the Istio gateway's HTTPS port, with the served host as TLS server name and
                // Host, so that its Gateway server for that host (and certificate) answers.
                backendHttpSettingsCollection: [
                    {
                        name: PART.settings,
                        port: PORTS.gatewayHttps.service,
                        protocol: "Https",
                        hostName: args.host,
                        pickHostNameFromBackendAddress: false,
                        cookieBasedAffinity: "Disabled",
                        requestTimeout: 30,
                        probe: part("probes", PART.probe),
                        trustedRootCertificates: trustedRoot.apply((data) =>
                            data ? [part("trustedRootCertificates", PART.trustedRoot)] : [],
                        ),
                    },
                ],
                // The backend's own protocol and port (HTTPS 443; no probe port of its own): Envoy's status
                // port 15021 speaks plain HTTP, which a probe of an HTTPS backend cannot use, and the
                // gateway's NetworkPolicy admits the WAF on 443 only. The path is one the Istio gateway
                // answers itself (a directResponse route, components/platform/ingressGateway.ts): healthy
                // exactly when a gateway pod behind the load balancer serves the host's TLS.
                probes: [
                    {
                        name: PART.probe,
                        protocol: "Https",
                        host: args.host,
                        path: INGRESS_HEALTH_PATH,
                        interval: 15,
                        timeout: 10,
                        unhealthyThreshold: 3,
                        pickHostNameFromBackendHttpSettings: false,
                        match: { statusCodes: ["200"] },
                    },
                ],
                redirectConfigurations: [
                    {
                        name: PART.redirect,
                        redirectType: "Permanent",
                        targetListener: part("httpListeners", PART.httpsListener),
                        includePath: true,
                        includeQueryString: true,
                    },
                ],
                rewriteRuleSets: [
                    {
                        name: PART.clientAddress,
                        rewriteRules: [
                            {
                                name: "x-forwarded-for-without-port",
                                ruleSequence: 100,
                                actionSet: { requestHeaderConfigurations: [{ ...CLIENT_ADDRESS_REWRITE }] },
                            },
                        ],
                    },
                ],
                requestRoutingRules: [
                    {
                        name: PART.httpsRule,
                        ruleType: "Basic",
                        priority: 100,
                        httpListener: part("httpListeners", PART.httpsListener),
                        backendAddressPool: part("backendAddressPools", PART.pool),
                        backendHttpSettings: part("backendHttpSettingsCollection", PART.settings),
                        rewriteRuleSet: part("rewriteRuleSets", PART.clientAddress),
                    },
                    {
                        name: PART.httpRule,
                        ruleType: "Basic",
                        priority: 200,
                        httpListener: part("httpListeners", PART.httpListener),
                        redirectConfiguration: part("redirectConfigurations", PART.redirect),
                    },
                ],
            },
            // The gateway fetches the certificate as it is created: its identity must already hold the role,
            // and the role must apply (the Sleep above).
            { parent: this, dependsOn: [reader, readable] },
        );

        new monitor.DiagnosticSetting(
            name,
            {
                name: "app-gateway-to-log-analytics",
                resourceUri: gateway.id,
                workspaceId: args.workspaceId,
                // Resource-specific tables (AGWAccessLogs, AGWFirewallLogs, ...) instead of AzureDiagnostics.
                logAnalyticsDestinationType: "Dedicated",
                logs: [{ categoryGroup: "allLogs", enabled: true }],
            },
            { parent: this },
        );

        this.gatewayId = gateway.id;
        this.policyId = policy.id;
        this.identityPrincipalId = identity.principalId;
        this.publicIp = ip.ipAddress.apply((address) => {
            if (!address)
                throw new pulumi.ResourceError(`${name}: Azure reported no address for the Application Gateway's public IP`, this);
            return address;
        });
        this.registerOutputs({ gatewayId: this.gatewayId, policyId: this.policyId, publicIp: this.publicIp });
    }
}
