#!/usr/bin/env bash
# Post the preview comment to a pull request, or edit the one posted before, so that a pull request
# has exactly ONE preview comment however often it is pushed:
#
#   pr-comment.sh PR_NUMBER BODY_FILE
#
# The earlier comment is the one whose body starts with the marker on BODY_FILE's first line
# (tools/lib/fleet-markdown.ts); every page of the pull request's comments is searched. Needs
# GH_TOKEN with pull-requests: write.
set -euo pipefail

if [[ $# -ne 2 || ! "$1" =~ ^[0-9]+$ || ! -f "$2" ]]; then
  echo "usage: pr-comment.sh PR_NUMBER BODY_FILE" >&2
  exit 2
fi
pr="$1"
body="$2"
: "${GITHUB_REPOSITORY:?}"

marker="$(head -n 1 "$body")"
if [[ "$marker" != "<!-- "*" -->" || "$marker" == *'"'* ]]; then
  echo "pr-comment: $body does not start with a marker line such as <!-- stock-deploy:fleet-preview -->" >&2
  exit 1
fi
size="$(wc -c < "$body")"
if ((size > 65536)); then
  echo "pr-comment: $body has $size bytes, over GitHub's 65,536-character limit" >&2
  exit 1
fi

id="$(gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$pr/comments" \
  --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | head -n 1)"
if [[ -n "$id" ]]; then
  gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$id" -F "body=@$body" > /dev/null
  echo "updated comment $id on pull request #$pr"
else
  gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$pr/comments" -F "body=@$body" > /dev/null
  echo "posted a comment on pull request #$pr"
fi
