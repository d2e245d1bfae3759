#!/bin/sh
# Initialises HashiCorp Vault once, bootstraps it so that no later run needs a root token, revokes the
# root token, and keeps the recovery keys in Azure Key Vault (the root token is stored nowhere).
#
# Runs as the three containers of one Kubernetes Job pod, which share an in-memory emptyDir ($WORK_DIR):
#   preflight  (Azure CLI image)  log in as the pod's workload identity and read the recovery keys'
#                                 secret: a missing federated credential or role stops the Job *before*
#                                 Vault is initialised (`vault operator init` prints the keys exactly
#                                 once), and what Key Vault holds (placeholder or real value) is recorded.
#   init       (Vault image)      ask every raft peer whether it is initialised; initialise only when Key
#                                 Vault holds no real value AND every peer says "not initialised"; then
#                                 scripts/vault-bootstrap.sh with the new root token (audit device,
#                                 Kubernetes auth, the configuration's and snapshots' policies and roles)
#                                 and revoke that token.
#   store      (Azure CLI image)  write the recovery keys to Key Vault, never over a real value; also
#                                 when the bootstrap failed, so the keys that can regenerate a root token
#                                 are never lost.
#
# Decision table (init):
#   Key Vault placeholder, every peer uninitialised  -> vault operator init (a new cluster), bootstrap
#   Key Vault real value, some peer initialised      -> nothing to do (a replaced follower rejoins by
#                                                       retry_join; it is never initialised on its own)
#   anything else (a real value but no initialised peer, the placeholder but an initialised peer)
#                                                    -> refuse, exit non-zero, say what was found
#
# A phase that fails records why in $WORK_DIR/failed and lets the pod go on; the later phases skip, and
# the main container (store) prints the record and exits non-zero. Pulumi reports a failed Job with its
# main container's last log lines (termination message), never an init container's, so this is how the
# reason reaches `pulumi up`. POSIX sh: the Vault image has only busybox sh. Nothing secret is printed
# or passed as an argument (the federated token goes to az as @file).
#
# KEY_STORE says where the recovery keys are kept: keyvault (dev, prod: the secret RECOVERY_KEYS_SECRET
# of KEY_VAULT_NAME, as the Job's workload identity) or kubernetes (the local stack's ha mode: key
# STORE_KEY of the Secret RECOVERY_KEYS_SECRET in STORE_NAMESPACE, through the API server as the Job's
# service account, whose Role may get and patch that one Secret). Same phases, same decision table;
# only the store primitives below differ. The kubernetes store uses curl and jq of the same image.
set -eu

phase="${1:-}"
: "${WORK_DIR:?WORK_DIR must name the shared in-memory directory}"
LOG_DIR="${TMPDIR:-/tmp}/vault-init"

# log, retry and az_login.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
LOG_TAG="vault-init ${phase#run-}"

KEY_STORE="${KEY_STORE:-keyvault}"
K8S_SA_DIR="${K8S_SA_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}"
# The header file (the service account token) and the patch (the recovery keys) live in the in-memory
# /work, never on the node's disk like /tmp (components/jobScripts.ts scriptVolumes).
STORE_TMP="$WORK_DIR"

# k8s_secret_api NAME [CURL ARGS...]: a request for Secret NAME of STORE_NAMESPACE to the API server,
# with the pod's service account token from a header file (never an argument).
k8s_secret_api() {
    name=$1
    shift
    umask 077
    printf 'Authorization: Bearer %s\n' "$(cat "$K8S_SA_DIR/token")" >"$STORE_TMP/auth-header"
    api_code=0
    curl -sS --fail --cacert "$K8S_SA_DIR/ca.crt" -H "@$STORE_TMP/auth-header" "$@" \
        "https://${KUBERNETES_SERVICE_HOST:?}:${KUBERNETES_SERVICE_PORT:-443}/api/v1/namespaces/${STORE_NAMESPACE:?}/secrets/$name" || api_code=$?
    rm -f "$STORE_TMP/auth-header"
    return "$api_code"
}

# secret_value NAME: prints the current value of secret NAME (to be captured, never shown).
secret_value() {
    if [ "$KEY_STORE" = kubernetes ]; then
        json=$(k8s_secret_api "$1") || return 1
        printf '%s' "$json" | jq -r --arg key "${STORE_KEY:?}" '.data[$key] // ""' | base64 -d
        return
    fi
    az keyvault secret show --vault-name "$KEY_VAULT_NAME" --name "$1" --query value --output tsv
}

# store_login: Key Vault needs an az login; the kubernetes store reads the mounted service account token.
store_login() {
    [ "$KEY_STORE" = kubernetes ] || az_login
}

# store_where: the store, for messages.
store_where() {
    if [ "$KEY_STORE" = kubernetes ]; then echo "Secret ${STORE_NAMESPACE:-}/$RECOVERY_KEYS_SECRET"; else echo "Key Vault $KEY_VAULT_NAME"; fi
}

# store_check: what each store needs set.
store_check() {
    if [ "$KEY_STORE" = kubernetes ]; then
        : "${STORE_NAMESPACE:?}" "${STORE_KEY:?}" "${RECOVERY_KEYS_SECRET:?}" "${PLACEHOLDER:?}"
        # The tools the API calls need, at once rather than after the retries give up.
        for tool in curl jq base64; do
            command -v "$tool" >/dev/null || {
                log "error: $tool is not in this image; the kubernetes store needs curl, jq and base64"
                exit 1
            }
        done
    else
        : "${KEY_VAULT_NAME:?}" "${RECOVERY_KEYS_SECRET:?}" "${PLACEHOLDER:?}"
    fi
}

# secret_state NAME: prints placeholder or stored; fails while Key Vault cannot be read.
secret_state() {
    value=$(secret_value "$1") || return 1
    if [ "$value" = "$PLACEHOLDER" ]; then echo placeholder; else echo stored; fi
}

# store_secret NAME FILE CONTENT_TYPE: a new current version of secret NAME with FILE's content.
store_secret() {
    if [ "$KEY_STORE" = kubernetes ]; then
        # A merge patch of the one key; the value goes base64 in a file, never in an argument.
        umask 077
        jq -n --rawfile value "$2" --arg key "$STORE_KEY" '{data: {($key): ($value | @base64)}}' >"$STORE_TMP/patch.json"
        code=0
        k8s_secret_api "$1" -X PATCH -H 'Content-Type: application/merge-patch+json' \
            --data-binary "@$STORE_TMP/patch.json" --output /dev/null || code=$?
        rm -f "$STORE_TMP/patch.json"
        return "$code"
    fi
    az keyvault secret set --vault-name "$KEY_VAULT_NAME" --name "$1" --file "$2" \
        --encoding utf-8 --content-type "$3" --output none
}

# store_once NAME FILE CONTENT_TYPE: store FILE as NAME unless it is already there; never overwrite a
# real value that differs (another initialisation's keys).
store_once() {
    current=$(retry 30 10 secret_value "$1") || return 1
    if [ "$current" = "$(cat "$2")" ]; then
        log "$1 already holds this initialisation's value"
        return 0
    fi
    if [ "$current" != "$PLACEHOLDER" ]; then
        log "$1 already holds a real value from another initialisation: refusing to overwrite it"
        return 1
    fi
    retry 30 10 store_secret "$1" "$2" "$3"
}

# init_status ADDRESS: prints initialised or uninitialised; fails while that peer cannot answer.
init_status() {
    code=0
    VAULT_ADDR="$1" vault operator init -status >/dev/null 2>&1 || code=$?
    case "$code" in
        0) echo initialised ;;
        2) echo uninitialised ;;
        *) return 1 ;;
    esac
}

preflight() {
    store_check
    # A new federated credential takes a minute or so to be honoured, a role assignment up to ten.
    retry 30 10 store_login
    keys=$(retry 60 10 secret_state "$RECOVERY_KEYS_SECRET")
    echo "$keys" >"$WORK_DIR/key-vault"
    log "$(store_where) is readable and writable as this Job's identity; recovery keys: $keys"
}

init() {
    : "${VAULT_PEERS:?}" "${RECOVERY_SHARES:?}" "${RECOVERY_THRESHOLD:?}"
    key_vault=$(cat "$WORK_DIR/key-vault")
    initialised=""
    uninitialised=""
    for peer in $VAULT_PEERS; do
        if ! state=$(retry 120 5 init_status "$peer"); then
            log "raft peer $peer did not answer: cannot tell whether Vault is initialised"
            return 1
        fi
        if [ "$state" = initialised ]; then initialised="$initialised $peer"; else uninitialised="$uninitialised $peer"; fi
    done
    log "Key Vault: $key_vault; initialised peers:${initialised:- none}; uninitialised peers:${uninitialised:- none}"
    if [ "$key_vault" = stored ] && [ -n "$initialised" ]; then
        log "Vault is initialised and its credentials are in Key Vault; nothing to do"
        : >"$WORK_DIR/already-initialised"
        return 0
    fi
    if [ "$key_vault" = placeholder ] && [ -z "$initialised" ]; then
        first="${VAULT_PEERS%% *}"
        umask 077
        VAULT_ADDR="$first" vault operator init \
            -recovery-shares="$RECOVERY_SHARES" \
            -recovery-threshold="$RECOVERY_THRESHOLD" \
            -format=json >"$WORK_DIR/init.json.partial"
        mv "$WORK_DIR/init.json.partial" "$WORK_DIR/init.json"
        log "Vault initialised at $first: $RECOVERY_SHARES recovery key shares, threshold $RECOVERY_THRESHOLD"
        # No jq in this image; the CLI prints the field as "root_token": "<token>".
        root=$(sed -n 's/.*"root_token": *"\([^"]*\)".*/\1/p' "$WORK_DIR/init.json")
        if [ -z "$root" ]; then
            log "the initialisation output has no root token"
            return 1
        fi
        VAULT_ADDR="$first" VAULT_TOKEN="$root" sh "$(dirname "$0")/vault-bootstrap.sh"
        : >"$WORK_DIR/bootstrapped"
        return 0
    fi
    case "$key_vault" in
        stored) log "REFUSING: Key Vault holds the recovery keys of an initialised Vault, but no raft peer is initialised (its volumes were lost or replaced). Initialising now would create a second, empty cluster. Restore a raft snapshot instead (docs/operations.md, 'Vault lost its raft data')." ;;
        *) log "REFUSING: raft peers${initialised} are initialised, but Key Vault holds no recovery keys: the initialisation output was lost, or Vault was initialised by hand. Nothing is overwritten; see docs/operations.md, 'Recover a failed Job'." ;;
    esac
    return 1
}

store() {
    store_check
    output="$WORK_DIR/init.json"
    if [ -f "$WORK_DIR/stored" ]; then
        log "already stored by an earlier run of this container"
        return 0
    fi
    if [ ! -s "$output" ]; then
        if [ -f "$WORK_DIR/already-initialised" ]; then
            log "Vault was already initialised; nothing to store"
            return 0
        fi
        log "no initialisation output in $WORK_DIR"
        return 1
    fi
    umask 077
    # The root token is left out: the bootstrap revoked it (or, if the bootstrap failed, it is dropped
    # here: a root token is regenerated from these keys when needed, docs/operations.md "Break glass").
    jq -c '{recovery_keys_b64, recovery_keys_shares, recovery_keys_threshold}' "$output" >"$WORK_DIR/recovery-keys"
    if ! jq -e '.recovery_keys_b64 | length > 0' "$output" >/dev/null; then
        log "the initialisation output has no recovery keys"
        return 1
    fi
    retry 30 10 store_login
    store_once "$RECOVERY_KEYS_SECRET" "$WORK_DIR/recovery-keys" application/json
    rm -f "$output" "$WORK_DIR/recovery-keys"
    : >"$WORK_DIR/stored"
    log "recovery keys stored in $(store_where) as $RECOVERY_KEYS_SECRET; no root token is kept"
}

# run_phase NAME: runs phase NAME in a child shell (so `set -e` holds inside it), its log also kept in
# LOG_DIR; on failure records the phase, exit code and last log lines in $WORK_DIR/failed.
run_phase() {
    if [ -s "$WORK_DIR/failed" ]; then
        log "skipped: an earlier phase failed"
        return 0
    fi
    mkdir -p "$LOG_DIR"
    rm -f "$LOG_DIR/$1.status"
    { sh "$0" "run-$1" 2>&1 || echo "$?" >"$LOG_DIR/$1.status"; } | tee "$LOG_DIR/$1.log" >&2
    if [ -f "$LOG_DIR/$1.status" ]; then
        {
            echo "vault-init: phase $1 failed (exit $(cat "$LOG_DIR/$1.status")); its last log lines:"
            tail -n 15 "$LOG_DIR/$1.log"
        } >"$WORK_DIR/failed"
    fi
}

report_failure() {
    if [ -s "$WORK_DIR/failed" ]; then
        cat "$WORK_DIR/failed" >&2
        exit 1
    fi
}

case "$phase" in
    preflight | init) run_phase "$phase" ;;
    # The main container: a failure of its own is retried by the pod's restarts (OnFailure), with its
    # log as the termination message.
    # The recovery keys are stored whenever there are some, even after a failed bootstrap: they are
    # what regenerates a root token.
    store)
        if [ -s "$WORK_DIR/init.json" ] || [ ! -s "$WORK_DIR/failed" ]; then store; fi
        report_failure
        ;;
    run-preflight) preflight ;;
    run-init) init ;;
    run-store) store ;;
    *)
        echo "usage: $0 preflight|init|store" >&2
        exit 64
        ;;
esac
