// The Vault policies and Kubernetes-auth roles the initialisation bootstraps (scripts/vault-bootstrap.sh),
// so that no later run needs a root token; the sync Job (scripts/vault-sync.sh) keeps them in step with
// this file on every `up` that changes them. docs/platform.md lists them, and the per-service policy the
// configuration writes (scripts/vault-configure.sh).

/** The audience of the projected service account tokens the bootstrapped roles accept. */
export const VAULT_TOKEN_AUDIENCE = "vault";

/** One HCL path rule; `allowedParameters` pins request parameters to the listed values (empty list: any value). */
interface PathRule {
    readonly path: string;
    readonly capabilities: readonly string[];
    readonly allowedParameters?: Readonly<Record<string, readonly string[]>>;
}

const quoted = (values: readonly string[]) => `[${values.map((v) => `"${v}"`).join(", ")}]`;

function hcl(rules: readonly PathRule[]): string {
    return rules
        .map((r) => {
            const params = r.allowedParameters
                ? [
                      "  allowed_parameters = {",
                      ...Object.entries(r.allowedParameters).map(([key, values]) => `    "${key}" = ${quoted(values)}`),
                      "  }",
                  ]
                : [];
            return [`path "${r.path}" {`, `  capabilities = ${quoted(r.capabilities)}`, ...params, "}", ""].join("\n");
        })
        .join("\n");
}

/** A bootstrapped role: the Kubernetes-auth role, its policy of the same name, and the one service account it is bound to. */
export interface BootstrapRole {
    readonly role: string;
    readonly serviceAccount: string;
}

/**
 * The bootstrapped roles. configure: the workloads' Vault configuration (Job or dev reconciler).
 * snapshot: the raft snapshot CronJob. operator: scripts/vault-rollout.sh (a person, through
 * `kubectl create token`). sync: the Job that rewrites the three others on every `up` that changes them.
 */
export const VAULT_BOOTSTRAP_ROLES = {
    configure: { role: "vault-configure", serviceAccount: "vault-configure" },
    snapshot: { role: "vault-snapshot", serviceAccount: "vault-snapshot" },
    operator: { role: "vault-operator", serviceAccount: "vault-operator" },
    sync: { role: "vault-sync", serviceAccount: "vault-sync" },
} as const satisfies Record<string, BootstrapRole>;

const names = Object.values(VAULT_BOOTSTRAP_ROLES).map((r) => r.role);
const write = ["create", "read", "update"];

/** Token lifetimes of the bootstrapped roles (scripts/vault-bootstrap.sh and scripts/vault-sync.sh write them). */
export const VAULT_ROLE_TOKEN_TTL = { ttl: "30m", maxTtl: "1h" } as const;

/** Raft autopilot settings the sync Job writes (api/sys_raft.go AutopilotConfig, hashicorp/vault). */
export interface AutopilotSettings {
    /** Remove a server that has not contacted the leader for deadServerLastContactThreshold. */
    readonly cleanupDeadServers: boolean;
    readonly deadServerLastContactThreshold: string;
    /** Never clean up below this many voters: the configured replica count. */
    readonly minQuorum: number;
    /** How long a new server must be healthy before it becomes a voter. */
    readonly serverStabilizationTime: string;
}

/**
 * Autopilot for `replicas` voters. Vault's defaults are cleanup_dead_servers false and a 24 h
 * threshold (hashicorp/vault vault/raft autopilot defaults), so a server whose pod and volume are gone
 * stays a voter for ever. With min_quorum = replicas, cleanup only removes a dead server once a
 * replacement has joined (the cluster never shrinks below its size); 10 minutes is past a pod's
 * ordinary restart and reschedule.
 */
export function autopilotSettings(replicas: number): AutopilotSettings {
    return { cleanupDeadServers: true, deadServerLastContactThreshold: "10m", minQuorum: replicas, serverStabilizationTime: "10s" };
}

/**
 * vault-configure: what scripts/vault-configure.sh does and no more. It lists mounts and audit
 * devices, enables the stdout audit device and the database engine at their fixed paths, configures
 * Kubernetes auth and the database engine, and writes the services' policies and roles; it cannot
 * touch the bootstrapped policies or roles (deny wins over every grant), read credentials, delete
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

/**
 * vault-operator: what scripts/vault-rollout.sh needs and no more: `vault operator raft autopilot
 * state` (GET sys/storage/raft/autopilot/state) and `vault operator step-down` (PUT sys/step-down).
 * Step-down also needs sudo: hashicorp/vault vault/ha.go StepDown checks the token with
 * RootPrivsRequired, and vault/logical_system.go lists "step-down" among the sudo paths.
 */
export const VAULT_OPERATOR_POLICY = hcl([
    { path: "sys/storage/raft/autopilot/state", capabilities: ["read"] },
    { path: "sys/step-down", capabilities: ["update", "sudo"] },
]);

/**
 * vault-sync: rewrites the other bootstrapped policies and roles, and the raft autopilot
 * configuration, and may read its own policy to report drift. It cannot write its own policy or role
 * (not granted), so it cannot widen itself; each role it writes stays bound to its one service
 * account, namespace, audience and policy (allowed_parameters: hashicorp/vault vault/acl.go checks
 * every request parameter against the listed values, "*" = [] letting the others through).
 */
export function vaultSyncPolicy(namespace: string): string {
    const others = Object.values(VAULT_BOOTSTRAP_ROLES).filter((r) => r.role !== VAULT_BOOTSTRAP_ROLES.sync.role);
    return hcl([
        ...others.flatMap((r): PathRule[] => [
            { path: `sys/policies/acl/${r.role}`, capabilities: write },
            {
                path: `auth/kubernetes/role/${r.role}`,
                capabilities: write,
                allowedParameters: {
                    bound_service_account_names: [r.serviceAccount],
                    bound_service_account_namespaces: [namespace],
                    audience: [VAULT_TOKEN_AUDIENCE],
                    token_policies: [r.role],
                    "*": [],
                },
            },
        ]),
        { path: `sys/policies/acl/${VAULT_BOOTSTRAP_ROLES.sync.role}`, capabilities: ["read"] },
        { path: "sys/storage/raft/autopilot/configuration", capabilities: ["read", "update"] },
    ]);
}

/** The policy files the initialisation and sync Jobs ship (POLICY_DIR), by role: <role>.hcl. */
export function vaultBootstrapPolicies(namespace: string): Readonly<Record<string, string>> {
    return {
        [VAULT_BOOTSTRAP_ROLES.configure.role]: VAULT_CONFIGURE_POLICY,
        [VAULT_BOOTSTRAP_ROLES.snapshot.role]: VAULT_SNAPSHOT_POLICY,
        [VAULT_BOOTSTRAP_ROLES.operator.role]: VAULT_OPERATOR_POLICY,
        [VAULT_BOOTSTRAP_ROLES.sync.role]: vaultSyncPolicy(namespace),
    };
}
