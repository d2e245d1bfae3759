// What the four layers (azure, local, platform, workloads) share as ComponentResources: the options of
// the resources a layer creates itself, and the picking of a layer's args out of the program's config.
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "./config";

/** The options every resource a layer creates itself gets: the layer as parent, and its old URN. */
export interface LayerChildOptions {
    readonly parent: pulumi.Resource;
    readonly aliases: pulumi.Input<pulumi.URN | pulumi.Alias>[];
}

/**
 * Until the layers were components, what they created was a resource of the stack itself. As a child of
 * the layer its URN gains the layer's type (`aksplatform:azure:Layer$...`), so each such resource names
 * its old URN with an alias of no parent. `{ parent: pulumi.rootStackResource }` is that alias: the SDK
 * sends it as a spec with noParent (@pulumi/pulumi 3.270.0, sdk/nodejs/resource.ts: rootStackResource
 * "indicates that the prior name for a resource was created based on it being parented directly by the
 * stack"; sdk/nodejs/runtime/resource.ts mapAliasesForRequest: `a.parent === undefined` → setNoparent),
 * and the engine collapses it to the URN with no parent type (pulumi/pulumi
 * pkg/resource/deploy/step_generator.go collapseAliasToUrn: `alias.NoParent || parentIsRootStack`).
 * The children of such a resource need no alias of their own: the engine gives each child the alias
 * under its parent's old URN once the parent was found through one (generateAliases, "multiply out any
 * aliases our parent had"), all the way down. That includes the explicit Kubernetes providers (under
 * AksCluster and ExistingCluster): a resource whose provider reference moved by alias is no provider
 * change, so nothing is replaced for it (step_generator.go providerChanged, "observed an aliased provider").
 *
 * One options object passed to each direct child, not a `transforms` entry on the layer: neither
 * `transforms` nor the older `transformations` can set a resource's parent (sdk/nodejs/resource.ts:
 * "Transformations cannot currently be used to change the `parent` of a resource"; the engine's
 * TransformResourceOptions carries no parent), so every direct child is touched for `parent: this`
 * anyway; transforms also reach every descendant (aliasing a grandchild to a URN it never had), and the
 * SDK's mock monitor hands them to the mocks without running them (sdk/nodejs/runtime/mocks.ts
 * registerResource), so the tests would not see what the engine does.
 */
export function layerChildOptions(layer: pulumi.ComponentResource): LayerChildOptions {
    return { parent: layer, aliases: [{ parent: pulumi.rootStackResource }] };
}

/** The part of the program's config a layer reads: `keys` of `cfg`, nothing else. */
export function pickConfig<K extends keyof PlatformConfig>(cfg: PlatformConfig, keys: readonly K[]): Pick<PlatformConfig, K> {
    return Object.fromEntries(keys.map((key) => [key, cfg[key]])) as Pick<PlatformConfig, K>;
}
