#!/usr/bin/env bash
# e2e: a registry:2 with basic auth standing in for Harbor.
#
#   e2e-registry.sh start              before the kind cluster exists
#   e2e-registry.sh connect CLUSTER    once it does
#
# The registry is known by ONE name everywhere, $REGISTRY_NAME:$REGISTRY_PORT (default
# kind-registry:5000), and that is stock:harborServer:
#  - on the runner, where the Pulumi program builds and pushes through the Docker daemon:
#    /etc/hosts maps the name to 127.0.0.1, where the port is published, and the daemon lists
#    it as an insecure (plain-HTTP) registry;
#  - on the kind nodes, where containerd pulls with the tenant's image-pull Secret: the registry
#    container joins the `kind` Docker network (so the name resolves there), and a hosts.toml
#    tells containerd to use plain HTTP.
# One name matters: containerd hands the pull Secret's credentials only to the host they were
# issued for, so a mirror under another name would make pulls anonymous and hide the
# pull-secret path this test exists to exercise.
#
# Environment: E2E_REGISTRY_USER, E2E_REGISTRY_PASSWORD (start), RUNNER_TEMP;
# optional REGISTRY_NAME, REGISTRY_PORT, REGISTRY_IMAGE, HTPASSWD_IMAGE.
set -euo pipefail

REGISTRY_NAME="${REGISTRY_NAME:-kind-registry}"
REGISTRY_PORT="${REGISTRY_PORT:-5000}"
REGISTRY_IMAGE="${REGISTRY_IMAGE:-registry:2}"
HTPASSWD_IMAGE="${HTPASSWD_IMAGE:-httpd:2.4}"
registry="$REGISTRY_NAME:$REGISTRY_PORT"

# HTTP status of GET /v2/, with the registry credentials when $1 is "auth".
# The credentials go to curl through a config on stdin, never on its command line.
v2_status() {
  local url="http://$registry/v2/"
  if [[ "${1:-}" == "auth" ]]; then
    printf 'user = "%s:%s"\n' "$E2E_REGISTRY_USER" "$E2E_REGISTRY_PASSWORD" |
      curl --config - -s -o /dev/null -w '%{http_code}' --max-time 5 "$url" || true
  else
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url" || true
  fi
}

start() {
  : "${E2E_REGISTRY_USER:?}" "${E2E_REGISTRY_PASSWORD:?}" "${RUNNER_TEMP:?}"

  echo "== the runner reaches $registry on 127.0.0.1"
  if ! grep -qE "^[^#]*[[:space:]]$REGISTRY_NAME([[:space:]]|\$)" /etc/hosts; then
    echo "127.0.0.1 $REGISTRY_NAME" | sudo tee -a /etc/hosts > /dev/null
  fi

  echo "== the Docker daemon may push to $registry over plain HTTP"
  local daemon=/etc/docker/daemon.json current='{}'
  if sudo test -s "$daemon"; then
    current="$(sudo cat "$daemon")"
  fi
  jq --arg r "$registry" '.["insecure-registries"] = ((.["insecure-registries"] // []) + [$r] | unique)' \
    <<< "$current" | sudo tee "$daemon" > /dev/null
  sudo systemctl restart docker
  for _ in $(seq 1 60); do
    docker info > /dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info --format '{{json .RegistryConfig.IndexConfigs}}' |
    jq -e --arg r "$registry" '.[$r].Secure == false' > /dev/null; then
    echo "::error::the Docker daemon did not take $registry as an insecure registry (see $daemon)" >&2
    exit 1
  fi

  echo "== htpasswd (bcrypt) for user $E2E_REGISTRY_USER"
  # 0600 under a 0700 directory: the registry reads it as root inside its container.
  local auth_dir="$RUNNER_TEMP/registry-auth"
  (
    umask 077
    mkdir -p "$auth_dir"
    printf '%s' "$E2E_REGISTRY_PASSWORD" |
      docker run --rm -i --entrypoint htpasswd "$HTPASSWD_IMAGE" -niB "$E2E_REGISTRY_USER" |
      sed '/^[[:space:]]*$/d' > "$auth_dir/htpasswd"
  )

  echo "== start $REGISTRY_IMAGE as $registry"
  docker run -d --restart=always --name "$REGISTRY_NAME" \
    -p "127.0.0.1:$REGISTRY_PORT:$REGISTRY_PORT" \
    -v "$auth_dir:/auth:ro" \
    -e "REGISTRY_HTTP_ADDR=:$REGISTRY_PORT" \
    -e REGISTRY_AUTH=htpasswd \
    -e "REGISTRY_AUTH_HTPASSWD_REALM=stock-e2e" \
    -e REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd \
    "$REGISTRY_IMAGE" > /dev/null

  local anonymous="" authed=""
  for _ in $(seq 1 30); do
    anonymous="$(v2_status)"
    authed="$(v2_status auth)"
    [[ "$anonymous" == 401 && "$authed" == 200 ]] && break
    sleep 1
  done
  if [[ "$anonymous" != 401 || "$authed" != 200 ]]; then
    echo "::error::registry $registry: GET /v2/ answered $anonymous without and $authed with credentials (want 401 and 200)" >&2
    docker logs "$REGISTRY_NAME" >&2 || true
    exit 1
  fi
  echo "registry $registry is up: 401 without credentials, 200 with them"
}

connect() {
  local cluster="${1:?usage: e2e-registry.sh connect CLUSTER}"

  echo "== $REGISTRY_NAME joins the kind network"
  if [[ "$(docker inspect -f '{{json .NetworkSettings.Networks.kind}}' "$REGISTRY_NAME")" == "null" ]]; then
    docker network connect kind "$REGISTRY_NAME"
  fi

  local nodes node dir="/etc/containerd/certs.d/$registry"
  nodes="$(kind get nodes --name "$cluster")"
  [[ -n "$nodes" ]] || { echo "::error::kind cluster $cluster has no nodes" >&2; exit 1; }
  for node in $nodes; do
    echo "== $node: containerd pulls from $registry over plain HTTP"
    docker exec "$node" mkdir -p "$dir"
    printf 'server = "http://%s"\n\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' \
      "$registry" "$registry" | docker exec -i "$node" tee "$dir/hosts.toml" > /dev/null
    docker exec "$node" getent hosts "$REGISTRY_NAME"
  done
}

case "${1:-}" in
  start) start ;;
  connect) shift; connect "$@" ;;
  *) echo "usage: e2e-registry.sh start | connect CLUSTER" >&2; exit 2 ;;
esac
