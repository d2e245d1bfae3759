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
