// Issue 17 item 7: scripts/register-azure-providers.sh registers exactly the resource providers the
// program creates resources in. The namespaces are derived here from the azure-native resource types the
// program registers (for dev and prod, both with their registry), not from the script.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { evaluateStack, ROOT, type StackRun } from "./harness";

const SCRIPT = path.join(ROOT, "scripts", "register-azure-providers.sh");

/**
 * azure-native's module of a resource type is its ARM namespace without "Microsoft.", lowercased
 * (pulumi/pulumi-azure-native provider/pkg/openapi: the module comes from the spec's resource-manager
 * folder), except where the specs folder differs from the namespace: monitor and applicationinsights
 * are Microsoft.Insights.
 */
const NAMESPACE_OF_MODULE: Record<string, string> = {
    containerservice: "Microsoft.ContainerService",
    network: "Microsoft.Network",
    // Private DNS zones are Microsoft.Network/privateDnsZones.
    privatedns: "Microsoft.Network",
    keyvault: "Microsoft.KeyVault",
    managedidentity: "Microsoft.ManagedIdentity",
    operationalinsights: "Microsoft.OperationalInsights",
    monitor: "Microsoft.Insights",
    applicationinsights: "Microsoft.Insights",
    insights: "Microsoft.Insights",
    storage: "Microsoft.Storage",
    containerregistry: "Microsoft.ContainerRegistry",
    app: "Microsoft.App",
    // Prometheus rule groups are Microsoft.AlertsManagement/prometheusRuleGroups.
    alertsmanagement: "Microsoft.AlertsManagement",
    // Registered by default in every subscription (learn.microsoft.com/azure/azure-resource-manager/
    // management/resource-providers-and-types): nothing to register.
    authorization: "",
    resources: "",
};

/** What a stack's resources need registered: their namespaces, plus what AKS and its add-ons create. */
function namespacesOf(run: StackRun): Set<string> {
    const found = new Set<string>();
    for (const r of run.resources) {
        const [pkg, module] = r.type.split(":");
        if (pkg !== "azure-native") continue;
        const ns = NAMESPACE_OF_MODULE[module];
        assert.ok(ns !== undefined, `no namespace known for module ${module} (${r.type}): add it to the table and the script`);
        // azure-native's monitor module also holds the Azure Monitor workspace, which is
        // Microsoft.Monitor/accounts, not Microsoft.Insights (azure-rest-api-specs
        // specification/monitor/resource-manager/Microsoft.Monitor).
        if (r.type === "azure-native:monitor:AzureMonitorWorkspace") found.add("Microsoft.Monitor");
        else if (ns) found.add(ns);
        if (r.type === "azure-native:containerservice:ManagedCluster") {
            // Node pools are virtual machine scale sets (Microsoft.Compute) in the subscription.
            found.add("Microsoft.Compute");
            // The Azure Policy add-on reports compliance through Microsoft.PolicyInsights
            // (learn.microsoft.com/azure/governance/policy/concepts/policy-for-kubernetes, "Install Azure Policy Add-on for AKS").
            if (r.inputs.addonProfiles?.azurepolicy?.enabled) found.add("Microsoft.PolicyInsights");
        }
    }
    return found;
}

function scriptNamespaces(): string[] {
    const text = fs.readFileSync(SCRIPT, "utf8");
    const list = /PROVIDERS='\n([\s\S]*?)\n'/.exec(text);
    assert.ok(list, "the script keeps its list in PROVIDERS");
    return list[1]
        .split("\n")
        .filter((line) => line.trim())
        .map((line) => line.trim().split(/\s+/)[0])
        .sort();
}

describe("resource providers to register", () => {
    it("the script registers exactly the namespaces of the resources dev and prod create (their registries included)", async function () {
        this.timeout(180000);
        // Both create the registry (registry.mode's default is create, components/config/keys.ts).
        const runs = [await evaluateStack("dev"), await evaluateStack("prod")];
        for (const run of runs) assert.equal(run.ofType("azure-native:containerregistry:Registry").length, 1);
        const needed = new Set<string>();
        for (const run of runs) for (const ns of namespacesOf(run)) needed.add(ns);
        assert.deepEqual(scriptNamespaces(), [...needed].sort());
        // Those the deploy walk found missing from the README's old list.
        for (const ns of ["Microsoft.Network", "Microsoft.Storage", "Microsoft.PolicyInsights", "Microsoft.ContainerRegistry"])
            assert.ok(needed.has(ns), ns);
    });

    it("registers and waits for each one that is not registered yet, and only those", () => {
        const text = fs.readFileSync(SCRIPT, "utf8");
        assert.match(text, /az provider register --namespace "\$ns" --wait/);
        assert.match(text, /az provider show --namespace "\$ns" --query registrationState/);
    });
});
