#!/usr/bin/env bash
# Writes the kubeconfig held, base64-encoded, in $KUBECONFIG_B64 (the repository secret of the
# same name, passed in through the step's `env:`) to $RUNNER_TEMP/kubeconfig, readable by the
# runner user only, and exports KUBECONFIG=<that path> to the following steps via $GITHUB_ENV.
# Neither the secret nor the decoded file is ever printed; only the path is.
set -euo pipefail

: "${RUNNER_TEMP:?RUNNER_TEMP is not set (this script runs in a GitHub Actions job)}"
: "${GITHUB_ENV:?GITHUB_ENV is not set (this script runs in a GitHub Actions job)}"

if [[ -z "${KUBECONFIG_B64:-}" ]]; then
  echo "::error::The secret KUBECONFIG_B64 is empty or not available to this run (pull requests from forks get no secrets). Create it with: base64 -w0 < kubeconfig" >&2
  exit 1
fi

umask 077
dest="$RUNNER_TEMP/kubeconfig"
if ! printf '%s' "$KUBECONFIG_B64" | base64 --decode > "$dest" 2>/dev/null || [[ ! -s "$dest" ]]; then
  rm -f "$dest"
  echo "::error::The secret KUBECONFIG_B64 is not a base64-encoded kubeconfig" >&2
  exit 1
fi

echo "KUBECONFIG=$dest" >> "$GITHUB_ENV"
echo "kubeconfig written to $dest (mode 600)"
