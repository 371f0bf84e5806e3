"""Independent numbers for the sample ratio mismatch check across N arms (Tests/RampCoreTests/ReadoutTests.swift):
reads [{"units": [...], "weights": [...]}] as JSON on stdin and prints [[statistic, p-value]] from
scipy.stats.chisquare with the expected counts the weights give."""
import json
import sys

from scipy import stats

out = []
for case in json.load(sys.stdin):
    total = sum(case["units"])
    weight_sum = sum(case["weights"])
    expected = [total * w / weight_sum for w in case["weights"]]
    result = stats.chisquare(case["units"], expected)
    out.append([float(result.statistic), float(result.pvalue)])
print(json.dumps(out))
