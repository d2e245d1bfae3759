# shellcheck shell=sh
# The Vault CLI in a server pod, through `kubectl exec`, for the scripts an operator or CI runs against a
# cluster (scripts/vault-rollout.sh, scripts/vault-raft-restore.sh, .github/scripts/e2e-vault.sh,
# .github/scripts/e2e-smoke.sh). Kept
# apart from lib.sh on purpose: lib.sh is shipped into every Job's script ConfigMap (components/
# jobScripts.ts), where no kubectl runs, and a change to it changes those ConfigMaps.
#
# The caller defines kc ARGS...: kubectl with the Vault namespace (and whatever else it needs).
#
# Why two helpers and no bare `kc exec POD -c vault -- vault ...`: a server container of the local ha
# stack carries a VAULT_TOKEN of its own, the transit seal's token (components/platform/vault.ts,
# VAULT_TRANSIT_TOKEN_ENV), valid at the unsealer only. The CLI in the container picks it up from the
# environment, so a call that means "no token" or "this token" must say so: vault_exec drops it,
# vault_exec_token replaces it. (A call that means the seal's token on purpose, e.g. the e2e's lookup of
# it at the unsealer, is the one exception and says so where it is made.)

# vault_exec POD ARGS...: `vault ARGS` in POD's vault container without any token (busybox env -u); stdin
# goes to the CLI (`-` values).
vault_exec() {
    vault_exec_pod=$1
    shift
    kc exec -i "$vault_exec_pod" -c vault -- env -u VAULT_TOKEN vault "$@"
}

# vault_exec_token POD ARGS...: `vault ARGS` in POD's vault container with VAULT_TOKEN read from stdin
# (the caller pipes the token in), never an argument, never in a command line.
vault_exec_token() {
    vault_exec_pod=$1
    shift
    # shellcheck disable=SC2016 # expanded by the pod's shell, which reads the token from stdin
    kc exec -i "$vault_exec_pod" -c vault -- sh -c 'VAULT_TOKEN=$(cat) exec vault "$@"' vault "$@"
}
