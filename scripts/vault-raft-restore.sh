#!/bin/sh
# Restores a raft snapshot into the running Vault: the one restore command of docs/operations.md
# ("Restore Vault from a raft snapshot", step 4), and the one .github/scripts/e2e-vault.sh runs against
# a real Vault on kind (tests/operations-scripts.test.ts holds the two to this script).
#
#   VAULT_TOKEN=<root> scripts/vault-raft-restore.sh vault-<ts>.snap           # the default: checked
#   FORCE_RESTORE=1 VAULT_TOKEN=<root> scripts/vault-raft-restore.sh vault-<ts>.snap   # -force: unchecked
#
# Copies the file into the active server pod (label vault-active=true, set by Vault's Kubernetes service
# registration), runs the pod's own CLI there (VAULT_ADDR and VAULT_CACERT of the pod: its listener over
# TLS, verified against the CA; the CLI and server of one image) with
# `vault operator raft snapshot restore`, and removes the copy. The restore replaces all of Vault's data:
# it needs a root token, which reaches the CLI on stdin, never an argument. Needs kubectl (the stack's
# kubeconfig).
#
# Without -force (the default) Vault checks the snapshot against the running cluster's seal; FORCE_RESTORE=1 adds
# -force, which skips that check. What the check is (hashicorp/vault; the copies read carry no tag: a
# 2025 main of the 1.21 line, which IMAGES.vault pins, and older ones, the same in each point below):
# - command/operator_raft_snapshot_restore.go: -force "bypasses checks ensuring the Autounseal or shamir
#   keys are consistent with the snapshot data"; it picks the path (api/sys_raft.go,
#   RaftSnapshotRestoreWithContext: sys/storage/raft/snapshot, or sys/storage/raft/snapshot-force).
# - vault/logical_system_raft.go, handleStorageRaftSnapshotWrite: unless forced, the running seal must
#   open the snapshot's SHA256SUMS.sealed (hashicorp/raft-snapshot archive.go, read: "failed to open the
#   sealed hashes"); if it cannot, Vault answers 400 "could not verify hash file, possibly the snapshot is
#   using a different autoseal key; use the snapshot-force API to bypass this check" and restores
#   nothing. The CLI prints "Error installing the snapshot: <the API error>" and exits 2. The script
#   names that case and fails on any other non-zero exit too.
# - vault/raft.go, raftSnapshotRestoreCallback: after the restore an auto-unsealed cluster reloads the
#   snapshot's root key "using auto seal". So a cluster on the SAME seal key restores unforced: a rollback
#   of the running cluster, and the temporary cluster of step 2 (initialised on the same Key Vault key,
#   or the same transit key locally), whose own keyring the restore replaces. A snapshot the seal cannot
#   open (another environment's, or one sealed by a key since replaced) holds a root key this cluster
#   cannot unwrap either: forced, the restore leaves the servers sealed. FORCE_RESTORE=1 is for a cluster you
#   restore into on purpose and can lose (a temporary one on another seal), never for the running one.
# The restore is applied after Vault answers (in the handler's goroutine): a failure there seals the
# server, so check `vault status` afterwards.
set -eu

NAMESPACE="${NAMESPACE:-vault}"
RELEASE="${RELEASE:-vault}"
FORCE_RESTORE="${FORCE_RESTORE:-}"
SELECTOR="app.kubernetes.io/name=vault,app.kubernetes.io/instance=${RELEASE},component=server,vault-active=true"

# log.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# vault_exec_token (the CLI in a server pod, through kc).
# shellcheck source-path=SCRIPTDIR source=lib-kubectl.sh
. "$(dirname "$0")/lib-kubectl.sh"
LOG_TAG=vault-raft-restore

# Every problem of the invocation in one round, before anything is touched.
problems=""
problem() { problems="${problems}x" && log "$*"; }
case "$FORCE_RESTORE" in
"" | 0 | 1) ;;
*) problem "FORCE_RESTORE='$FORCE_RESTORE': allowed are 1 (restore with -force, skipping Vault's seal check) or 0 / unset (without, the default)" ;;
esac
if [ -z "${VAULT_TOKEN:-}" ]; then problem "VAULT_TOKEN is not set: a root token (docs/operations.md, Break glass)"; fi
if [ "$#" -ne 1 ] || [ ! -f "$1" ]; then
    problem "usage: [FORCE_RESTORE=1] VAULT_TOKEN=<root> $0 SNAPSHOT_FILE (a readable vault-<ts>.snap)"
fi
[ -z "$problems" ] || exit 2
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
errors=$(mktemp)
shown=""
cleanup() {
    # A signal sent to the script alone takes effect once kubectl returned: show what Vault answered.
    if [ -z "$shown" ] && [ -s "$errors" ]; then cat "$errors" >&2 || true; fi
    rm -f "$errors"
    kc exec "$active" -c vault -- rm -f "$copy" >/dev/null 2>&1 || true
}
trap cleanup EXIT
# dash runs no EXIT trap when a signal without a trap ends it: Ctrl-C, a TERM or a hang-up (a closed SSH
# session) would leave the copies. The traps write nothing, and SIGPIPE is ignored: a Ctrl-C may have
# closed the pipe the output goes to (`| tee`), and dash itself reports a child a signal ended
# ("Terminated"), a write that would otherwise end the script before the cleanup. dash runs a trap once
# the foreground command returns: a terminal's Ctrl-C and hang-up signal the whole process group, so
# kubectl ends at once too; a signal sent to the script alone (a CI runner signals its step's shell
# only) takes effect once kubectl returns. The CLI in the pod may still have sent the file, and Vault
# then applies it (docs/operations.md, step 4).
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
trap '' PIPE

# shellcheck disable=SC2016 # expanded by the pod's shell
kc exec -i "$active" -c vault -- sh -c 'cat >"$1"' sh "$copy" <"$snapshot"
log "copied $(wc -c <"$snapshot" | tr -d ' ') bytes of $snapshot to $active"

if [ "$FORCE_RESTORE" = 1 ]; then
    set -- -force "$copy"
    mode="with -force (FORCE_RESTORE=1)"
    log "restoring $snapshot into $active $mode: Vault's check that this cluster's seal opens the snapshot is skipped"
else
    set -- "$copy"
    mode="without -force"
    log "restoring $snapshot into $active $mode: Vault checks that this cluster's seal opens the snapshot"
fi
status=0
printf '%s' "$VAULT_TOKEN" | vault_exec_token "$active" operator raft snapshot restore "$@" 2>"$errors" || status=$?
shown=1
# From here on a closed output (`| head`) fails no write: what happened is in the exit status.
cat "$errors" >&2 || true
if [ "$status" -ne 0 ]; then
    if [ "$FORCE_RESTORE" != 1 ] && grep -q "could not verify hash file" "$errors"; then
        log "FAILED: Vault refused $snapshot: this cluster's seal could not open the snapshot's sealed hashes." \
            "Either the snapshot was taken under another seal key (another environment's snapshot, or a key since" \
            "replaced: check that the file is this environment's), or this cluster's seal cannot be reached right" \
            "now (Key Vault or the unsealer: its network path, the identity's access; Vault gives the same answer," \
            "logical_system_raft.go) and a retry once it is back succeeds. Nothing was restored; Vault's data is as" \
            "it was. FORCE_RESTORE=1 (restore it anyway) is only for a temporary cluster you restore into on" \
            "purpose: a cluster whose seal cannot unwrap the snapshot's root key stays sealed after a forced restore." || true
    else
        log "FAILED: vault operator raft snapshot restore exited $status ($mode); Vault's message is above." \
            "Usually Vault refused before applying anything; but a connection lost after Vault took the file" \
            "can fail here while Vault applies it: check \`vault status\` and the data, then rerun (restoring the" \
            "same snapshot twice is harmless)." || true
    fi
    exit 1
fi
log "restored $snapshot into $active ($mode); Vault applies it after answering: check \`vault status\`" || true
