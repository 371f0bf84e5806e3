"""Independent numbers for the experiment readout's power (Tests/RampEndToEndTests/ExperimentEndToEndTests.swift),
from statsmodels: reads [{"effect_size": d, "n_control": n1, "n_treatment": n2, "alpha": a, "power": p,
"guardrails": g}] as JSON on stdin (d the standardized effect: mde x |control mean| / control sd) and prints
[[power, required_per_arm]]: the two-sided z-test's power at the units given (NormalIndPower.power, ratio
n2 / n1), and the units per arm (equal arms) that reach power 1 - (1 - p) / (g + 1) (NormalIndPower.solve_power)."""
import json
import sys

from statsmodels.stats.power import NormalIndPower

out = []
for case in json.load(sys.stdin):
    analysis = NormalIndPower()
    power = analysis.power(
        effect_size=case["effect_size"], nobs1=case["n_control"], alpha=case["alpha"],
        ratio=case["n_treatment"] / case["n_control"], alternative="two-sided",
    )
    beta = (1 - case["power"]) / (case["guardrails"] + 1)
    required = analysis.solve_power(
        effect_size=case["effect_size"], nobs1=None, alpha=case["alpha"], power=1 - beta, ratio=1.0,
        alternative="two-sided",
    )
    out.append([float(power), float(required)])
print(json.dumps(out))
