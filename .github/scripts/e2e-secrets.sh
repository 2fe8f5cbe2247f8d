#!/usr/bin/env bash
# e2e: makes the throwaway credentials of one run, with `openssl rand`, masks each one in the log
# (::add-mask::) and exports them to the following steps through $GITHUB_ENV:
#   PULUMI_CONFIG_PASSPHRASE  the passphrase of the local Pulumi backend's stacks
#   E2E_REGISTRY_PASSWORD     basic-auth password of the registry standing in for Harbor
#   E2E_DB_PASSWORD           stock:dbPassword (the ci tenant uses SQLite; the value is unused)
# They protect nothing that outlives the job: the registry and the cluster die with the runner.
set -euo pipefail

: "${GITHUB_ENV:?GITHUB_ENV is not set (this script runs in a GitHub Actions job)}"

export_secret() {
  local name="$1" value
  value="$(openssl rand -hex 24)"
  echo "::add-mask::$value"
  printf '%s=%s\n' "$name" "$value" >> "$GITHUB_ENV"
}

export_secret PULUMI_CONFIG_PASSPHRASE
export_secret E2E_REGISTRY_PASSWORD
export_secret E2E_DB_PASSWORD
echo "throwaway credentials generated and masked"
