#!/usr/bin/env bash
# The local stack's ha Vault against a real Vault (.github/workflows/e2e.yml, matrix vault: ha; issue 20
# item 8), after `pulumi up` and the smoke tests, before the idempotency gate:
#   1. every server pod is initialised, unsealed by the transit seal (recovery keys, not unseal keys),
#      on raft, and serves TLS from the internal CA (the CLI in the pod verifies 127.0.0.1 against it);
#   2. a root token from the recovery keys the init Job kept (docs/operations.md, "Break glass"): raft
#      has three voters, the audit device is on, the services hold database leases;
#   3. scripts/vault-rollout.sh replaces the pods one at a time after a pod template change (what an
#      image bump does), logging in as the vault-operator role; each pod comes back unsealed on its own;
#   4. a marker is written, the snapshot CronJob's Job saves a snapshot onto its volume, the marker is
#      changed, the snapshot is restored by the runbook's own command, scripts/vault-raft-restore.sh
#      (docs/operations.md, "Restore Vault from a raft snapshot": `raft snapshot restore` in the active
#      pod), and the marker reads as before. No FORCE_RESTORE: the snapshot is this cluster's, sealed by the same
#      transit key, so Vault's unforced check (the running seal opens the snapshot's sealed hashes,
#      hashicorp/vault vault/logical_system_raft.go) passes, and CI runs the runbook's default path;
#   5. the unsealer restarts (its pod deleted: back Ready, unsealed from its claim) and a server started
#      after it unseals; the seal's token answers a lookup from every server; the token is then revoked
#      at the unsealer (what its expiry after a stopped cluster does) and the unsealer's sidecar must
#      create it again with the Secret's ID, after which a restarted server unseals again (docs/local.md,
#      "The unsealer");
#   6. the root token is revoked.
# Every wait is bounded. Secrets (recovery keys, the one-time password, the root token) are masked in the
# log and reach the vault CLI in the pod on stdin, never as arguments. Needs kubectl and jq.
set -euo pipefail

ns=${VAULT_NAMESPACE:-vault}
replicas=${VAULT_REPLICAS:-3}
repo_root=$(cd "$(dirname "$0")/../.." && pwd)
fail() {
  echo "::error::$*"
  exit 1
}
# kc is what scripts/lib-kubectl.sh's vault_exec and vault_exec_token call.
kc() { kubectl -n "$ns" "$@"; }
kv() { kc "$@"; }
pods() { for i in $(seq 0 $((replicas - 1))); do echo "vault-$i"; done; }
leader() { kv get pods -l app.kubernetes.io/name=vault,component=server,vault-active=true -o jsonpath='{.items[*].metadata.name}'; }

# vault_exec POD ARGS... (no token: the container's own VAULT_TOKEN is the transit seal's, valid at the
# unsealer only) and vault_exec_token POD ARGS... (the token on stdin).
# shellcheck source-path=SCRIPTDIR source=../../scripts/lib-kubectl.sh
. "$repo_root/scripts/lib-kubectl.sh"
# in_pod POD ARGS...: `vault ARGS` in POD's vault container without a token.
in_pod() { vault_exec "$@"; }
# as_root POD ARGS...: `vault ARGS` in POD with the root token (on stdin).
as_root() { printf '%s' "$root" | vault_exec_token "$@"; }

# 1. Status of every pod, without a token.
for pod in $(pods); do
  kv wait --for=condition=Ready "pod/$pod" --timeout=300s >/dev/null || fail "$pod is not Ready"
  status=$(in_pod "$pod" status -format=json) || fail "$pod: vault status failed (sealed, or TLS not verified)"
  jq -e '.initialized and (.sealed | not) and .type == "transit" and .recovery_seal and .storage_type == "raft"' <<<"$status" >/dev/null ||
    fail "$pod: expected initialised, unsealed by transit, raft storage: $status"
  echo "$pod: initialised, unsealed by the transit seal, raft, TLS verified against the internal CA"
done

# 2. A root token from the recovery keys (break glass), as the operator would.
keys_json=$(kv get secret vault-recovery-keys -o jsonpath='{.data.recovery-keys}' | base64 -d)
jq -e '.recovery_keys_b64 | length > 0' <<<"$keys_json" >/dev/null || fail "vault-recovery-keys holds no recovery keys"
threshold=$(jq -r .recovery_keys_threshold <<<"$keys_json")
mapfile -t keys < <(jq -r '.recovery_keys_b64[]' <<<"$keys_json")
for key in "${keys[@]}"; do echo "::add-mask::$key"; done
active=$(leader)
[ -n "$active" ] || fail "no active Vault pod (vault-active=true)"
in_pod "$active" operator generate-root -cancel >/dev/null 2>&1 || true
attempt=$(in_pod "$active" operator generate-root -init -format=json)
nonce=$(jq -r .nonce <<<"$attempt")
otp=$(jq -r .otp <<<"$attempt")
echo "::add-mask::$otp"
encoded=""
for key in "${keys[@]:0:$threshold}"; do
  progress=$(printf '%s' "$key" | in_pod "$active" operator generate-root -nonce="$nonce" -format=json -)
  # api.GenerateRootStatusResponse: encoded_token (encoded_root_token in older servers) once complete.
  encoded=$(jq -r '[.encoded_token, .encoded_root_token] | map(select(. != null and . != "")) | first // ""' <<<"$progress")
done
[ -n "$encoded" ] || fail "generate-root did not complete with $threshold recovery keys"
echo "::add-mask::$encoded"
# Table format: the decoded token alone (hashicorp/vault command/operator_generate_root.go, decode: PrintRaw).
root=$(in_pod "$active" operator generate-root -decode="$encoded" -otp="$otp" | tr -d '[:space:]')
if [ -z "$root" ]; then fail "could not decode the root token"; fi
echo "::add-mask::$root"
echo "a root token regenerated from $threshold of the recovery keys"

peers=$(as_root "$active" operator raft list-peers -format=json)
jq -e --argjson n "$replicas" '[.data.config.servers[] | select(.voter)] | length == $n' <<<"$peers" >/dev/null ||
  fail "raft: expected $replicas voters: $peers"
echo "raft: $replicas voters"
as_root "$active" audit list -format=json | jq -e 'has("stdout/")' >/dev/null || fail "no audit device at stdout/"
echo "audit: the stdout file device is on"
leases=$(as_root "$active" list -format=json sys/leases/lookup/database/creds/microservices-role) ||
  fail "Vault: no leases under database/creds/microservices-role"
jq -e 'length > 0' <<<"$leases" >/dev/null || fail "Vault: no leases under database/creds/microservices-role"
echo "Vault: $(jq length <<<"$leases") lease(s) under database/creds/microservices-role"

# 3. A rollout, one pod at a time: a pod template change (as an image bump makes) gives the StatefulSet a
# new revision that its OnDelete strategy does not roll; the script does, as vault-operator.
kv patch statefulset vault --type merge \
  -p "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"e2e/rollout\":\"$(date -u +%s)\"}}}}}" >/dev/null
code=0
"$repo_root/scripts/vault-rollout.sh" check || code=$?
[ "$code" = 3 ] || fail "vault-rollout.sh check: expected exit 3 (pods on an old spec), got $code"
NAMESPACE="$ns" "$repo_root/scripts/vault-rollout.sh"
"$repo_root/scripts/vault-rollout.sh" check || fail "vault-rollout.sh check: pods still on an old spec after the rollout"
for pod in $(pods); do
  in_pod "$pod" status -format=json | jq -e '(.sealed | not)' >/dev/null || fail "$pod: sealed after the rollout"
done
echo "rollout: every pod replaced one at a time, unsealed by the transit seal on its own"

# 4. Snapshot save and restore.
active=$(leader)
as_root "$active" secrets enable -path=e2e kv >/dev/null
as_root "$active" kv put e2e/marker value=before >/dev/null
# The CronJob is auto-named (vault-snapshot-<suffix>).
cronjob=$(kv get cronjobs -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | grep '^vault-snapshot' | head -n 1) ||
  fail "no vault-snapshot CronJob"
kv delete job e2e-snapshot --ignore-not-found >/dev/null
kv create job e2e-snapshot --from="cronjob/$cronjob" >/dev/null
kv wait --for=condition=complete job/e2e-snapshot --timeout=300s >/dev/null ||
  fail "the snapshot Job did not complete: $(kv logs job/e2e-snapshot --all-containers --tail=20 2>&1)"
kept=$(kv logs job/e2e-snapshot -c keep | sed -n 's/.* kept \(vault-[0-9TZ]*\.snap\) .*/\1/p' | tail -n 1)
[ -n "$kept" ] || fail "the snapshot Job logged no kept snapshot"
echo "snapshot: $kept saved by the CronJob's Job onto the vault-snapshots volume"
as_root "$active" kv put e2e/marker value=after >/dev/null

# The snapshot, read from its volume by a short-lived pod (restricted, as the Jobs), onto the runner.
kv delete pod e2e-snapshot-reader --ignore-not-found --wait=true >/dev/null
kv apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: e2e-snapshot-reader
  labels: { sidecar.istio.io/inject: "false" }
spec:
  restartPolicy: Never
  securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: RuntimeDefault } }
  containers:
    - name: reader
      image: $(kv get statefulset vault -o jsonpath='{.spec.template.spec.containers[?(@.name=="vault")].image}')
      command: ["sleep", "600"]
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: [ALL] } }
      volumeMounts: [{ name: snapshots, mountPath: /snapshots, readOnly: true }]
  volumes: [{ name: snapshots, persistentVolumeClaim: { claimName: vault-snapshots, readOnly: true } }]
EOF
kv wait --for=condition=Ready pod/e2e-snapshot-reader --timeout=180s >/dev/null || fail "the snapshot reader pod did not start"
snap=$(mktemp)
kv exec e2e-snapshot-reader -- cat "/snapshots/$kept" >"$snap"
kv delete pod e2e-snapshot-reader --wait=false >/dev/null
# The runbook's restore, verbatim (docs/operations.md, "Restore Vault from a raft snapshot", step 4),
# unforced (no FORCE_RESTORE): a rollback of the running cluster.
VAULT_TOKEN="$root" NAMESPACE="$ns" "$repo_root/scripts/vault-raft-restore.sh" "$snap"
rm -f "$snap"
marker=""
for _ in $(seq 1 30); do
  active=$(leader)
  if [ -n "$active" ] && marker=$(as_root "$active" kv get -field=value e2e/marker 2>/dev/null); then break; fi
  sleep 5
done
[ "$marker" = before ] || fail "after the restore e2e/marker reads '$marker', not the snapshot's 'before'"
echo "restore: $kept restored; the marker reads as it did when the snapshot was taken"
for pod in $(pods); do
  kv wait --for=condition=Ready "pod/$pod" --timeout=300s >/dev/null || fail "$pod is not Ready after the restore"
done
as_root "$active" secrets disable e2e >/dev/null

# 5. The unsealer restarted, and the seal's token lost: a server that starts afterwards still unseals.
unsealer_label=app=vault-unsealer
# The seal as the servers configure it (components/platform/vaultUnsealer.ts: the unsealer's Service;
# the internal CA in the server's TLS volume).
unsealer_addr="https://vault-unsealer.$ns.svc:8200"
server_ca=/vault/userconfig/tls/vault-tls-ca
# seal_token_ttl POD: the remaining TTL (seconds) of POD's seal token (its container's VAULT_TOKEN),
# looked up at the unsealer by the token itself; fails when the unsealer does not know it. Prints no token.
# The one exec of the vault CLI in a server that keeps the container's VAULT_TOKEN, on purpose: it is the
# token looked up (so not vault_exec, which drops it).
seal_token_ttl() {
  kv exec "$1" -c vault -- env VAULT_ADDR="$unsealer_addr" VAULT_CACERT="$server_ca" vault token lookup -field=ttl
}
# restart_server_pod POD: delete POD, wait for the StatefulSet's new one to be Ready (the chart's
# readiness probe passes only once unsealed), and require it unsealed by the transit seal.
restart_server_pod() {
  local pod=$1 uid new=""
  uid=$(kv get pod "$pod" -o jsonpath='{.metadata.uid}')
  kv delete pod "$pod" --wait=true >/dev/null
  for _ in $(seq 1 90); do
    new=$(kv get pod "$pod" -o jsonpath='{.metadata.uid}' 2>/dev/null || true)
    if [ -n "$new" ] && [ "$new" != "$uid" ]; then break; fi
    sleep 2
  done
  if [ -z "$new" ] || [ "$new" = "$uid" ]; then fail "$pod was not re-created after its deletion"; fi
  kv wait --for=condition=Ready "pod/$pod" --timeout=300s >/dev/null || fail "$pod did not come back Ready (unsealed) after its restart"
  in_pod "$pod" status -format=json | jq -e '.initialized and (.sealed | not) and .type == "transit"' >/dev/null ||
    fail "$pod: not unsealed by the transit seal after its restart"
}
standby() { pods | grep -vx "$(leader)" | head -n 1; }

old_unsealer=$(kv get pods -l "$unsealer_label" -o jsonpath='{.items[*].metadata.name}')
[ -n "$old_unsealer" ] || fail "no unsealer pod ($unsealer_label)"
kv delete pod -l "$unsealer_label" --wait=true >/dev/null
new_unsealer=""
for _ in $(seq 1 90); do
  new_unsealer=$(kv get pods -l "$unsealer_label" -o jsonpath='{.items[*].metadata.name}' | tr ' ' '\n' | grep -vx "$old_unsealer" | head -n 1 || true)
  [ -z "$new_unsealer" ] || break
  sleep 2
done
[ -n "$new_unsealer" ] || fail "the unsealer's Deployment made no new pod"
kv wait --for=condition=Ready "pod/$new_unsealer" --timeout=300s >/dev/null ||
  fail "the unsealer did not come back Ready: $(kv logs "$new_unsealer" -c unseal --tail=20 2>&1)"
echo "unsealer: its pod replaced; the new one unsealed itself from its claim"
for pod in $(pods); do
  ttl=$(seal_token_ttl "$pod") || fail "$pod: the seal's token does not answer a lookup at the unsealer"
  [ "$ttl" -gt 0 ] || fail "$pod: the seal's token has no TTL left ($ttl)"
done
echo "the seal's token answers a lookup from every server"
pod=$(standby)
restart_server_pod "$pod"
echo "$pod: restarted after the unsealer, unsealed by the transit seal"

# The token gone, as after a cluster stopped for longer than its period: the sidecar creates it again.
# shellcheck disable=SC2016 # expanded by the sidecar's shell: both tokens come from its environment
kv exec "$new_unsealer" -c unseal -- sh -c 'printf "%s" "$SEAL_TOKEN" | VAULT_TOKEN="$ROOT_TOKEN" vault write auth/token/revoke token=- >/dev/null'
echo "the seal's token revoked at the unsealer"
recreated=""
for _ in $(seq 1 30); do
  sleep 5
  if seal_token_ttl "$pod" >/dev/null 2>&1; then
    recreated=yes
    break
  fi
done
[ -n "$recreated" ] || fail "the unsealer's sidecar did not create the seal's token again: $(kv logs "$new_unsealer" -c unseal --tail=20 2>&1)"
kv logs "$new_unsealer" -c unseal | grep -q "the seal's token created with the Secret's ID" ||
  fail "the seal's token answers, but the sidecar logged no re-creation"
pod=$(standby)
restart_server_pod "$pod"
echo "the seal's token created again by the unsealer's sidecar; $pod restarted and unsealed with it"

# 6. No root token stays behind.
active=$(leader)
as_root "$active" token revoke -self >/dev/null
echo "the root token is revoked"
