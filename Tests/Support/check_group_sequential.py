"""Independent group-sequential numbers for ramp's boundaries (Tests/RampCoreTests/GroupSequentialTests.swift).

Reads a JSON list of designs on stdin, each {"spending": "obrien_fleming" | "pocock", "alpha": a, "fractions": [t],
"boundaries": [z]} (the boundaries are ramp's), and writes a JSON list with, for each design:

- "confidence": the boundaries spotify-confidence computes for the same looks. Its solver (a port of R's ldbounds)
  spends alpha by the power family a*t^rho only, so its `_alphas` is replaced by the Lan-DeMets O'Brien-Fleming-type
  or Pocock-type spending; the recursion and the root finding stay its own.
- "crossed": for designs of at most 4 looks, the probability under the null that Z_j >= b_j at some look j <= k, for
  each k, from scipy's multivariate normal CDF of (Z_1..Z_k) with corr(Z_i, Z_j) = sqrt(t_i / t_j) at ramp's
  boundaries: what the spending function says must have been spent by then.
- "spent": the spending function's value at each look (scipy's normal, independent of ramp's).
- "crossed_under_drift": when the design gives a "drift" theta (and has at most 4 looks), the same probabilities when
  Z_k has mean theta*sqrt(t_k): the power of ramp's boundaries by each look.
"""

import json
import warnings
import math
import sys

import numpy as np
from scipy.stats import multivariate_normal, norm
from spotify_confidence.analysis.frequentist import sequential_bound_solver as solver


def spending(kind, alpha, t):
    t = min(max(t, 0.0), 1.0)
    if kind == "obrien_fleming":
        return 2 - 2 * norm.cdf(norm.ppf(1 - alpha / 2) / math.sqrt(t))
    if kind == "pocock":
        return alpha * math.log(1 + (math.e - 1) * t)
    raise ValueError(kind)


def confidence_bounds(kind, alpha, fractions):
    def alphas(a, _phi, t):
        pe = np.array([spending(kind, a, x) for x in t])
        pd = np.diff(pe, prepend=0.0)
        return pe, pd

    original = solver._alphas
    solver._alphas = alphas
    try:
        result = solver.bounds(np.array(fractions, dtype=float), alpha=alpha, rho=1.0, ztrun=8, sides=1)
    finally:
        solver._alphas = original
    return [float(z) for z in result.df["zb"].values]


def crossed(fractions, boundaries, drift=0.0):
    out = []
    for k in range(1, len(fractions) + 1):
        t = fractions[:k]
        cov = [[math.sqrt(min(a, b) / max(a, b)) for b in t] for a in t]
        mean = [drift * math.sqrt(x) for x in t]
        law = multivariate_normal(mean=mean, cov=cov, abseps=1e-9, releps=1e-9, maxpts=200000 * k)
        stay = law.cdf(np.array(boundaries[:k]))
        out.append(float(1 - stay))
    return out


def main():
    # The solver indexes a pandas Series by position, which pandas warns about on every call.
    warnings.simplefilter("ignore", FutureWarning)
    designs = json.load(sys.stdin)
    results = []
    for d in designs:
        fractions, boundaries = d["fractions"], d["boundaries"]
        entry = {
            "confidence": confidence_bounds(d["spending"], d["alpha"], fractions),
            "spent": [spending(d["spending"], d["alpha"], t) for t in fractions],
        }
        if len(fractions) <= 4:
            entry["crossed"] = crossed(fractions, boundaries)
            if "drift" in d:
                entry["crossed_under_drift"] = crossed(fractions, boundaries, d["drift"])
        results.append(entry)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
