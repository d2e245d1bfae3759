// The Vault policies and Kubernetes-auth roles the initialisation bootstraps (scripts/vault-bootstrap.sh),
// so that no later run needs a root token. docs/platform.md lists them, and the per-service policy the
// configuration writes (scripts/vault-configure.sh).

/** The audience of the projected service account tokens the bootstrapped roles accept. */
export const VAULT_TOKEN_AUDIENCE = "vault";

/** One HCL path rule. */
interface PathRule {
    readonly path: string;
    readonly capabilities: readonly string[];
}

function hcl(rules: readonly PathRule[]): string {
    return rules.map((r) => `path "${r.path}" {\n  capabilities = [${r.capabilities.map((c) => `"${c}"`).join(", ")}]\n}\n`).join("\n");
}

/** The bootstrapped roles, each with the policy of the same name and the one service account it is bound to. */
export const VAULT_BOOTSTRAP_ROLES = {
    configure: { role: "vault-configure", serviceAccount: "vault-configure" },
    snapshot: { role: "vault-snapshot", serviceAccount: "vault-snapshot" },
} as const;

const names = Object.values(VAULT_BOOTSTRAP_ROLES).map((r) => r.role);
const write = ["create", "read", "update"];

/**
 * vault-configure: what scripts/vault-configure.sh does and no more. It lists mounts and audit
 * devices, enables the stdout audit device and the database engine at their fixed paths, configures
 * Kubernetes auth and the database engine, and writes the services' policies and roles; it cannot
 * touch the two bootstrapped policies or roles (deny wins over every grant), read credentials, delete
 * anything, or reach sys/ beyond these paths. Writing policies is inherently powerful: that is why the
 * role is bound to one service account in Vault's namespace, with a 30-minute token.
 */
export const VAULT_CONFIGURE_POLICY = hcl([
    { path: "sys/auth", capabilities: ["read"] },
    { path: "sys/mounts", capabilities: ["read"] },
    // `vault audit list` and `vault audit enable` are sudo endpoints.
    { path: "sys/audit", capabilities: ["read", "sudo"] },
    { path: "sys/audit/stdout", capabilities: ["create", "update", "sudo"] },
    { path: "sys/mounts/database", capabilities: write },
    { path: "auth/kubernetes/config", capabilities: write },
    { path: "auth/kubernetes/role/*", capabilities: write },
    { path: "database/config/*", capabilities: write },
    { path: "database/roles/*", capabilities: write },
    { path: "sys/policies/acl/*", capabilities: write },
    ...names.flatMap((n) => [
        { path: `auth/kubernetes/role/${n}`, capabilities: ["deny"] },
        { path: `sys/policies/acl/${n}`, capabilities: ["deny"] },
    ]),
]);

/** vault-snapshot: `vault operator raft snapshot save` (GET sys/storage/raft/snapshot), nothing else. */
export const VAULT_SNAPSHOT_POLICY = hcl([{ path: "sys/storage/raft/snapshot", capabilities: ["read"] }]);

/** The policy files the initialisation Job ships (POLICY_DIR), by role: <role>.hcl. */
export const VAULT_BOOTSTRAP_POLICIES: Readonly<Record<string, string>> = {
    [VAULT_BOOTSTRAP_ROLES.configure.role]: VAULT_CONFIGURE_POLICY,
    [VAULT_BOOTSTRAP_ROLES.snapshot.role]: VAULT_SNAPSHOT_POLICY,
};
