#!/bin/sh
# Configures HashiCorp Vault for the applications' dynamic MongoDB credentials. Idempotent: every step
# either checks first (mounts) or writes the whole desired state (configs, roles, policies), so running it
# again on a configured Vault changes nothing and succeeds.
#
# Once (a Job, prod), or with RECONCILE_SECONDS set, for ever (a Deployment, dev): after configuring, it
# checks every RECONCILE_SECONDS that the configuration is still there and configures Vault again when
# it is not. A dev-mode Vault keeps everything in memory, so each restart (a node image upgrade, an
# eviction) starts it empty; this brings the configuration back without a `pulumi up`. READY_FILE is
# created while Vault is configured (the Deployment's readiness probe).
#
#   1. wait until Vault answers and is unsealed; log in (Kubernetes auth as VAULT_AUTH_ROLE with the
#      projected token in VAULT_AUTH_JWT_FILE, prod), unless VAULT_TOKEN is given (the dev server's)
#   2. audit device `stdout/` (file to stdout): enable if absent
#   3. auth method `kubernetes/`: enable if absent; point it at the in-cluster API server
#   4. secrets engine `database/`: enable if absent; connection `mongodb` (MongoDB plugin, root user from
#      env); role DB_ROLE issuing users with readWrite on DB_NAME, TTLs DEFAULT_TTL / MAX_TTL
#      (usernames from USERNAME_TEMPLATE, which the dev reconciler's cleanup matches)
#   5. per service: a policy allowing read on database/creds/DB_ROLE, and a Kubernetes-auth role bound to
#      the service's own service account in APP_NAMESPACE with that policy (and, with APP_TOKEN_AUDIENCE,
#      accepting only tokens of that audience)
#
# As the dev reconciler, when it finds Vault empty (answering, unsealed, no database/ mount: a dev-mode
# Vault that restarted and lost its memory, leases included), it first writes the time to
# STALE_USERS_FILE: every MongoDB user the engine created before then belongs to a Vault that is gone,
# so no live lease will ever revoke it. The reconciler's mongo-users container
# (scripts/mongo-stale-users.sh) drops those users. A Vault it cannot read is never taken as empty.
#
# POSIX sh, not bash: it runs in the official Vault image, which is Alpine with busybox sh and no bash or
# jq. Nothing secret is printed or passed as a command-line argument: the token is read by the CLI from
# VAULT_TOKEN, the login JWT from its file (@file), the MongoDB password goes to `vault write` on stdin.
set -eu

: "${VAULT_ADDR:?VAULT_ADDR must be the Vault API address}"
: "${VAULT_TOKEN:=}"
VAULT_AUTH_ROLE="${VAULT_AUTH_ROLE:-}"
VAULT_AUTH_JWT_FILE="${VAULT_AUTH_JWT_FILE:-/var/run/secrets/vault/token}"
if [ -z "$VAULT_TOKEN" ] && [ -z "$VAULT_AUTH_ROLE" ]; then
    echo "vault-configure: set VAULT_AUTH_ROLE (Kubernetes auth) or VAULT_TOKEN" >&2
    exit 1
fi
: "${MONGO_HOST:?MONGO_HOST must be the MongoDB service host}"
: "${MONGO_USERNAME:?MONGO_USERNAME must be the MongoDB root user}"
: "${MONGO_PASSWORD:?MONGO_PASSWORD must be the MongoDB root password}"
: "${APP_NAMESPACE:?APP_NAMESPACE must be the applications namespace}"
: "${SERVICES:?SERVICES must list the services as space-separated <role>:<serviceaccount> pairs}"
: "${KUBERNETES_SERVICE_HOST:?not running in a Kubernetes pod}"
MONGO_PORT="${MONGO_PORT:-27017}"
DB_NAME="${DB_NAME:-microservices}"
DB_ROLE="${DB_ROLE:-microservices-role}"
DB_CONNECTION="${DB_CONNECTION:-mongodb}"
DEFAULT_TTL="${DEFAULT_TTL:-1h}"
MAX_TTL="${MAX_TTL:-24h}"
AUTH_TOKEN_TTL="${AUTH_TOKEN_TTL:-1h}"
APP_TOKEN_AUDIENCE="${APP_TOKEN_AUDIENCE:-}"
KUBERNETES_SERVICE_PORT="${KUBERNETES_SERVICE_PORT:-443}"
WAIT_ATTEMPTS="${WAIT_ATTEMPTS:-120}"
WAIT_SECONDS="${WAIT_SECONDS:-5}"
RECONCILE_SECONDS="${RECONCILE_SECONDS:-}"
# Bounds the loop (tests); empty for ever.
RECONCILE_ROUNDS="${RECONCILE_ROUNDS:-}"
READY_FILE="${READY_FILE:-/tmp/configured}"
# The database engine's username_template (components/workloads/vaultDatabase.ts); empty: the plugin's.
USERNAME_TEMPLATE="${USERNAME_TEMPLATE:-}"
# Reconciler only: where to hand the cut-off time of stale MongoDB users to the cleanup; empty: none.
STALE_USERS_FILE="${STALE_USERS_FILE:-}"

# log and retry.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
LOG_TAG=vault-configure

# `vault status` exits 0 when unsealed, 2 when sealed, 1 when Vault cannot be reached.
unsealed() {
    vault status >/dev/null 2>&1
}

# login: a token for VAULT_AUTH_ROLE from the pod's projected service account token. A failed login
# (role missing, wrong audience, token expired) fails: the caller retries, then gives up loudly.
login() {
    token=$(vault write -field=token auth/kubernetes/login role="$VAULT_AUTH_ROLE" jwt=@"$VAULT_AUTH_JWT_FILE") || return 1
    [ -n "$token" ] || return 1
    VAULT_TOKEN="$token"
    export VAULT_TOKEN
}

configure_audit() {
    listing=$(vault audit list -format=json) || {
        log "cannot list audit devices at ${VAULT_ADDR}"
        exit 1
    }
    case "$listing" in
        *'"stdout/"'*) log "audit device stdout/ already enabled" ;;
        *)
            vault audit enable -path=stdout file file_path=stdout >/dev/null
            log "enabled audit device stdout/ (file to stdout)"
            ;;
    esac
}

# mount_state KIND PATH: prints mounted or absent for a KIND (auth or secrets) mount at PATH/ (JSON keys
# are "<path>/"). A failed list fails, rather than reading as "absent" (or "mounted"): the output is
# captured first, then searched, so no pipeline hides the vault CLI's exit status.
mount_state() {
    listing=$(vault "$1" list -format=json) || return 1
    case "$listing" in
        *"\"$2/\""*) echo mounted ;;
        *) echo absent ;;
    esac
}

# mounted KIND PATH: exit 0 if mounted, 1 if absent; a listing that keeps failing ends the script.
mounted() {
    state=$(retry 5 "$WAIT_SECONDS" mount_state "$1" "$2") || {
        log "cannot list $1 mounts at ${VAULT_ADDR}"
        exit 1
    }
    [ "$state" = mounted ]
}

configure_auth() {
    if mounted auth kubernetes; then
        log "auth method kubernetes/ already enabled"
    else
        vault auth enable kubernetes
        log "enabled auth method kubernetes/"
    fi
    # Vault runs in the cluster: with no reviewer JWT or CA given, it reviews tokens with its own pod's
    # service account token and CA, which the chart binds to system:auth-delegator.
    vault write auth/kubernetes/config \
        kubernetes_host="https://${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}" >/dev/null
    log "auth/kubernetes/config points at the in-cluster API server"
}

# The connection is verified when written: retry while MongoDB is still starting.
write_connection() {
    # The template holds spaces: one argument, or none.
    if [ -n "$USERNAME_TEMPLATE" ]; then set -- "username_template=$USERNAME_TEMPLATE"; else set --; fi
    printf '%s' "$MONGO_PASSWORD" | vault write "database/config/${DB_CONNECTION}" \
        plugin_name=mongodb-database-plugin \
        allowed_roles="$DB_ROLE" \
        connection_url="mongodb://{{username}}:{{password}}@${MONGO_HOST}:${MONGO_PORT}/admin" \
        username="$MONGO_USERNAME" \
        "$@" \
        password=- >/dev/null
}

configure_database() {
    if mounted secrets database; then
        log "secrets engine database/ already enabled"
    else
        vault secrets enable -path=database database
        log "enabled secrets engine database/"
    fi
    retry "$WAIT_ATTEMPTS" "$WAIT_SECONDS" write_connection
    log "database/config/${DB_CONNECTION} connects to ${MONGO_HOST}:${MONGO_PORT}"
    vault write "database/roles/${DB_ROLE}" \
        db_name="$DB_CONNECTION" \
        creation_statements="{\"db\": \"admin\", \"roles\": [{\"role\": \"readWrite\", \"db\": \"${DB_NAME}\"}]}" \
        default_ttl="$DEFAULT_TTL" \
        max_ttl="$MAX_TTL" >/dev/null
    log "database/roles/${DB_ROLE}: readWrite on ${DB_NAME}, ttl ${DEFAULT_TTL}, max ${MAX_TTL}"
}

# configure_service ROLE SERVICE_ACCOUNT: policy ROLE and Kubernetes-auth role ROLE for one service.
configure_service() {
    printf 'path "database/creds/%s" {\n  capabilities = ["read"]\n}\n' "$DB_ROLE" | vault policy write "$1" - >/dev/null
    # shellcheck disable=SC2086 # one word or none
    vault write "auth/kubernetes/role/$1" \
        bound_service_account_names="$2" \
        bound_service_account_namespaces="$APP_NAMESPACE" \
        ${APP_TOKEN_AUDIENCE:+audience=$APP_TOKEN_AUDIENCE} \
        token_policies="$1" \
        token_ttl="$AUTH_TOKEN_TTL" >/dev/null
    log "policy and auth role $1 for ${APP_NAMESPACE}/$2"
}

for pair in $SERVICES; do
    role="${pair%%:*}"
    account="${pair#*:}"
    if [ -z "$role" ] || [ -z "$account" ] || [ "$role" = "$pair" ]; then
        log "bad SERVICES entry '$pair': expected <role>:<serviceaccount>"
        exit 1
    fi
done

configure() {
    log "waiting for Vault at ${VAULT_ADDR} to be unsealed"
    retry "$WAIT_ATTEMPTS" "$WAIT_SECONDS" unsealed
    if [ -n "$VAULT_AUTH_ROLE" ]; then
        retry 12 "$WAIT_SECONDS" login || {
            log "cannot log in to Vault as Kubernetes-auth role ${VAULT_AUTH_ROLE}: was it bootstrapped (docs/operations.md, 'Break glass')?"
            exit 1
        }
        log "logged in as Kubernetes-auth role ${VAULT_AUTH_ROLE}"
    fi
    configure_audit
    configure_auth
    configure_database
    for pair in $SERVICES; do
        configure_service "${pair%%:*}" "${pair#*:}"
    done
    log "done"
}

# configured: the database role and every service's auth role exist. A Vault that lost its memory has
# none of them; a failed read (Vault restarting) also counts as "not configured": configuring again is
# harmless, and waits for Vault first.
configured() {
    vault read "database/roles/${DB_ROLE}" >/dev/null 2>&1 || return 1
    for pair in $SERVICES; do
        vault read "auth/kubernetes/role/${pair%%:*}" >/dev/null 2>&1 || return 1
    done
}

# emptied: Vault answers, is unsealed and has no database/ mount. A dev-mode Vault is like that only
# after a start (the reconciler never removes the mount), and then it holds no lease at all: no MongoDB
# user that a previous Vault created has a live lease. A failed listing is "not known to be empty".
emptied() {
    unsealed || return 1
    state=$(mount_state secrets database) || return 1
    [ "$state" = absent ]
}

# mark_stale_users: hand the cleanup the time before which every engine-made MongoDB user is stale. The
# new Vault creates none before its role exists (configure, next), so none of its users is older.
mark_stale_users() {
    [ -n "$STALE_USERS_FILE" ] || return 0
    cutoff=$(date -u +%s)
    printf '%s\n' "$cutoff" >"$STALE_USERS_FILE.partial"
    mv "$STALE_USERS_FILE.partial" "$STALE_USERS_FILE"
    log "Vault holds no lease (it started empty): MongoDB users the engine created before $cutoff (unix time) are stale; handed to the cleanup"
}

# note_if_emptied: wait until Vault answers and is unsealed, then hand the cleanup a cut-off when it
# is empty. The wait comes first: a restart is usually noticed while the new Vault is still starting,
# and a single `vault status` that fails then would let configure() fill the new, empty Vault before
# anyone looked at it, so the stale users would never be handed over.
note_if_emptied() {
    retry "$WAIT_ATTEMPTS" "$WAIT_SECONDS" unsealed
    if emptied; then mark_stale_users; fi
}

rm -f "$READY_FILE"
if [ -n "$RECONCILE_SECONDS" ]; then
    note_if_emptied
fi
configure
[ -z "$RECONCILE_SECONDS" ] && exit 0
: >"$READY_FILE"
round=0
while [ -z "$RECONCILE_ROUNDS" ] || [ "$round" -lt "$RECONCILE_ROUNDS" ]; do
    round=$((round + 1))
    sleep "$RECONCILE_SECONDS"
    if ! configured; then
        log "Vault at ${VAULT_ADDR} has lost its configuration (restarted?); configuring it again"
        rm -f "$READY_FILE"
        note_if_emptied
        configure
        : >"$READY_FILE"
    fi
done
