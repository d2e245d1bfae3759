#!/bin/sh
# The mongo-users container of dev's Vault reconciler (MongoDB image, mongosh): when the configure
# container hands over a cut-off time in STALE_USERS_FILE (scripts/vault-configure.sh, after finding
# Vault restarted empty), drop the MongoDB users the database engine created before it
# (scripts/mongo-stale-users.js), then remove the file. A failed run keeps the file and is retried at
# the next check. POSIX sh.
set -eu

: "${STALE_USERS_FILE:?}" "${USERNAME_PATTERN:?}" "${MONGO_HOST:?}" "${MONGO_USERNAME:?}" "${MONGO_PASSWORD:?}"
MONGO_PORT="${MONGO_PORT:-27017}"
INTERVAL="${CHECK_INTERVAL_SECONDS:-30}"
# Bounds the loop (tests); empty for ever.
ROUNDS="${ROUNDS:-}"
export MONGO_HOST MONGO_PORT MONGO_USERNAME MONGO_PASSWORD USERNAME_PATTERN

# log and retry.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
LOG_TAG=mongo-stale-users

round=0
while [ -z "$ROUNDS" ] || [ "$round" -lt "$ROUNDS" ]; do
    round=$((round + 1))
    sleep "$INTERVAL"
    [ -f "$STALE_USERS_FILE" ] || continue
    CUTOFF=$(cat "$STALE_USERS_FILE")
    export CUTOFF
    if mongosh --nodb --quiet "$(dirname "$0")/mongo-stale-users.js"; then
        rm -f "$STALE_USERS_FILE"
    else
        log "could not drop the stale users (MongoDB not ready?): retrying in ${INTERVAL}s"
    fi
done
