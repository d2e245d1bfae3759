import * as authorization from "@pulumi/azure-native/authorization";
import * as pulumi from "@pulumi/pulumi";

/** The lock level: deletes are refused, reads and updates go on (ReadOnly would block list-keys and scaling). */
export const LOCK_LEVEL = "CanNotDelete";

export interface ResourceLocksArgs {
    /** Resource group to lock. */
    readonly resourceGroupName: pulumi.Input<string>;
    /** ARM IDs of resources that get a lock of their own (the unseal Key Vault), by a short name. */
    readonly resources: Readonly<Record<string, pulumi.Input<string>>>;
    /** Why the lock is there, shown by `az lock list` and the portal. */
    readonly notes: string;
    /** What the locks cover: they are created after these, so destroy removes them first. */
    readonly covers: readonly pulumi.Resource[];
}

/**
 * CanNotDelete management locks (azure-native authorization, API version 2020-05-01) on the resource
 * group and on chosen resources. Create them after everything they cover (pass the covered resources
 * as `covers`, on which each lock waits itself): `pulumi destroy` then removes the locks before anything else, and a lock never
 * blocks the stack's own creation. A lock does not stop Pulumi from replacing a resource in place,
 * but a replacement deletes the old one, which the lock refuses: see docs/platform.md, "Locks".
 */
export class ResourceLocks extends pulumi.ComponentResource {
    /** ARM IDs of the locks. */
    readonly lockIds: pulumi.Output<string[]>;

    constructor(name: string, args: ResourceLocksArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:ResourceLocks", name, {}, opts);
        const group = new authorization.ManagementLockAtResourceGroupLevel(
            `${name}-rg`,
            { resourceGroupName: args.resourceGroupName, lockName: "do-not-delete", level: LOCK_LEVEL, notes: args.notes },
            { parent: this, dependsOn: [...args.covers] },
        );
        const resources = Object.entries(args.resources).map(
            ([key, scope]) =>
                new authorization.ManagementLockByScope(
                    `${name}-${key}`,
                    { scope, lockName: "do-not-delete", level: LOCK_LEVEL, notes: args.notes },
                    { parent: this, dependsOn: [...args.covers] },
                ),
        );
        this.lockIds = pulumi.all([group.id, ...resources.map((lock) => lock.id)]);
        this.registerOutputs({ lockIds: this.lockIds });
    }
}
