// The mocks themselves (tools/mocks.ts): strict about what they answer, and answering only what the
// real providers return. Every other test reads the program through them, so a mock that answered a
// type nobody modelled, or an output no provider has, would make those tests pass for the wrong reason.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { evaluate, evaluateStack, EvaluationError, ROOT, type Registration } from "./harness";

/** The provider SDK's declaration file of a resource type, whose `readonly x: pulumi.Output<...>` are its outputs. */
function declarationFile(type: string): string {
    const [pkg, module, resource] = type.split(":");
    const file = (resource: string) => `${resource[0].toLowerCase()}${resource.slice(1)}.d.ts`;
    const modules = path.join(ROOT, "node_modules");
    if (pkg === "azure-native") return path.join(modules, "@pulumi/azure-native", module, file(resource));
    if (pkg === "kubernetes") {
        const [group, version] = module.split("/");
        if (group === "helm.sh") return path.join(modules, "@pulumi/kubernetes/helm", version, file(resource));
        const builtIn = group === "core" ? "core" : group.replace(/\.k8s\.io$/, "").replace(/\.authorization$/, "");
        const dir = path.join(modules, "@pulumi/kubernetes", builtIn, version);
        // A custom resource (Istio, the CSI driver's SecretProviderClass): the SDK's generic class.
        return fs.existsSync(dir)
            ? path.join(dir, file(resource))
            : path.join(modules, "@pulumi/kubernetes/apiextensions/customResource.d.ts");
    }
    const owner = pkg === "time" ? "@pulumiverse" : "@pulumi";
    return path.join(modules, owner, pkg, file(resource));
}

/** The top-level fields of a registration's state that the mock answered beyond the inputs. */
function answered(r: Registration): string[] {
    return Object.keys(r.state).filter((key) => JSON.stringify(r.state[key]) !== JSON.stringify(r.inputs[key]));
}

describe("mocks", () => {
    it("refuse a resource type nobody mocked, naming it", async () => {
        await assert.rejects(
            evaluate("dev", {}, () => {
                class Widget extends pulumi.CustomResource {
                    constructor() {
                        super("azure-native:example:Widget", "widget", { size: 1 });
                    }
                }
                return { id: new Widget().id };
            }),
            (error: EvaluationError) => {
                assert.match(error.message, /unmocked resource type azure-native:example:Widget \(widget\)/);
                return true;
            },
        );
    });

    it("refuse an invoke nobody mocked, naming it", async () => {
        await assert.rejects(
            evaluate("dev", {}, () => ({ result: pulumi.output(pulumi.runtime.invoke("azure-native:example:getWidget", {})) })),
            /unmocked invoke azure-native:example:getWidget/,
        );
    });

    it("evaluate a stack once per config and test run: the same overrides in any order share one run, which no caller can change", async () => {
        // azure.test.ts's Key Vault firewall settings, given in both orders: no evaluation of its own.
        const ranges = ["203.0.113.0/24", "198.51.100.7"];
        const one = await evaluateStack("dev", { "keyVault.networkAclMode": "deny", "keyVault.allowedIpRanges": ranges });
        const other = await evaluateStack("dev", { "keyVault.allowedIpRanges": ranges, "keyVault.networkAclMode": "deny" });
        assert.equal(other, one);
        assert.notEqual(await evaluateStack("dev"), one, "another config is another run");
        // Frozen throughout: a test that sorted the resources or edited an input would change every other test's view.
        assert.throws(() => (one.resources as Registration[]).sort(), TypeError);
        const acls = one.ofType("azure-native:keyvault:Vault")[0].inputs.properties.networkAcls;
        assert.throws(() => (acls.defaultAction = "Allow"), TypeError);
        assert.throws(() => acls.ipRules.pop(), TypeError);
        assert.throws(() => ((one.outputs as Record<string, unknown>).extra = 1), TypeError);
    });

    for (const stack of ["dev", "prod", "local"]) {
        it(`${stack}: answer only outputs the provider's schema declares`, async () => {
            const run = await evaluateStack(stack);
            const undeclared: string[] = [];
            for (const r of run.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"))) {
                if (r.type === "pulumi-nodejs:dynamic:Resource") {
                    // Our own provider (components/azure/acrImport.ts): its outputs are its inputs.
                    assert.deepEqual(answered(r), [], r.name);
                    continue;
                }
                const file = declarationFile(r.type);
                assert.ok(fs.existsSync(file), `${r.type}: no declaration at ${file}`);
                const declared = fs.readFileSync(file, "utf8");
                for (const field of answered(r)) {
                    if (!new RegExp(`readonly ${field}: pulumi\\.Output<`).test(declared)) undeclared.push(`${r.type} ${r.name}: ${field}`);
                }
            }
            assert.deepEqual(undeclared, []);
        });
    }

    it("name an object the program leaves unnamed as the Kubernetes provider does, so what refers to it names it", async () => {
        // pulumi-kubernetes provider/pkg/metadata/naming.go: <resource name>-<8 characters>. The
        // Jobs' scripts are such ConfigMaps; their volumes must name them.
        const run = await evaluateStack("prod");
        const configMaps = new Set(run.ofType("kubernetes:core/v1:ConfigMap").map((c) => c.state.metadata.name));
        const jobs = [...run.ofType("kubernetes:batch/v1:Job"), ...run.ofType("kubernetes:batch/v1:CronJob")];
        const volumes = jobs.flatMap((job) => {
            const pod = job.inputs.spec.template?.spec ?? job.inputs.spec.jobTemplate.spec.template.spec;
            return (pod.volumes ?? []).filter((v: any) => v.configMap).map((v: any) => [job.name, v.configMap.name]);
        });
        assert.ok(volumes.length > 0);
        for (const [job, name] of volumes) assert.ok(configMaps.has(name), `${job}: ${name} is no ConfigMap`);
        const autonamed = run.ofType("kubernetes:core/v1:ConfigMap").filter((c) => c.inputs.metadata.name === undefined);
        assert.ok(autonamed.length > 0);
        for (const c of autonamed) assert.match(c.state.metadata.name, new RegExp(`^${c.name}-[a-z0-9]{8}$`));
    });
});

describe("SDK bookkeeping left out under the mocks (tools/sdkBookkeeping.ts)", () => {
    /** An azure-native type at an API version (the pinned SDK's modules are lower case and digits). */
    const atApiVersion = (type: string) => /^azure-native:[a-z0-9]+\/v\d{8}[a-z0-9]*:/.test(type);
    /**
     * The aliases the class of an azure-native `type` merges into its options, read from the pinned SDK's
     * generated class (`const aliasOpts = { aliases: [{ type: "..." }, ...] }; opts = pulumi.mergeOptions(opts,
     * aliasOpts);`); none for a class without that statement.
     */
    const classAliases = (type: string): string[] => {
        const [, module, resource] = type.split(":");
        const file = path.join(ROOT, "node_modules/@pulumi/azure-native", module, `${resource[0].toLowerCase()}${resource.slice(1)}.js`);
        const source = fs.readFileSync(file, "utf8");
        const merged = /const aliasOpts = \{ aliases: \[(.*?)\] \};\s*opts = pulumi\.mergeOptions\(opts, aliasOpts\);/s.exec(source);
        assert.equal(merged === null, !source.includes("aliasOpts"), `${file}: its aliases as tools/sdkBookkeeping.ts describes them`);
        return merged ? [...merged[1].matchAll(/\{ type: "([^"]+)" \}/g)].map((m) => m[1]) : [];
    };
    /** What a registration names as its aliases: a type, or "no parent" for the layers' (components/layer.ts). */
    const aliasesOf = (r: Registration) => r.aliases.map((a) => ("urn" in a ? a.urn : a.noParent ? "no parent" : a.type));

    it("registers every alias azure-native's classes and the program give, but the API-version ones", async () => {
        const run = await evaluateStack("prod");
        // The cluster's class names a type for each API version and nothing else.
        const cluster = classAliases("azure-native:containerservice:ManagedCluster");
        assert.ok(cluster.length > 100 && cluster.every(atApiVersion), `${cluster.length} API-version aliases`);
        assert.deepEqual(aliasesOf(run.get("azure-native:containerservice:ManagedCluster", "aks")), []);
        // A type that moved keeps the alias of its old module: one of several in prod, each checked below.
        assert.deepEqual(
            classAliases("azure-native:privatedns:PrivateZone").filter((type) => !atApiVersion(type)),
            ["azure-native:network:PrivateZone"],
        );
        const azure = run.resources.filter((r) => r.type.startsWith("azure-native:"));
        let moved = 0;
        for (const r of azure) {
            const expected = classAliases(r.type).filter((type) => !atApiVersion(type));
            moved += expected.length;
            // The program's own alias of the layers' direct children comes first (mergeOptions appends).
            assert.deepEqual(
                aliasesOf(r).filter((alias) => alias !== "no parent"),
                expected,
                `${r.type} ${r.name}`,
            );
        }
        assert.ok(moved >= 10, `${moved} aliases of moved types checked`);
        // The program's own alias, and the options beside it, stay as they were.
        const group = run.get("azure-native:resources:ResourceGroup", "rg");
        assert.deepEqual(aliasesOf(group), ["no parent"]);
        assert.equal(run.byUrn(group.parent).type, "aksplatform:azure:Layer");
        assert.equal(group.protect, true);
    });

    it("the program names no azure-native type at an API version, whose aliases the tests would drop", () => {
        // Every source outside the tests, the tools and the dependencies. A name built from parts escapes
        // this scan: docs/testing.md states the limit.
        const skipped = (relative: string) =>
            relative.split(path.sep).includes("node_modules") ||
            ["tests", "tools"].includes(relative) ||
            /^services\/[^/]+\/(test|dist)$/.test(relative.split(path.sep).join("/"));
        const sources = (dir: string): string[] =>
            fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
                const relative = path.join(dir, entry.name);
                if (entry.isDirectory()) return skipped(relative) || entry.name === ".git" ? [] : sources(relative);
                return entry.name.endsWith(".ts") ? [relative] : [];
            });
        const files = sources(".");
        assert.ok(files.includes("index.ts") && files.some((file) => file.startsWith("components")), files.join(", "));
        for (const file of files) assert.doesNotMatch(fs.readFileSync(path.join(ROOT, file), "utf8"), /\/v\d{8}[a-z0-9]*:[A-Z]/, file);
    });
});
