// Issue 17 item 2 and issue 18 item 7: who may act in the cluster. On an Entra ID cluster with Azure RBAC
// for Kubernetes, Owner or Contributor carry no Kubernetes dataActions; the deployer gets "Azure
// Kubernetes Service RBAC Cluster Admin" (b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b, the built-in role's ID in
// learn.microsoft.com/azure/role-based-access-control/built-in-roles) on the cluster, and every
// Kubernetes provider waits until the grant has had its documented five minutes to propagate
// (learn.microsoft.com/azure/aks/manage-azure-rbac). The pull-request previewer may dry-run (write) but
// not delete.
import { strict as assert } from "assert";
import { DEPLOYER_OBJECT_ID } from "../tools/mocks";
import { configProblems, evaluateStack, stackRaw as stackRawOf, TUNED, type StackRun } from "./harness";

const T = {
    cluster: "azure-native:containerservice:ManagedCluster",
    assignment: "azure-native:authorization:RoleAssignment",
    definition: "azure-native:authorization:RoleDefinition",
    sleep: "time:index/sleep:Sleep",
    provider: "pulumi:providers:kubernetes",
};
const CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b";
const CI_PRINCIPAL = TUNED.prod.deployerObjectId;
const PREVIEWER = TUNED.prod.previewerObjectId;

const adminGrants = (run: StackRun) =>
    run.ofType(T.assignment).filter((a) => String(a.inputs.roleDefinitionId).endsWith(`/${CLUSTER_ADMIN}`));

describe("deployer access to the cluster", () => {
    it("prod (Entra ID): the signed-in deployer gets RBAC Cluster Admin on the cluster, and both providers wait for its propagation", async () => {
        const run = await evaluateStack("prod");
        const cluster = run.get(T.cluster, "aks");
        const [grant, ...others] = adminGrants(run);
        assert.equal(others.length, 0);
        assert.equal(grant.inputs.scope, cluster.id, "scoped to the cluster, not the group or subscription");
        assert.equal(grant.inputs.principalId, DEPLOYER_OBJECT_ID, "falls back to the client's objectId when deployerObjectId is unset");
        const [sleep] = run.ofType(T.sleep).filter((s) => run.dependsOn(s.urn, grant.urn));
        assert.ok(sleep, "a propagation wait after the grant");
        // Bounded by the documented propagation time (five minutes), no longer.
        assert.equal(sleep.inputs.createDuration, "300s");
        assert.ok(run.dependsOn(sleep.urn, grant.urn), "the wait starts once the grant exists");
        const providers = run.ofType(T.provider).filter((p) => p.name.startsWith("aks-k8s"));
        assert.deepEqual(providers.map((p) => p.name).sort(), ["aks-k8s", "aks-k8s-retained"]);
        for (const provider of providers) assert.ok(run.dependsOn(provider.urn, sleep.urn), `${provider.name} waits for the propagation`);
        // So every Kubernetes object, the first call included, comes after it.
        for (const r of run.resources.filter((x) => x.type.startsWith("kubernetes:")))
            assert.ok(
                providers.some((p) => p.urn === r.provider),
                `${r.type} ${r.name} uses one of the waiting providers`,
            );
    });

    it("prod: deployerObjectId fixes the principal (CI and a workstation no longer replace each other's grant)", async () => {
        const run = await evaluateStack("prod", TUNED.prod);
        const [grant] = adminGrants(run);
        assert.equal(grant.inputs.principalId, CI_PRINCIPAL);
        const [sleep] = run.ofType(T.sleep).filter((s) => run.dependsOn(s.urn, grant.urn));
        assert.equal(sleep.inputs.triggers.principalId, CI_PRINCIPAL, "a changed principal waits again");
    });

    it("dev (local accounts, Kubernetes RBAC): the certificate kubeconfig is already admin; no grant, no wait", async () => {
        const run = await evaluateStack("dev");
        assert.deepEqual(adminGrants(run), []);
        assert.deepEqual(run.ofType(T.sleep), []);
    });

    it("the previewer gets a dry-run role on the cluster: read and write, never delete, exec or RBAC writes", async () => {
        const run = await evaluateStack("prod", TUNED.prod);
        const cluster = run.get(T.cluster, "aks");
        const role = run.ofType(T.definition).find((r) => r.name.endsWith("-previewer-role"))!;
        assert.deepEqual(role.inputs.assignableScopes, [cluster.id]);
        const [permission] = role.inputs.permissions;
        const data: string[] = permission.dataActions;
        // A server-side-apply dry run is a PATCH, authorized as a write (Azure RBAC maps patch to /write).
        assert.ok(data.includes("Microsoft.ContainerService/managedClusters/*/write"));
        assert.ok(data.includes("Microsoft.ContainerService/managedClusters/*/read"));
        assert.ok(!data.some((a) => a.endsWith("/delete") || a === "Microsoft.ContainerService/managedClusters/*"), "no delete");
        assert.ok(!data.some((a) => /exec|impersonate|portforward|attach/.test(a)), "no exec, impersonation or port-forward");
        // No way to grant itself more (Kubernetes RBAC: a binding write, or `bind`/`escalate`, lets a
        // principal bind cluster-admin to itself): no /action at all, and RBAC writes carved out.
        assert.ok(!data.some((a) => a.endsWith("/action")), "no bind, escalate or any other action");
        assert.deepEqual(permission.notDataActions, ["Microsoft.ContainerService/managedClusters/rbac.authorization.k8s.io/*/write"]);
        assert.ok(permission.actions.includes("Microsoft.ContainerService/managedClusters/listClusterUserCredential/action"));
        const assignment = run.ofType(T.assignment).find((a) => a.inputs.roleDefinitionId === role.id)!;
        assert.equal(assignment.inputs.principalId, PREVIEWER);
        assert.equal(assignment.inputs.scope, cluster.id);
        assert.deepEqual(
            adminGrants(run).map((a) => a.inputs.principalId),
            [CI_PRINCIPAL],
            "the previewer is no cluster admin",
        );
    });

    it("rejects a deployerObjectId or previewerObjectId that is no object ID, and both on local", () => {
        const problems = configProblems({ ...stackRawOf("prod"), deployerObjectId: "ci-app", previewerObjectId: "me" }, "prod");
        assert.ok(
            problems.some((p) => p.startsWith('deployerObjectId: "ci-app" is not an object ID')),
            problems.join("\n"),
        );
        assert.ok(
            problems.some((p) => p.startsWith('previewerObjectId: "me" is not an object ID')),
            problems.join("\n"),
        );
        const local = configProblems({ ...stackRawOf("local"), deployerObjectId: CI_PRINCIPAL }, "local");
        assert.match(local.join("\n"), /deployerObjectId: .* is not allowed for environment local/);
    });
});
