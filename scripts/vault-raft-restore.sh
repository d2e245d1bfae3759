#!/bin/sh
# Restores a raft snapshot into the running Vault: the one restore command of docs/operations.md
# ("Restore Vault from a raft snapshot", step 4), and the one .github/scripts/e2e-vault.sh runs against
# a real Vault on kind (tests/operations-scripts.test.ts holds the two to this script).
#
#   VAULT_TOKEN=<root> scripts/vault-raft-restore.sh vault-<ts>.snap
#
# Copies the file into the active server pod (label vault-active=true, set by Vault's Kubernetes service
# registration), runs the pod's own CLI there (VAULT_ADDR and VAULT_CACERT of the pod: its listener over
# TLS, verified against the CA; the CLI and server of one image) with
# `vault operator raft snapshot restore -force`, and removes the copy. -force: the snapshot may come from
# a cluster whose seal/keyring the running one does not share (a temporary cluster initialised after the
# raft data was lost); without it Vault refuses such a snapshot (hashicorp/vault
# command/operator_raft_snapshot_restore.go: "bypasses checks ensuring the Autounseal or shamir keys are
# consistent with the snapshot data"; sys/storage/raft/snapshot-force). The restore replaces all of
# Vault's data: it needs a root token (sudo on sys/storage/raft/snapshot-force). The token reaches the
# CLI on stdin, never an argument. Needs kubectl (the stack's kubeconfig).
set -eu

NAMESPACE="${NAMESPACE:-vault}"
RELEASE="${RELEASE:-vault}"
: "${VAULT_TOKEN:?a root token (docs/operations.md, Break glass)}"
SELECTOR="app.kubernetes.io/name=vault,app.kubernetes.io/instance=${RELEASE},component=server,vault-active=true"

# log.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
LOG_TAG=vault-raft-restore

if [ "$#" -ne 1 ] || [ ! -f "$1" ]; then
    log "usage: VAULT_TOKEN=<root> $0 SNAPSHOT_FILE (a readable vault-<ts>.snap)"
    exit 2
fi
snapshot=$1

kc() {
    kubectl --namespace "$NAMESPACE" "$@"
}

active=$(kc get pods -l "$SELECTOR" -o 'jsonpath={.items[*].metadata.name}')
case "$active" in
"" | *" "*)
    log "FAILED: expected one active Vault pod ($SELECTOR), found '${active}'"
    exit 1
    ;;
esac

copy="/tmp/vault-raft-restore-$$.snap"
cleanup() { kc exec "$active" -c vault -- rm -f "$copy" >/dev/null 2>&1 || true; }
trap cleanup EXIT

# shellcheck disable=SC2016 # expanded by the pod's shell
kc exec -i "$active" -c vault -- sh -c 'cat >"$1"' sh "$copy" <"$snapshot"
log "copied $(wc -c <"$snapshot" | tr -d ' ') bytes of $snapshot to $active"
# shellcheck disable=SC2016 # expanded by the pod's shell, which reads the token from stdin
printf '%s' "$VAULT_TOKEN" | kc exec -i "$active" -c vault -- \
    sh -c 'VAULT_TOKEN=$(cat) exec vault operator raft snapshot restore -force "$1"' sh "$copy"
log "restored $snapshot into $active (raft snapshot restore -force)"
