#!/usr/bin/env bash
# e2e, always at the end: `pulumi destroy` of the tenant stack, then of the shared stack, then of
# the images stack (the reverse of the deploy order). A stack that was never created is skipped;
# each is destroyed even when an earlier destroy failed. Fails when a destroy failed.
#
# Environment: E2E_TENANT (ci), PULUMI_CONFIG_PASSPHRASE.
set -euo pipefail

status=0
for stack in "${E2E_TENANT:-ci}" shared images; do
  if ! pulumi stack select "$stack" > /dev/null 2>&1; then
    echo "stack $stack does not exist, nothing to destroy"
    continue
  fi
  echo "== pulumi destroy -s $stack"
  if ! pulumi destroy --stack "$stack" --yes --non-interactive; then
    echo "::error::pulumi destroy of stack $stack failed" >&2
    status=1
  fi
done
exit "$status"
