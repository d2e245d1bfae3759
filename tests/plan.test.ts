import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    countsByType,
    dependencyEdges,
    longestChain,
    mermaid,
    plan,
    resourceTree,
    textWrittenAsNumbers,
    throwawayCertificate,
} from "../tools/plan";
import { promoteStackFile } from "../tools/promote";
import { evaluateStack, ROOT, type StackRun } from "./harness";

describe("offline plan", () => {
    let run: StackRun;
    before(async () => {
        run = await evaluateStack("dev");
    });

    it("prints every resource in the tree under its component", () => {
        const tree = resourceTree(run).split("\n");
        // The cluster component under the Azure layer, its managed cluster under it.
        assert.ok(tree.includes("aksplatform:azure:Layer azure"));
        const cluster = tree.findIndex((l) => l === "  aksplatform:azure:AksCluster aks");
        assert.ok(cluster >= 0);
        assert.ok(tree.includes("    azure-native:containerservice:ManagedCluster aks"));
        assert.equal(tree.length, run.resources.length);
    });

    it("counts deployed resources by type", () => {
        const counts = new Map(countsByType(run));
        assert.equal(counts.get("azure-native:keyvault:Vault"), 2);
        assert.equal(
            counts.get("azure-native:managedidentity:FederatedIdentityCredential"),
            run.ofType("azure-native:managedidentity:FederatedIdentityCredential").length,
        );
        assert.equal(counts.has("aksplatform:azure:KeyVault"), false, "components are not deployed resources");
    });

    it("draws the cluster -> federated credential edge in Mermaid", () => {
        const edges = dependencyEdges(run).map(([a, b]) => `${a.name} -> ${b.name}`);
        assert.ok(edges.includes("aks -> vault-unseal-id-vault-vault"), edges.join("\n"));
        const text = mermaid(run);
        assert.match(text, /^flowchart LR\n/);
        assert.equal(text.split("\n").filter((l) => l.includes("-->")).length, edges.length);
    });

    it("finds a longest chain in which each resource waits for the one before", () => {
        const chain = longestChain(run);
        assert.ok(chain.length >= 4);
        // It starts at a root: the resource group, or the random suffix of the globally unique names.
        assert.ok(
            ["azure-native:resources:ResourceGroup", "random:index/randomString:RandomString"].includes(chain[0].type),
            chain[0].type,
        );
        assert.deepEqual(chain[0].dependencies, []);
        for (let i = 1; i < chain.length; i++)
            assert.ok(run.dependsOn(chain[i].urn, chain[i - 1].urn), `${chain[i].name} after ${chain[i - 1].name}`);
    });

    describe("text members written as numbers (the CLI reads the stack file with gopkg.in/yaml.v3)", () => {
        // [written unquoted, what yaml.v3 resolve.go makes of it: `_` removed, strconv.ParseInt(s, 0, 64)
        // (0x hex, 0o or a leading 0 octal, 0b binary), else ParseUint, else a float in YAML's float form].
        const rows: [string, string][] = [
            ["2.0", "the number 2"],
            ["010", "the integer 8"],
            ["0x1F", "the integer 31"],
            ["1e3", "the number 1000"],
            ["1_000", "the integer 1000"],
            ["+7", "the integer 7"],
            ["1.10", "the number 1.1"],
            ["08", "the number 8"],
        ];
        const message = (at: string, written: string, reads: string) =>
            `WARNING: ${at} in Pulumi.x.yaml is written ${written} unquoted, which the Pulumi CLI reads as ${reads}: the program receives that number, not the text written; quote it ("${written}").`;
        for (const [written, reads] of rows) {
            it(`warns on a text member or list item written ${written}, not on an integer member or a quoted value`, () => {
                const file = [
                    "config:",
                    `  aks-platform:cluster:`,
                    `    kubernetesVersion: ${written}`,
                    `  aks-platform:systemPool:`,
                    `    nodeCount: ${written}`,
                    `  aks-platform:apiServer:`,
                    `    authorizedIpRanges: ["1.2.3.4/32", ${written}]`,
                    `  services:`,
                    `    productTag: "${written}"`,
                    `    orderTag: '${written}'`,
                    "",
                ].join("\n");
                assert.deepEqual(textWrittenAsNumbers(file, "Pulumi.x.yaml"), [
                    message("cluster.kubernetesVersion", written, reads),
                    message("apiServer.authorizedIpRanges[1]", written, reads),
                ]);
            });
        }

        it("does not warn where an integer written in its plain digits reaches the program as those digits", () => {
            const file = [
                "config:",
                "  aks-platform:services:",
                "    productTag: 42",
                "  aks-platform:systemPool:",
                "    zones: [1, 2, 3]",
                "",
            ].join("\n");
            assert.deepEqual(textWrittenAsNumbers(file, "Pulumi.x.yaml"), []);
        });

        it("finds none in the committed stack files, nor in the files promotion writes", () => {
            for (const stack of ["dev", "prod", "local"]) {
                const text = fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8");
                assert.deepEqual(textWrittenAsNumbers(text, `Pulumi.${stack}.yaml`), [], stack);
                if (stack === "local") continue;
                for (const tag of ["v1.2.3", "dev-0123abc", "010", "1.10", "1_000", "0b11", "0o17", "1e3", "20261203151500123"]) {
                    const promoted = promoteStackFile(text, { tag, registry: "ghcr.io/my-org" });
                    assert.deepEqual(textWrittenAsNumbers(promoted, `Pulumi.${stack}.yaml`), [], `${stack} promoted to ${tag}`);
                }
            }
        });
    });

    describe("command", () => {
        const bad = path.join(ROOT, "Pulumi.plantest.yaml");
        afterEach(() => fs.rmSync(bad, { force: true }));

        it("prints the summary first: counts, the longest chain, the outputs with secrets masked; no graph unless asked", async () => {
            const result = await plan(["dev"]);
            assert.equal(result.code, 0, result.stderr);
            const order = ["# Plan for stack dev", "## Counts by type", "## Longest dependency chain", "## Stack outputs"].map((h) =>
                result.stdout.indexOf(h),
            );
            assert.ok(
                order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1])),
                order.join(","),
            );
            assert.match(result.stdout, /^ {2}kubeconfig: \[secret\]$/m);
            assert.match(result.stdout, /^ {2}appNamespace: "microservices-dev"$/m);
            assert.ok(!result.stdout.includes("```mermaid"));
            assert.ok(!result.stdout.includes("## Resource tree"));
        });

        it("adds the Mermaid graph and the tree on request, or writes the graph to a file", async () => {
            const shown = await plan(["dev", "--graph", "--tree"]);
            assert.ok(shown.stdout.includes("```mermaid\nflowchart LR"));
            assert.ok(shown.stdout.includes("## Resource tree"));
            const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-")), "dev.mmd");
            const written = await plan(["dev", `--graph=${file}`]);
            assert.equal(written.code, 0, written.stderr);
            assert.match(fs.readFileSync(file, "utf8"), /^flowchart LR\n/);
            assert.ok(!written.stdout.includes("```mermaid"));
        });

        it("plans the local stack, which exports no Azure outputs", async () => {
            const result = await plan(["local"]);
            assert.equal(result.code, 0, result.stderr);
            assert.match(result.stdout, /^ {2}appNamespace: "microservices-local"$/m);
            assert.doesNotMatch(result.stdout, /kubeconfig|resourceGroupName/);
        });

        it("fails prod without its secret keys as pulumi preview would, naming the keys and the command", async () => {
            const result = await plan(["prod"]);
            assert.equal(result.code, 1);
            assert.equal(result.stdout, "");
            assert.match(
                result.stderr,
                /ingress\.tlsCertificate: is not set.*pulumi config set --path --secret ingress\.tlsCertificate < cert\.pem/,
            );
            assert.match(
                result.stderr,
                /ingress\.tlsPrivateKey: is not set.*pulumi config set --path --secret ingress\.tlsPrivateKey < key\.pem/,
            );
        });

        it("stands in throwaway certificates only when asked, and says so on the first line", async function () {
            const result = await plan(["prod", "--throwaway-tls", "--stand-in-images", "--stand-in-runner"]);
            assert.equal(result.code, 0, result.stderr);
            assert.match(result.stdout.split("\n")[1], /^NOTE: the services' images are stand-ins/);
            assert.match(result.stdout.split("\n")[2], /^NOTE: the CI runner's repository and token are stand-ins/);
            assert.match(
                result.stdout.split("\n")[0],
                /^NOTE: ingress TLS is a throwaway certificate \(and CA\) for app\.prod\.example\.com/,
            );
            assert.match(result.stdout, /^ {2}appNamespace: "microservices-prod"$/m);
        });

        // Review round 2: the throwaway CA relied on openssl.cnf's v3_ca section (basic constraints not
        // critical, no key usage). RFC 5280: a CA's basic constraints MUST be critical (4.2.1.9), and its
        // key usage asserts keyCertSign (4.2.1.3); read back by the OpenSSL CLI.
        it("makes the throwaway CA a CA by RFC 5280: critical basic constraints CA:TRUE, critical key usage for certificate and CRL signing", function () {
            const { "ingress.tlsCertificate": ingressTlsCertificate } = throwawayCertificate("app.example.com");
            const ca = ingressTlsCertificate.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.pop()!;
            const out = spawnSync("openssl", ["x509", "-noout", "-ext", "basicConstraints,keyUsage"], { input: ca, encoding: "utf8" });
            assert.equal(out.status, 0, out.stderr);
            assert.match(out.stdout, /X509v3 Basic Constraints: critical\n\s+CA:TRUE/);
            assert.match(out.stdout, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\s*$/);
        });

        it("fails on bad config with the program's message", async () => {
            fs.writeFileSync(bad, "config:\n  aks-platform:environment: dev\n  aks-platform:keyVault:\n    retentionDays: 120\n");
            const result = await plan(["plantest"]);
            assert.equal(result.code, 1, result.stderr);
            assert.match(
                result.stderr,
                /Invalid stack configuration:\n {2}- keyVault\.retentionDays: 120 is not allowed; use a whole number from 7 to 90/,
            );
            assert.equal(result.stdout, "");
        });

        it("fails on a flat key of the old layout, naming its new path", async () => {
            fs.writeFileSync(bad, "config:\n  aks-platform:environment: dev\n  aks-platform:keyVaultRetentionDays: 30\n");
            const result = await plan(["plantest"]);
            assert.equal(result.code, 1, result.stderr);
            assert.match(result.stderr, /keyVaultRetentionDays\b.*keyVault\.retentionDays/);
            assert.equal(result.stdout, "");
        });

        it("fails where the CLI would, before the program: a stack key config.ParseKey refuses", async () => {
            fs.writeFileSync(bad, "config:\n  aks-platform:environment: dev\n  aks-platform:azure:location: westeurope\n");
            const result = await plan(["plantest"]);
            assert.equal(result.code, 1);
            assert.match(
                result.stderr,
                /^error: could not unmarshal map: could not parse aks-platform:azure:location as a configuration key/,
            );
        });

        it("reads a stack key without its namespace as the project's, as the CLI does, so the program names its new path", async () => {
            // pulumi/pulumi sdk/go/common/workspace/loaders.go stackConfigNamespacedWithProject: `location` is aks-platform:location.
            fs.writeFileSync(bad, "config:\n  aks-platform:environment: dev\n  location: westeurope\n");
            const result = await plan(["plantest"]);
            assert.equal(result.code, 1, result.stderr);
            assert.match(result.stderr, /\blocation\b.*azure\.location/);
        });

        it("warns first when a text member is written as a number, which the program then receives", async () => {
            const dev = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8");
            const promoted = promoteStackFile(dev, { tag: "v1", registry: "ghcr.io/my-org" }).replace(
                /productTag: v1\n/,
                "productTag: 010\n",
            );
            fs.writeFileSync(bad, promoted.replace(/^config:\n/m, "config:\n  aks-platform:environment: dev\n"));
            const result = await plan(["plantest"]);
            assert.equal(result.code, 0, result.stderr);
            assert.equal(
                result.stdout.split("\n")[0],
                'WARNING: services.productTag in Pulumi.plantest.yaml is written 010 unquoted, which the Pulumi CLI reads as the integer 8: the program receives that number, not the text written; quote it ("010").',
            );
        });

        it("names the stacks it knows when the stack file is missing", async () => {
            const result = await plan(["nosuchstack"]);
            assert.equal(result.code, 2);
            assert.match(result.stderr, /no stack file Pulumi.nosuchstack.yaml; stacks here: .*dev/);
        });

        it("prints usage for --help instead of reading it as a stack, and rejects unknown options", async () => {
            const help = await plan(["--help"]);
            assert.equal(help.code, 0);
            assert.match(help.stdout, /^usage: npm run plan -- <stack>/);
            const unknown = await plan(["dev", "--grpah"]);
            assert.equal(unknown.code, 2);
            assert.match(unknown.stderr, /^unknown option --grpah\nusage:/);
        });

        it("runs as `npm run plan -- <stack>`", () => {
            const result = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(ROOT, "tools/plan.ts")], {
                cwd: ROOT,
                encoding: "utf8",
            });
            assert.equal(result.status, 2);
            assert.match(result.stderr, /^no stack given\nusage: npm run plan -- <stack>/);
        });
    });
});
