#!/usr/bin/env bash
# Runs ramp against a real Prometheus scraping a tiny demo app, all on 127.0.0.1, in real time (under two minutes).
#   examples/prometheus/run.sh                         # a healthy canary: 1% → 5% → 25% → 100%
#   CANARY_ERROR_RATE=0.08 examples/prometheus/run.sh  # a buggy canary: rolled back by its gates
# Needs Debian's prometheus (apt-get install prometheus) and python3. Stops everything it started on exit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d /tmp/ramp-prometheus-demo.XXXXXX)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

command -v prometheus >/dev/null || { echo "prometheus is not installed (apt-get install prometheus)" >&2; exit 1; }
(cd "$root" && swift build --product ramp >/dev/null)
ramp="$root/.build/debug/ramp"

RAMP_BIN="$ramp" RAMP_STORE="$work/ramp.db" python3 "$here/app.py" 19091 & pids+=($!)
prometheus --config.file="$here/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address=127.0.0.1:19090 >"$work/prometheus.log" 2>&1 & pids+=($!)
for _ in $(seq 50); do curl -fs http://127.0.0.1:19090/-/ready >/dev/null 2>&1 && break; sleep 0.2; done

echo "store: $work/ramp.db   prometheus: http://127.0.0.1:19090   canary error rate: ${CANARY_ERROR_RATE:-0.005}"
"$ramp" submit "$here/plan.json" --store "$work/ramp.db"
"$ramp" run --store "$work/ramp.db" --interval 10s --until-settled
"$ramp" status --store "$work/ramp.db"
"$ramp" audit verify --store "$work/ramp.db"
