#!/usr/bin/env bash
# Print the jobs of this workflow run, one per line: name, a tab, the URL of the job's page. The
# preview comment links each stack to the job that previewed it. Needs GH_TOKEN with actions: read.
# If the API cannot be read, print nothing (the comment then links the run) and warn.
set -euo pipefail

: "${GITHUB_REPOSITORY:?}" "${GITHUB_RUN_ID:?}" "${GITHUB_RUN_ATTEMPT:?}"
if ! gh api --paginate "repos/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID/attempts/$GITHUB_RUN_ATTEMPT/jobs" \
  --jq '.jobs[] | [.name, .html_url] | @tsv'; then
  echo "::warning::could not list this run's jobs; the preview comment links the run instead" >&2
fi
