#!/bin/sh
# Example metric: the canary's p99 latency in milliseconds, growing a little with its share of traffic.
awk -v p="${RAMP_PERCENT:-0}" 'BEGIN { printf "%.1f\n", 180 + p * 0.4 }'
