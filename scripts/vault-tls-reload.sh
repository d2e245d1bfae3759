#!/bin/sh
# The tls-reload sidecar of each Vault server pod (Vault image, the pod's process namespace shared):
# whenever the listener's certificate or key file changes (the Secrets Store CSI driver writes new Key
# Vault versions into the mounted volume), and once after the sidecar starts, send SIGHUP to the Vault
# server process. On SIGHUP Vault re-reads tls_cert_file and tls_key_file for its listeners
# (hashicorp/vault command/server.go, Reload: the "listener|" reload funcs; go-secure-stdlib reloadutil
# CertificateGetter.Reload), with no restart, no step-down and no unseal; a pair that does not load
# (the new key beside the old certificate, between the renewal's two writes) is refused and the
# previous one kept, so signalling on any change is safe and the second file's change reloads the pair.
# The signal at start covers a change the sidecar missed while it was down (its container restarted).
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

# vault_pid: the Vault server: the process whose argv[0] is vault (any directory) and argv[1] is
# `server`, the lowest PID if several. Not just any process named vault: the chart's readiness probe
# (`vault status`, every 5 s, vault-helm v0.32.0 templates/server-statefulset.yaml) and any `kubectl
# exec ... vault ...` are vault processes too, and a SIGHUP sent to one of them reloads nothing. The
# chart runs `sh -ec '... docker-entrypoint.sh vault server -config=...'`; the entrypoint (run under
# dumb-init) ends in `exec vault server ...` (hashicorp/vault .release/docker/docker-entrypoint.sh), so
# neither sh nor dumb-init has vault as argv[0].
vault_pid() {
    best=""
    for dir in "$PROC_ROOT"/[0-9]*; do
        pid=${dir##*/}
        argv=$(tr '\000' '\n' <"$dir/cmdline" 2>/dev/null | head -n 2) || continue
        first=$(printf '%s\n' "$argv" | sed -n 1p)
        second=$(printf '%s\n' "$argv" | sed -n 2p)
        if [ "${first##*/}" != vault ] || [ "$second" != server ]; then continue; fi
        if [ -z "$best" ] || [ "$pid" -lt "$best" ]; then best=$pid; fi
    done
    [ -n "$best" ] || return 1
    echo "$best"
}

cert=$(digest "$TLS_CERT_FILE")
key=$(digest "$TLS_KEY_FILE")
log "watching $TLS_CERT_FILE and $TLS_KEY_FILE every ${INTERVAL}s"
# Once at start: whatever is mounted now may be newer than what Vault loaded.
pending="the sidecar started"
while :; do
    sleep "$INTERVAL"
    new_cert=$(digest "$TLS_CERT_FILE")
    new_key=$(digest "$TLS_KEY_FILE")
    if [ "$new_cert" != "$cert" ] || [ "$new_key" != "$key" ]; then
        [ "$new_cert" = "$cert" ] || pending="the certificate changed"
        [ "$new_key" = "$key" ] || pending="${pending:+$pending; }the key changed"
        cert=$new_cert
        key=$new_key
    fi
    [ -n "$pending" ] || continue
    if ! pid=$(vault_pid); then
        log "$pending but no vault server process runs in this pod: retrying"
        continue
    fi
    if kill -HUP "$pid"; then
        log "$pending: sent SIGHUP to the vault server (pid $pid)"
        pending=""
    else
        log "could not signal the vault server (pid $pid): retrying"
    fi
done
