# shellcheck shell=sh
# Shared by the Job scripts, which source it from their own directory (each Job's ConfigMap ships it
# beside the script). POSIX sh, as the Vault image has only busybox sh. The caller sets LOG_TAG.

# log MESSAGE...: a timestamped line on stderr (stdout is kept for data).
log() {
    printf '%s %s: %s\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "${LOG_TAG:-job}" "$*" >&2
}

# retry ATTEMPTS PAUSE COMMAND...: run COMMAND until it succeeds, at most ATTEMPTS times.
retry() {
    attempts=$1
    pause=$2
    shift 2
    n=1
    until "$@"; do
        if [ "$n" -ge "$attempts" ]; then
            log "giving up after $n attempts: $1"
            return 1
        fi
        log "attempt $n of $attempts failed: $1; retrying in ${pause}s"
        n=$((n + 1))
        sleep "$pause"
    done
}

# az_login: the Azure CLI logs in as the pod's workload identity. The webhook injects these into every
# container of a labelled pod; az reads the token from its file itself (azure-cli expands @file
# arguments), so it is in no command line. (Used by the Jobs that run in the Azure CLI image.)
az_login() {
    : "${AZURE_CLIENT_ID:?}" "${AZURE_TENANT_ID:?}" "${AZURE_FEDERATED_TOKEN_FILE:?}"
    az login --service-principal \
        --username "$AZURE_CLIENT_ID" \
        --tenant "$AZURE_TENANT_ID" \
        --federated-token "@$AZURE_FEDERATED_TOKEN_FILE" \
        --allow-no-subscriptions \
        --output none
}
