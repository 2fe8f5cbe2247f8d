#!/usr/bin/env bash
# e2e, after a failure: what the cluster looks like, and the logs of every pod of the tenant and
# of Redis (and of the ingress controller and the registry). Never stops at the first error.
#
# Environment: E2E_TENANT (ci); optional REGISTRY_NAME.
set -euo pipefail

namespaces=("${E2E_TENANT:-ci}" redis)

section() { printf '\n::group::%s\n' "$*"; }
end() { echo "::endgroup::"; }
run() {
  echo "\$ $*"
  "$@" || echo "(exit $?)"
}

section "kubectl get all -A"
run kubectl get all -A -o wide
run kubectl get ingress,pvc,networkpolicy,secret -A
end

section "events"
run kubectl get events -A --sort-by=.lastTimestamp
end

for ns in "${namespaces[@]}"; do
  section "kubectl describe pods -n $ns"
  run kubectl describe pods -n "$ns"
  end
  for pod in $(kubectl get pods -n "$ns" -o name 2> /dev/null || true); do
    section "logs $ns/${pod#pod/}"
    run kubectl logs -n "$ns" "$pod" --all-containers --prefix --tail=1000
    # The container that crashed before the current one, if any.
    kubectl logs -n "$ns" "$pod" --all-containers --prefix --previous --tail=300 2> /dev/null || true
    end
  done
done

section "ingress-nginx controller"
run kubectl logs -n ingress-nginx deployment/ingress-nginx-controller --tail=300
end

section "registry ${REGISTRY_NAME:-kind-registry}"
run docker logs --tail 200 "${REGISTRY_NAME:-kind-registry}"
end
