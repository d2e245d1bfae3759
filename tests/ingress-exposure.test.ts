// Issue 19: the gateway behind an Azure load balancer keeps client addresses (externalTrafficPolicy
// Local), the node subnets' NSG admits every port the gateway serves to the internet (HTTPS and the
// HTTP redirect), and the dev-mode Vault's root token is generated, never the chart's "root".
import { strict as assert } from "assert";
import { evaluateStack, type StackRun } from "./harness";
import * as facts from "./fixtures/chart-facts.json";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const GATEWAY_CR = "kubernetes:networking.istio.io/v1:Gateway";
const NSG = "azure-native:network:NetworkSecurityGroup";
const chart = (run: StackRun, name: string) => {
    const r = run.ofType(RELEASE).filter((x) => x.inputs.chart === name);
    assert.equal(r.length, 1, name);
    return r[0];
};

for (const stack of ["dev", "prod", "local"] as const) {
    describe(`ingress exposure and the Vault root token (${stack})`, () => {
        let run: StackRun;
        before(async () => {
            run = await evaluateStack(stack);
        });

        it(
            stack === "local"
                ? "leaves a NodePort gateway's traffic policy alone"
                : "keeps the client's address at a load-balanced gateway (externalTrafficPolicy Local)",
            () => {
                const service = chart(run, "gateway").inputs.values.service;
                if (stack === "local") assert.deepEqual(service, { type: "NodePort" });
                else if (stack === "dev") assert.deepEqual(service, { type: "LoadBalancer", externalTrafficPolicy: "Local" });
                // prod (issue 22 item 2): behind the WAF, an internal load balancer (the annotations of
                // kubernetes-sigs/cloud-provider-azure pkg/consts/consts.go) in its own subnet, at the
                // fifth address of ingress.lbSubnetCidr's default 10.240.13.0/28 (Azure keeps .0 to .3).
                else
                    assert.deepEqual(service, {
                        type: "LoadBalancer",
                        externalTrafficPolicy: "Local",
                        annotations: {
                            "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
                            "service.beta.kubernetes.io/azure-load-balancer-internal-subnet": "snet-ingress-lb",
                            "service.beta.kubernetes.io/azure-load-balancer-ipv4": "10.240.13.4",
                        },
                    });
            },
        );

        if (stack !== "local")
            it("admits from the internet exactly the ports the Gateway serves, on every node subnet", () => {
                const served = run
                    .ofType(GATEWAY_CR)
                    .flatMap((g) => g.inputs.spec.servers.map((s: { port: { number: number } }) => String(s.port.number)))
                    .sort();
                assert.deepEqual(served, ["443", "80"]);
                const nodeNsgs = run.ofType(NSG).filter((n) => /-(system|user)$/.test(n.inputs.networkSecurityGroupName));
                assert.ok(nodeNsgs.length >= 1);
                // prod: the internet reaches only the Application Gateway's subnet (issue 22 item 2), on
                // the ports its listeners serve (the same as the Gateway's: HTTPS and the HTTP redirect).
                const admitting =
                    stack === "prod" ? run.ofType(NSG).filter((n) => /-appGateway$/.test(n.inputs.networkSecurityGroupName)) : nodeNsgs;
                if (stack === "prod") {
                    assert.equal(admitting.length, 1);
                    const open = run
                        .ofType(NSG)
                        .filter((n) =>
                            (n.inputs.securityRules ?? []).some(
                                (r: { sourceAddressPrefix: string }) => r.sourceAddressPrefix === "Internet",
                            ),
                        );
                    assert.deepEqual(
                        open.map((n) => n.inputs.networkSecurityGroupName),
                        admitting.map((n) => n.inputs.networkSecurityGroupName),
                        "only the Application Gateway's subnet admits the internet",
                    );
                }
                for (const nsg of admitting) {
                    const inbound = nsg.inputs.securityRules.filter(
                        (r: { direction: string; access: string; sourceAddressPrefix: string }) =>
                            r.direction === "Inbound" && r.access === "Allow" && r.sourceAddressPrefix === "Internet",
                    );
                    const ports = inbound.flatMap((r: { destinationPortRange?: string; destinationPortRanges?: string[] }) => [
                        ...(r.destinationPortRange ? [r.destinationPortRange] : []),
                        ...(r.destinationPortRanges ?? []),
                    ]);
                    assert.deepEqual([...ports].sort(), served, nsg.inputs.networkSecurityGroupName);
                }
            });

        if (stack !== "prod") {
            it("runs the dev-mode Vault with a generated root token from its Secret, never in the Helm values", () => {
                const vault = chart(run, "vault");
                const values = vault.inputs.values;
                assert.equal(values.server.dev.enabled, true);
                // The chart's own VAULT_DEV_ROOT_TOKEN_ID entry (rendered from devRootToken) carries no token.
                assert.equal(values.server.dev.devRootToken, "", 'no token in the values; the chart\'s default is "root"');
                const env = values.server.extraSecretEnvironmentVars;
                assert.equal(env.length, 1);
                // Vault reads the token from the -dev-root-token-id flag, expanded by the chart's /bin/sh -ec
                // script (vault-helm v0.32.0 templates/_helpers.tpl "vault.args": `vault server -dev
                // {{ server.extraArgs }}`) from the Secret's env var.
                assert.equal(values.server.extraArgs, `-dev-root-token-id="\${${env[0].envName}}"`);
                const secret = run
                    .ofType("kubernetes:core/v1:Secret")
                    .find((s) => s.inputs.metadata.name === env[0].secretName && s.inputs.metadata.namespace === "vault");
                assert.ok(secret, `no Secret ${env[0].secretName} in vault`);
                const token = secret.inputs.stringData[env[0].secretKey] as string;
                const generated = run.ofType("random:index/randomPassword:RandomPassword").map((p) => p.state.result as string);
                assert.ok(generated.includes(token), "the token is a generated password");
                assert.notEqual(token, "root");
                assert.ok(token.length >= 32);
                assert.ok(!JSON.stringify(values).includes(token), "the token is nowhere in the values");
                // The Secret exists before the server that reads it starts.
                assert.ok(run.dependsOn(vault.urn, secret.urn), "the Vault release waits for the token's Secret");
            });

            it("gives the dev-mode server container each env name once (a duplicate breaks upgrades' strategic merge)", () => {
                // The chart's own env in dev mode, rendered upstream (tests/fixtures/chart-facts.json vaultDev),
                // then extraEnvironmentVars and extraSecretEnvironmentVars in that order
                // (templates/server-statefulset.yaml). kubernetes/kubernetes#86163: a container with a
                // duplicated env name cannot be patched by a three-way strategic merge.
                const server = facts.charts.vaultDev.pods.find((p) => p.template === "templates/server-statefulset.yaml");
                assert.ok(server?.env, "chart-facts.json vaultDev has no server env: re-capture");
                const values = chart(run, "vault").inputs.values.server;
                const names = [
                    ...(server.env.vault ?? []),
                    ...Object.keys(values.extraEnvironmentVars ?? {}),
                    ...(values.extraSecretEnvironmentVars ?? []).map((e: { envName: string }) => e.envName),
                ];
                const dupes = names.filter((n, i) => names.indexOf(n) !== i);
                assert.deepEqual(dupes, [], `duplicate env names in the vault container: ${dupes.join(", ")}`);
            });
        }
    });
}
