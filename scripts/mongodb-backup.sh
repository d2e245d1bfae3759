#!/bin/sh
# MongoDB's scheduled backup: two steps of one CronJob pod, sharing the directory BACKUP_DIR.
#
#   dump    (init container, the official mongo image, which ships mongodump): dumps every database
#           with `mongodump --archive --gzip` to BACKUP_DIR/<name>, then records <name> in
#           BACKUP_DIR/name. A standalone mongod has no oplog, so the dump is per-collection consistent
#           (see docs/workloads.md).
#   upload  (container, the curl image): exchanges the pod's projected service account token for an
#           Entra ID token for Azure Storage (workload identity: the webhook injects AZURE_CLIENT_ID,
#           AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST) and PUTs the archive
#           as a new block blob BLOB_CONTAINER_URL/<name>, refusing to replace one (If-None-Match: *).
#
# It never deletes or overwrites a blob: retention is the storage account's lifecycle policy. Any
# failure exits non-zero with the reason, so the Job fails and shows it. Nothing secret is passed as a
# command-line argument: mongodump reads the password from a --config file, curl reads the federated
# token from its file (--data-urlencode name@file) and the access token from a header file (-H @file).
# POSIX sh: the curl image is Alpine with busybox sh, the mongo image Ubuntu with dash.
set -eu

BACKUP_DIR="${BACKUP_DIR:-/backup}"
MONGO_PORT="${MONGO_PORT:-27017}"
AZURE_AUTHORITY_HOST="${AZURE_AUTHORITY_HOST:-https://login.microsoftonline.com/}"
# Put Blob stores at most 5000 MiB in one request (x-ms-version 2019-12-12 and later).
MAX_PUT_BYTES="${MAX_PUT_BYTES:-5242880000}"
STORAGE_API_VERSION=2023-11-03
WAIT_ATTEMPTS="${WAIT_ATTEMPTS:-5}"
WAIT_SECONDS="${WAIT_SECONDS:-10}"

# log and retry.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
LOG_TAG=mongodb-backup

fail() {
    log "FAILED: $*"
    exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

dump() {
    : "${MONGO_HOST:?MONGO_HOST must be the MongoDB host}"
    : "${MONGO_USERNAME:?MONGO_USERNAME must be a MongoDB user allowed to read every database}"
    : "${MONGO_PASSWORD:?MONGO_PASSWORD must be the password of MONGO_USERNAME}"
    [ -d "$BACKUP_DIR" ] || fail "BACKUP_DIR $BACKUP_DIR does not exist"
    name="mongodb-$(date -u '+%Y%m%dT%H%M%SZ').archive.gz"
    archive="$BACKUP_DIR/$name"
    # YAML single-quoted: a quote inside is written twice.
    (
        umask 077
        printf "password: '%s'\n" "$(printf '%s' "$MONGO_PASSWORD" | sed "s/'/''/g")" >"$work/mongodump.yaml"
    )
    log "dumping ${MONGO_HOST}:${MONGO_PORT} to ${name}"
    if ! mongodump --host="$MONGO_HOST" --port="$MONGO_PORT" --username="$MONGO_USERNAME" \
        --authenticationDatabase=admin --config="$work/mongodump.yaml" \
        --archive="$archive.partial" --gzip; then
        rm -f "$archive.partial"
        fail "mongodump of ${MONGO_HOST}:${MONGO_PORT} failed"
    fi
    [ -s "$archive.partial" ] || fail "mongodump wrote an empty archive"
    mv "$archive.partial" "$archive"
    printf '%s\n' "$name" >"$BACKUP_DIR/name"
    log "dumped $(wc -c <"$archive" | tr -d ' ') bytes to ${name}"
}

# json_field FIELD FILE: the string value of FIELD in a flat JSON object (Entra ID's token response).
json_field() {
    sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p" "$2"
}

# Exchanges the federated token for an access token, written as a curl header line to $work/auth.
access_token() {
    status=$(curl -sS -o "$work/token.json" -w '%{http_code}' \
        --data-urlencode "client_id=${AZURE_CLIENT_ID}" \
        --data-urlencode "scope=https://storage.azure.com/.default" \
        --data-urlencode "grant_type=client_credentials" \
        --data-urlencode "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer" \
        --data-urlencode "client_assertion@${AZURE_FEDERATED_TOKEN_FILE}" \
        "${AZURE_AUTHORITY_HOST%/}/${AZURE_TENANT_ID}/oauth2/v2.0/token") || {
        log "cannot reach Entra ID at ${AZURE_AUTHORITY_HOST}"
        return 1
    }
    if [ "$status" != 200 ]; then
        log "Entra ID refused the token exchange (HTTP ${status}): $(json_field error_description "$work/token.json")"
        return 1
    fi
    token=$(json_field access_token "$work/token.json")
    rm -f "$work/token.json"
    [ -n "$token" ] || {
        log "Entra ID's answer holds no access_token"
        return 1
    }
    # printf is a shell builtin (dash, busybox ash): the token never becomes a process argument.
    printf 'Authorization: Bearer %s\n' "$token" >"$work/auth"
    token=
}

upload() {
    : "${BLOB_CONTAINER_URL:?BLOB_CONTAINER_URL must be https://<account>.blob.core.windows.net/<container>}"
    : "${AZURE_CLIENT_ID:?AZURE_CLIENT_ID is not set: is the pod labelled azure.workload.identity/use=true?}"
    : "${AZURE_TENANT_ID:?AZURE_TENANT_ID is not set: is the pod labelled azure.workload.identity/use=true?}"
    : "${AZURE_FEDERATED_TOKEN_FILE:?AZURE_FEDERATED_TOKEN_FILE is not set: is the pod labelled azure.workload.identity/use=true?}"
    [ -s "$BACKUP_DIR/name" ] || fail "no dump to upload: $BACKUP_DIR/name is missing"
    name=$(cat "$BACKUP_DIR/name")
    archive="$BACKUP_DIR/$name"
    [ -s "$archive" ] || fail "the dump $archive is missing or empty"
    size=$(wc -c <"$archive" | tr -d ' ')
    [ "$size" -le "$MAX_PUT_BYTES" ] || fail "the dump is $size bytes, more than one Put Blob takes ($MAX_PUT_BYTES)"
    # A new federated credential takes a moment to reach Entra ID: retry the exchange.
    retry "$WAIT_ATTEMPTS" "$WAIT_SECONDS" access_token || fail "no access token for Azure Storage"
    url="${BLOB_CONTAINER_URL%/}/${name}"
    log "uploading $size bytes to $url"
    status=$(curl -sS -o "$work/put.xml" -w '%{http_code}' -T "$archive" \
        -H @"$work/auth" \
        -H "x-ms-version: ${STORAGE_API_VERSION}" \
        -H "x-ms-blob-type: BlockBlob" \
        -H "Content-Type: application/gzip" \
        -H "If-None-Match: *" \
        "$url") || fail "cannot reach $url"
    rm -f "$work/auth"
    case "$status" in
        201) log "uploaded $url" ;;
        409) fail "$url already exists; a backup is never overwritten" ;;
        *) fail "Azure Storage refused the upload (HTTP ${status}): $(head -c 600 "$work/put.xml" 2>/dev/null)" ;;
    esac
}

case "${1:-}" in
    dump) dump ;;
    upload) upload ;;
    *) fail "usage: $0 dump|upload" ;;
esac
