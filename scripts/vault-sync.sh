#!/bin/sh
# Keeps an initialised HashiCorp Vault's bootstrapped policies and roles (components/platform/
# vaultPolicies.ts) and its raft autopilot configuration in step with the program, without a root token.
# Runs as a Job on every `pulumi up` that changes any of them (the Job's ConfigMap holds the policies, so
# a change is a new Job), after the initialisation Job.
#
#   1. wait until Vault answers and is unsealed; log in through Kubernetes auth as VAULT_AUTH_ROLE
#      (vault-sync) with the pod's projected Vault-audience token
#   2. every SYNC_ROLES entry <role>:<serviceaccount>: policy <role> from POLICY_DIR/<role>.hcl and the
#      Kubernetes-auth role bound to that one service account in ROLE_NAMESPACE, audience TOKEN_AUDIENCE
#   3. with AUTOPILOT_MIN_QUORUM set (ha raft): the autopilot configuration (dead-server cleanup)
#   4. its own policy (SELF_ROLE): compared, never written. vault-sync may not widen itself; when the
#      program's version differs, the Job fails naming the drift and the way out (break glass)
#
# Any failure exits non-zero with the reason (the Job's termination message reaches `pulumi up`).
# Idempotent: each write is the whole desired state. POSIX sh for the Vault image (busybox, no jq).
# Nothing secret is printed or passed as an argument (the JWT goes to the CLI as @file).
set -eu

: "${VAULT_ADDR:?VAULT_ADDR must be the Vault API address}"
: "${VAULT_AUTH_ROLE:?VAULT_AUTH_ROLE must be the sync role}"
: "${VAULT_AUTH_JWT_FILE:?VAULT_AUTH_JWT_FILE must name the projected token}"
: "${POLICY_DIR:?POLICY_DIR must hold the policies as <name>.hcl}"
: "${SYNC_ROLES:?SYNC_ROLES must list <role>:<serviceaccount> pairs}"
: "${SELF_ROLE:?SELF_ROLE must name the sync role}"
: "${ROLE_NAMESPACE:?ROLE_NAMESPACE must be the namespace of those service accounts}"
: "${TOKEN_AUDIENCE:?TOKEN_AUDIENCE must be the audience of their projected tokens}"
ROLE_TOKEN_TTL="${ROLE_TOKEN_TTL:-30m}"
ROLE_TOKEN_MAX_TTL="${ROLE_TOKEN_MAX_TTL:-1h}"
AUTOPILOT_MIN_QUORUM="${AUTOPILOT_MIN_QUORUM:-}"
WAIT_ATTEMPTS="${WAIT_ATTEMPTS:-120}"
WAIT_SECONDS="${WAIT_SECONDS:-5}"

# log and retry.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
LOG_TAG=vault-sync

BREAK_GLASS="docs/operations.md, 'Change a bootstrapped Vault policy'"

unsealed() {
    vault status >/dev/null 2>&1
}

login() {
    token=$(vault write -field=token auth/kubernetes/login role="$VAULT_AUTH_ROLE" jwt=@"$VAULT_AUTH_JWT_FILE") || return 1
    [ -n "$token" ] || return 1
    VAULT_TOKEN="$token"
    export VAULT_TOKEN
}

for pair in $SYNC_ROLES; do
    case "$pair" in
        ?*:?*) ;;
        *)
            log "bad SYNC_ROLES entry '$pair': expected <role>:<serviceaccount>"
            exit 1
            ;;
    esac
    [ -f "$POLICY_DIR/${pair%%:*}.hcl" ] || {
        log "no policy $POLICY_DIR/${pair%%:*}.hcl for role ${pair%%:*}"
        exit 1
    }
done

log "waiting for Vault at ${VAULT_ADDR} to be unsealed"
retry "$WAIT_ATTEMPTS" "$WAIT_SECONDS" unsealed
retry 12 "$WAIT_SECONDS" login || {
    log "FAILED: cannot log in to Vault as Kubernetes-auth role ${VAULT_AUTH_ROLE}. A Vault initialised before that role existed does not have it; the policies and roles of ${SYNC_ROLES} and ${SELF_ROLE} are NOT applied. Bootstrap once with a root token regenerated from the recovery keys ($BREAK_GLASS)."
    exit 1
}
log "logged in as Kubernetes-auth role ${VAULT_AUTH_ROLE}"

for pair in $SYNC_ROLES; do
    role="${pair%%:*}"
    vault policy write "$role" "$POLICY_DIR/$role.hcl" >/dev/null || {
        log "FAILED: writing policy $role (is vault-sync's own policy current? $BREAK_GLASS)"
        exit 1
    }
    vault write "auth/kubernetes/role/$role" \
        bound_service_account_names="${pair#*:}" \
        bound_service_account_namespaces="$ROLE_NAMESPACE" \
        audience="$TOKEN_AUDIENCE" \
        token_policies="$role" \
        token_ttl="$ROLE_TOKEN_TTL" \
        token_max_ttl="$ROLE_TOKEN_MAX_TTL" >/dev/null || {
        log "FAILED: writing auth role $role (is vault-sync's own policy current? $BREAK_GLASS)"
        exit 1
    }
    log "policy and auth role $role for ${ROLE_NAMESPACE}/${pair#*:} (audience ${TOKEN_AUDIENCE}) in step"
done

if [ -n "$AUTOPILOT_MIN_QUORUM" ]; then
    : "${AUTOPILOT_DEAD_SERVER_THRESHOLD:?}" "${AUTOPILOT_STABILIZATION_TIME:?}"
    vault write sys/storage/raft/autopilot/configuration \
        cleanup_dead_servers=true \
        dead_server_last_contact_threshold="$AUTOPILOT_DEAD_SERVER_THRESHOLD" \
        min_quorum="$AUTOPILOT_MIN_QUORUM" \
        server_stabilization_time="$AUTOPILOT_STABILIZATION_TIME" >/dev/null || {
        log "FAILED: writing the raft autopilot configuration"
        exit 1
    }
    log "raft autopilot: dead servers cleaned up after ${AUTOPILOT_DEAD_SERVER_THRESHOLD}, never below ${AUTOPILOT_MIN_QUORUM} voters"
fi

# Command substitution drops trailing newlines on both sides: only the text is compared.
own=$(vault read -field=policy "sys/policies/acl/$SELF_ROLE") || {
    log "FAILED: cannot read policy $SELF_ROLE"
    exit 1
}
if [ "$own" != "$(cat "$POLICY_DIR/$SELF_ROLE.hcl")" ]; then
    log "DRIFT: policy $SELF_ROLE in Vault differs from the program's $SELF_ROLE.hcl. It is the one policy no bootstrapped role may write (it would widen itself); every other policy and role above is applied. Write it once with a root token regenerated from the recovery keys ($BREAK_GLASS), then run \`pulumi up\` again."
    exit 1
fi

vault token revoke -self >/dev/null 2>&1 || log "could not revoke the login token (it expires on its own)"
log "done: every bootstrapped policy and role matches the program"
