"""Independent numbers for ramp's Thompson sampling (Tests/RampCoreTests/ThompsonTests.swift), from scipy.

Reads JSON from stdin: {"samples": [{"kind": "beta"|"gamma"|"normal", "params": [...], "draws": [...]}],
"best": [{"arms": [["beta", a, b] | ["normal", mean, se], ...]}]} and prints {"ks": [p-value per sample set],
"best": [[P(arm i is best) per arm] per set]}, the probabilities by numerical integration:
P(i best) = integral of f_i(x) * prod_{j != i} F_j(x) dx.
"""
import json
import sys

from scipy import integrate, stats


def frozen(arm):
    kind, p, q = arm
    return stats.beta(p, q) if kind == "beta" else stats.norm(p, q)


def best(arms):
    dists = [frozen(a) for a in arms]
    lo = min(d.ppf(1e-12) for d in dists)
    hi = max(d.ppf(1 - 1e-12) for d in dists)
    out = []
    for i, d in enumerate(dists):
        def integrand(x, i=i, d=d):
            value = d.pdf(x)
            for j, other in enumerate(dists):
                if j != i:
                    value *= other.cdf(x)
            return value
        points = sorted(set(float(e.mean()) for e in dists))
        value, _ = integrate.quad(integrand, lo, hi, points=points, limit=500, epsabs=1e-12, epsrel=1e-10)
        out.append(value)
    return out


def main():
    request = json.load(sys.stdin)
    ks = []
    for s in request.get("samples", []):
        kind, params = s["kind"], s["params"]
        if kind == "beta":
            cdf = stats.beta(*params).cdf
        elif kind == "gamma":
            cdf = stats.gamma(params[0]).cdf
        else:
            cdf = stats.norm().cdf
        ks.append(stats.kstest(s["draws"], cdf).pvalue)
    print(json.dumps({"ks": ks, "best": [best(b["arms"]) for b in request.get("best", [])]}))


main()
