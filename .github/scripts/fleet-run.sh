#!/usr/bin/env bash
# Run the fleet runner with --json, keep its report, and record its exit code instead of failing:
#
#   fleet-run.sh REPORT_FILE <fleet arguments...>
#
# The report (tools/lib/fleet/report.ts) goes to REPORT_FILE (--report-file: rewritten after every
# finished stack, atomically, so a job that times out or is cancelled mid-run still leaves a valid
# partial report, `complete: false`), the progress and summary table to the log; `exit=<code>` goes
# to $GITHUB_OUTPUT (0 ok, 1 a stack failed or the rollout halted, 2 bad arguments or environment,
# 3 a stack was busy). The step succeeds so that the summary, artifact and comment steps run; a
# later step fails the job on a non-zero exit.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: fleet-run.sh REPORT_FILE <preview|up|refresh|destroy> [fleet options...]" >&2
  exit 2
fi
report="$1"
shift

# A report left by an earlier run in this workspace (a self-hosted runner) must not pass for this one's.
rm -f "$report"
status=0
npm run --silent fleet -- "$@" --report-file "$report" || status=$?
if [[ ! -s "$report" ]]; then
  rm -f "$report"
  echo "::error::npm run fleet -- $* wrote no report (exit $status)" >&2
fi
echo "exit=$status" >> "$GITHUB_OUTPUT"
echo "fleet $1: exit $status, report ${report}"
