#!/bin/sh
# Example metric for a `command` source: prints the canary's error rate as one number.
# ramp passes the rollout's context in RAMP_* variables (RAMP_FLAG, RAMP_PERCENT, RAMP_STEP, RAMP_NOW, ...).
#   error-rate.sh healthy     — a healthy canary: 0.2% errors at every step
#   error-rate.sh regressing  — a canary with a bug that shows once it gets 5% of traffic: 4.1% errors
# A real script would ask your metrics system; this one stands in for it so the demo needs no server.
mode=${1:-healthy}
percent=${RAMP_PERCENT:-0}
case "$mode" in
  healthy) echo 0.002 ;;
  regressing) awk -v p="$percent" 'BEGIN { print (p >= 5 ? 0.041 : 0.003) }' ;;
  *) echo "error-rate.sh: unknown mode '$mode' (healthy or regressing)" >&2; exit 2 ;;
esac
