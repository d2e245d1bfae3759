// Destroy and re-create (issue 18 items 1-3): what each destroy path asks of the provider, modelled on
// the Pulumi engine's own rules, over every Key Vault secret and key the program registers.
import { strict as assert } from "assert";
import { evaluateStack, type Registration, type StackRun } from "./harness";

const T = {
    vault: "azure-native:keyvault:Vault",
    // The two types whose delete azure-native sends to the vault's data plane (pulumi/pulumi-azure-native
    // provider/pkg/resources/customresources/custom_keyvault.go: keyVaultSecret, keyVaultKey).
    secret: "azure-native:keyvault:Secret",
    key: "azure-native:keyvault:Key",
    randomPassword: "random:index/randomPassword:RandomPassword",
    k8sSecret: "kubernetes:core/v1:Secret",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
} as const;

/**
 * What `pulumi destroy --exclude-protected` keeps: every protected resource and everything it depends
 * on, through its parent, dependencies, provider and deletedWith (pulumi/pulumi
 * pkg/cmd/pulumi/operations/destroy.go, separateProtected; pkg/resource/graph/dependency_graph.go,
 * TransitiveDependenciesOf).
 */
export function keptByExcludeProtected(run: StackRun): Set<string> {
    const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    const providerUrn = (r: Registration) => (r.provider ? run.resources.find((p) => p.urn === r.provider)?.urn : undefined);
    const kept = new Set<string>();
    const visit = (urn: string | undefined) => {
        if (!urn || kept.has(urn)) return;
        const r = byUrn.get(urn);
        if (!r) return;
        kept.add(urn);
        for (const next of [r.parent, ...r.dependencies, r.deletedWith, providerUrn(r)]) visit(next);
    };
    for (const r of run.resources) if (r.protect) visit(r.urn);
    return kept;
}

/**
 * Whether the engine calls the provider's Delete for `item` when the resources in `deleted` are
 * deleted in one operation: not when it is retainOnDelete, not when the resource it is deletedWith is
 * deleted too (pulumi/docs content/docs/concepts/options/deletedwith.md; retainondelete.md).
 */
function callsProviderDelete(item: Registration, deleted: ReadonlySet<string>): boolean {
    if (!deleted.has(item.urn)) return false;
    if (item.retainOnDelete) return false;
    return !(item.deletedWith && deleted.has(item.deletedWith));
}

const vaultItems = (run: StackRun) => [...run.ofType(T.secret), ...run.ofType(T.key)];
const vaultOf = (run: StackRun, item: Registration) => {
    const vaults = run.ofType(T.vault).filter((v) => v.inputs.vaultName === item.inputs.vaultName);
    assert.equal(vaults.length, 1, `${item.name}: one vault named ${item.inputs.vaultName}`);
    return vaults[0];
};

describe("teardown: no destroy path calls a Key Vault's data plane (issue 18 item 1)", () => {
    for (const stack of ["dev", "prod"] as const) {
        it(`${stack}: every secret and key is deletedWith its own vault and retained on its own delete`, async () => {
            const run = await evaluateStack(stack);
            const items = vaultItems(run);
            // dev: 4 app + 2 ingress + MongoDB root + the key; prod adds Vault's TLS and init secrets.
            assert.ok(items.length >= (stack === "dev" ? 8 : 12), `${items.length} items`);
            for (const item of items) {
                assert.equal(item.deletedWith, vaultOf(run, item).urn, `${item.type} ${item.name}: deletedWith its vault`);
                assert.equal(item.retainOnDelete, true, `${item.type} ${item.name}: retainOnDelete`);
            }
        });

        it(`${stack}: full destroy, destroy --exclude-protected and removing one item never reach the provider's delete`, async () => {
            const run = await evaluateStack(stack);
            const everything = new Set(run.resources.map((r) => r.urn));
            const kept = keptByExcludeProtected(run);
            const unprotected = new Set([...everything].filter((u) => !kept.has(u)));
            for (const item of vaultItems(run)) {
                for (const [path, deleted] of [
                    ["destroy", everything],
                    ["destroy --exclude-protected", unprotected],
                    ["the item dropped from the program", new Set([item.urn])],
                ] as const) {
                    assert.equal(callsProviderDelete(item, deleted), false, `${item.name}: ${path} would call the data plane`);
                }
            }
        });
    }
});

describe("teardown: re-creating into kept vaults (issue 18 item 2)", () => {
    it("prod: destroy --exclude-protected keeps every vault and every secret and key in it, so the next up creates none of them", async () => {
        const run = await evaluateStack("prod");
        const kept = keptByExcludeProtected(run);
        const vaults = run.ofType(T.vault);
        assert.equal(vaults.length, 2);
        for (const vault of vaults) assert.ok(kept.has(vault.urn), `${vault.name} kept`);
        for (const item of vaultItems(run)) {
            // Not in state after the destroy would mean a create on the next up: "cannot create already
            // existing resource" (azure-native crud.go CanCreate) for a retained item, 409 for a
            // soft-deleted one under purge protection.
            assert.ok(kept.has(item.urn), `${item.type} ${item.name} is dropped from state while its vault is kept`);
        }
        // The vault names' random suffix stays too: the re-create addresses the same vaults.
        assert.ok(kept.has(run.get("random:index/randomString:RandomString", "kv-suffix").urn));
    });

    it("dev: a destroy takes the vaults and their suffix, so the next up draws new, unused names", async () => {
        const run = await evaluateStack("dev");
        const kept = keptByExcludeProtected(run);
        for (const vault of run.ofType(T.vault)) assert.ok(!kept.has(vault.urn), `${vault.name} protected in dev`);
        assert.ok(!kept.has(run.get("random:index/randomString:RandomString", "kv-suffix").urn));
    });
});

describe("teardown: MongoDB's root password survives a re-create (issue 18 item 3)", () => {
    for (const stack of ["dev", "prod", "local"] as const) {
        it(`${stack}: where MongoDB's data outlives destroy --exclude-protected, the password it was created with does too`, async () => {
            const run = await evaluateStack(stack);
            const mongo = run.ofType(T.statefulSet).filter((r) => r.inputs.metadata.name === "mongodb");
            assert.equal(mongo.length, 1);
            const rootSecret = run.ofType(T.k8sSecret).filter((r) => r.inputs.metadata.name === "mongodb-root");
            assert.equal(rootSecret.length, 1);
            // The generated password the root Secret is written from.
            const passwords = run.ofType(T.randomPassword).filter((p) => run.dependsOn(rootSecret[0].urn, p.urn));
            assert.equal(passwords.length, 1, "one generated root password");
            const retainsData = mongo[0].retainOnDelete;
            assert.equal(retainsData, stack === "prod", "prod keeps MongoDB's objects (and so its volume)");
            if (!retainsData) return;
            const kept = keptByExcludeProtected(run);
            assert.ok(kept.has(passwords[0].urn), "the root password is destroyed while the data that knows it is kept");
            assert.ok(passwords[0].protect, "the password itself is protected, not only kept as a dependency");
        });
    }
});

describe("teardown: locks on the stateful resources, not on routine work (issue 18 item 6)", () => {
    const LOCK_TYPES = [
        "azure-native:authorization:ManagementLockAtResourceGroupLevel",
        "azure-native:authorization:ManagementLockByScope",
    ];
    // A lock's scope is its ID without the lock's own segment; it covers that scope and everything below
    // it, child and extension resources alike (MicrosoftDocs/azure-docs
    // articles/azure-resource-manager/management/lock-resources.md, "Lock inheritance").
    const lockScopes = (run: StackRun) =>
        LOCK_TYPES.flatMap((t) => run.ofType(t)).map((l) =>
            l.id.replace(/\/providers\/Microsoft\.Authorization\/locks\/[^/]+$/i, "").toLowerCase(),
        );
    const underLock = (scopes: string[], id: string) => scopes.some((s) => id.toLowerCase() === s || id.toLowerCase().startsWith(`${s}/`));

    it("prod: each vault, the unseal key, the workspace and the backup storage carry their own CanNotDelete lock; the group none", async () => {
        const run = await evaluateStack("prod");
        assert.equal(run.ofType(LOCK_TYPES[0]).length, 0, "no resource-group lock");
        const scopes = run.ofType(LOCK_TYPES[1]).map((l) => l.inputs.scope);
        for (const r of run.ofType(LOCK_TYPES[1])) assert.equal(r.inputs.level, "CanNotDelete");
        for (const [type, name] of [
            [T.vault, "app-kv"],
            [T.vault, "unseal-kv"],
            [T.key, "unseal-key"],
            ["azure-native:operationalinsights:Workspace", "monitoring-logs"],
            ["azure-native:storage:StorageAccount", "backups"],
        ]) {
            assert.ok(scopes.includes(run.get(type, name).id), `${name} is locked`);
        }
    });

    it("prod: no federated credential, maintenance configuration, node pool or routine role assignment is under a lock", async () => {
        const run = await evaluateStack("prod");
        const scopes = lockScopes(run);
        assert.ok(scopes.length > 0);
        const routine = [
            ...run.ofType("azure-native:managedidentity:FederatedIdentityCredential"),
            ...run.ofType("azure-native:containerservice:MaintenanceConfiguration"),
            ...run.ofType("azure-native:containerservice:AgentPool"),
        ];
        assert.ok(run.ofType("azure-native:managedidentity:FederatedIdentityCredential").length > 0);
        assert.equal(run.ofType("azure-native:containerservice:MaintenanceConfiguration").length, 2);
        for (const r of routine) assert.ok(!underLock(scopes, r.id), `${r.type} ${r.name} (${r.id}) is under a lock`);
        // Role assignments: only the per-item data roles sit inside a locked store (a secret, a key, a
        // blob container); they change only when that item or its reader goes (docs/platform.md, Locks).
        const roles = run.ofType("azure-native:authorization:RoleAssignment");
        const locked = roles.filter((r) => underLock(scopes, r.id));
        for (const r of locked) assert.match(r.inputs.scope, /\/(secrets|keys)\/[^/]+$|\/containers\/[^/]+$/, `${r.name} is under a lock`);
        assert.ok(roles.length - locked.length > 0, "some role assignments are outside every lock");
        assert.ok(!underLock(scopes, run.get("azure-native:authorization:RoleAssignment", "aks-identity-network").id));
    });

    // Where a resource sits for a lock: its own ARM ID, or for an extension resource (a role assignment,
    // a diagnostic setting, another lock) the scope it extends, whose ID is the extension's ID prefix
    // (azure-docs articles/azure-resource-manager/management/extension-resource-types.md). Read off the
    // inputs, so a resource the mock IDs oddly is still placed right.
    const placesOf = (r: Registration): string[] =>
        [
            r.id,
            r.inputs?.scope,
            r.inputs?.resourceUri,
            // A private endpoint acts on its target: its delete removes a privateEndpointConnectionProxies
            // child there, which the target's lock refuses (ScopeLocked; hashicorp/terraform-provider-azurerm#17478).
            ...(r.inputs?.privateLinkServiceConnections ?? []).map((c: { privateLinkServiceId?: string }) => c.privateLinkServiceId),
        ].filter((x): x is string => typeof x === "string" && x.startsWith("/"));
    const under = (scope: string, r: Registration) =>
        placesOf(r).some((p) => p.toLowerCase() === scope.toLowerCase() || p.toLowerCase().startsWith(`${scope.toLowerCase()}/`));
    /** Each lock with what lies under its scope: everything a CanNotDelete lock refuses to let go. */
    const lockedBy = (run: StackRun) =>
        run.ofType(LOCK_TYPES[1]).map((lock) => ({
            lock,
            inside: run.resources.filter((r) => r.custom && r.urn !== lock.urn && under(lock.inputs.scope, r)),
        }));

    /**
     * The engine's order of deletes (pulumi/pulumi pkg/resource/deploy/step_generator.go, ScheduleDeletes):
     * rounds of condemned resources on which no other condemned one depends (dependencies and parent,
     * as recorded in the state the delete runs against). Returns each URN's round.
     */
    function deleteRounds(state: StackRun, condemned: ReadonlySet<string>): Map<string, number> {
        const left = new Set(condemned);
        const round = new Map<string, number>();
        for (let n = 0; left.size > 0; n++) {
            const free = [...left].filter(
                (u) =>
                    ![...left].some(
                        (other) => other !== u && (state.byUrn(other).dependencies.includes(u) || state.byUrn(other).parent === u),
                    ),
            );
            assert.ok(free.length > 0, "a dependency cycle");
            for (const u of free) {
                round.set(u, n);
                left.delete(u);
            }
        }
        return round;
    }

    it("prod: every lock waits for everything under its scope, per-secret, per-key and per-container role assignments included", async () => {
        const run = await evaluateStack("prod");
        const found = lockedBy(run);
        const roles = found.flatMap(({ inside }) => inside.filter((r) => r.type === "azure-native:authorization:RoleAssignment"));
        // The app-secrets and ingress identities on their secrets, Vault's on the unseal key and its TLS
        // secrets, the init Job's on its secrets, the backup CronJobs' on their containers.
        for (const prefix of [
            "app-secrets-id-",
            "ingress-tls-id-",
            "vault-unseal-id-",
            "vault-init-id-",
            "mongodb-backup-id-",
            "vault-snapshot-id-",
        ])
            assert.ok(
                roles.some((r) => r.name.startsWith(prefix)),
                `${prefix}* lies under a lock`,
            );
        for (const { lock, inside } of found) {
            for (const r of inside)
                assert.ok(
                    run.dependsOn(lock.urn, r.urn),
                    `${lock.name} does not wait for ${r.type} ${r.name}: destroy may delete it under the lock`,
                );
        }
    });

    it("prod: destroy and destroy --exclude-protected delete every lock before anything under it", async () => {
        const run = await evaluateStack("prod");
        const kept = keptByExcludeProtected(run);
        for (const [path, condemned] of [
            ["destroy", new Set(run.resources.map((r) => r.urn))],
            ["destroy --exclude-protected", new Set(run.resources.map((r) => r.urn).filter((u) => !kept.has(u)))],
        ] as const) {
            const rounds = deleteRounds(run, condemned);
            for (const { lock, inside } of lockedBy(run)) {
                assert.ok(condemned.has(lock.urn), `${path}: ${lock.name} is deleted`);
                for (const r of inside.filter((x) => condemned.has(x.urn)))
                    assert.ok(
                        rounds.get(lock.urn)! < rounds.get(r.urn)!,
                        `${path}: ${r.type} ${r.name} is deleted while ${lock.name} still stands`,
                    );
            }
        }
    });

    it("prod, day 2: an up that lifts the locks and drops a per-secret role assignment deletes the locks first", async () => {
        const before = await evaluateStack("prod");
        // The lift removes the locks and nothing else.
        const after = await evaluateStack("prod", { "governance.resourceLocks": false });
        const now = new Set(after.resources.map((r) => r.urn));
        const lifted = before.resources.filter((r) => r.custom && !now.has(r.urn));
        assert.deepEqual(
            lifted.map((r) => r.type),
            lifted.map(() => LOCK_TYPES[1]),
            "governance.resourceLocks: false removes only the locks",
        );
        const found = lockedBy(before);
        assert.equal(lifted.length, found.length);
        // Whatever change drops an assignment under a lock (a secret, its reader or Vault's TLS leaving the
        // program): the engine deletes it together with the locks, in the order the state records.
        const assignments = found.flatMap(({ inside }) => inside.filter((r) => r.type === "azure-native:authorization:RoleAssignment"));
        assert.ok(assignments.length >= 10, `${assignments.length} assignments under locks`);
        for (const dropped of assignments) {
            const condemned = new Set([...lifted.map((r) => r.urn), dropped.urn]);
            const rounds = deleteRounds(before, condemned);
            for (const { lock, inside } of found) {
                if (inside.includes(dropped))
                    assert.ok(
                        rounds.get(lock.urn)! < rounds.get(dropped.urn)!,
                        `${dropped.name} is deleted while ${lock.name} still stands (ScopeLocked)`,
                    );
            }
        }
    });
});

describe("teardown: the cluster and its user pool (issue 18 items 4 and 5)", () => {
    const POOL = "azure-native:containerservice:AgentPool";
    const CLUSTER = "azure-native:containerservice:ManagedCluster";
    /** Minutes in a Pulumi customTimeouts duration such as "85m" or "1h25m". */
    const minutes = (d: string) => {
        const m = /^(?:(\d+)h)?(?:(\d+)m)?$/.exec(d);
        assert.ok(m && d, `a duration: ${JSON.stringify(d)}`);
        return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
    };
    const inCluster = (run: StackRun) => run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
    /**
     * Whether `urn` waits for `on` as the engine orders creates and deletes: through dependencies, parent
     * and provider reference (pulumi/pulumi pkg/resource/graph/dependency_graph.go, DependenciesOf).
     */
    const waitsFor = (run: StackRun, urn: string, on: string): boolean => {
        const seen = new Set<string>();
        const visit = (u: string): boolean => {
            if (!u || seen.has(u)) return false;
            seen.add(u);
            const r = run.resources.find((x) => x.urn === u);
            if (!r) return false;
            return [...r.dependencies, r.parent, r.provider].some((d) => d === on || visit(d));
        };
        return visit(urn);
    };

    it("dev with a user pool: a destroy deletes every in-cluster object before the pool, and the cluster's DELETE takes the pool", async () => {
        const run = await evaluateStack("dev", { "userPool.enabled": true });
        const pool = run.get(POOL, "aks-user");
        const cluster = run.get(CLUSTER, "aks");
        // The system pool is tainted CriticalAddonsOnly once a user pool exists, so workloads run on the
        // user pool alone: they wait for it on create and go before it on destroy.
        const objects = inCluster(run);
        assert.ok(objects.length > 20);
        for (const r of objects) assert.ok(waitsFor(run, r.urn, pool.urn), `${r.type} ${r.name} does not wait for the user pool`);
        // A full destroy: the pool is deletedWith the cluster, so its own (draining) delete is skipped and
        // the cluster's DELETE removes both pools; the cluster's delete timeout counts the user pool in.
        assert.equal(pool.deletedWith, cluster.urn);
        const everything = new Set(run.resources.map((r) => r.urn));
        assert.equal(callsProviderDelete(pool, everything), false, "the destroy drains a pool whose cluster goes next");
        assert.equal(callsProviderDelete(pool, new Set([pool.urn])), true, "switching the pool off still deletes it");
        const without = (await evaluateStack("dev")).get(CLUSTER, "aks");
        assert.ok(
            minutes(cluster.customTimeouts.delete) > minutes(without.customTimeouts.delete),
            "the user pool adds to the cluster's delete",
        );
        // 45 minutes was the control plane's estimate alone.
        assert.ok(minutes(cluster.customTimeouts.delete) > 45);
    });

    it("prod: destroy --exclude-protected keeps the user pool, where the Vault and MongoDB it keeps run", async () => {
        const run = await evaluateStack("prod");
        const kept = keptByExcludeProtected(run);
        const pool = run.get(POOL, "aks-user");
        assert.ok(kept.has(pool.urn), "the pool is drained under the retained StatefulSets, with nowhere for their pods to go");
    });
});
