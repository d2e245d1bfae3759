// Issue 17 item 6: the releases whose pods mount Key Vault objects through the Secrets Store CSI driver
// (the ingress gateway's certificate, the services' secrets) come after their identity's role
// assignments, and their atomic Helm wait outlasts the assignments' propagation: up to 600 s for Key
// Vault (learn.microsoft.com/azure/key-vault/general/rbac-guide) plus kubelet's longest pause between
// two mount attempts, 2m2s (kubernetes pkg/util/goroutinemap/exponentialbackoff), on top of the 600 s a
// release gets to become ready. Before, both waited 600 s in all, and a slow propagation rolled the
// first `up` back.
import { strict as assert } from "assert";
import { evaluateStack, type Registration, type StackRun } from "./harness";

const T = { release: "kubernetes:helm.sh/v3:Release", assignment: "azure-native:authorization:RoleAssignment" };
const KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6";
const READY = 600;
const COVERS_PROPAGATION = READY + 600 + 122;

const releaseNamed = (run: StackRun, name: string): Registration => {
    const found = run.ofType(T.release).filter((r) => r.inputs.name === name);
    assert.equal(found.length, 1, name);
    return found[0];
};
/** The Secrets User assignments of one identity (by its name prefix, e.g. "ingress-tls-id"). */
const secretReaders = (run: StackRun, identity: string) =>
    run
        .ofType(T.assignment)
        .filter((a) => a.name.startsWith(`${identity}-role-`) && String(a.inputs.roleDefinitionId).endsWith(KEY_VAULT_SECRETS_USER));

describe("Key Vault role propagation and the atomic releases that mount Key Vault objects", () => {
    for (const stack of ["dev", "prod"] as const) {
        it(`${stack}: the gateway and the services come after their identities' roles and wait long enough for them to apply`, async () => {
            const run = await evaluateStack(stack);
            const gateway = releaseNamed(run, "istio-ingressgateway");
            const ingressRoles = secretReaders(run, "ingress-tls-id");
            assert.equal(ingressRoles.length, 2, "certificate and key");
            for (const role of ingressRoles) assert.ok(run.dependsOn(gateway.urn, role.urn), `gateway after ${role.name}`);
            assert.equal(gateway.inputs.atomic, true);
            assert.equal(gateway.inputs.timeout, COVERS_PROPAGATION);

            const appRoles = secretReaders(run, "app-secrets-id");
            assert.ok(appRoles.length > 0);
            for (const name of ["product-service", "order-service"]) {
                const service = releaseNamed(run, name);
                for (const role of appRoles) assert.ok(run.dependsOn(service.urn, role.urn), `${name} after ${role.name}`);
                assert.equal(service.inputs.atomic, true);
                assert.equal(service.inputs.timeout, COVERS_PROPAGATION, name);
            }
        });
    }

    it("local (no Key Vault, no role to propagate): the releases keep the plain timeout", async () => {
        const run = await evaluateStack("local");
        assert.equal(releaseNamed(run, "istio-ingressgateway").inputs.timeout, READY);
        for (const name of ["product-service", "order-service"]) assert.equal(releaseNamed(run, name).inputs.timeout, READY, name);
    });
});
