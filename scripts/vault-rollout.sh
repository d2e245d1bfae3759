#!/bin/sh
# Rolls a changed Vault server spec (image, seal, config) out to the running pods, one pod at a time.
#
# vault-helm's server StatefulSet uses `updateStrategy: OnDelete` (chart values.yaml,
# server.updateStrategyType), so `pulumi up` changes the StatefulSet but no pod: each keeps its old spec
# until it is deleted. Run this after an `up` that changed the Vault release (the stack output
# vaultRollout changes then; `check` tells whether any pod runs an old spec):
#
#   scripts/vault-rollout.sh check      exit 0 when every pod runs the current revision, 3 when not
#   scripts/vault-rollout.sh            roll out: followers first, then step the leader down and replace it
#
# After each replaced pod it waits until the pod is back, Ready (the chart's readiness probe is
# `vault status`: unsealed) and, with a token, until raft autopilot reports the cluster healthy with
# every server. Needs kubectl (the stack's kubeconfig), jq, and VAULT_TOKEN in the environment: a token
# allowed to read sys/storage/raft/autopilot/state and to update sys/step-down. The token is handed to
# the vault CLI in the pod on stdin, never as an argument. A dev-mode Vault (one pod, no leader) is
# simply replaced; the dev reconciler configures it again.
set -eu

NAMESPACE="${NAMESPACE:-vault}"
RELEASE="${RELEASE:-vault}"
ATTEMPTS="${ATTEMPTS:-120}"
PAUSE="${PAUSE:-5}"
SELECTOR="app.kubernetes.io/name=vault,app.kubernetes.io/instance=${RELEASE},component=server"

# log and retry.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
LOG_TAG=vault-rollout

kc() {
    kubectl --namespace "$NAMESPACE" "$@"
}

update_revision() {
    kc get statefulset "$RELEASE" -o 'jsonpath={.status.updateRevision}'
}

replicas() {
    kc get statefulset "$RELEASE" -o 'jsonpath={.spec.replicas}'
}

server_pods() {
    kc get pods -l "$SELECTOR" -o 'jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}'
}

# The pod service registration labels vault-active=true (empty in dev mode).
leader() {
    kc get pods -l "${SELECTOR},vault-active=true" -o 'jsonpath={.items[*].metadata.name}'
}

pod_revision() {
    kc get pod "$1" -o 'jsonpath={.metadata.labels.controller-revision-hash}'
}

# current POD: the pod exists, runs the StatefulSet's update revision and is Ready (unsealed).
current() {
    [ "$(pod_revision "$1")" = "$revision" ] &&
        [ "$(kc get pod "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]
}

# vault_in POD ARGS...: runs `vault ARGS` in POD's vault container with VAULT_TOKEN from stdin.
vault_in() {
    pod=$1
    shift
    # shellcheck disable=SC2016 # expanded by the pod's shell, which reads the token from stdin
    printf '%s' "$VAULT_TOKEN" | kc exec -i "$pod" -c vault -- sh -c 'VAULT_TOKEN=$(cat) exec vault "$@"' vault "$@"
}

# healthy: autopilot says the raft cluster is healthy and has every server.
healthy() {
    active=$(leader)
    [ -n "$active" ] || return 1
    vault_in "$active" operator raft autopilot state -format=json |
        jq -e --argjson n "$(replicas)" '.healthy == true and (.servers | length) == $n' >/dev/null
}

replace() {
    log "replacing $1 (revision $(pod_revision "$1") -> $revision)"
    kc delete pod "$1" --wait=true >/dev/null
    if ! retry "$ATTEMPTS" "$PAUSE" current "$1"; then
        log "$1 did not come back Ready on revision $revision: see kubectl -n $NAMESPACE describe pod $1 and its logs"
        exit 1
    fi
    if [ -n "$ha" ] && ! retry "$ATTEMPTS" "$PAUSE" healthy; then
        log "raft is not healthy after replacing $1: stopping here (vault operator raft autopilot state)"
        exit 1
    fi
    log "$1 is back: Ready on revision $revision${ha:+, raft healthy}"
}

revision=$(update_revision)
stale=""
for pod in $(server_pods); do
    [ "$(pod_revision "$pod")" = "$revision" ] || stale="$stale $pod"
done

case "${1:-rollout}" in
    check)
        if [ -n "$stale" ]; then
            log "pods on an old spec:$stale (current revision $revision): run scripts/vault-rollout.sh"
            exit 3
        fi
        log "every Vault pod runs revision $revision"
        exit 0
        ;;
    rollout) ;;
    *)
        echo "usage: $0 [check|rollout]" >&2
        exit 64
        ;;
esac

if [ -z "$stale" ]; then
    log "every Vault pod runs revision $revision; nothing to do"
    exit 0
fi

old_leader=$(leader)
ha=""
if [ -n "$old_leader" ]; then
    ha=1
    : "${VAULT_TOKEN:?VAULT_TOKEN must hold a token that may read raft autopilot state and step the leader down}"
    retry "$ATTEMPTS" "$PAUSE" healthy || {
        log "raft is not healthy before the rollout: fix that first"
        exit 1
    }
fi

# Followers first: the leader keeps serving while each of them restarts and rejoins.
for pod in $stale; do
    [ "$pod" = "$old_leader" ] || replace "$pod"
done

case "${ha:+ $stale }" in
    *" $old_leader "*)
        log "stepping the leader $old_leader down"
        vault_in "$old_leader" operator step-down >/dev/null
        new_leader() {
            now=$(leader)
            [ -n "$now" ] && [ "$now" != "$old_leader" ]
        }
        retry "$ATTEMPTS" "$PAUSE" new_leader
        log "$(leader) leads now"
        replace "$old_leader"
        ;;
esac
log "done: every Vault pod runs revision $revision"
