#!/usr/bin/env bash
# e2e: checks the deployed tenant through the ingress, as a browser and the API's clients would
# reach it: http://$E2E_HOST, resolved to the runner's loopback (where the kind node publishes
# the ingress controller's port 80) with curl --resolve, so no DNS is involved.
#   1. GET /api/v1/ answers 200 with JSON naming this tenant and deploy type "test";
#   2. the frontend page, or a script it loads, contains http://$E2E_HOST, the URL it was built for
#      (a React build inlines REACT_APP_HOST_URL into its bundles);
#   3. POST /api/v1/tasks/price/ queues a Celery task (202 + id), and GET /api/v1/tasks/<id>/
#      reaches SUCCESS with a result computed by THIS tenant's worker (result.tenant).
# Every wait is bounded in time.
#
# Environment: E2E_HOST, E2E_TENANT; optional E2E_INGRESS_ADDRESS (127.0.0.1), E2E_INGRESS_PORT
# (80), E2E_READY_TIMEOUT (seconds, 300), E2E_TASK_TIMEOUT (seconds, 180), E2E_POLL_INTERVAL
# (seconds, 5).
set -euo pipefail

: "${E2E_HOST:?}" "${E2E_TENANT:?}"
host="$E2E_HOST"
tenant="$E2E_TENANT"
port="${E2E_INGRESS_PORT:-80}"
# The URL the frontend was built for, and the one requests go to (the same on port 80).
site="http://$host"
base="$site"
[[ "$port" == 80 ]] || base="$site:$port"
ready_timeout="${E2E_READY_TIMEOUT:-300}"
task_timeout="${E2E_TASK_TIMEOUT:-180}"
interval="${E2E_POLL_INTERVAL:-5}"
resolve=(--resolve "$host:$port:${E2E_INGRESS_ADDRESS:-127.0.0.1}")
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# request METHOD PATH OUTFILE: prints the HTTP status (000 when there was no answer).
request() {
  local data=()
  [[ "$1" == POST ]] && data=(--data '')
  curl -sS -o "$3" -w '%{http_code}' --max-time 15 "${resolve[@]}" -X "$1" "${data[@]}" \
    -H 'Accept: application/json, text/html' "$base$2" 2> "$work/curl.err" || true
}

# until_ok DESCRIPTION TIMEOUT FUNCTION: calls FUNCTION every $interval s until it succeeds or TIMEOUT s pass.
until_ok() {
  local what="$1" deadline=$((SECONDS + $2))
  until "$3"; do
    if ((SECONDS >= deadline)); then
      echo "::error::timed out after $2 s: $what" >&2
      return 1
    fi
    sleep "$interval"
  done
  echo "ok: $what"
}

api_answers() {
  local code
  code="$(request GET /api/v1/ "$work/api.json")"
  if [[ "$code" != 200 ]]; then
    echo "GET $base/api/v1/ -> $code $(head -c 300 "$work/api.json" 2> /dev/null) $(cat "$work/curl.err")"
    return 1
  fi
  if ! jq -e --arg t "$tenant" '.tenant == $t and .deploy_type == "test"' "$work/api.json" > /dev/null 2>&1; then
    echo "GET $base/api/v1/ -> 200 but not JSON for tenant $tenant with deploy_type test: $(head -c 300 "$work/api.json")"
    return 1
  fi
  echo "GET $base/api/v1/ -> 200 $(jq -c . "$work/api.json")"
}

frontend_built_for_host() {
  local code src
  code="$(request GET / "$work/index.html")"
  if [[ "$code" != 200 ]]; then
    echo "GET $base/ -> $code $(cat "$work/curl.err")"
    return 1
  fi
  if grep -qF "$site" "$work/index.html"; then
    echo "GET $base/ -> 200, the page contains $site"
    return 0
  fi
  # A React build inlines REACT_APP_* into its bundles rather than into index.html.
  while read -r src; do
    case "$src" in
      http://* | https://* | //*) continue ;; # not served by this tenant
      /*) ;;
      *) src="/${src#./}" ;;
    esac
    code="$(request GET "$src" "$work/bundle.js")"
    if [[ "$code" == 200 ]] && grep -qF "$site" "$work/bundle.js"; then
      echo "GET $base$src -> 200, contains $site"
      return 0
    fi
  done < <(grep -oE 'src="[^"]+\.js"' "$work/index.html" | sed -E 's/^src="(.*)"$/\1/')
  echo "GET $base/ -> 200, but neither the page nor its scripts contain $site"
  return 1
}

echo "== the API, through the ingress"
until_ok "GET $base/api/v1/ answers 200 JSON for tenant $tenant" "$ready_timeout" api_answers

echo "== the frontend, through the ingress"
until_ok "the frontend at $base/ was built for $site" "$ready_timeout" frontend_built_for_host

echo "== a Celery task, sent through the API, run by the $tenant worker"
code="$(request POST /api/v1/tasks/price/ "$work/sent.json")"
if [[ "$code" != 202 && "$code" != 200 ]]; then
  echo "::error::POST $base/api/v1/tasks/price/ -> $code $(head -c 300 "$work/sent.json" 2> /dev/null)" >&2
  exit 1
fi
task_id="$(jq -r '.id // empty' "$work/sent.json")"
if [[ -z "$task_id" ]]; then
  echo "::error::POST $base/api/v1/tasks/price/ -> $code without an id: $(head -c 300 "$work/sent.json")" >&2
  exit 1
fi
echo "POST $base/api/v1/tasks/price/ -> $code, task $task_id"

task_done() {
  local code state
  code="$(request GET "/api/v1/tasks/$task_id/" "$work/task.json")"
  state="$(jq -r '.state // empty' "$work/task.json" 2> /dev/null || true)"
  echo "GET $base/api/v1/tasks/$task_id/ -> $code ${state:-?}"
  case "$state" in
    SUCCESS) return 0 ;;
    FAILURE | REVOKED)
      echo "::error::task $task_id ended in $state: $(head -c 300 "$work/task.json")" >&2
      exit 1
      ;;
    *) return 1 ;;
  esac
}
until_ok "task $task_id reaches SUCCESS" "$task_timeout" task_done
if ! jq -e --arg t "$tenant" '.result.tenant == $t and .result.queue == "price"' "$work/task.json" > /dev/null; then
  echo "::error::task $task_id succeeded, but not on the $tenant worker's price queue: $(jq -c . "$work/task.json")" >&2
  exit 1
fi
echo "task $task_id: $(jq -c .result "$work/task.json")"
echo "all checks passed"
