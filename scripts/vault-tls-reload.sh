#!/bin/sh
# The tls-reload sidecar of each Vault server pod (Vault image, the pod's process namespace shared):
# when the listener's certificate AND key files have both changed (the Secrets Store CSI driver writes
# new Key Vault versions into the mounted volume), send SIGHUP to the vault process. On SIGHUP Vault
# re-reads tls_cert_file and tls_key_file for its listeners (hashicorp/vault command/server.go, Reload:
# the "listener|" reload funcs; go-secure-stdlib reloadutil CertificateGetter.Reload), with no restart,
# no step-down and no unseal; a pair that does not load is refused and the previous one kept.
# Waiting for both files keeps a half-written renewal (new key, old certificate) from being tried.
# POSIX sh (the Vault image has busybox).
set -eu

: "${TLS_CERT_FILE:?}" "${TLS_KEY_FILE:?}"
INTERVAL="${CHECK_INTERVAL_SECONDS:-30}"
PROC_ROOT="${PROC_ROOT:-/proc}"

log() {
    printf '%s vault-tls-reload: %s\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$*" >&2
}

# digest FILE: the file's SHA-256, or "missing".
digest() {
    if [ -r "$1" ]; then sha256sum <"$1" | cut -d' ' -f1; else echo missing; fi
}

# vault_pid: the process whose command name is vault (the server; the chart starts it through sh).
vault_pid() {
    for dir in "$PROC_ROOT"/[0-9]*; do
        if [ "$(cat "$dir/comm" 2>/dev/null || true)" = vault ]; then
            echo "${dir##*/}"
            return 0
        fi
    done
    return 1
}

cert=$(digest "$TLS_CERT_FILE")
key=$(digest "$TLS_KEY_FILE")
log "watching $TLS_CERT_FILE and $TLS_KEY_FILE every ${INTERVAL}s"
waiting=""
while :; do
    sleep "$INTERVAL"
    new_cert=$(digest "$TLS_CERT_FILE")
    new_key=$(digest "$TLS_KEY_FILE")
    if [ "$new_cert" != "$cert" ] && [ "$new_key" != "$key" ]; then
        if ! pid=$(vault_pid); then
            log "the certificate and key changed but no vault process runs in this pod: retrying"
            continue
        fi
        if kill -HUP "$pid"; then
            log "the certificate and key changed: sent SIGHUP to vault (pid $pid)"
            cert=$new_cert
            key=$new_key
            waiting=""
        else
            log "could not signal vault (pid $pid): retrying"
        fi
    elif [ "$new_cert" != "$cert" ] || [ "$new_key" != "$key" ]; then
        if [ -z "$waiting" ]; then
            log "only one of the certificate and the key changed: waiting for the other before reloading"
            waiting=yes
        fi
    fi
done
