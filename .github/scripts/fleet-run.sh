#!/usr/bin/env bash
# Run the fleet runner with --json, keep its report, and record its exit code instead of failing:
#
#   fleet-run.sh REPORT_FILE <fleet arguments...>
#
# The report (tools/lib/fleet/report.ts) goes to REPORT_FILE (--report-file: rewritten after every
# finished stack, atomically, so a job that times out or is cancelled mid-run still leaves a valid
# partial report, `complete: false`), the progress and summary table to the log; `exit=<code>` goes
# to $GITHUB_OUTPUT (0 ok, 1 a stack failed or the rollout halted, 2 bad arguments or environment,
# 3 a stack was busy, 130/143 stopped by SIGINT/SIGTERM). The step succeeds so that the summary,
# artifact and comment steps run; a later step fails the job on a non-zero exit.
#
# A cancelled or timed-out step gets SIGINT, then SIGTERM 7.5 s later, sent to the step's entry
# process only (not its children): the workflow runs this script with `exec` so that it is that
# process, and the script passes each signal on to the fleet runner, which stops gracefully on the
# first and exits at once on the second (docs/ci.md).
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: fleet-run.sh REPORT_FILE <preview|up|refresh|destroy> [fleet options...]" >&2
  exit 2
fi
report="$1"
shift

# A report left by an earlier run in this workspace (a self-hosted runner) must not pass for this one's.
rm -f "$report"
# In the background so that this shell can take the signals and pass them on (a foreground child
# would get none: bash waits for it before running a trap).
npm run --silent fleet -- "$@" --report-file "$report" &
fleet=$!
trap 'kill -INT "$fleet" 2>/dev/null || true' INT
trap 'kill -TERM "$fleet" 2>/dev/null || true' TERM
# `wait` returns early (above 128) whenever a trapped signal arrives: wait again while it runs.
# Bounded: each round ends with the runner's exit or with one more signal.
while kill -0 "$fleet" 2>/dev/null; do
  wait "$fleet" || true
done
status=0
wait "$fleet" || status=$?
trap - INT TERM
if [[ ! -s "$report" ]]; then
  rm -f "$report"
  echo "::error::npm run fleet -- $* wrote no report (exit $status)" >&2
fi
echo "exit=$status" >> "$GITHUB_OUTPUT"
echo "fleet $1: exit $status, report ${report}"
