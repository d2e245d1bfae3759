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
# every server. Needs kubectl (the stack's kubeconfig) and jq. No root token: the script logs in to Vault
# as the bootstrapped vault-operator role (Kubernetes auth; its policy reads
# sys/storage/raft/autopilot/state and updates sys/step-down, nothing else) with a short-lived token of
# the vault-operator service account that it asks the API server for (`kubectl create token`, Vault's
# audience, 10 minutes). Who may do that is Kubernetes RBAC: the vault-operator Role in Vault's
# namespace (docs/operations.md, "Roll out a Vault change"). VAULT_TOKEN, when set, is used instead
# (break glass). Tokens go to the vault CLI in the pod on stdin, never as an argument. A dev-mode Vault
# (one pod, no leader) is simply replaced; the dev reconciler configures it again.
set -eu

NAMESPACE="${NAMESPACE:-vault}"
RELEASE="${RELEASE:-vault}"
ATTEMPTS="${ATTEMPTS:-120}"
PAUSE="${PAUSE:-5}"
OPERATOR_ROLE="${OPERATOR_ROLE:-vault-operator}"
OPERATOR_SERVICE_ACCOUNT="${OPERATOR_SERVICE_ACCOUNT:-vault-operator}"
TOKEN_AUDIENCE="${TOKEN_AUDIENCE:-vault}"
# Re-login after this many seconds: the role's Vault tokens live 30 minutes.
LOGIN_SECONDS="${LOGIN_SECONDS:-900}"
VAULT_TOKEN="${VAULT_TOKEN:-}"
SELECTOR="app.kubernetes.io/name=vault,app.kubernetes.io/instance=${RELEASE},component=server"

# log and retry; vault_exec and vault_exec_token (the CLI in a server pod, through kc).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib-kubectl.sh
. "$(dirname "$0")/lib-kubectl.sh"
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

# vault_in POD ARGS...: runs `vault ARGS` in POD's vault container with VAULT_TOKEN (on stdin).
vault_in() {
    printf '%s' "$VAULT_TOKEN" | vault_exec_token "$@"
}

# login POD: a Vault token for the operator role, from a fresh service account token (TokenRequest,
# the minimum 10 minutes) handed to `vault write` on stdin (jwt=-). Kept in VAULT_TOKEN.
logged_in_at=0
own_token=""
login() {
    jwt=$(kubectl --namespace "$NAMESPACE" create token "$OPERATOR_SERVICE_ACCOUNT" --audience "$TOKEN_AUDIENCE" --duration 10m) || {
        log "cannot create a token for service account $NAMESPACE/$OPERATOR_SERVICE_ACCOUNT: you need the vault-operator Role (docs/operations.md, 'Roll out a Vault change')"
        return 1
    }
    # vault_exec: a server container's own VAULT_TOKEN (the local ha stack's transit seal token, valid at
    # the unsealer only) must not go along with the login (lib-kubectl.sh).
    token=$(printf '%s' "$jwt" | vault_exec "$1" write -field=token auth/kubernetes/login role="$OPERATOR_ROLE" jwt=-) || {
        log "cannot log in to Vault as role $OPERATOR_ROLE: was it bootstrapped (docs/operations.md, 'Change a bootstrapped Vault policy')?"
        return 1
    }
    [ -n "$token" ] || return 1
    VAULT_TOKEN="$token"
    own_token=1
    logged_in_at=$(date +%s)
}

# token_for POD: makes sure VAULT_TOKEN holds a usable token (a break-glass one as given, or a recent login).
token_for() {
    if [ -n "$VAULT_TOKEN" ] && { [ -z "$own_token" ] || [ $(($(date +%s) - logged_in_at)) -lt "$LOGIN_SECONDS" ]; }; then
        return 0
    fi
    login "$1"
}

# healthy: autopilot says the raft cluster is healthy and has every server.
healthy() {
    active=$(leader)
    [ -n "$active" ] || return 1
    token_for "$active" || return 1
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
    retry 3 "$PAUSE" token_for "$old_leader" || {
        log "no Vault token for the rollout: stopping before any pod is touched"
        exit 1
    }
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
        token_for "$old_leader" || exit 1
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
if [ -n "$own_token" ] && active=$(leader) && [ -n "$active" ]; then
    vault_in "$active" token revoke -self >/dev/null 2>&1 || log "could not revoke the operator token (it expires on its own)"
fi
log "done: every Vault pod runs revision $revision"
