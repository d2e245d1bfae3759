#!/usr/bin/env bash
# What a failed e2e run needs to be understood (.github/workflows/e2e.yml): the pods and events of
# every namespace, the logs of the pods in the platform's and the services' namespaces, and the stack's
# state with every secret value replaced by "[secret]". Never fails itself.
set -uo pipefail

stack=${STACK:-local}
section() { echo "::group::$*"; }
end() { echo "::endgroup::"; }

section "pods"
kubectl get pods -A -o wide
end
section "events"
kubectl get events -A --sort-by=.lastTimestamp
end
for namespace in $(kubectl get namespaces -o jsonpath='{.items[*].metadata.name}'); do
  case "$namespace" in
    kube-* | local-path-storage | default) continue ;;
  esac
  for pod in $(kubectl -n "$namespace" get pods -o name); do
    section "logs $namespace/$pod"
    kubectl -n "$namespace" describe "$pod"
    kubectl -n "$namespace" logs "$pod" --all-containers --prefix --tail=200
    end
  done
done
# Secret values in a checkpoint are objects marked with Pulumi's secret signature (ciphertext, with
# the passphrase provider): each one is replaced whole.
section "pulumi stack export (secrets removed)"
pulumi stack export --stack "$stack" |
  jq 'walk(if type == "object" and has("4dabf18193072939515e22adb298388d") then "[secret]" else . end)'
end
exit 0
