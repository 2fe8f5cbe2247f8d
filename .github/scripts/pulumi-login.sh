#!/usr/bin/env bash
# Log the Pulumi CLI in to the stacks' backend: PULUMI_BACKEND_URL (a repository variable, e.g.
# s3://bucket) when set, else Pulumi Cloud with PULUMI_ACCESS_TOKEN. The fleet runner's workspaces
# (Automation API) use this login.
set -euo pipefail

if [[ -n "${PULUMI_BACKEND_URL:-}" ]]; then
  pulumi login --non-interactive "$PULUMI_BACKEND_URL"
else
  if [[ -z "${PULUMI_ACCESS_TOKEN:-}" ]]; then
    echo "::error::neither the variable PULUMI_BACKEND_URL nor the secret PULUMI_ACCESS_TOKEN is set (docs/ci.md)" >&2
    exit 1
  fi
  pulumi login --non-interactive
fi
