#!/bin/sh
# Initialises HashiCorp Vault once and keeps its recovery keys and root token in Azure Key Vault.
#
# Runs as the three containers of one Kubernetes Job pod, which share an in-memory emptyDir ($WORK_DIR):
#   preflight  (Azure CLI image)  log in as the pod's workload identity and read the two target secrets,
#                                 so a missing federated credential or role stops the Job *before* Vault
#                                 is initialised: `vault operator init` prints the keys exactly once.
#   init       (Vault image)      if Vault is not initialised yet, `vault operator init` into $WORK_DIR.
#   store      (Azure CLI image)  write recovery keys and root token to Key Vault, then delete the files.
# When Vault is already initialised, init records that, store does nothing and the Job succeeds.
# POSIX sh: the Vault image has only busybox sh. Nothing secret is printed or passed as an argument.
set -eu

phase="${1:-}"
: "${WORK_DIR:?WORK_DIR must name the shared in-memory directory}"

# log and retry.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
LOG_TAG="vault-init $phase"

az_login() {
    # The workload identity webhook injects these into every container of a labelled pod.
    : "${AZURE_CLIENT_ID:?}" "${AZURE_TENANT_ID:?}" "${AZURE_FEDERATED_TOKEN_FILE:?}"
    az login --service-principal \
        --username "$AZURE_CLIENT_ID" \
        --tenant "$AZURE_TENANT_ID" \
        --federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")" \
        --allow-no-subscriptions \
        --output none
}

# secret_readable NAME: the identity can read secret NAME (its role covers reading and writing).
secret_readable() {
    az keyvault secret show --vault-name "$KEY_VAULT_NAME" --name "$1" --query id --output tsv >/dev/null
}

# store_secret NAME FILE CONTENT_TYPE: a new current version of secret NAME with FILE's content.
store_secret() {
    az keyvault secret set --vault-name "$KEY_VAULT_NAME" --name "$1" --file "$2" \
        --encoding utf-8 --content-type "$3" --output none
}

# init_status: prints 0 (initialised) or 2 (not initialised); fails while Vault cannot answer.
init_status() {
    code=0
    vault operator init -status >/dev/null 2>&1 || code=$?
    case "$code" in
        0 | 2) echo "$code" ;;
        *) return 1 ;;
    esac
}

preflight() {
    : "${KEY_VAULT_NAME:?}" "${ROOT_TOKEN_SECRET:?}" "${RECOVERY_KEYS_SECRET:?}"
    # A new federated credential takes a minute or so to be honoured, a role assignment up to ten.
    retry 30 10 az_login
    retry 60 10 secret_readable "$ROOT_TOKEN_SECRET"
    retry 60 10 secret_readable "$RECOVERY_KEYS_SECRET"
    log "Key Vault $KEY_VAULT_NAME is readable and writable as this Job's identity"
}

init() {
    : "${VAULT_ADDR:?}" "${RECOVERY_SHARES:?}" "${RECOVERY_THRESHOLD:?}"
    if ! state=$(retry 120 5 init_status); then
        log "Vault at $VAULT_ADDR did not answer"
        return 1
    fi
    if [ "$state" = 0 ]; then
        log "Vault at $VAULT_ADDR is already initialised; nothing to do"
        : >"$WORK_DIR/already-initialised"
        return 0
    fi
    umask 077
    vault operator init \
        -recovery-shares="$RECOVERY_SHARES" \
        -recovery-threshold="$RECOVERY_THRESHOLD" \
        -format=json >"$WORK_DIR/init.json.partial"
    mv "$WORK_DIR/init.json.partial" "$WORK_DIR/init.json"
    log "Vault initialised: $RECOVERY_SHARES recovery key shares, threshold $RECOVERY_THRESHOLD"
}

store() {
    : "${KEY_VAULT_NAME:?}" "${ROOT_TOKEN_SECRET:?}" "${RECOVERY_KEYS_SECRET:?}"
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
    jq -j '.root_token' "$output" >"$WORK_DIR/root-token"
    jq -c '{recovery_keys_b64, recovery_keys_shares, recovery_keys_threshold}' "$output" >"$WORK_DIR/recovery-keys"
    if ! jq -e '(.root_token | type == "string" and length > 0) and (.recovery_keys_b64 | length > 0)' "$output" >/dev/null; then
        log "the initialisation output has no root token or recovery keys"
        return 1
    fi
    retry 30 10 az_login
    retry 30 10 store_secret "$RECOVERY_KEYS_SECRET" "$WORK_DIR/recovery-keys" application/json
    retry 30 10 store_secret "$ROOT_TOKEN_SECRET" "$WORK_DIR/root-token" text/plain
    rm -f "$output" "$WORK_DIR/root-token" "$WORK_DIR/recovery-keys"
    : >"$WORK_DIR/stored"
    log "recovery keys and root token stored in Key Vault $KEY_VAULT_NAME as $RECOVERY_KEYS_SECRET and $ROOT_TOKEN_SECRET"
}

case "$phase" in
    preflight) preflight ;;
    init) init ;;
    store) store ;;
    *)
        echo "usage: $0 preflight|init|store" >&2
        exit 64
        ;;
esac
