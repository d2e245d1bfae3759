#!/bin/sh
# The unsealer Vault that auto-unseals the local stack's ha Vault through its transit seal
# (components/platform/vaultUnsealer.ts). Two phases, in the Vault image (busybox sh, no jq):
#
# unseal (the sidecar of the unsealer's pod, for as long as the pod runs): the unsealer is a one-node
#   Vault with file storage on its own claim, so its transit key outlives a restart, a rescheduling and
#   an image bump. Its own seal is Shamir with one share: on the first start (and only while no ha
#   server is initialised: an empty unsealer beside one means the key is lost) it initialises itself
#   (`vault operator init -key-shares=1 -key-threshold=1`) and keeps the unseal key on the claim under
#   KEY_DIR (beside the data: the unsealer is the local stand-in for Key Vault, no root of trust of its
#   own); after every start it unseals itself from that file (sys/unseal is unauthenticated). Once, right
#   after the initialisation, it gives the generated root token's power to a token whose ID is
#   ROOT_TOKEN (the value Pulumi keeps in the unsealer's root-token Secret, read by the setup Job alone),
#   the way `vault server -dev` does for VAULT_DEV_ROOT_TOKEN_ID (hashicorp/vault command/server.go,
#   "dev-gen-root": auth/token/create with id, policies root, no_parent), and revokes the generated one.
#   It also keeps the seal's token alive (ensure_seal_token, below): the servers renew it only if their
#   first renewal at start succeeds, so nothing else is sure to. The seal status is checked every pass
#   (UNSEAL_INTERVAL_SECONDS); the token, which needs two CLI starts under the sidecar's small CPU
#   limit, once every SEAL_TOKEN_CHECK_SECONDS, right after every unseal, and on the pass after a
#   check that did not settle it.
#
# setup (a Job at `pulumi up`): the transit secrets engine at TRANSIT_MOUNT, the key TRANSIT_KEY, a
#   policy that may only encrypt and decrypt with that key (hashicorp/vault
#   website/content/docs/configuration/seal/transit.mdx, "Authentication": update on
#   <mount>/encrypt/<key> and <mount>/decrypt/<key>), and the seal's token: an orphan, periodic token
#   of that policy whose ID is SEAL_TOKEN, the value the ha Vault's pods read from the same Secret
#   (ensure_seal_token, which the sidecar runs too).
#   Giving the token its ID (auth/token/create-orphan `id`, root only) keeps the Secret Pulumi's:
#   nothing here writes to Kubernetes. Every step is idempotent but one: a MISSING transit key is
#   created only while no server of the ha Vault (SERVER_ADDRS) is initialised. The servers' root key
#   is wrapped by that key (seal/transit.mdx: the seal encrypts and decrypts the root key with
#   key_name); a new key of the same name can never unwrap it, so creating one would hide the loss
#   until the next server restart, when that server stays sealed for good. The Job fails instead,
#   naming the servers and the way out (docs/local.md).
#
# Tokens go to the CLI on stdin (`-` values) or in its environment, never as arguments, never printed.
# Every CLI call runs under `timeout` (busybox's, in the Vault image: hashicorp/vault Dockerfile, FROM
# alpine:3): the CLI has been seen to hang near a 64 MB limit (hashicorp/vault#14039), and a hung call
# would stop the sidecar's loop for good; killed, the pass fails and the next one retries. One call is
# not repeatable and gets a long limit instead (VAULT_INIT_TIMEOUT_SECONDS): `vault operator init`,
# whose answer is the only copy of the unseal key and the root token (init_unsealer).
set -eu

# log and retry.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
LOG_TAG=vault-unsealer
: "${VAULT_CLI_TIMEOUT_SECONDS:=30}"
T=$VAULT_CLI_TIMEOUT_SECONDS
: "${VAULT_INIT_TIMEOUT_SECONDS:=300}"

# vault_status ARGS...: `vault status` under the CLI's time limit, named so that retry's log names it.
vault_status() {
    timeout "$T" vault status "$@"
}

# initialised JSON: whether a `vault status -format=json` output says "initialized": true.
initialised() {
    printf '%s' "$1" | tr -d ' \n' | grep -q '"initialized":true'
}

# initialised_servers: the addresses in SERVER_ADDRS whose Vault says it is initialised. A server
# whose name does not resolve does not exist (the release is not installed yet: the first `up`, or
# after `destroy`; the chart's headless Service publishes not-ready pods too, vault-helm
# templates/server-headless-service.yaml publishNotReadyAddresses: true, so a sealed or starting
# server resolves; Go's resolver reports NXDOMAIN as "no such host", net/net.go errNoSuchHost); any
# other failure to answer means "unknown", and the caller fails rather than
# guess. VAULT_CACERT (the internal CA) verifies them.
initialised_servers() {
    for addr in $SERVER_ADDRS; do
        s_rc=0
        # The unsealer's root token stays here: seal-status needs none.
        s_out=$(env -u VAULT_TOKEN VAULT_ADDR="$addr" timeout "$T" vault status -format=json 2>&1) || s_rc=$?
        case "$s_rc" in
        0 | 2) if initialised "$s_out"; then echo "$addr"; fi ;;
        *)
            case "$s_out" in
            *"no such host"*) ;;
            *)
                log "FAILED: cannot tell whether the Vault server at $addr is initialised: $s_out"
                return 1
                ;;
            esac
            ;;
        esac
    done
}

# ensure_seal_token ADMIN_TOKEN: the seal's token (ID SEAL_TOKEN, policy SEAL_POLICY, period
# SEAL_TOKEN_PERIOD_SECONDS) exists and has at least half its period left; ADMIN_TOKEN (the unsealer's
# root) looks it up, renews it or creates it. Run by the setup Job and by the sidecar (see settle).
# Fails (1) when the token is not settled yet: the caller tries again soon.
#
# Why the sidecar, and not the servers, keeps it alive: a periodic token lives as long as it is renewed
# within its period (hashicorp/vault website/content/docs/concepts/tokens.mdx, "Periodic tokens"). Each
# ha server renews it once when its seal starts and, only if that succeeds, keeps renewing it
# (hashicorp/go-kms-wrapping wrappers/transit/transit_client.go, newTransitClient: RenewTokenAsSelf,
# else "unable to renew token, disabling renewal"). After a restart of the whole cluster (kind's nodes
# stopped and started) the servers start while the unsealer is still sealed: their first renewal fails,
# none renews the token again, and a day later it expires; the next server start then stays sealed. A
# cluster stopped for longer than the period finds the token already expired (the unsealer revokes
# expired tokens when it unseals). So the sidecar, which holds root and runs as long as the unsealer,
# renews the token itself once half its period is gone, and creates it again, with the same ID (the
# Secret the servers read is unchanged), when the lookup finds none. A token with no expiry at all
# would need root's policy (only root tokens may have none: tokens.mdx, "Token Time-To-Live"); the
# periodic one kept alive here stays encrypt/decrypt-only.
#
# A lookup that fails for another reason (the unsealer busy) makes the create fail too (an ID in use is
# refused: website/content/api-docs/auth/token.mdx, create, `id`); the next pass tries again.
#
# Expired is not yet gone: auth/token/lookup reads the token "tainted" (hashicorp/vault
# vault/token_store.go, handleLookup: lookupTainted, i.e. lookupInternal(ctx, id, false, true)), and
# lookupInternal returns an entry past its expiry when tainted ("Only return if we're not past lease
# expiration (or if tainted is true), otherwise assume expmgr is working on revocation"); handleLookup
# then reports its ttl from the lease's expire time, negative once it has passed. Until the expiration
# manager revokes it (at once when its timer fires; after an unseal, once it has restored the leases),
# the ID is still taken and a create is refused. So a ttl of 0 or less is logged as what it is and
# waited out: the next check (the next pass) finds it revoked and creates it again.
ensure_seal_token() {
    e_ttl=$(printf '%s' "$SEAL_TOKEN" | VAULT_TOKEN="$1" timeout "$T" vault write -field=ttl auth/token/lookup token=- 2>/dev/null) || e_ttl=""
    case "$e_ttl" in
    0 | -[0-9]*)
        log "the seal's token has expired (ttl ${e_ttl}s) but is not revoked yet: waiting for the unsealer's expiration manager to revoke it, then creating it again"
        return 1
        ;;
    "" | *[!0-9]*)
        # -field=token_accessor: see adopt_root_token (an auth response's fields, command/util.go RawField).
        if ! printf '%s' "$SEAL_TOKEN" | VAULT_TOKEN="$1" timeout "$T" vault write -field=token_accessor auth/token/create-orphan \
            id=- policies="$SEAL_POLICY" period="${SEAL_TOKEN_PERIOD_SECONDS}s" display_name=transit-seal >/dev/null; then
            # Created meanwhile by the other caller (the sidecar and the setup Job both run this)?
            if printf '%s' "$SEAL_TOKEN" | VAULT_TOKEN="$1" timeout "$T" vault write -field=ttl auth/token/lookup token=- >/dev/null 2>&1; then
                log "the seal's token exists"
                return 0
            fi
            log "FAILED: the seal's token does not answer a lookup and could not be created; retrying"
            return 1
        fi
        log "the seal's token created with the Secret's ID: periodic (${SEAL_TOKEN_PERIOD_SECONDS}s), policy $SEAL_POLICY"
        ;;
    *)
        if [ "$e_ttl" -lt $((SEAL_TOKEN_PERIOD_SECONDS / 2)) ]; then
            # auth/token/renew (root may renew any token): a periodic token's TTL goes back to its period.
            printf '%s' "$SEAL_TOKEN" | VAULT_TOKEN="$1" timeout "$T" vault write -field=token_duration auth/token/renew token=- >/dev/null || {
                log "FAILED: could not renew the seal's token (${e_ttl}s left); retrying"
                return 1
            }
            log "the seal's token renewed (${e_ttl}s were left of ${SEAL_TOKEN_PERIOD_SECONDS}s)"
        fi
        ;;
    esac
}

# ---- unseal ----------------------------------------------------------------------------------------

UNSEAL_KEY_FILE=unseal-key
PENDING_ROOT_FILE=init-root-token

# init_unsealer: initialise the empty unsealer; the unseal key and the generated root token go to
# KEY_DIR (0600, written whole through a temporary file) before anything else uses them.
init_unsealer() {
    # Not under the short limit: killed after the server finished, the key and the token would be lost
    # with the CLI's answer, and the unsealer initialised for good (the next pass finds it initialised
    # without a key and stays down). VAULT_INIT_TIMEOUT_SECONDS only ends a truly hung call.
    # The CLI's own client gives up after 60 s (hashicorp/vault api/client.go DefaultConfig: Timeout 60 s,
    # VAULT_CLIENT_TIMEOUT overrides it), so the long limit is the client's too.
    out=$(VAULT_CLIENT_TIMEOUT="${VAULT_INIT_TIMEOUT_SECONDS}s" timeout "$VAULT_INIT_TIMEOUT_SECONDS" vault operator init -key-shares=1 -key-threshold=1 -format=json) || return 1
    flat=$(printf '%s' "$out" | tr -d ' \n')
    key=$(printf '%s' "$flat" | sed -n 's/.*"unseal_keys_b64":\["\([^"]*\)".*/\1/p')
    root=$(printf '%s' "$flat" | sed -n 's/.*"root_token":"\([^"]*\)".*/\1/p')
    if [ -z "$key" ] || [ -z "$root" ]; then
        log "FAILED: vault operator init gave no unseal key or root token"
        return 1
    fi
    # The key first: killed between the two, a lost root token can be generated again with the key
    # (vault operator generate-root), a lost key never.
    printf '%s' "$key" >"$KEY_DIR/$UNSEAL_KEY_FILE.tmp"
    mv "$KEY_DIR/$UNSEAL_KEY_FILE.tmp" "$KEY_DIR/$UNSEAL_KEY_FILE"
    printf '%s' "$root" >"$KEY_DIR/$PENDING_ROOT_FILE.tmp"
    mv "$KEY_DIR/$PENDING_ROOT_FILE.tmp" "$KEY_DIR/$PENDING_ROOT_FILE"
    log "initialised the unsealer (one Shamir share, kept on its claim)"
}

# adopt_root_token: the token with ID ROOT_TOKEN gets root (created with the generated root token
# unless it already works), then the generated root token is revoked and forgotten.
adopt_root_token() {
    generated=$(cat "$KEY_DIR/$PENDING_ROOT_FILE")
    if VAULT_TOKEN="$ROOT_TOKEN" timeout "$T" vault token lookup >/dev/null 2>&1; then
        log "the unsealer's root token (the Secret's ID) already works"
    else
        # -field=token_accessor: create-orphan answers with an auth block, whose fields the CLI names token,
        # token_accessor, token_duration, token_renewable, token_policies (hashicorp/vault command/util.go,
        # RawField); any other name is looked up in the (empty) data and the CLI exits 1 after the token
        # was created.
        printf '%s' "$ROOT_TOKEN" | VAULT_TOKEN="$generated" timeout "$T" vault write -field=token_accessor auth/token/create-orphan \
            id=- policies=root no_default_policy=true display_name=unsealer-root >/dev/null || return 1
        log "the unsealer's root token created with the Secret's ID"
    fi
    VAULT_TOKEN="$generated" timeout "$T" vault token revoke -self >/dev/null 2>&1 || true
    rm -f "$KEY_DIR/$PENDING_ROOT_FILE"
    log "the generated root token is revoked"
}

# settle: one pass. Exit codes of `vault status`: 0 unsealed, 2 sealed, 1 no answer (command/status.go).
# passes_left counts the passes to the next check of the seal's token (0: this one).
settle() {
    rc=0
    out=$(timeout "$T" vault status -format=json 2>/dev/null) || rc=$?
    case "$rc" in
    0) ;;
    2)
        if ! initialised "$out"; then
            # An empty unsealer beside an initialised ha Vault: the claim that held the key is gone.
            # A new one would hand out a new key under the old name; stay down and say so instead.
            servers=$(initialised_servers) || return 1
            if [ -n "$servers" ]; then
                log "FAILED: this unsealer is empty (its claim is new) but the ha Vault is already initialised ($(echo "$servers" | tr '\n' ' ' | sed 's/ $//')): the transit key its root key is wrapped by is lost. Not initialising. Start over with 'pulumi destroy' and 'pulumi up' (docs/local.md, \"The unsealer\")"
                return 1
            fi
            init_unsealer || return 1
        elif [ ! -s "$KEY_DIR/$UNSEAL_KEY_FILE" ]; then
            log "FAILED: the unsealer is initialised but $KEY_DIR holds no unseal key; it can never be unsealed (docs/local.md, \"The unsealer\")"
            return 1
        fi
        timeout "$T" vault write -field=sealed sys/unseal key=@"$KEY_DIR/$UNSEAL_KEY_FILE" >/dev/null || return 1
        log "unsealed"
        ;;
    *) return 0 ;;
    esac
    if [ -e "$KEY_DIR/$PENDING_ROOT_FILE" ]; then adopt_root_token || return 1; fi
    : >"$READY_FILE"
    # The seal's token: right after an unseal (rc 2), every SEAL_TOKEN_CHECK_PASSES passes, and on the
    # pass after a check that did not settle it (passes_left stays 0).
    if [ "$rc" -eq 2 ] || [ "$passes_left" -le 0 ]; then
        ensure_seal_token "$ROOT_TOKEN" || {
            passes_left=0
            return 1
        }
        passes_left=$SEAL_TOKEN_CHECK_PASSES
    fi
}

unseal_phase() {
    : "${VAULT_ADDR:?}" "${ROOT_TOKEN:?}" "${KEY_DIR:?}" "${READY_FILE:?}" "${SERVER_ADDRS:?}"
    : "${SEAL_TOKEN:?}" "${SEAL_POLICY:?}" "${SEAL_TOKEN_PERIOD_SECONDS:?}"
    : "${UNSEAL_INTERVAL_SECONDS:=5}"
    # The one constant of the token's check: how often, in seconds (the pass count derives from it).
    : "${SEAL_TOKEN_CHECK_SECONDS:=60}"
    SEAL_TOKEN_CHECK_PASSES=$((SEAL_TOKEN_CHECK_SECONDS / UNSEAL_INTERVAL_SECONDS))
    [ "$SEAL_TOKEN_CHECK_PASSES" -ge 1 ] || SEAL_TOKEN_CHECK_PASSES=1
    passes_left=0
    unset VAULT_TOKEN
    umask 077
    mkdir -p "$KEY_DIR"
    while :; do
        settle || true
        passes_left=$((passes_left - 1))
        sleep "$UNSEAL_INTERVAL_SECONDS"
    done
}

# ---- setup -----------------------------------------------------------------------------------------

setup_phase() {
    : "${VAULT_ADDR:?}" "${VAULT_TOKEN:?}" "${SEAL_TOKEN:?}" "${TRANSIT_MOUNT:?}" "${TRANSIT_KEY:?}" "${SEAL_POLICY:?}"
    : "${SERVER_ADDRS:?}" "${SEAL_TOKEN_PERIOD_SECONDS:?}"
    mount="${TRANSIT_MOUNT%/}"

    if ! retry 60 5 vault_status >/dev/null; then
        log "FAILED: the unsealer at $VAULT_ADDR did not answer (or is still sealed)"
        exit 1
    fi

    if timeout "$T" vault secrets list -format=json | grep -q "\"$mount/\""; then
        log "transit engine at $mount/ already enabled"
    else
        timeout "$T" vault secrets enable -path="$mount" transit >/dev/null
        log "transit engine enabled at $mount/"
    fi

    if timeout "$T" vault read -format=json "$mount/keys/$TRANSIT_KEY" >/dev/null 2>&1; then
        log "transit key $TRANSIT_KEY already exists"
    else
        servers=$(initialised_servers) || exit 1
        if [ -n "$servers" ]; then
            log "FAILED: the transit key $TRANSIT_KEY is missing at the unsealer, but the ha Vault is already initialised ($(echo "$servers" | tr '\n' ' '| sed 's/ $//')): its root key is wrapped by the lost key, which no new key can replace. Not creating one. The unsealer's data (its claim) was lost; the ha Vault's data cannot be unsealed again: start over with 'pulumi destroy' and 'pulumi up' (docs/local.md, \"The unsealer\")"
            exit 1
        fi
        timeout "$T" vault write -f "$mount/keys/$TRANSIT_KEY" >/dev/null
        log "transit key $TRANSIT_KEY created (no ha Vault server is initialised yet)"
    fi

    # Written every run: the policy is the same text each time.
    timeout "$T" vault policy write "$SEAL_POLICY" - >/dev/null <<EOF
path "$mount/encrypt/$TRANSIT_KEY" {
  capabilities = ["update"]
}
path "$mount/decrypt/$TRANSIT_KEY" {
  capabilities = ["update"]
}
EOF
    log "policy $SEAL_POLICY: encrypt and decrypt with $TRANSIT_KEY only"

    # Retried: a token expired but not yet revoked settles within moments (ensure_seal_token).
    retry 24 5 ensure_seal_token "$VAULT_TOKEN" || exit 1
    log "done: the unsealer serves transit key $TRANSIT_KEY at $mount/"
}

case "${1:-}" in
unseal) unseal_phase ;;
setup) setup_phase ;;
*)
    log "usage: $0 unseal|setup"
    exit 2
    ;;
esac
