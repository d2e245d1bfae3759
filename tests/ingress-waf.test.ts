// Issue 22 item 2: Application Gateway WAF_v2 is prod's only public entry, in its own subnet, in front of
// the Istio gateway's internal load balancer, re-encrypting to it with the Key Vault certificate the
// gateway serves. Expectations come from the provider's schema (azure-native 3.28.0 types/enums/network)
// and Azure's docs ("Application Gateway infrastructure configuration", "TLS termination with Key Vault
// certificates"), and the PFX is read back by OpenSSL (Node's tls and, where installed, the CLI).
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { createPublicKey, X509Certificate } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tls from "tls";
import * as enums from "@pulumi/azure-native/types/enums/network";
import * as forge from "node-forge";
import { pemToPfxBase64 } from "../components/azure/pfx";
import { checkWafBackendChain, selfSignedRootPem } from "../components/config/validators";
import * as facts from "./fixtures/chart-facts.json";
import { evaluateStack, itRejectsConfig, MOCK_CLOCK, mockPublicIp, TEST_TLS, type Registration, type StackRun } from "./harness";
import { skipVisibly } from "./externalTools";

const T = {
    gateway: "azure-native:network:ApplicationGateway",
    policy: "azure-native:network:WebApplicationFirewallPolicy",
    pip: "azure-native:network:PublicIPAddress",
    vnet: "azure-native:network:VirtualNetwork",
    nsg: "azure-native:network:NetworkSecurityGroup",
    secret: "azure-native:keyvault:Secret",
    identity: "azure-native:managedidentity:UserAssignedIdentity",
    role: "azure-native:authorization:RoleAssignment",
    vs: "kubernetes:networking.istio.io/v1:VirtualService",
    release: "kubernetes:helm.sh/v3:Release",
    diagnostics: "azure-native:monitor:DiagnosticSetting",
    policyAssignment: "azure-native:authorization:PolicyAssignment",
    key: "tls:index/privateKey:PrivateKey",
    selfSigned: "tls:index/selfSignedCert:SelfSignedCert",
    request: "tls:index/certRequest:CertRequest",
    signed: "tls:index/locallySignedCert:LocallySignedCert",
} as const;
/** Key Vault Secrets User (Azure built-in role; learn.microsoft.com/azure/role-based-access-control/built-in-roles). */
const KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6";

/** The gateway sub-resource an ARM sub-resource ID points at: `<collection>/<name>` after the gateway's own ID. */
function part(gateway: Registration, ref: { id: string } | undefined): { collection: string; name: string } {
    assert.ok(ref?.id, "a sub-resource reference without an ID");
    const prefix = `/subscriptions/`;
    assert.ok(ref.id.startsWith(prefix));
    const m = /\/providers\/Microsoft\.Network\/applicationGateways\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(ref.id);
    assert.ok(m, `not a sub-resource of an Application Gateway: ${ref.id}`);
    assert.equal(m[1], gateway.inputs.applicationGatewayName, "a reference to another gateway");
    const [, , collection, name] = m;
    const items = gateway.inputs[collection] as { name: string }[] | undefined;
    assert.ok(
        items?.some((i) => i.name === name),
        `${collection}/${name} does not exist on the gateway`,
    );
    return { collection, name };
}

describe("ingress WAF: prod", () => {
    let run: StackRun;
    let gateway: Registration;
    before(async () => {
        run = await evaluateStack("prod");
        gateway = run.get(T.gateway, "ingress-waf");
    });

    it("runs WAF_v2 (provider enum) autoscaled 2 to 10 across the pools' zones, with a zonal Standard static public IP exported as ingressPublicIp", () => {
        assert.deepEqual(gateway.inputs.sku, { name: enums.ApplicationGatewaySkuName.WAF_v2, tier: enums.ApplicationGatewayTier.WAF_v2 });
        assert.deepEqual(gateway.inputs.autoscaleConfiguration, { minCapacity: 2, maxCapacity: 10 });
        assert.deepEqual(gateway.inputs.zones, ["1", "2", "3"]);
        const [frontend] = gateway.inputs.frontendIPConfigurations;
        const pip = run.ofType(T.pip).find((p) => p.id === frontend.publicIPAddress.id);
        assert.ok(pip, "the frontend's public IP is one of the stack's");
        assert.deepEqual(pip.inputs.sku, { name: "Standard", tier: "Regional" });
        assert.equal(pip.inputs.publicIPAllocationMethod, "Static");
        assert.deepEqual(pip.inputs.zones, ["1", "2", "3"]);
        assert.equal(run.outputs.ingressPublicIp.value, mockPublicIp(pip.name));
    });

    // The newest rule set: "Among DRS releases, always use the highest available version (DRS 2.2)"
    // (learn.microsoft.com/azure/web-application-firewall/ag/upgrade-ruleset-version).
    it("enforces a WAF policy in Prevention mode with Microsoft's Default Rule Set 2.2 (OWASP CRS based)", () => {
        const policy = run.get(T.policy, "ingress-waf-policy");
        assert.deepEqual(gateway.inputs.firewallPolicy, { id: policy.id });
        assert.equal(policy.inputs.policySettings.state, enums.WebApplicationFirewallEnabledState.Enabled);
        assert.equal(policy.inputs.policySettings.mode, enums.WebApplicationFirewallMode.Prevention);
        assert.ok(
            policy.inputs.managedRules.managedRuleSets.some(
                (s: { ruleSetType: string; ruleSetVersion: string }) =>
                    s.ruleSetType === "Microsoft_DefaultRuleSet" && s.ruleSetVersion === "2.2",
            ),
        );
    });

    it("sits alone in a dedicated /24 whose NSG admits the internet on 80 and 443, GatewayManager on 65200-65535, and has no route to the firewall", () => {
        const vnet = run.get(T.vnet, "network");
        const [ipConfig] = gateway.inputs.gatewayIPConfigurations;
        const subnet = vnet.inputs.subnets.find((s: { name: string }) => `${vnet.id}/subnets/${s.name}` === ipConfig.subnet.id);
        assert.ok(subnet, "the gateway's subnet is one of the VNet's");
        assert.equal(subnet.addressPrefix.split("/")[1], "24");
        // Only the gateway lives there: no other resource takes that subnet's ID.
        const users = run.resources.filter((r) => r.urn !== gateway.urn && JSON.stringify(r.inputs).includes(`"${ipConfig.subnet.id}"`));
        assert.deepEqual(
            users.map((r) => r.type),
            [],
        );
        assert.equal(subnet.routeTable, undefined, "v2 takes no 0.0.0.0/0 route to a virtual appliance");
        assert.equal(subnet.natGateway, undefined);
        const nsg = run.ofType(T.nsg).find((n) => n.id === subnet.networkSecurityGroup?.id);
        assert.ok(nsg);
        const allows = (source: string) =>
            nsg.inputs.securityRules.filter(
                (r: { direction: string; access: string; sourceAddressPrefix: string }) =>
                    r.direction === "Inbound" && r.access === "Allow" && r.sourceAddressPrefix === source,
            );
        assert.deepEqual(
            allows("Internet")
                .flatMap((r: { destinationPortRanges: string[] }) => r.destinationPortRanges)
                .sort(),
            ["443", "80"],
        );
        assert.deepEqual(
            allows("GatewayManager").map((r: { destinationPortRange: string }) => r.destinationPortRange),
            ["65200-65535"],
        );
        assert.equal(allows("AzureLoadBalancer").length, 1);
        // Then nothing else inbound, not even the VNet (Azure's default AllowVnetInBound at 65000 would
        // admit it): a deny-all between the allows and the defaults (mspnp/aks-baseline's spoke NSG).
        type Rule = {
            direction: string;
            access: string;
            priority: number;
            protocol: string;
            sourceAddressPrefix: string;
            destinationAddressPrefix: string;
            destinationPortRange?: string;
        };
        const inbound = (nsg.inputs.securityRules as Rule[]).filter((r) => r.direction === "Inbound");
        const denyAll = inbound.find((r) => r.access === "Deny" && r.sourceAddressPrefix === "*" && r.destinationPortRange === "*");
        assert.ok(denyAll, "a deny-all inbound rule");
        assert.equal(denyAll.protocol, "*", "every protocol, UDP too");
        assert.equal(denyAll.destinationAddressPrefix, "*");
        assert.ok(denyAll.priority < 65000, "before AllowVnetInBound");
        for (const allow of inbound.filter((r) => r.access === "Allow"))
            assert.ok(allow.priority < denyAll.priority, `${allow.sourceAddressPrefix} allowed first`);
    });

    it("sends HTTPS to the Istio gateway's internal load balancer address, with the host as TLS name, and probes HTTPS on a path the gateway answers itself", () => {
        const values = run.ofType(T.release).find((r) => r.inputs.chart === "gateway")?.inputs.values;
        const lbIp = values.service.annotations["service.beta.kubernetes.io/azure-load-balancer-ipv4"];
        assert.equal(values.service.annotations["service.beta.kubernetes.io/azure-load-balancer-internal"], "true");
        const [pool] = gateway.inputs.backendAddressPools;
        assert.deepEqual(pool.backendAddresses, [{ ipAddress: lbIp }]);
        const host = run.outputs.ingressHost.value;
        const [settings] = gateway.inputs.backendHttpSettingsCollection;
        assert.equal(settings.protocol, "Https");
        assert.equal(settings.port, 443);
        assert.equal(settings.hostName, host);
        const probeRef = part(gateway, settings.probe);
        const probe = gateway.inputs.probes.find((p: { name: string }) => p.name === probeRef.name);
        // The probe's protocol is the backend's; no port of its own (the backend's 443, not Envoy's 15021).
        assert.equal(probe.protocol, settings.protocol);
        assert.equal(probe.port, undefined);
        assert.equal(probe.host, host);
        assert.deepEqual(probe.match.statusCodes, ["200"]);
        // An Istio route on the public Gateway answers that exact path for that host with 200, itself.
        const health = run.ofType(T.vs).find((v) => v.inputs.spec.http.some((h: any) => h.match?.[0]?.uri?.exact === probe.path));
        assert.ok(health, `no VirtualService answers ${probe.path}`);
        assert.deepEqual(health.inputs.spec.hosts, [host]);
        assert.equal(health.inputs.metadata.namespace, run.outputs.ingressGatewayNamespace.value);
        assert.equal(`${health.inputs.metadata.namespace}/${health.inputs.spec.gateways[0]}`, run.outputs.ingressGatewayRef.value);
        assert.equal(health.inputs.spec.http[0].directResponse.status, 200);
        // The stand-in chain is a private CA's, ending with its root: the gateway trusts exactly that root
        // (not the server certificate) for the re-encrypted hop.
        const roots = gateway.inputs.trustedRootCertificates;
        assert.equal(roots.length, 1);
        assert.equal(roots[0].data, new X509Certificate(TEST_TLS.caCertificate).raw.toString("base64"));
        assert.deepEqual(
            settings.trustedRootCertificates.map((r: { id: string }) => part(gateway, r).name),
            [roots[0].name],
        );
    });

    it("is admitted by the gateway pods' NetworkPolicy on the container port behind the backend's Service port (the upstream chart's rendered Service)", () => {
        // The gateway chart's Service, rendered from istio/istio 1.29.2 (tests/fixtures/chart-facts.json).
        const [service] = facts.charts.istioGateway.services;
        const [settings] = gateway.inputs.backendHttpSettingsCollection;
        const servicePort = service.ports.find((p) => p.port === settings.port);
        assert.ok(servicePort, `the gateway Service has no port ${settings.port}`);
        const subnet = run.get(T.vnet, "network").inputs.subnets.find((s: any) => s.name === "snet-appgateway").addressPrefix;
        const namespace = run.outputs.ingressGatewayNamespace.value;
        const admitting = run
            .ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
            .filter((p) => p.inputs.metadata.namespace === namespace)
            .flatMap((p) => p.inputs.spec.ingress ?? [])
            .filter((rule: any) => (rule.from ?? []).some((f: any) => f.ipBlock?.cidr === subnet));
        assert.ok(admitting.length > 0, `no NetworkPolicy in ${namespace} admits ${subnet}`);
        const ports = admitting.flatMap((rule: any) => (rule.ports ?? []).map((p: any) => p.port));
        assert.ok(
            ports.includes(servicePort.targetPort),
            `the WAF's ${subnet} is admitted on ${ports.join(", ")}, not ${servicePort.targetPort}`,
        );
    });

    it("hands the Istio gateway the client's address: X-Forwarded-For without the port, and one trusted proxy hop", () => {
        const rule = (gateway.inputs.requestRoutingRules as any[]).find((r) => r.backendAddressPool);
        const setRef = part(gateway, rule.rewriteRuleSet);
        const set = gateway.inputs.rewriteRuleSets.find((r: { name: string }) => r.name === setRef.name);
        // Application Gateway's server variable for the header with the client's bare IP appended
        // (MicrosoftDocs azure-docs articles/application-gateway/rewrite-http-headers-url.md).
        const headers = set.rewriteRules.flatMap((r: any) => r.actionSet.requestHeaderConfigurations);
        assert.deepEqual(headers, [{ headerName: "X-Forwarded-For", headerValue: "{var_add_x_forwarded_for_proxy}" }]);
        // Istio's per-gateway topology: the pod annotation proxy.istio.io/config (istio.io "Configuring
        // Gateway Network Topology"), one hop: the Application Gateway.
        const values = run.ofType(T.release).find((r) => r.inputs.chart === "gateway")?.inputs.values;
        assert.deepEqual(JSON.parse(values.podAnnotations["proxy.istio.io/config"]), { gatewayTopology: { numTrustedProxies: 1 } });
    });

    it("routes HTTPS for the host to the backend and redirects HTTP to HTTPS, every reference resolving to a part of the gateway", () => {
        const host = run.outputs.ingressHost.value;
        const listeners = gateway.inputs.httpListeners as any[];
        const https = listeners.find((l) => l.protocol === "Https");
        const http = listeners.find((l) => l.protocol === "Http");
        assert.equal(https.hostName, host);
        assert.equal(https.requireServerNameIndication, true);
        assert.equal(part(gateway, https.sslCertificate).collection, "sslCertificates");
        const ports = Object.fromEntries(gateway.inputs.frontendPorts.map((p: { name: string; port: number }) => [p.name, p.port]));
        assert.equal(ports[part(gateway, https.frontendPort).name], 443);
        assert.equal(ports[part(gateway, http.frontendPort).name], 80);
        const rules = gateway.inputs.requestRoutingRules as any[];
        const toBackend = rules.find((r) => part(gateway, r.httpListener).name === https.name);
        assert.equal(part(gateway, toBackend.backendAddressPool).collection, "backendAddressPools");
        assert.equal(part(gateway, toBackend.backendHttpSettings).collection, "backendHttpSettingsCollection");
        const redirectRule = rules.find((r) => part(gateway, r.httpListener).name === http.name);
        const redirect = gateway.inputs.redirectConfigurations.find(
            (c: { name: string }) => c.name === part(gateway, redirectRule.redirectConfiguration).name,
        );
        assert.equal(redirect.redirectType, "Permanent");
        assert.equal(part(gateway, redirect.targetListener).name, https.name);
        // v2 requires a priority on every rule (API 2021-08-01 and later), each distinct.
        assert.equal(new Set(rules.map((r) => r.priority)).size, rules.length);
        assert.ok(rules.every((r) => Number.isInteger(r.priority)));
    });

    it("reads its listener certificate from Key Vault as a PFX secret, through its own identity holding Key Vault Secrets User on that secret only", async () => {
        const [cert] = gateway.inputs.sslCertificates;
        const vault = run.ofType("azure-native:keyvault:Vault").find((v) => v.name === "app-kv");
        assert.ok(vault);
        const pfxSecret = run
            .ofType(T.secret)
            .find((s) => cert.keyVaultSecretId === `https://${s.inputs.vaultName}.vault.azure.net/secrets/${s.inputs.secretName}`);
        assert.ok(pfxSecret, `no secret of the stack at ${cert.keyVaultSecretId}`);
        assert.equal(pfxSecret.inputs.vaultName, vault.inputs.vaultName);
        // Versionless: the gateway follows new versions on its own.
        assert.doesNotMatch(cert.keyVaultSecretId, /\/secrets\/[^/]+\/[0-9a-f]{32}$/);
        assert.equal(pfxSecret.inputs.properties.contentType, "application/x-pkcs12");
        assert.ok(pfxSecret.additionalSecretOutputs.includes("properties"), "the PFX stays secret in state");
        // The value is a PFX OpenSSL opens with no password, holding the certificate the gateway serves.
        const pfx = Buffer.from(pfxSecret.inputs.properties.value, "base64");
        tls.createSecureContext({ pfx });
        assert.equal(pfxSecret.inputs.properties.value, pemToPfxBase64(TEST_TLS.certificate, TEST_TLS.privateKey));

        assert.equal(gateway.inputs.identity.type, "UserAssigned");
        const identity = run.ofType(T.identity).find((i) => gateway.inputs.identity.userAssignedIdentities.includes(i.id));
        assert.ok(identity, "the gateway's identity is one of the stack's");
        const roles = run.ofType(T.role).filter((r) => r.inputs.principalId === identity.state.principalId);
        assert.deepEqual(
            roles.map((r) => [r.inputs.roleDefinitionId.split("/").pop(), r.inputs.scope]),
            [[KEY_VAULT_SECRETS_USER, pfxSecret.id]],
        );
        assert.ok(run.dependsOn(gateway.urn, roles[0].urn), "the gateway waits for its role (it fetches the certificate as it is created)");
    });

    it("is created only once the vault's private endpoint resolves in the VNet (prod's vault has no public access)", () => {
        // The zone's link to the VNet, and the endpoint's DNS record (its zone group) in that zone.
        for (const [type, name] of [
            ["azure-native:privatedns:VirtualNetworkLink", "kv-dns-link"],
            ["azure-native:network:PrivateDnsZoneGroup", "app-kv-pe-dns"],
        ]) {
            const resource = run.get(type, name);
            assert.ok(run.dependsOn(gateway.urn, resource.urn), `the gateway waits for ${name}`);
        }
    });

    it("is created only once its role can have applied: a wait of Key Vault's documented ten minutes after the grant", () => {
        // A listener whose certificate the gateway cannot read is disabled until the next four-hourly
        // poll (MicrosoftDocs azure-docs application-gateway-key-vault-common-errors.md); a Key Vault
        // role applies up to 10 minutes (600 seconds) after it is assigned (key-vault/general/rbac-guide.md).
        const identity = run.ofType(T.identity).find((i) => gateway.inputs.identity.userAssignedIdentities.includes(i.id));
        assert.ok(identity);
        const [grant] = run.ofType(T.role).filter((r) => r.inputs.principalId === identity.state.principalId);
        const waits = run.ofType("time:index/sleep:Sleep").filter((s) => run.dependsOn(gateway.urn, s.urn));
        assert.equal(waits.length, 1, "the gateway waits for one propagation sleep");
        assert.equal(waits[0].inputs.createDuration, "600s");
        assert.ok(run.dependsOn(waits[0].urn, grant.urn), "the wait starts once the grant exists");
        // It waits again when the grant is replaced (a new assignment for the same identity).
        assert.equal(waits[0].inputs.triggers.assignmentId, grant.id);
        assert.equal(waits[0].inputs.triggers.principalId, identity.state.principalId);
    });

    it("logs to Log Analytics, and the cluster policy no longer exempts the gateway from internal load balancers", () => {
        const diagnostics = run.ofType(T.diagnostics).find((d) => d.inputs.resourceUri === gateway.id);
        assert.ok(diagnostics);
        assert.deepEqual(diagnostics.inputs.logs, [{ categoryGroup: "allLogs", enabled: true }]);
        const ilb = run.ofType(T.policyAssignment).find((a) => a.name.endsWith("internalLoadBalancers"));
        assert.ok(ilb);
        assert.ok(
            !ilb.inputs.parameters.excludedNamespaces.value.includes("istio-ingress"),
            "istio-ingress exempt from internal load balancers",
        );
    });
});

describe("ingress WAF: dev (off by default)", () => {
    let run: StackRun;
    before(async () => {
        run = await evaluateStack("dev");
    });
    it("creates no Application Gateway, keeps the public load balancer, and exports an empty ingressPublicIp", () => {
        assert.equal(run.ofType(T.gateway).length, 0);
        assert.equal(run.ofType(T.policy).length, 0);
        const values = run.ofType(T.release).find((r) => r.inputs.chart === "gateway")?.inputs.values;
        assert.equal(values.service.annotations, undefined);
        assert.equal(run.outputs.ingressPublicIp.value, "");
    });
    it("keeps both WAF subnets declared, so that the VNet update of a later switch-off removes no subnet still in use", async () => {
        // Pulumi deletes after it creates and updates (pulumi/pulumi pkg/resource/deploy/deployment_executor.go):
        // with the WAF switched off, the VNet's PUT comes before the Application Gateway's delete, and Azure
        // refuses to delete a subnet in use (InUseSubnetCannotBeDeleted). So the subnets' presence must not
        // follow ingress.waf: the same VNet subnets with the WAF on and off.
        const on = await evaluateStack("dev", { "ingress.waf": true });
        const subnets = (r: StackRun) =>
            r.get(T.vnet, "network").inputs.subnets.map((s: { name: string; addressPrefix: string }) => [s.name, s.addressPrefix]);
        assert.deepEqual(subnets(run), subnets(on));
        assert.ok(subnets(run).some(([name]: string[]) => name === "snet-appgateway"));
        // Without the WAF the internet reaches the nodes (the public load balancer), not the empty subnet's NSG only.
        const nodeNsg = run.ofType(T.nsg).find((n) => n.inputs.networkSecurityGroupName?.includes("system"));
        assert.ok(
            nodeNsg,
            run
                .ofType(T.nsg)
                .map((n) => n.inputs.networkSecurityGroupName)
                .join(", "),
        );
        assert.ok(nodeNsg.inputs.securityRules.some((r: { sourceAddressPrefix: string }) => r.sourceAddressPrefix === "Internet"));
    });
    it("puts the WAF in Detection mode with dev's defaults when turned on, trusting the generated CA for the backend", async () => {
        const on = await evaluateStack("dev", { "ingress.waf": true });
        const policy = on.get(T.policy, "ingress-waf-policy");
        assert.equal(policy.inputs.policySettings.mode, "Detection");
        const gateway = on.get(T.gateway, "ingress-waf");
        assert.deepEqual(gateway.inputs.autoscaleConfiguration, { minCapacity: 0, maxCapacity: 2 });
        // Trusted because it is a CA: the tls provider makes a CA only when asked (isCaCertificate).
        const ca = on.get(T.selfSigned, "ingress-tls-self-signed-ca");
        assert.equal(ca.inputs.isCaCertificate, true);
        assert.ok(ca.inputs.allowedUses.includes("cert_signing"));
        assert.deepEqual(
            gateway.inputs.trustedRootCertificates.map((r: { data: string }) => r.data),
            [new X509Certificate(ca.state.certPem).raw.toString("base64")],
        );
    });
});

describe("ingress WAF: NAT gateway egress", () => {
    it("leaves the Application Gateway's subnet off the NAT gateway", async () => {
        const run = await evaluateStack("prod", {
            "network.egressType": "natGateway",
            "network.perZoneNodePools": true,
            "apiServer.vnetIntegration": false,
        });
        const subnet = run.get(T.vnet, "network").inputs.subnets.find((s: { name: string }) => s.name === "snet-appgateway");
        assert.equal(subnet.natGateway, undefined);
        assert.equal(subnet.routeTable, undefined);
    });
});

describe("ingress WAF: the PFX", () => {
    it("is the same bytes for the same certificate and key (no new Key Vault secret version on every up)", () => {
        assert.equal(pemToPfxBase64(TEST_TLS.certificate, TEST_TLS.privateKey), pemToPfxBase64(TEST_TLS.certificate, TEST_TLS.privateKey));
    });
    it("opens in the OpenSSL CLI with an empty password, MAC verified, with the key and certificate given", function () {
        let openssl = "";
        try {
            openssl = execFileSync("openssl", ["version"], { encoding: "utf8" });
        } catch {
            skipVisibly(this, "openssl is not installed (.ci/run installs it)");
        }
        assert.ok(openssl);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pfx-"));
        const file = path.join(dir, "ingress.pfx");
        fs.writeFileSync(file, Buffer.from(pemToPfxBase64(TEST_TLS.certificate, TEST_TLS.privateKey), "base64"));
        const out = execFileSync("openssl", ["pkcs12", "-in", file, "-passin", "pass:", "-nodes"], { encoding: "utf8" });
        fs.rmSync(dir, { recursive: true });
        const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out)?.[0];
        assert.ok(cert);
        assert.equal(new X509Certificate(cert).fingerprint256, new X509Certificate(TEST_TLS.certificate).fingerprint256);
        assert.match(out, /BEGIN PRIVATE KEY/);
    });
});

describe("ingress WAF: the backend's trusted root", () => {
    /** A certificate for `subject`, signed by `issuer` (itself when absent), built with node-forge. */
    function certificate(subject: string, keys: forge.pki.rsa.KeyPair, issuer?: { name: string; keys: forge.pki.rsa.KeyPair }) {
        const cert = forge.pki.createCertificate();
        cert.publicKey = keys.publicKey;
        cert.serialNumber = "01";
        cert.validity.notBefore = new Date("2026-01-01T00:00:00Z");
        cert.validity.notAfter = new Date("2036-01-01T00:00:00Z");
        cert.setSubject([{ name: "commonName", value: subject }]);
        cert.setIssuer([{ name: "commonName", value: issuer?.name ?? subject }]);
        cert.setExtensions([
            { name: "basicConstraints", cA: !issuer },
            { name: "keyUsage", keyCertSign: !issuer, digitalSignature: true },
        ]);
        cert.sign((issuer?.keys ?? keys).privateKey, forge.md.sha256.create());
        return forge.pki.certificateToPem(cert);
    }
    const caKeys = forge.pki.rsa.generateKeyPair(1024);
    const leafKeys = forge.pki.rsa.generateKeyPair(1024);
    const root = certificate("Private Root CA", caKeys);
    const leaf = certificate("app.example.com", leafKeys, { name: "Private Root CA", keys: caKeys });

    it("is a private CA's root given at the end of the configured chain (X.509: self-issued and self-signed)", () => {
        assert.equal(selfSignedRootPem(leaf + root), new X509Certificate(root).toString());
        assert.equal(checkWafBackendChain(leaf + root), undefined);
    });
    it("is nothing for a chain a public CA issued, which v2 trusts already (here: the root among the public ones)", () => {
        assert.equal(selfSignedRootPem(leaf), undefined);
        assert.equal(checkWafBackendChain(leaf, [new X509Certificate(root)]), undefined);
    });
    it("cannot be found for a private CA's chain without its root: refused, naming the issuer and what to append", () => {
        const problem = checkWafBackendChain(leaf);
        assert.ok(problem);
        assert.match(problem, /^ingress\.tlsCertificate: .*CN=Private Root CA.*append the certificates up to that CA's self-signed root/);
        assert.match(problem, /pulumi config set --path --secret ingress\.tlsCertificate < chain\.pem/);
    });
    // Review round 2: only the last certificate was looked at. A public CA's bundle ends with a
    // cross-sign whose issuer Node's store (Mozilla's) no longer carries: Sectigo's "USERTrust RSA
    // Certification Authority" cross-signed by "AAA Certificate Services" (tools/fixtures/
    // usertrust-rsa-cross-signed.crt, the public certificate Sectigo publishes). Node 20 carries the
    // self-signed USERTrust root (same subject, same key), which ends any path through the cross-sign.
    describe("a public CA's bundle ending with a cross-sign", () => {
        const crossSigned = fs.readFileSync(path.join(__dirname, "..", "tools", "fixtures", "usertrust-rsa-cross-signed.crt"), "utf8");
        const cross = new X509Certificate(crossSigned);
        // Node's store without the cross-sign's issuer, whichever Node runs the test (Node 20 lacks it).
        const publicRoots = tls.rootCertificates.map((pem) => new X509Certificate(pem)).filter((r) => r.subject !== cross.issuer);

        it("is the fixture the issue names: USERTrust RSA under AAA Certificate Services, and Node's store has USERTrust's key, not AAA", () => {
            assert.match(cross.subject, /CN=USERTrust RSA Certification Authority/);
            assert.match(cross.issuer, /CN=AAA Certificate Services/);
            assert.ok(publicRoots.some((r) => r.subject === cross.subject && r.publicKey.equals(cross.publicKey)));
            assert.ok(!publicRoots.some((r) => r.subject === cross.issuer));
        });
        it("is accepted: a public root's subject and key are in the chain, so v2 needs no trusted root", () => {
            assert.equal(checkWafBackendChain(crossSigned, publicRoots), undefined);
            assert.equal(checkWafBackendChain(crossSigned), undefined);
            assert.equal(selfSignedRootPem(crossSigned), undefined);
        });
        // Review round 3: Sectigo's older bundles end with the cross-sign's issuer itself, the self-signed
        // "AAA Certificate Services" (tools/fixtures/aaa-certificate-services.crt, public). Uploading it as
        // the gateway's trusted root would tie the backend hop to the cross-sign, which expires 2028-12-31.
        it("ending with the cross-sign's old self-signed issuer: accepted, and that old root is not uploaded", () => {
            const aaa = fs.readFileSync(path.join(__dirname, "..", "tools", "fixtures", "aaa-certificate-services.crt"), "utf8");
            assert.ok(cross.verify(new X509Certificate(aaa).publicKey), "the fixture is the cross-sign's issuer");
            assert.equal(checkWafBackendChain(crossSigned + aaa, publicRoots), undefined);
            assert.equal(selfSignedRootPem(crossSigned + aaa, publicRoots), undefined);
            // The same whether or not the running Node still carries the old root (Mozilla removed it;
            // older stores had it): which Node runs the up must not change the gateway's trusted root.
            assert.equal(selfSignedRootPem(crossSigned + aaa, [...publicRoots, new X509Certificate(aaa)]), undefined);
        });
        it("is refused where no public root has that subject and key (the acceptance comes from the USERTrust root)", () => {
            const withoutUserTrust = publicRoots.filter((r) => r.subject !== cross.subject);
            assert.match(checkWafBackendChain(crossSigned, withoutUserTrust) ?? "", /issued by \(C=GB, .*CN=AAA Certificate Services\)/);
        });
    });
    // Review round 2: the links were not checked, so a server certificate followed by any self-signed CA passed.
    describe("links", () => {
        const otherKeys = forge.pki.rsa.generateKeyPair(1024);
        const stranger = certificate("Unrelated Root CA", otherKeys);
        it("refuses a server certificate followed by a self-signed CA that did not sign it, naming both", () => {
            assert.match(
                checkWafBackendChain(leaf + stranger) ?? "",
                /certificate 1 of the chain \(CN=app\.example\.com\) is not issued by certificate 2 \(CN=Unrelated Root CA\).*chain\.pem/,
            );
        });
        it("refuses a chain out of order (the root first)", () => {
            assert.match(
                checkWafBackendChain(root + leaf) ?? "",
                /certificate 1 of the chain \(CN=Private Root CA\) is not issued by certificate 2/,
            );
        });
        it("refuses a stranger with the issuer's name but another key (the signature, not only the name)", () => {
            const impostor = certificate("Private Root CA", otherKeys);
            assert.match(checkWafBackendChain(leaf + impostor) ?? "", /is not issued by certificate 2/);
        });
        // Review round 4: a cross-signed copy of a public root has a serial of its own, so an intermediate
        // whose authority key ID names the root's issuer and serial fails OpenSSL's X509_check_issued
        // against the copy, though a verifier holding the root accepts the path.
        it("accepts a link to a public root's cross-signed copy by name and signature when the authority key ID names the root's serial", () => {
            const publicKeys = forge.pki.rsa.generateKeyPair(1024);
            const oldKeys = forge.pki.rsa.generateKeyPair(1024);
            const build = (
                subject: string,
                serial: string,
                keys: forge.pki.rsa.KeyPair,
                issuer: string,
                signer: forge.pki.rsa.KeyPair,
                aki?: object,
            ) => {
                const cert = forge.pki.createCertificate();
                cert.publicKey = keys.publicKey;
                cert.serialNumber = serial;
                cert.validity.notBefore = new Date("2026-01-01T00:00:00Z");
                cert.validity.notAfter = new Date("2036-01-01T00:00:00Z");
                cert.setSubject([{ name: "commonName", value: subject }]);
                cert.setIssuer([{ name: "commonName", value: issuer }]);
                cert.setExtensions([
                    { name: "basicConstraints", cA: true },
                    { name: "keyUsage", keyCertSign: true, digitalSignature: true },
                    ...(aki ? [{ name: "authorityKeyIdentifier", ...aki }] : []),
                ]);
                cert.sign(signer.privateKey, forge.md.sha256.create());
                return forge.pki.certificateToPem(cert);
            };
            const publicRoot = build("Public Root", "01", publicKeys, "Public Root", publicKeys);
            const crossCopy = build("Public Root", "02", publicKeys, "Old Root", oldKeys);
            const intermediate = build("Issuing CA", "03", leafKeys, "Public Root", publicKeys, {
                // The root's issuer (itself: CN=Public Root, the intermediate's issuer too) and serial 01.
                authorityCertIssuer: true,
                serialNumber: "01",
            });
            const roots = [new X509Certificate(publicRoot)];
            assert.ok(!new X509Certificate(intermediate).checkIssued(new X509Certificate(crossCopy)), "OpenSSL's check refuses the copy");
            assert.equal(checkWafBackendChain(intermediate + crossCopy, roots), undefined);
            // Name and signature both decide: a copy with another key is still refused.
            const impostorCopy = build("Public Root", "04", oldKeys, "Old Root", oldKeys);
            assert.match(checkWafBackendChain(intermediate + impostorCopy, roots) ?? "", /is not issued by certificate 2/);
        });
        it("accepts the fixture chain the prod stack is configured with (server certificate, then its CA)", () => {
            assert.equal(checkWafBackendChain(TEST_TLS.certificate), undefined);
        });
    });
    it("cannot be a self-signed certificate that is not a CA: v2 takes it for a leaf and the backend for unhealthy", () => {
        assert.match(checkWafBackendChain(TEST_TLS.leafCertificate) ?? "", /self-signed but not a CA/);
        assert.equal(selfSignedRootPem(TEST_TLS.leafCertificate), undefined);
    });
});

// Review finding 1: the generated pair was one self-signed CA served as the server's certificate, which
// NSS (Firefox) refuses (mozilla::pkix pkixcheck.cpp CheckBasicConstraints: a CA:TRUE end entity is
// ERROR_CA_CERT_USED_AS_END_ENTITY). Now a CA signs a server certificate. The expectations are the tls
// provider's (hashicorp/terraform-provider-tls: is_ca_certificate alone makes a CA; allowed_uses are
// the key usages written), RFC 5280's and RFC 8813's (no keyEncipherment with an EC key).
describe("ingress WAF: the generated certificate", () => {
    let run: StackRun;
    before(async () => {
        run = await evaluateStack("dev", { "ingress.waf": true });
    });
    const servedChain = (r: StackRun) =>
        r.ofType(T.secret).find((s) => s.inputs.secretName === "ingress-tls-crt")!.inputs.properties.value as string;

    it("serves a server certificate that is no CA, for server auth with a digital signature only (an ECDSA key), then its CA", () => {
        const server = run.get(T.signed, "ingress-tls-self-signed");
        const ca = run.get(T.selfSigned, "ingress-tls-self-signed-ca");
        assert.notEqual(server.inputs.isCaCertificate, true, "the served certificate is a CA");
        assert.deepEqual([...server.inputs.allowedUses].sort(), ["digital_signature", "server_auth"]);
        assert.equal(server.inputs.caCertPem, ca.state.certPem, "signed by the generated CA");
        // The key it certifies is ECDSA: RFC 8813 section 3 forbids keyEncipherment with id-ecPublicKey.
        const request = run.get(T.request, "ingress-tls-self-signed");
        assert.equal(server.inputs.certRequestPem, request.state.certRequestPem);
        const key = run
            .ofType(T.key)
            .find((k) => k.state.privateKeyPem === request.inputs.privateKeyPem && k.name === "ingress-tls-self-signed");
        assert.ok(key, "the request's key is the served key");
        assert.equal(key.inputs.algorithm, "ECDSA");
        assert.deepEqual(request.inputs.dnsNames, [run.outputs.ingressHost.value]);
        assert.equal(request.inputs.subject.commonName, run.outputs.ingressHost.value);
        // The chain: the server certificate, then the CA; no other self-signed certificate is generated.
        assert.equal(servedChain(run), server.state.certPem + ca.state.certPem);
        assert.deepEqual(
            run.ofType(T.selfSigned).map((c) => c.name),
            ["ingress-tls-self-signed-ca"],
        );
        // The CA signs certificates and is no server; its subject key ID is what the server's authority key ID names.
        assert.equal(ca.inputs.isCaCertificate, true);
        assert.ok(!ca.inputs.allowedUses.includes("server_auth"));
        assert.equal(ca.inputs.setSubjectKeyId, true);
    });

    // Review round 2: the mocks gave every key the same PEM, so a request signed with the CA's key or a
    // certificate signed with the served key passed. Now each generated key is its own fixture key; the
    // expectations are the fixture certificates' public keys (tools/fixtures).
    it("wires the keys: the request and the served key are the server certificate's, the CA's key signs", () => {
        const request = run.get(T.request, "ingress-tls-self-signed");
        const server = run.get(T.signed, "ingress-tls-self-signed");
        const ca = run.get(T.selfSigned, "ingress-tls-self-signed-ca");
        const serverKey = new X509Certificate(TEST_TLS.serverCertificate).publicKey;
        const caKey = new X509Certificate(TEST_TLS.caCertificate).publicKey;
        assert.ok(!serverKey.equals(caKey), "the fixtures share a key: the test could not tell them apart");
        const publicOf = (pem: string) => createPublicKey(pem);
        assert.ok(publicOf(request.inputs.privateKeyPem).equals(serverKey), "the request is not made with the served key");
        assert.ok(publicOf(server.inputs.caPrivateKeyPem).equals(caKey), "the server certificate is not signed with the CA's key");
        assert.ok(publicOf(ca.inputs.privateKeyPem).equals(caKey), "the CA is not self-signed with its own key");
        const servedKey = run.ofType(T.secret).find((s) => s.inputs.secretName === "ingress-tls-key")!.inputs.properties.value as string;
        assert.ok(publicOf(servedKey).equals(serverKey), "the served key is not the server certificate's");
    });

    it("serves a chain NSS accepts: the served certificate is an end entity and verifies under the CA the gateway trusts (mocked provider answers)", () => {
        const [first, ...rest] = servedChain(run).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
        const served = new X509Certificate(first);
        const ca = new X509Certificate(rest[rest.length - 1]);
        assert.equal(served.ca, false);
        assert.ok(served.checkIssued(ca) && served.verify(ca.publicKey));
        const gateway = run.get(T.gateway, "ingress-waf");
        assert.equal(gateway.inputs.trustedRootCertificates[0].data, ca.raw.toString("base64"));
    });
});

// Review finding 2: an `up` inside the renewal window re-issued the one certificate that was both
// served and trusted, so the Application Gateway's trusted root and the certificate the Istio gateway
// serves changed at different moments (502s). The mocked tls provider re-issues each certificate the
// way the real one does: once now >= notAfter - early_renewal_hours (tools/mocks.ts MOCK_CLOCK).
describe("ingress WAF: renewing the generated certificate", () => {
    const renewalDue = 24 * 365 - 24 * 30; // the first hour of the server certificate's 30-day window
    let fresh: StackRun;
    let renewed: StackRun;
    before(async () => {
        fresh = await evaluateStack("dev", { "ingress.waf": true });
        MOCK_CLOCK.hoursSinceIssue = renewalDue;
        try {
            renewed = await evaluateStack("dev", { "ingress.waf": true });
        } finally {
            MOCK_CLOCK.hoursSinceIssue = 0;
        }
    });
    const served = (r: StackRun) => r.ofType(T.secret).find((s) => s.inputs.secretName === "ingress-tls-crt")!.inputs.properties.value;

    it("re-issues the served certificate in its last 30 days", () => {
        assert.notEqual(served(renewed), served(fresh), "the renewal did not change the served certificate");
        const pfx = (r: StackRun) => r.get(T.secret, "ingress-waf-pfx").inputs.properties.value;
        assert.notEqual(pfx(renewed), pfx(fresh), "the gateway's listener PFX is not renewed with it");
    });

    it("leaves what the Application Gateway trusts, and the gateway resource, unchanged", () => {
        const gateway = (r: StackRun) => r.get(T.gateway, "ingress-waf").inputs;
        assert.deepEqual(gateway(renewed).trustedRootCertificates, gateway(fresh).trustedRootCertificates);
        assert.deepEqual(gateway(renewed), gateway(fresh));
    });

    // Review round 2: with no early renewal the CA could sign, in its last year, a server certificate
    // that outlives it. A server certificate is issued only by an `up`, so the CA must be re-issued
    // before its remaining life is shorter than a server certificate's: early renewal of the CA longer
    // than the server certificate's validity (the tls provider's ready_for_renewal rule, tools/mocks.ts).
    it("renews the CA before its remaining life is shorter than a server certificate's, and only then", () => {
        const ca = fresh.get(T.selfSigned, "ingress-tls-self-signed-ca");
        const server = fresh.get(T.signed, "ingress-tls-self-signed");
        assert.ok(server.inputs.earlyRenewalHours > 0, "the server certificate never renews before it expires");
        assert.ok(ca.inputs.earlyRenewalHours > server.inputs.validityPeriodHours, "a server certificate can outlive its CA");
        assert.ok(ca.inputs.validityPeriodHours - ca.inputs.earlyRenewalHours >= 5 * 365 * 24, "the CA renews every few years");
        // The server certificate's renewal left the CA as it was (above); the CA's own window renews both.
        assert.equal(renewed.get(T.selfSigned, "ingress-tls-self-signed-ca").state.certPem, ca.state.certPem);
    });

    describe("in the CA's renewal window", () => {
        let caRenewed: StackRun;
        before(async () => {
            const ca = fresh.get(T.selfSigned, "ingress-tls-self-signed-ca").inputs;
            MOCK_CLOCK.hoursSinceIssue = ca.validityPeriodHours - ca.earlyRenewalHours;
            try {
                caRenewed = await evaluateStack("dev", { "ingress.waf": true });
            } finally {
                MOCK_CLOCK.hoursSinceIssue = 0;
            }
        });
        it("re-issues the CA on the same key and trusts the new CA; the served chain verifies under it", () => {
            const ca = caRenewed.get(T.selfSigned, "ingress-tls-self-signed-ca");
            assert.notEqual(
                ca.state.certPem,
                fresh.get(T.selfSigned, "ingress-tls-self-signed-ca").state.certPem,
                "the CA was not renewed",
            );
            assert.equal(ca.inputs.privateKeyPem, fresh.get(T.selfSigned, "ingress-tls-self-signed-ca").inputs.privateKeyPem);
            const root = new X509Certificate(ca.state.certPem);
            const gateway = caRenewed.get(T.gateway, "ingress-waf");
            assert.equal(gateway.inputs.trustedRootCertificates[0].data, root.raw.toString("base64"));
            const [first] = served(caRenewed).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
            const leaf = new X509Certificate(first);
            assert.ok(leaf.checkIssued(root) && leaf.verify(root.publicKey));
            assert.equal(checkWafBackendChain(served(caRenewed)), undefined);
        });
    });
});

describe("ingress WAF: configuration", () => {
    itRejectsConfig([
        {
            name: "rejects a configured self-signed certificate that is not a CA, which the WAF cannot trust for its backend hop",
            stack: "prod",
            raw: { "ingress.tlsCertificate": TEST_TLS.leafCertificate },
            expect: ["ingress.tlsCertificate", "self-signed but not a CA", "ingress.waf"],
        },
        {
            name: "rejects a private CA's chain without its root, which the WAF cannot trust for its backend hop",
            stack: "prod",
            raw: { "ingress.tlsCertificate": TEST_TLS.serverCertificate },
            expect: [
                "ingress.tlsCertificate",
                "issued by (CN=aks-platform test fixture CA",
                "append the certificates up to that CA's self-signed root",
                "pulumi config set --path --secret ingress.tlsCertificate < chain.pem",
            ],
        },
        {
            name: "rejects a chain whose links do not hold: the server certificate followed by a CA that did not sign it",
            stack: "prod",
            raw: { "ingress.tlsCertificate": TEST_TLS.serverCertificate + TEST_TLS.caAsLeafCertificate },
            // prod's ingress group arrives secret (its certificate and key are `secure:`), so its text values,
            // the host the certificate names among them, are not shown (docs/configuration.md).
            expect: ["ingress.tlsCertificate", "certificate 1 of the chain (CN=(value not shown)", "is not issued by certificate 2"],
        },
        {
            name: "rejects a CA certificate served as the server's own, which NSS clients refuse",
            stack: "prod",
            raw: { "ingress.tlsCertificate": TEST_TLS.caAsLeafCertificate },
            expect: ["ingress.tlsCertificate", "is a CA certificate (basic constraints CA:TRUE)", "server certificate (CA:FALSE)"],
        },
        {
            // Upgrade note (docs/operations.md): the WAF's subnets are declared on every Azure stack, so a
            // stack with its own network.vnetAddressSpace, whose other subnets it already set, must now set these two.
            name: "tells a stack with its own network.vnetAddressSpace to set the WAF's two subnets, though ingress.waf is off, and why",
            raw: {
                "network.vnetAddressSpace": "10.50.0.0/16",
                "network.systemSubnetCidr": "10.50.0.0/22",
                "network.userSubnetCidr": "10.50.4.0/22",
                "network.privateEndpointSubnetCidr": "10.50.8.0/24",
                "apiServer.subnetCidr": "10.50.9.0/28",
                "network.firewallSubnetCidr": "10.50.12.0/26",
            },
            count: 2,
            expect: [
                'ingress.appGatewaySubnetCidr: the default "10.240.14.0/24" is not inside network.vnetAddressSpace "10.50.0.0/16"',
                'ingress.lbSubnetCidr: the default "10.240.13.0/28" is not inside network.vnetAddressSpace "10.50.0.0/16"',
                "with ingress.waf off too",
                "pulumi config set --path ingress.appGatewaySubnetCidr <range>",
                "a free /29 or larger within it",
            ],
        },
        {
            name: "rejects a mode other than Prevention or Detection",
            raw: { "ingress.waf": true, "ingress.wafMode": "Block" },
            expect: ["ingress.wafMode", '"Block"', "Prevention", "Detection"],
        },
        {
            name: "rejects a lower autoscale bound above the upper",
            stack: "prod",
            raw: { "ingress.appGatewayMinCapacity": 6, "ingress.appGatewayMaxCapacity": 4 },
            expect: ["ingress.appGatewayMinCapacity: 6", "ingress.appGatewayMaxCapacity 4"],
        },
        {
            name: "rejects an upper bound below 2 or above 125 (provider schema, v2's instance limit)",
            stack: "prod",
            raw: { "ingress.appGatewayMaxCapacity": 126, "ingress.appGatewayMinCapacity": 1 },
            expect: ["ingress.appGatewayMaxCapacity", "126", "2 to 125"],
        },
        {
            name: "rejects an Application Gateway subnet without an address per instance plus Azure's 5",
            stack: "prod",
            raw: { "ingress.appGatewaySubnetCidr": "10.240.14.0/29" },
            // The value is hidden: prod's ingress group arrives secret (docs/configuration.md).
            expect: ["ingress.appGatewaySubnetCidr: (value not shown)", "8 addresses", "15", "/24"],
        },
        {
            name: "rejects an internal load balancer subnet smaller than /29",
            stack: "prod",
            raw: { "ingress.lbSubnetCidr": "10.240.13.0/30" },
            expect: ["ingress.lbSubnetCidr: (value not shown)", "/29"],
        },
        {
            name: "rejects an Application Gateway subnet overlapping another, with every problem in one round",
            stack: "prod",
            raw: {
                "ingress.appGatewaySubnetCidr": "10.240.8.0/24",
                "ingress.appGatewayMinCapacity": 9,
                "ingress.appGatewayMaxCapacity": 3,
            },
            count: 2,
            expect: ["ingress.appGatewaySubnetCidr", "overlaps network.privateEndpointSubnetCidr", "ingress.appGatewayMinCapacity: 9"],
        },
    ]);
});
