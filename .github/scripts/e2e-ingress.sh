#!/usr/bin/env bash
# e2e: installs ingress-nginx from the kind provider manifest of a pinned release
# ($INGRESS_NGINX_MANIFEST) and waits, each wait bounded, until it can take the program's
# Ingresses: the controller rolled out on the ingress-ready node, and the admission webhook's CA
# patched in (before that, creating an Ingress fails on the webhook's certificate).
set -euo pipefail

: "${INGRESS_NGINX_MANIFEST:?}"
case "$INGRESS_NGINX_MANIFEST" in
  */controller-v[0-9]*.[0-9]*.[0-9]*/deploy/static/provider/kind/deploy.yaml) ;;
  *) echo "::error::INGRESS_NGINX_MANIFEST must be the kind manifest of a released controller-vX.Y.Z" >&2; exit 1 ;;
esac

kubectl apply -f "$INGRESS_NGINX_MANIFEST"
kubectl -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=300s

deadline=$((SECONDS + 120))
until [[ -n "$(kubectl get validatingwebhookconfiguration ingress-nginx-admission \
  -o jsonpath='{.webhooks[0].clientConfig.caBundle}' 2> /dev/null || true)" ]]; do
  if ((SECONDS >= deadline)); then
    echo "::error::the ingress-nginx admission webhook got no CA bundle within 120 s" >&2
    kubectl -n ingress-nginx get jobs,pods >&2 || true
    exit 1
  fi
  sleep 3
done
echo "ingress-nginx is ready"
