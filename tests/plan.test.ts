import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { countsByType, dependencyEdges, longestChain, mermaid, plan, resourceTree } from "../tools/plan";
import { evaluateStack, ROOT, type StackRun } from "./harness";

describe("offline plan", () => {
    let run: StackRun;
    before(async () => {
        run = await evaluateStack("dev");
    });

    it("prints every resource in the tree under its component", () => {
        const tree = resourceTree(run).split("\n");
        const cluster = tree.findIndex((l) => l === "aksplatform:azure:AksCluster aks");
        assert.ok(cluster >= 0);
        assert.ok(tree.includes("  azure-native:containerservice:ManagedCluster aks"));
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
        assert.equal(chain[0].type, "azure-native:resources:ResourceGroup");
        for (let i = 1; i < chain.length; i++)
            assert.ok(run.dependsOn(chain[i].urn, chain[i - 1].urn), `${chain[i].name} after ${chain[i - 1].name}`);
    });

    describe("command", () => {
        const bad = path.join(ROOT, "Pulumi.plantest.yaml");
        after(() => fs.rmSync(bad, { force: true }));

        it("prints the tree, the counts, the Mermaid graph and the longest chain", async () => {
            const result = await plan("dev");
            assert.equal(result.code, 0, result.stderr);
            for (const heading of ["## Resource tree", "## Counts by type", "```mermaid", "## Longest dependency chain"]) {
                assert.ok(result.stdout.includes(heading), heading);
            }
        });

        it("fails on bad config with the message pulumi up would print", async () => {
            fs.writeFileSync(bad, "config:\n  aks-platform:environment: dev\n  aks-platform:keyVaultRetentionDays: 120\n");
            const result = await plan("plantest");
            assert.equal(result.code, 1, result.stderr);
            assert.match(
                result.stderr,
                /Invalid stack configuration:\n {2}- keyVaultRetentionDays: 120 is not allowed; use a whole number from 7 to 90/,
            );
            assert.equal(result.stdout, "");
        });

        it("names the stacks it knows when the stack file is missing", async () => {
            const result = await plan("nosuchstack");
            assert.equal(result.code, 2);
            assert.match(result.stderr, /no stack file Pulumi.nosuchstack.yaml; stacks here: .*dev/);
        });

        it("runs as `npm run plan -- <stack>`", () => {
            const result = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(ROOT, "tools/plan.ts")], {
                cwd: ROOT,
                encoding: "utf8",
            });
            assert.equal(result.status, 2);
            assert.match(result.stderr, /usage: npm run plan -- <stack>/);
        });
    });
});
