#!/bin/sh
# Gives a new HashiCorp Vault what lets every later run do without a root token, then revokes the token
# it ran with. Run by scripts/vault-init.sh right after `vault operator init` (with the new root token),
# or by hand with a root token regenerated from the recovery keys (docs/operations.md, "Break glass").
#
#   1. the file audit device to stdout (enabled before anything else, so the rest is audited)
#   2. auth method kubernetes/, pointed at the in-cluster API server
#   3. every policy in POLICY_DIR (<name>.hcl): the configuration's and the snapshots' (least privilege)
#   4. per BOOTSTRAP_ROLES entry <role>:<serviceaccount>: a Kubernetes-auth role bound to that one
#      service account in ROLE_NAMESPACE, token audience TOKEN_AUDIENCE, with policy <role>
#   5. `vault token revoke -self`: the root token stops existing
#
# Idempotent (each write is the whole desired state). POSIX sh for the Vault image (busybox, no jq).
# The token is read by the CLI from VAULT_TOKEN, never printed or passed as an argument.
set -eu

: "${VAULT_ADDR:?VAULT_ADDR must be the Vault API address}"
: "${VAULT_TOKEN:?VAULT_TOKEN must hold a root token}"
: "${POLICY_DIR:?POLICY_DIR must hold the policies as <name>.hcl}"
: "${BOOTSTRAP_ROLES:?BOOTSTRAP_ROLES must list <role>:<serviceaccount> pairs}"
: "${ROLE_NAMESPACE:?ROLE_NAMESPACE must be the namespace of those service accounts}"
: "${TOKEN_AUDIENCE:?TOKEN_AUDIENCE must be the audience of their projected tokens}"
: "${KUBERNETES_SERVICE_HOST:?not running in a Kubernetes pod}"
KUBERNETES_SERVICE_PORT="${KUBERNETES_SERVICE_PORT:-443}"
ROLE_TOKEN_TTL="${ROLE_TOKEN_TTL:-30m}"
ROLE_TOKEN_MAX_TTL="${ROLE_TOKEN_MAX_TTL:-1h}"
WAIT_ATTEMPTS="${WAIT_ATTEMPTS:-60}"
WAIT_SECONDS="${WAIT_SECONDS:-5}"

# log and retry.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
LOG_TAG=vault-bootstrap

# The token answers only once this node is the active, unsealed leader.
token_valid() {
    vault token lookup >/dev/null 2>&1
}

# listed KIND PATH: exit 0 when `vault KIND list` (audit or auth) has PATH/; a failed listing fails.
# With no audit device `vault audit list` prints a sentence and exits 0 (hashicorp/vault
# command/audit_list.go), which simply does not match.
listed() {
    listing=$(vault "$1" list -format=json) || {
        log "cannot list $1 at ${VAULT_ADDR}"
        exit 1
    }
    case "$listing" in
        *"\"$2/\""*) return 0 ;;
        *) return 1 ;;
    esac
}

for pair in $BOOTSTRAP_ROLES; do
    case "$pair" in
        ?*:?*) ;;
        *)
            log "bad BOOTSTRAP_ROLES entry '$pair': expected <role>:<serviceaccount>"
            exit 1
            ;;
    esac
    [ -f "$POLICY_DIR/${pair%%:*}.hcl" ] || {
        log "no policy $POLICY_DIR/${pair%%:*}.hcl for role ${pair%%:*}"
        exit 1
    }
done

log "waiting for Vault at ${VAULT_ADDR} to accept the token"
retry "$WAIT_ATTEMPTS" "$WAIT_SECONDS" token_valid

if listed audit stdout; then
    log "audit device stdout/ already enabled"
else
    vault audit enable -path=stdout file file_path=stdout >/dev/null
    log "enabled audit device stdout/ (file to stdout)"
fi

if listed auth kubernetes; then
    log "auth method kubernetes/ already enabled"
else
    vault auth enable kubernetes >/dev/null
    log "enabled auth method kubernetes/"
fi
vault write auth/kubernetes/config kubernetes_host="https://${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}" >/dev/null

for file in "$POLICY_DIR"/*.hcl; do
    name=$(basename "$file" .hcl)
    vault policy write "$name" "$file" >/dev/null
    log "policy $name written"
done

for pair in $BOOTSTRAP_ROLES; do
    role="${pair%%:*}"
    vault write "auth/kubernetes/role/$role" \
        bound_service_account_names="${pair#*:}" \
        bound_service_account_namespaces="$ROLE_NAMESPACE" \
        audience="$TOKEN_AUDIENCE" \
        token_policies="$role" \
        token_ttl="$ROLE_TOKEN_TTL" \
        token_max_ttl="$ROLE_TOKEN_MAX_TTL" >/dev/null
    log "auth role $role for ${ROLE_NAMESPACE}/${pair#*:} (audience ${TOKEN_AUDIENCE})"
done

vault token revoke -self >/dev/null
log "done; the token this ran with is revoked"
