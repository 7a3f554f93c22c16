#!/usr/bin/env bash
# Cargo's runner for wasm32 tests: wasm-bindgen-test-runner, started again (at most twice) only
# when headless Chromium died before the test page existed ("failed to create a Chrome session").
# CI once saw Chromium crash at start-up; a failure inside a test is never retried.
set -uo pipefail

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for attempt in 1 2 3; do
  wasm-bindgen-test-runner "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  if [ "$status" -eq 0 ] || ! grep -q 'failed to create a Chrome session' "$log"; then
    exit "$status"
  fi
  [ "$attempt" -lt 3 ] && echo "wasm-test-runner: Chromium failed to start (attempt $attempt), starting it again" >&2
done
exit "$status"
