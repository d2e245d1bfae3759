import * as authorization from "@pulumi/azure-native/authorization";
import * as pulumi from "@pulumi/pulumi";

/** The lock level: deletes are refused, reads and updates go on (ReadOnly would block list-keys and scaling). */
const LOCK_LEVEL = "CanNotDelete";

/** The name every lock of the program carries. */
const LOCK_NAME = "do-not-delete";

export interface ResourceLocksArgs {
    /** ARM IDs of the resources that each get a lock of their own, by a short name. */
    readonly resources: Readonly<Record<string, pulumi.Input<string>>>;
    /** Why the lock is there, shown by `az lock list` and the portal. */
    readonly notes: string;
    /**
     * Everything created under a locked scope (children, and extension resources such as role assignments
     * on a secret, a key or a container): each lock waits for all of them, so that `pulumi destroy`, and an
     * `up` that lifts the locks (`governance.resourceLocks: false`) while removing such a resource, deletes the locks
     * first. Pulumi deletes a resource only after everything that depends on it (pulumi/pulumi
     * pkg/resource/deploy/step_generator.go, ScheduleDeletes: the condemned resources in reverse
     * dependency order, from the state's recorded dependencies). tests/teardown.test.ts checks that
     * every registered resource under a locked scope is covered.
     */
    readonly covers: readonly pulumi.Resource[];
    /**
     * Locks whose scope lies inside another locked scope, by key: inner key -> outer key (the unseal key
     * inside the unseal vault). A lock is an extension resource of its scope and inherits the outer
     * lock like any other, so the outer lock waits for the inner one: destroy lifts the outer first.
     */
    readonly nested?: Readonly<Record<string, string>>;
}

/**
 * CanNotDelete management locks (azure-native authorization, API version 2020-05-01) on chosen
 * resources, never on the resource group. A lock is inherited by everything below its scope: child
 * resources and extension resources such as role assignments, federated credentials and diagnostic
 * settings (MicrosoftDocs/azure-docs articles/azure-resource-manager/management/lock-resources.md,
 * "Lock inheritance"). A group lock therefore refused the routine deletes of day-2 work (a federated
 * credential of a removed subject, a maintenance configuration, the old half of a re-scoped role
 * assignment, an old node pool); a lock on each stateful resource refuses only what lives inside it.
 * Create them after everything they cover (pass the covered resources as `covers`, on which each lock
 * waits): `pulumi destroy` then removes the locks before anything else, and a lock never blocks the
 * stack's own creation. See docs/platform.md, "Locks".
 *
 * What stays under a lock: the stores' own items and the data-plane role assignments scoped to one
 * secret, key or blob container. "A cannot-delete lock on a resource or resource group prevents the
 * deletion of Azure RBAC assignments" (lock-resources.md, "Considerations before applying your
 * locks"), and an assignment on the vault itself is an extension resource of the vault, under the same
 * lock: moving the grants up to vault scope would widen them (the unseal vault also holds Vault's
 * recovery keys) without escaping the lock. So these grants stay per item, and removing one is a
 * deliberate change: lift the locks in the same `up` (`governance.resourceLocks: false`; the locks, which depend
 * on the assignment, are deleted before it), then lock again (docs/operations.md, "Remove access
 * under a lock"). Without the lift, the delete fails with ScopeLocked and the assignment stays.
 */
export class ResourceLocks extends pulumi.ComponentResource {
    /** ARM IDs of the locks. */
    readonly lockIds: pulumi.Output<string[]>;

    constructor(name: string, args: ResourceLocksArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:ResourceLocks", name, {}, opts);
        const nested = args.nested ?? {};
        for (const [inner, outer] of Object.entries(nested)) {
            if (!(inner in args.resources) || !(outer in args.resources))
                throw new pulumi.ResourceError(`${name}: nested ${inner} in ${outer}: no such lock`, this);
        }
        // Inner locks first, so that each outer lock can wait for the ones inside its scope.
        const byKey = new Map<string, authorization.ManagementLockByScope>();
        const create = (key: string): authorization.ManagementLockByScope => {
            const existing = byKey.get(key);
            if (existing) return existing;
            const inner = Object.keys(nested)
                .filter((k) => nested[k] === key)
                .map(create);
            const lock = new authorization.ManagementLockByScope(
                `${name}-${key}`,
                { scope: args.resources[key], lockName: LOCK_NAME, level: LOCK_LEVEL, notes: args.notes },
                { parent: this, dependsOn: [...args.covers, ...inner] },
            );
            byKey.set(key, lock);
            return lock;
        };
        const locks = Object.keys(args.resources).map(create);
        this.lockIds = pulumi.all(locks.map((lock) => lock.id));
        this.registerOutputs({ lockIds: this.lockIds });
    }
}
