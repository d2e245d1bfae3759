#!/bin/sh
# Takes a raft snapshot of HashiCorp Vault and uploads it to Azure Blob Storage. Runs as the two
# containers of the snapshot CronJob's pod, which share an in-memory emptyDir ($WORK_DIR):
#   save    (Vault image, init container)  log in through Kubernetes auth as VAULT_AUTH_ROLE (a policy
#                                          that may read sys/storage/raft/snapshot only) with the pod's
#                                          projected Vault-audience token; `vault operator raft snapshot
#                                          save`; check the file is not empty
#   upload  (Azure CLI image)              log in as the pod's workload identity (Storage Blob Data
#                                          Contributor on the one container, no account key) and upload
#                                          the file under a new, timestamped name; check the blob's size
#   keep    (Vault image)                  instead of upload where the target is a volume (the local
#                                          stack's ha mode, no Azure): copy the file into SNAPSHOT_DIR
#                                          (a PersistentVolumeClaim) under a new, timestamped name, check
#                                          its size, and only then give it its .snap name
#
# Any failure exits non-zero with the reason, so the Job (and the CronJob's last run) fails loudly; a
# failed save never reaches the upload. No snapshot is overwritten. Retention is done here, not by a
# lifecycle rule (which cannot keep "the last N"): after a verified upload the blob is marked
# verified=true (metadata), then snapshots older than RETENTION_DAYS are deleted EXCEPT the newest
# KEEP_LAST verified ones, so a long run of failed snapshots never empties the container. Versioning
# and soft delete keep what a mistake removes for a while.
# POSIX sh (the Vault image has busybox sh only). No token is printed or passed as an argument.
set -eu

phase="${1:-}"
: "${WORK_DIR:?WORK_DIR must name the shared in-memory directory}"
SNAPSHOT="$WORK_DIR/vault.snap"

# log, retry and az_login.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
LOG_TAG="vault-snapshot $phase"

save() {
    : "${VAULT_ADDR:?}" "${VAULT_AUTH_ROLE:?}" "${VAULT_AUTH_JWT_FILE:?}"
    token=$(retry 6 10 vault write -field=token auth/kubernetes/login role="$VAULT_AUTH_ROLE" jwt=@"$VAULT_AUTH_JWT_FILE") || {
        log "FAILED: cannot log in to Vault at $VAULT_ADDR as Kubernetes-auth role $VAULT_AUTH_ROLE"
        exit 1
    }
    VAULT_TOKEN="$token"
    export VAULT_TOKEN
    rm -f "$SNAPSHOT" "$SNAPSHOT.partial"
    vault operator raft snapshot save "$SNAPSHOT.partial" || {
        log "FAILED: vault operator raft snapshot save at $VAULT_ADDR"
        exit 1
    }
    if [ ! -s "$SNAPSHOT.partial" ]; then
        log "FAILED: the snapshot is empty"
        exit 1
    fi
    mv "$SNAPSHOT.partial" "$SNAPSHOT"
    vault token revoke -self >/dev/null 2>&1 || log "could not revoke the login token (it expires on its own)"
    log "snapshot saved: $(wc -c <"$SNAPSHOT" | tr -d ' ') bytes"
}

upload() {
    : "${STORAGE_ACCOUNT:?}" "${STORAGE_CONTAINER:?}"
    if [ ! -s "$SNAPSHOT" ]; then
        log "FAILED: no snapshot to upload (the save container did not produce one)"
        exit 1
    fi
    name="${BLOB_PREFIX:-vault}-$(date -u '+%Y%m%dT%H%M%SZ').snap"
    retry 10 10 az_login || {
        log "FAILED: cannot log in to Azure as the snapshot identity"
        exit 1
    }
    # --auth-mode login: Entra ID, the only way in (the account allows no shared key). No --overwrite:
    # an existing name is an error, never a replaced snapshot.
    retry 3 10 az storage blob upload --auth-mode login \
        --account-name "$STORAGE_ACCOUNT" --container-name "$STORAGE_CONTAINER" \
        --name "$name" --file "$SNAPSHOT" --no-progress --output none || {
        log "FAILED: upload of $name to $STORAGE_ACCOUNT/$STORAGE_CONTAINER"
        exit 1
    }
    size=$(az storage blob show --auth-mode login \
        --account-name "$STORAGE_ACCOUNT" --container-name "$STORAGE_CONTAINER" \
        --name "$name" --query properties.contentLength --output tsv) || {
        log "FAILED: cannot read back $name"
        exit 1
    }
    expected=$(wc -c <"$SNAPSHOT" | tr -d ' ')
    if [ "$size" != "$expected" ]; then
        log "FAILED: $name holds $size bytes, the snapshot $expected"
        exit 1
    fi
    rm -f "$SNAPSHOT"
    # The staleness alert (components/azure/auditAlerts.ts) matches this line: only a read-back upload counts.
    log "uploaded $name ($size bytes) to $STORAGE_ACCOUNT/$STORAGE_CONTAINER"
    retry 3 10 az storage blob metadata update --auth-mode login \
        --account-name "$STORAGE_ACCOUNT" --container-name "$STORAGE_CONTAINER" \
        --name "$name" --metadata verified=true --output none || {
        log "FAILED: cannot mark $name verified (it does not count as a good snapshot for retention)"
        exit 1
    }
    prune
}

# keep: the volume target. A copy is written as <name>.partial and renamed to <name> only once its size
# matches, so every *.snap in SNAPSHOT_DIR is whole: those are the "verified" snapshots of the volume.
keep() {
    : "${SNAPSHOT_DIR:?}" "${RETENTION_DAYS:?}" "${KEEP_LAST:?}"
    if [ ! -s "$SNAPSHOT" ]; then
        log "FAILED: no snapshot to keep (the save container did not produce one)"
        exit 1
    fi
    # Leftovers of an interrupted run (never two at once: concurrencyPolicy Forbid).
    rm -f "$SNAPSHOT_DIR"/*.partial
    name="${BLOB_PREFIX:-vault}-$(date -u '+%Y%m%dT%H%M%SZ').snap"
    if [ -e "$SNAPSHOT_DIR/$name" ]; then
        log "FAILED: $SNAPSHOT_DIR/$name exists already"
        exit 1
    fi
    cp "$SNAPSHOT" "$SNAPSHOT_DIR/$name.partial" || {
        log "FAILED: cannot write $SNAPSHOT_DIR/$name.partial"
        exit 1
    }
    size=$(wc -c <"$SNAPSHOT_DIR/$name.partial" | tr -d ' ')
    expected=$(wc -c <"$SNAPSHOT" | tr -d ' ')
    if [ "$size" != "$expected" ]; then
        log "FAILED: $name holds $size bytes, the snapshot $expected"
        rm -f "$SNAPSHOT_DIR/$name.partial"
        exit 1
    fi
    mv "$SNAPSHOT_DIR/$name.partial" "$SNAPSHOT_DIR/$name"
    rm -f "$SNAPSHOT"
    log "kept $name ($size bytes) in $SNAPSHOT_DIR"
    prune_dir
}

# prune_dir: prune's rule on SNAPSHOT_DIR: older than RETENTION_DAYS goes, never one of the newest KEEP_LAST.
prune_dir() {
    cutoff=$(date -u -d "@$(($(date -u +%s) - RETENTION_DAYS * 86400))" '+%Y%m%d%H%M%S') || {
        log "FAILED: cannot compute the retention cutoff"
        exit 1
    }
    kept=0
    removed=0
    # Newest first (the names sort by their UTC timestamp); *.partial never matches.
    for name in $(for file in "$SNAPSHOT_DIR/${BLOB_PREFIX:-vault}"-*.snap; do
        if [ -e "$file" ]; then basename "$file"; fi
    done | sort -r); do
        if [ "$kept" -lt "$KEEP_LAST" ]; then
            kept=$((kept + 1))
            continue
        fi
        when=$(stamp "$name")
        if [ -z "$when" ] || [ "$when" -ge "$cutoff" ]; then continue; fi
        rm -f "$SNAPSHOT_DIR/$name"
        removed=$((removed + 1))
    done
    log "retention: kept the newest $kept snapshots (at least ${KEEP_LAST} whatever their age), deleted $removed older than ${RETENTION_DAYS} days"
}

# stamp NAME: the 14 digits of a <prefix>-YYYYmmddTHHMMSSZ.snap name, or nothing.
stamp() {
    printf '%s\n' "$1" | sed -n 's/^.*-\([0-9]\{8\}\)T\([0-9]\{6\}\)Z\.snap$/\1\2/p'
}

# prune: deletes snapshots older than RETENTION_DAYS, never one of the newest KEEP_LAST verified ones.
prune() {
    : "${RETENTION_DAYS:?}" "${KEEP_LAST:?}"
    cutoff=$(date -u -d "@$(($(date -u +%s) - RETENTION_DAYS * 86400))" '+%Y%m%d%H%M%S') || {
        log "FAILED: cannot compute the retention cutoff"
        exit 1
    }
    # name<TAB>verified, newest first (the names sort by their UTC timestamp).
    listing=$(az storage blob list --auth-mode login \
        --account-name "$STORAGE_ACCOUNT" --container-name "$STORAGE_CONTAINER" \
        --prefix "${BLOB_PREFIX:-vault}-" --include m \
        --query '[].[name, metadata.verified]' --output tsv) || {
        log "FAILED: cannot list $STORAGE_CONTAINER for retention"
        exit 1
    }
    kept=0
    removed=0
    for entry in $(printf '%s\n' "$listing" | tr '\t' '|' | sort -r); do
        name=${entry%%|*}
        verified=${entry#*|}
        if [ "$verified" = true ] && [ "$kept" -lt "$KEEP_LAST" ]; then
            kept=$((kept + 1))
            continue
        fi
        when=$(stamp "$name")
        if [ -z "$when" ] || [ "$when" -ge "$cutoff" ]; then continue; fi
        az storage blob delete --auth-mode login \
            --account-name "$STORAGE_ACCOUNT" --container-name "$STORAGE_CONTAINER" \
            --name "$name" --output none || {
            log "FAILED: cannot delete $name (retention)"
            exit 1
        }
        removed=$((removed + 1))
    done
    log "retention: kept the newest $kept verified snapshots (at least ${KEEP_LAST} whatever their age), deleted $removed older than ${RETENTION_DAYS} days"
}

case "$phase" in
    save) save ;;
    upload) upload ;;
    keep) keep ;;
    *)
        echo "usage: $0 save|upload|keep" >&2
        exit 64
        ;;
esac
