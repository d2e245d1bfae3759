import * as authorization from "@pulumi/azure-native/authorization";
import * as pulumi from "@pulumi/pulumi";

/** The lock level: deletes are refused, reads and updates go on (ReadOnly would block list-keys and scaling). */
export const LOCK_LEVEL = "CanNotDelete";

/** The name every lock of the program carries. */
export const LOCK_NAME = "do-not-delete";

export interface ResourceLocksArgs {
    /** ARM IDs of the resources that each get a lock of their own, by a short name. */
    readonly resources: Readonly<Record<string, pulumi.Input<string>>>;
    /** Why the lock is there, shown by `az lock list` and the portal. */
    readonly notes: string;
    /** What the locks cover: they are created after these, so destroy removes them first. */
    readonly covers: readonly pulumi.Resource[];
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
 */
export class ResourceLocks extends pulumi.ComponentResource {
    /** ARM IDs of the locks. */
    readonly lockIds: pulumi.Output<string[]>;

    constructor(name: string, args: ResourceLocksArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:ResourceLocks", name, {}, opts);
        const locks = Object.entries(args.resources).map(
            ([key, scope]) =>
                new authorization.ManagementLockByScope(
                    `${name}-${key}`,
                    { scope, lockName: LOCK_NAME, level: LOCK_LEVEL, notes: args.notes },
                    { parent: this, dependsOn: [...args.covers] },
                ),
        );
        this.lockIds = pulumi.all(locks.map((lock) => lock.id));
        this.registerOutputs({ lockIds: this.lockIds });
    }
}
