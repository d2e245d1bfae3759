#!/bin/sh
# Sets the rotation policy of Vault's unseal key through the Key Vault data plane. Run by `pulumi up`
# (a local command of the UnsealKey component) whenever the policy changes, on the deployer's machine
# with the deployer's Azure CLI login: ARM creates the key once and never updates it, so this is the
# only path by which a changed policy reaches Azure.
#   VAULT_NAME  the unseal Key Vault
#   KEY_NAME    the key
#   POLICY      the policy as JSON (lifetimeActions, attributes)
# The deployer's Key Vault Crypto Officer role on the key is new on the first run: retried while it
# propagates. Afterwards the policy is read back and compared, so a silent no-op fails here.
set -eu
: "${VAULT_NAME:?VAULT_NAME must name the unseal Key Vault}"
: "${KEY_NAME:?KEY_NAME must name the unseal key}"
: "${POLICY:?POLICY must hold the rotation policy as JSON}"
ATTEMPTS="${ATTEMPTS:-30}"
PAUSE="${PAUSE:-10}"

# log and retry.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
LOG_TAG=unseal-key-rotation-policy

set_policy() {
    az keyvault key rotation-policy update --vault-name "$VAULT_NAME" --name "$KEY_NAME" --value "$POLICY" --output none
}

# The rotate trigger as Key Vault reports it (empty when the policy does not rotate).
rotate_trigger() {
    az keyvault key rotation-policy show --vault-name "$VAULT_NAME" --name "$KEY_NAME" \
        --query "lifetimeActions[?action.type=='Rotate' || action.type=='rotate'].trigger.timeAfterCreate | [0]" --output tsv
}

wanted=$(printf '%s' "$POLICY" | sed -n 's/.*"timeAfterCreate":"\([^"]*\)".*/\1/p')
retry "$ATTEMPTS" "$PAUSE" set_policy
actual=$(retry "$ATTEMPTS" "$PAUSE" rotate_trigger)
if [ "$actual" != "$wanted" ]; then
    log "the rotation policy of $VAULT_NAME/$KEY_NAME rotates after '${actual:-never}', expected '${wanted:-never}'"
    exit 1
fi
log "rotation policy of $VAULT_NAME/$KEY_NAME set: rotate after ${wanted:-never (no automatic rotation)}"
