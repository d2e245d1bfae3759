#!/usr/bin/env bash
# Smoke tests of a stack just brought up on kind (.github/workflows/e2e.yml): the services run with the
# Istio proxy and the Vault agent beside them, the API answers through the ingress gateway (its NodePort
# on a kind node, as a client reaches it, with the stack's host as SNI and Host header), products are seeded, an order
# round-trips, and Vault has issued MongoDB credentials under database/creds/microservices-role.
# Every wait is bounded. Needs pulumi (logged in, $STACK), kubectl, curl and jq.
set -euo pipefail

stack=${STACK:-local}
services=(product-service order-service)

output() { pulumi stack output "$1" --stack "$stack"; }
fail() {
  echo "::error::$*"
  exit 1
}

namespace=$(output appNamespace)
gateway_namespace=$(output ingressGatewayNamespace)
gateway_service=$(output ingressGatewayService)
host=$(output ingressHost)

for service in "${services[@]}"; do
  kubectl -n "$namespace" rollout status "deployment/$service" --timeout=300s
  # Istio 1.29 injects its proxy as a native sidecar (an init container that keeps running) where the
  # cluster supports it, so both lists are read.
  containers=$(kubectl -n "$namespace" get pods -l "app.kubernetes.io/instance=$service" \
    -o jsonpath='{range .items[*]}{.spec.containers[*].name} {.spec.initContainers[*].name}{"\n"}{end}')
  [ -n "$containers" ] || fail "$service: no pods"
  while read -r pod_containers; do
    grep -qw istio-proxy <<<"$pod_containers" || fail "$service: a pod without istio-proxy ($pod_containers)"
    grep -qw vault-agent <<<"$pod_containers" || fail "$service: a pod without the Vault agent ($pod_containers)"
  done <<<"$containers"
  echo "$service: running with istio-proxy and vault-agent"
done

# As a user would: through the gateway's Service on a node (local's gateway Service is a NodePort;
# kind's nodes are containers on the runner's Docker network, reachable at their InternalIP). Unlike a
# port-forward, this passes kube-proxy and the gateway's NetworkPolicy like any client.
node_ip=$(kubectl get nodes -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}')
port=$(kubectl -n "$gateway_namespace" get "service/$gateway_service" -o jsonpath='{.spec.ports[?(@.port==443)].nodePort}')
if [ -z "$node_ip" ] || [ -z "$port" ]; then fail "the gateway's NodePort or a node address is missing"; fi

# The gateway's certificate is the stack's self-signed one, hence -k; --resolve sends the host as SNI,
# which selects the gateway's HTTPS server, and as the Host header, which selects the route.
api() { curl -sS -k --max-time 10 --resolve "$host:$port:$node_ip" "$@"; }
url="https://$host:$port"

products=""
for _ in $(seq 1 30); do
  if products=$(api --fail "$url/api/products"); then break; fi
  products=""
  sleep 5
done
[ -n "$products" ] || fail "GET /api/products did not answer through the gateway"

# The service's list is an array (or {items: [...]}); each product has an id (or _id) and a name.
list='if type == "array" then . else .items end'
for name in Laptop Mouse Keyboard Monitor; do
  jq -e --arg name "$name" "$list | any(.name == \$name)" <<<"$products" >/dev/null ||
    fail "GET /api/products: seeded product $name missing"
done
echo "GET /api/products: the four seeded products"

# An order for two of the first product, at its listed price.
customer="e2e-${GITHUB_RUN_ID:-local}"
order=$(jq -c --arg customer "$customer" "$list | first"' | {customerId: $customer, items: [{productId: (.id // ._id), quantity: 2, price}]}' <<<"$products")
created=$(api --fail -X POST -H "Content-Type: application/json" --data "$order" "$url/api/orders") ||
  fail "POST /api/orders failed"
order_id=$(jq -r '.id // ._id' <<<"$created")
if [ -z "$order_id" ] || [ "$order_id" = null ]; then fail "POST /api/orders: no id in $created"; fi
fetched=$(api --fail "$url/api/orders/$order_id") || fail "GET /api/orders/$order_id failed"
jq -e --arg customer "$customer" '.customerId == $customer and (.items | length) == 1' <<<"$fetched" >/dev/null ||
  fail "GET /api/orders/$order_id: not the order just created: $fetched"
echo "POST /api/orders: order $order_id round-trips"

# Dev-mode Vault (the local stack's default): its root token is generated and kept in the
# vault-dev-root-token Secret. The ha mode (local.vaultMode ha, VAULT_MODE from the workflow's matrix)
# keeps no root token at all: there .github/scripts/e2e-vault.sh checks the leases with one regenerated
# from the recovery keys. The mode is said, not guessed from the Secret, so a dev run that lost it fails.
if [ "${VAULT_MODE:-dev}" = ha ]; then
  echo "Vault: local.vaultMode ha keeps no root token; the leases are checked by .github/scripts/e2e-vault.sh"
  exit 0
fi
token=$(kubectl -n vault get secret vault-dev-root-token -o jsonpath='{.data.token}' | base64 -d)
[ -n "$token" ] || fail "Vault: no root token in the vault-dev-root-token Secret"
echo "::add-mask::$token"
# The token on stdin (scripts/lib-kubectl.sh, vault_exec_token), never in the exec's command line.
kc() { kubectl -n vault "$@"; }
# shellcheck source-path=SCRIPTDIR source=../../scripts/lib-kubectl.sh
. "$(dirname "$0")/../../scripts/lib-kubectl.sh"
leases=$(printf '%s' "$token" | vault_exec_token vault-0 list -format=json sys/leases/lookup/database/creds/microservices-role) ||
  fail "Vault: no leases under database/creds/microservices-role"
jq -e 'length > 0' <<<"$leases" >/dev/null || fail "Vault: no leases under database/creds/microservices-role"
echo "Vault: $(jq length <<<"$leases") lease(s) under database/creds/microservices-role"
