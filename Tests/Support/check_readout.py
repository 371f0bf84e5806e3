"""Independent numbers for ramp's experiment readout (Tests/RampCoreTests/ReadoutTests.swift), from GrowthBook's
gbstats: reads [{"metric": "proportion"|"mean", "control": [n, sum, sum_squares], "treatment": [...], "alpha": a,
"tuning": t}] as JSON on stdin and prints, for each, the relative lift, its interval and p-value from
TwoSidedTTest, and the always-valid interval and p-value from SequentialTwoSidedTTest."""
import json
import sys

from gbstats.frequentist.tests import (
    FrequentistConfig,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import ProportionStatistic, SampleMeanStatistic


def statistic(metric, arm):
    n, total, squares = arm
    if metric == "proportion":
        return ProportionStatistic(n=n, sum=total)
    return SampleMeanStatistic(n=n, sum=total, sum_squares=squares)


out = []
for case in json.load(sys.stdin):
    a = statistic(case["metric"], case["control"])
    b = statistic(case["metric"], case["treatment"])
    fixed = TwoSidedTTest(a, b, FrequentistConfig(alpha=case["alpha"]))
    seq = SequentialTwoSidedTTest(
        a, b, SequentialConfig(alpha=case["alpha"], sequential_tuning_parameter=case["tuning"])
    )
    out.append(
        {
            "estimate": float(fixed.point_estimate),
            "interval": [float(x) for x in fixed.confidence_interval],
            "p": float(fixed.p_value),
            "sequential_interval": [float(x) for x in seq.confidence_interval],
            "sequential_p": float(seq.p_value),
        }
    )
print(json.dumps(out))
