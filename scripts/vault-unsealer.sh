#!/bin/sh
# Prepares the unsealer Vault that auto-unseals the local stack's ha Vault through its transit seal
# (components/platform/vaultUnsealer.ts): the transit secrets engine at TRANSIT_MOUNT, the key
# TRANSIT_KEY, a policy that may only encrypt and decrypt with that key (hashicorp/vault
# website/content/docs/configuration/seal/transit.mdx, "Authentication": update on
# <mount>/encrypt/<key> and <mount>/decrypt/<key>), and the seal's token: an orphan, periodic token of
# that policy whose ID is SEAL_TOKEN, the value the ha Vault's pods read from the same Secret. Giving
# the token its ID (auth/token/create-orphan `id`, root only) keeps the Secret Pulumi's: nothing here
# writes to Kubernetes.
#
# Runs as a Job in the Vault image with the unsealer's root token (VAULT_TOKEN) and its address and CA
# (VAULT_ADDR, VAULT_CACERT). Every step is idempotent: a re-run on a prepared unsealer changes nothing.
# POSIX sh (busybox). Tokens go to the CLI on stdin (`-` values), never as arguments, never printed.
set -eu

: "${VAULT_ADDR:?}" "${VAULT_TOKEN:?}" "${SEAL_TOKEN:?}" "${TRANSIT_MOUNT:?}" "${TRANSIT_KEY:?}" "${SEAL_POLICY:?}"
: "${SEAL_TOKEN_PERIOD:=24h}"

# log and retry.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
LOG_TAG=vault-unsealer

mount="${TRANSIT_MOUNT%/}"

if ! retry 60 5 vault status >/dev/null; then
    log "FAILED: the unsealer at $VAULT_ADDR did not answer"
    exit 1
fi

if vault secrets list -format=json | grep -q "\"$mount/\""; then
    log "transit engine at $mount/ already enabled"
else
    vault secrets enable -path="$mount" transit >/dev/null
    log "transit engine enabled at $mount/"
fi

if vault read -format=json "$mount/keys/$TRANSIT_KEY" >/dev/null 2>&1; then
    log "transit key $TRANSIT_KEY already exists"
else
    vault write -f "$mount/keys/$TRANSIT_KEY" >/dev/null
    log "transit key $TRANSIT_KEY created"
fi

# Written every run: the policy is the same text each time.
vault policy write "$SEAL_POLICY" - >/dev/null <<EOF
path "$mount/encrypt/$TRANSIT_KEY" {
  capabilities = ["update"]
}
path "$mount/decrypt/$TRANSIT_KEY" {
  capabilities = ["update"]
}
EOF
log "policy $SEAL_POLICY: encrypt and decrypt with $TRANSIT_KEY only"

if printf '%s' "$SEAL_TOKEN" | vault write -field=policies auth/token/lookup token=- >/dev/null 2>&1; then
    log "the seal's token exists"
else
    # With the default policy: the seal renews its token (renew-self) at start and then on its own
    # (hashicorp/go-kms-wrapping wrappers/transit/transit_client.go, RenewTokenAsSelf and a lifetime
    # watcher); a periodic token that is renewed never expires.
    printf '%s' "$SEAL_TOKEN" | vault write -field=accessor auth/token/create-orphan \
        id=- policies="$SEAL_POLICY" period="$SEAL_TOKEN_PERIOD" display_name=transit-seal >/dev/null
    log "the seal's token created: periodic ($SEAL_TOKEN_PERIOD, renewed by the seal), policy $SEAL_POLICY"
fi
log "done: the unsealer serves transit key $TRANSIT_KEY at $mount/"
