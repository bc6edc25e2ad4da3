#!/usr/bin/env bash
# make demo: the whole path on the local stand-in, on one machine, with no
# AWS account: start `batchxray local`, bring a stack up, run the sample job
# and draw its trace, give the stack an image with a shell (up --base-image),
# run an array job of 10 with one failing child and show its status and trace, bring the stack down, stop the stand-in.
set -euo pipefail

bin=${1:-bin/batchxray}
work=$(mktemp -d)
local_pid=""

cleanup() {
  status=$?
  if [ -n "$local_pid" ] && kill -0 "$local_pid" 2>/dev/null; then
    kill -INT "$local_pid" 2>/dev/null || true
    wait "$local_pid" 2>/dev/null || true
  fi
  if [ $status -ne 0 ]; then
    echo "make demo: failed (exit $status); the stand-in's log is below" >&2
    cat "$work/local.log" >&2 || true
  fi
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT INT TERM

if [ -t 2 ] && [ -z "${NO_COLOR:-}" ]; then
  step() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; }
else
  step() { printf '\n$ %s\n' "$*" >&2; }
fi

"$bin" local --addr 127.0.0.1:0 --daemon-addr 127.0.0.1:0 --ready-file "$work/ready" >"$work/local.log" 2>&1 &
local_pid=$!
for _ in $(seq 1 100); do
  [ -s "$work/ready" ] && break
  kill -0 "$local_pid" 2>/dev/null || { echo "make demo: batchxray local did not start" >&2; exit 1; }
  sleep 0.1
done
[ -s "$work/ready" ] || { echo "make demo: batchxray local is not ready after 10s" >&2; exit 1; }
endpoint=$(cat "$work/ready")

export AWS_ENDPOINT_URL="$endpoint" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export BATCHXRAY_STACK=demo
unset AWS_PROFILE
echo "batchxray local is serving at $endpoint" >&2

step batchxray up --sample-url "$endpoint/_batchxray/sample"
"$bin" up --sample-url "$endpoint/_batchxray/sample"

step 'id=$(batchxray submit --wait)'
id=$("$bin" submit --wait)

step batchxray trace "$id"
"$bin" trace "$id"

# The array job runs `sh -c`, and the default job image has no shell: give
# the stack an image with one, as on AWS. The base is a static shell built
# with Go (no Docker), pushed to the stand-in's registry.
step 'base=$(scripts/shell-base-image.sh)'
base=$(scripts/shell-base-image.sh)

step batchxray up --base-image "$base" --sample-url "$endpoint/_batchxray/sample"
"$bin" up --base-image "$base" --sample-url "$endpoint/_batchxray/sample"

step 'aid=$(batchxray submit --array-size 10 -- sh -c '"'"'...child 7 fails...'"'"')'
aid=$("$bin" submit --array-size 10 --name demo-array -- sh -c 'echo "child $AWS_BATCH_JOB_ARRAY_INDEX"; test "$AWS_BATCH_JOB_ARRAY_INDEX" != 7')

step batchxray status "$aid"
rc=0
"$bin" status "$aid" || rc=$?
[ "$rc" -eq 3 ] || { echo "make demo: status of the array job exited $rc, want 3 (one child FAILED)" >&2; exit 1; }

step batchxray trace "$aid"
"$bin" trace "$aid"

step batchxray trace "$aid" --index 7
"$bin" trace "$aid" --index 7

step batchxray down --yes
"$bin" down --yes

echo >&2
echo "make demo: done. Against AWS, the same commands run with your credentials and no AWS_ENDPOINT_URL." >&2
