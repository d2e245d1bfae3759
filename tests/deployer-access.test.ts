// Issue 17 item 2 and issue 18 item 7: who may act in the cluster. On an Entra ID cluster with Azure RBAC
// for Kubernetes, Owner or Contributor carry no Kubernetes dataActions; the deployer gets "Azure
// Kubernetes Service RBAC Cluster Admin" (b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b, the built-in role's ID in
// learn.microsoft.com/azure/role-based-access-control/built-in-roles) on the cluster, and every
// Kubernetes provider waits until the grant has had its documented five minutes to propagate
// (learn.microsoft.com/azure/aks/manage-azure-rbac). The pull-request previewer may dry-run (write) but
// not delete.
import { strict as assert } from "assert";
import { createHash } from "crypto";
import { customRoleName } from "../components/azure/roles";
import { DEPLOYER_OBJECT_ID, SUBSCRIPTION } from "../tools/mocks";
import { configProblems, evaluateStack, stackRaw as stackRawOf, TUNED, type StackRun, withOverrides } from "./harness";

const T = {
    cluster: "azure-native:containerservice:ManagedCluster",
    assignment: "azure-native:authorization:RoleAssignment",
    definition: "azure-native:authorization:RoleDefinition",
    sleep: "time:index/sleep:Sleep",
    provider: "pulumi:providers:kubernetes",
};
const CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b";
const CI_PRINCIPAL = TUNED.prod["access.deployerObjectId"];
const PREVIEWER = TUNED.prod["access.previewerObjectId"];

const adminGrants = (run: StackRun) =>
    run.ofType(T.assignment).filter((a) => String(a.inputs.roleDefinitionId).endsWith(`/${CLUSTER_ADMIN}`));

describe("deployer access to the cluster", () => {
    it("prod (Entra ID): the signed-in deployer gets RBAC Cluster Admin on the cluster, and both providers wait for its propagation", async () => {
        const run = await evaluateStack("prod");
        const cluster = run.get(T.cluster, "aks");
        const [grant, ...others] = adminGrants(run);
        assert.equal(others.length, 0);
        assert.equal(grant.inputs.scope, cluster.id, "scoped to the cluster, not the group or subscription");
        assert.equal(
            grant.inputs.principalId,
            DEPLOYER_OBJECT_ID,
            "falls back to the client's objectId when access.deployerObjectId is unset",
        );
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

    it("prod: access.deployerObjectId fixes the principal (CI and a workstation no longer replace each other's grant)", async () => {
        const run = await evaluateStack("prod", TUNED.prod);
        const [grant] = adminGrants(run);
        assert.equal(grant.inputs.principalId, CI_PRINCIPAL);
        const [sleep] = run.ofType(T.sleep).filter((s) => run.dependsOn(s.urn, grant.urn));
        assert.equal(sleep.inputs.triggers.principalId, CI_PRINCIPAL, "a changed principal waits again");
        // A replaced grant (a re-created cluster: the same principal, a new assignment) waits again too.
        assert.equal(sleep.inputs.triggers.assignmentId, grant.id, "a replaced grant waits again");
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
        // A custom role's AssignableScopes: one management group, subscriptions or resource groups (the
        // documented examples, MicrosoftDocs azure-docs articles/role-based-access-control/role-definitions.md),
        // never a resource; the definition lives at one of them, and the cluster lies within each.
        const allowed = [
            /^\/providers\/Microsoft\.Management\/managementGroups\/[^/]+$/i,
            /^\/subscriptions\/[0-9a-f-]{36}$/i,
            /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[^/]+$/i,
        ];
        for (const scope of role.inputs.assignableScopes as string[]) {
            assert.ok(
                allowed.some((form) => form.test(scope)),
                `assignable scope ${scope} is no management group, subscription or resource group`,
            );
            assert.ok(cluster.id.toLowerCase().startsWith(`${scope.toLowerCase()}/`), `the cluster is outside ${scope}`);
        }
        assert.ok(role.inputs.assignableScopes.includes(role.inputs.scope), "defined at one of its assignable scopes");
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

    // Review round 2: azure-native 3.28.0 replaces a RoleAssignment only for a new principalId or scope
    // (pulumi/pulumi-azure-native provider/pkg/gen/replacement.go, forceNewMap), and Azure refuses to
    // update an assignment (RoleAssignmentUpdateNotPermitted, MicrosoftDocs azure-docs articles/
    // role-based-access-control/troubleshooting.md): a new roleDefinitionId, e.g. the previewer's custom
    // role re-created at the group, must replace the assignment, created before the old one is deleted.
    it("replaces, never updates, every role assignment whose role changes (prod with the previewer and the WAF, dev)", async () => {
        for (const run of [await evaluateStack("prod", { "access.previewerObjectId": PREVIEWER }), await evaluateStack("dev")]) {
            const assignments = run.ofType(T.assignment);
            assert.ok(assignments.length >= 5, `only ${assignments.length} role assignments`);
            for (const a of assignments) {
                assert.ok(a.replaceOnChanges.includes("roleDefinitionId"), `${a.name} would be updated in place on a new role`);
                assert.equal(
                    a.inputs.roleAssignmentName,
                    undefined,
                    `${a.name} has a fixed name, which a create-before-delete replacement reuses`,
                );
            }
        }
    });

    // Review round 2: a custom role's name is unique in the Entra tenant its subscriptions trust
    // (MicrosoftDocs azure-docs articles/role-based-access-control/custom-roles.md), and the cluster
    // name repeats across subscriptions (the same prefix and environment).
    it("names the previewer's custom role uniquely per resource group: the same cluster in another subscription gets another name", async () => {
        const run = await evaluateStack("prod", { "access.previewerObjectId": PREVIEWER });
        const cluster = run.get(T.cluster, "aks");
        const role = run.ofType(T.definition).find((r) => r.name.endsWith("-previewer-role"))!;
        assert.ok(role.inputs.roleName.startsWith(`${cluster.inputs.resourceName} dry-run preview`));
        const group = role.inputs.scope as string;
        assert.ok(group.startsWith(`/subscriptions/${SUBSCRIPTION}/resourceGroups/`));
        const elsewhere = group.replace(SUBSCRIPTION, "99999999-2222-3333-4444-555555555555");
        assert.notEqual(customRoleName(`${cluster.inputs.resourceName} dry-run preview`, elsewhere), role.inputs.roleName);
        assert.equal(
            customRoleName(`${cluster.inputs.resourceName} dry-run preview`, group.toUpperCase()),
            role.inputs.roleName,
            "ARM IDs are case-insensitive",
        );
        // Every custom role the program defines: no two stacks' names meet in one tenant.
        for (const definition of run.ofType(T.definition)) {
            if (definition === role) continue;
            assert.notEqual(definition.inputs.roleName, role.inputs.roleName);
        }
        // Review round 3: every custom role, not the previewer's alone (the Vault TLS renewal role too),
        // is named per resource group: 8 hex digits of the SHA-256 of its lowercased scope, in brackets.
        for (const definition of run.ofType(T.definition)) {
            const scope = (definition.inputs.scope as string).toLowerCase();
            const hash = createHash("sha256").update(scope).digest("hex").slice(0, 8);
            assert.ok((definition.inputs.roleName as string).endsWith(` (${hash})`), `${definition.name}: ${definition.inputs.roleName}`);
        }
    });

    it("rejects an access.deployerObjectId or access.previewerObjectId that is no object ID, and both on local", () => {
        const problems = configProblems(
            withOverrides(stackRawOf("prod"), { "access.deployerObjectId": "ci-app", "access.previewerObjectId": "me" }),
            "prod",
        );
        assert.ok(
            problems.some((p) => p.startsWith('access.deployerObjectId: "ci-app" is not an object ID')),
            problems.join("\n"),
        );
        assert.ok(
            problems.some((p) => p.startsWith('access.previewerObjectId: "me" is not an object ID')),
            problems.join("\n"),
        );
        const local = configProblems(withOverrides(stackRawOf("local"), { "access.deployerObjectId": CI_PRINCIPAL }), "local");
        assert.match(local.join("\n"), /access\.deployerObjectId: .* is not allowed for environment local/);
    });
});
