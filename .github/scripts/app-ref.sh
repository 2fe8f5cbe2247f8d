#!/usr/bin/env bash
# Which ref of the application repository a job checks out (.github/actions/app-checkout):
#
#   APP_REPOSITORY=owner/name APP_REF=<sha|branch|tag|empty> DEFAULT_REF=dev REQUIRE_COMMIT=true|false app-ref.sh
#
# Prints `ref=<ref>` to $GITHUB_OUTPUT. A full commit SHA pins the app's content, so the content
# tags built from it are the same on every run. With REQUIRE_COMMIT=true (the deploy job) anything
# else is refused, naming the variable and the fix; otherwise an empty APP_REF checks out
# DEFAULT_REF and a branch or tag is taken as it is, each with a warning that it moves.
set -euo pipefail

repository="${APP_REPOSITORY:?APP_REPOSITORY is not set}"
ref="${APP_REF:-}"
default_ref="${DEFAULT_REF:-dev}"
sha='^[0-9a-f]{40}$'

if [[ "${REQUIRE_COMMIT:-false}" == "true" && ! "$ref" =~ $sha ]]; then
  echo "::error::the repository variable APP_REF must be a full commit SHA of $repository for this job (got '$ref'): a branch moves, and the same rollout would build other app content. Fix: set APP_REF (Settings, Secrets and variables, Actions, Variables) to the commit to deploy, e.g. the first column of: git ls-remote https://github.com/$repository $default_ref" >&2
  exit 1
fi
if [[ -z "$ref" ]]; then
  ref="$default_ref"
  echo "::warning::the repository variable APP_REF is not set: checking out $repository at $ref, which moves (the content tags built from it follow it). Set APP_REF to a commit SHA to pin it." >&2
elif [[ ! "$ref" =~ $sha ]]; then
  echo "::warning::APP_REF '$ref' is not a commit SHA: $repository's content, and the content tags built from it, follow wherever it points now." >&2
fi
echo "ref=$ref" >> "$GITHUB_OUTPUT"
