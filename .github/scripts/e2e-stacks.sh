#!/usr/bin/env bash
# e2e: creates, in the local Pulumi backend (`pulumi login --local` done before), the three stacks
# of the run, from config files this script writes:
#   images        builds the backend (app/backend) once and pushes it to the stand-in registry
#   shared        the Redis, allowing one tenant: $E2E_TENANT
#   $E2E_TENANT   (ci) one tenant: SQLite (deployType test), images in the stand-in registry,
#                 frontend built for http://$E2E_HOST
# The stand-in registry has no TLS, so both building stacks set stock:harborPlainHttp: true.
# The committed Pulumi.<stack>.yaml files describe real customers and clusters (and may hold
# secrets encrypted for another backend), so they are moved out of the way first; they are
# only in this job's checkout.
#
# Environment: CLUSTER_NAME, E2E_TENANT, E2E_HOST, REGISTRY_NAME, REGISTRY_PORT,
# E2E_REGISTRY_USER, E2E_REGISTRY_PASSWORD, E2E_DB_PASSWORD, PULUMI_CONFIG_PASSPHRASE,
# RUNNER_TEMP; optional E2E_NPM_TOKEN (a throwaway value is used when empty).
set -euo pipefail

: "${CLUSTER_NAME:?}" "${E2E_TENANT:?}" "${E2E_HOST:?}" "${REGISTRY_NAME:?}" "${REGISTRY_PORT:?}"
: "${E2E_REGISTRY_USER:?}" "${E2E_REGISTRY_PASSWORD:?}" "${E2E_DB_PASSWORD:?}"
: "${PULUMI_CONFIG_PASSPHRASE:?}" "${RUNNER_TEMP:?}"

tenant="$E2E_TENANT"
aside="$RUNNER_TEMP/committed-stack-config"
mkdir -p "$aside"
shopt -s nullglob
for file in Pulumi.*.yaml; do
  echo "moving the committed $file out of the way"
  mv "$file" "$aside/"
done

# No app/frontend/envs/$tenant is written: the program computes it (REACT_APP_HOST_URL=http://$E2E_HOST).
echo "== stack images"
pulumi stack init images --secrets-provider passphrase --non-interactive
cat >> Pulumi.images.yaml <<YAML
config:
  stock:role: images
  stock:harborServer: $REGISTRY_NAME:$REGISTRY_PORT
  # The stand-in registry speaks plain HTTP (e2e-registry.sh); the runs warn of it.
  stock:harborPlainHttp: true
  stock:harborProject: $tenant
  stock:harborUsername: $E2E_REGISTRY_USER
  stock:backendSources:
    - app/backend
YAML

echo "== stack shared"
pulumi stack init shared --secrets-provider passphrase --non-interactive
cat >> Pulumi.shared.yaml <<YAML
config:
  stock:role: shared
  stock:kubeContext: kind-$CLUSTER_NAME
  stock:tenants:
    - $tenant
YAML

echo "== stack $tenant"
pulumi stack init "$tenant" --secrets-provider passphrase --non-interactive
# One replica of everything: the runner is small, and resource requests that do not fit would
# leave pods Pending.
cat >> "Pulumi.$tenant.yaml" <<YAML
config:
  stock:role: tenant
  stock:kubeContext: kind-$CLUSTER_NAME
  stock:sharedStack: organization/stock/shared
  stock:tenant: $tenant
  stock:host: $E2E_HOST
  stock:buildFor: $tenant
  stock:npmTokenMode: secret
  stock:deployType: test
  stock:dbHost: mysql.invalid
  stock:dbPort: 3306
  stock:dbName: stock_e2e
  stock:dbUser: stock_e2e
  stock:harborServer: $REGISTRY_NAME:$REGISTRY_PORT
  stock:harborPlainHttp: true
  stock:harborProject: $tenant
  stock:harborUsername: $E2E_REGISTRY_USER
  stock:apiReplicas: 1
  stock:frontendReplicas: 1
  stock:gunicornWorkers: 2
  # The app it builds (no project default): the reference app (app/), with its hardened
  # endpoints (README, "Bring your own app").
  stock:backendSource: app/backend
  stock:frontendSource: app/frontend
  stock:apiStartupProbe: http:/healthz
  stock:apiLivenessProbe: http:/healthz
  stock:apiReadinessProbe: http:/readyz
  stock:celeryLiveness: heartbeat
  stock:redisKeyPrefixMode: app
  stock:celeryWorkers:
    - name: default
      queues: [summary, stock, statement, price, news]
      replicas: 1
      concurrency: 2
      logLevel: INFO
YAML

# Secrets go to `pulumi config set` on stdin, never on a command line.
set_secret() {
  printf '%s' "$3" | pulumi config set --secret --stack "$1" "$2" > /dev/null
}
set_secret images stock:harborPassword "$E2E_REGISTRY_PASSWORD"
set_secret shared stock:redisPasswordSeed "$(openssl rand -hex 32)"
set_secret "$tenant" stock:harborPassword "$E2E_REGISTRY_PASSWORD"
set_secret "$tenant" stock:dbPassword "$E2E_DB_PASSWORD"
if [[ -n "${E2E_NPM_TOKEN:-}" ]]; then
  set_secret "$tenant" stock:npmToken "$E2E_NPM_TOKEN"
else
  set_secret "$tenant" stock:npmToken "$(openssl rand -hex 16)"
fi

echo "== configuration (secrets show as [secret])"
pulumi config --stack images
pulumi config --stack shared
pulumi config --stack "$tenant"
