// Every config path as a typed constant, built from the layout (layout.ts, which holds every member's
// path: it satisfies ConfigPath, and tests/config-schema.test.ts checks it names every one), so that a message names a
// member through `P.<group>.<member>` and a renamed member leaves no stale message: `P.network.egressType`
// is the string "network.egressType", typed as that literal.
import type { ConfigPath, GroupName, MemberName } from "./keys";
import { FLAT_KEY_PATHS } from "./layout";

/** Every member's path, `<group>.<member>`. */
export type MemberPath = Exclude<ConfigPath, "environment">;

/** The top-level scalar key beside the groups. */
export const ENVIRONMENT_PATH = "environment";

/** Each member's path by group and member: `P.ingress.tlsCertificate === "ingress.tlsCertificate"`. */
export const P = (() => {
    const tree: Record<string, Record<string, string>> = {};
    for (const path of Object.values(FLAT_KEY_PATHS)) {
        const [group, member] = path.split(".");
        (tree[group] ??= {})[member] = path;
    }
    return tree;
})() as { readonly [G in GroupName]: { readonly [M in MemberName<G>]: `${G}.${M}` } };

/** The path hint of a `pulumi config set`: `--path` for a member of a group, `--secret` too for a secret. */
export function configSetCommand(path: MemberPath, options: { readonly secret?: boolean } = {}): string {
    return `pulumi config set --path ${options.secret ? "--secret " : ""}${path}`;
}
