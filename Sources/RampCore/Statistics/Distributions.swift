#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The standard normal distribution: CDF through the C library's `erfc`, quantile by Wichura's AS241 (PPND16).
public enum Normal {
    /// P(Z ≤ x).
    public static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// P(Z > x), accurate far into the upper tail (no 1 − cdf cancellation).
    public static func sf(_ x: Double) -> Double { 0.5 * erfc(x / 2.0.squareRoot()) }

    /// The x with P(Z ≤ x) = p, for 0 < p < 1 (±infinity at 0 and 1, NaN outside). Relative error about 1e-16.
    ///
    /// M. J. Wichura, "Algorithm AS 241: The percentage points of the normal distribution", Applied Statistics
    /// 37(3), 1988: three rational approximations, for |p − ½| ≤ 0.425, for r = √(−log min(p, 1−p)) ≤ 5, beyond.
    public static func quantile(_ p: Double) -> Double {
        guard p > 0, p < 1 else { return p == 0 ? -.infinity : p == 1 ? .infinity : .nan }
        let q = p - 0.5
        if abs(q) <= 0.425 {
            let r = 0.180625 - q * q
            return q * horner(r, a) / horner(r, b)
        }
        var r = (-log(q < 0 ? p : 1 - p)).squareRoot()
        let x: Double
        if r <= 5 {
            r -= 1.6
            x = horner(r, c) / horner(r, d)
        } else {
            r -= 5
            x = horner(r, e) / horner(r, f)
        }
        return q < 0 ? -x : x
    }

    /// c[0] + c[1]·x + … + c[n]·x^n.
    private static func horner(_ x: Double, _ c: [Double]) -> Double {
        c.reversed().reduce(0) { $0 * x + $1 }
    }

    private static let a = [
        3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3, 1.3731693765509461125e4,
        4.5921953931549871457e4, 6.7265770927008700853e4, 3.3430575583588128105e4, 2.5090809287301226727e3,
    ]
    private static let b = [
        1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3, 2.1213794301586595867e4,
        3.9307895800092710610e4, 2.8729085735721942674e4, 5.2264952788528545610e3,
    ]
    private static let c = [
        1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0, 3.64784832476320460504e0,
        1.27045825245236838258e0, 2.41780725177450611770e-1, 2.27238449892691845833e-2, 7.74545014278341407640e-4,
    ]
    private static let d = [
        1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
        1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4, 1.05075007164441684324e-9,
    ]
    private static let e = [
        6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0, 2.96560571828504891230e-1,
        2.65321895265761230930e-2, 1.24266094738807843860e-3, 2.71155556874348757815e-5, 2.01033439929228813265e-7,
    ]
    private static let f = [
        1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
        7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7, 2.04426310338993978564e-15,
    ]
}

/// Student's t distribution, through the regularized incomplete beta function.
public enum StudentT {
    /// P(T > t) with `df` degrees of freedom (df > 0, not necessarily whole: Welch's test uses fractional df).
    public static func sf(_ t: Double, df: Double) -> Double {
        guard t.isFinite else { return t > 0 ? 0 : 1 }
        // P(|T| > |t|) = I_x(df/2, 1/2) with x = df / (df + t²); each tail is half of it.
        let tail = 0.5 * Special.regularizedBeta(df / 2, 0.5, df / (df + t * t))
        return t > 0 ? tail : 1 - tail
    }

    /// P(T ≤ t).
    public static func cdf(_ t: Double, df: Double) -> Double { sf(-t, df: df) }

    /// The t with P(T ≤ t) = p, 0 < p < 1, by bisection on the CDF (to the last representable step).
    public static func quantile(_ p: Double, df: Double) -> Double {
        guard p > 0, p < 1, df > 0, df.isFinite else { return .nan }
        var low = -1.0
        var high = 1.0
        while cdf(low, df: df) > p, low > -1e300 { low *= 2 }
        while cdf(high, df: df) < p, high < 1e300 { high *= 2 }
        for _ in 0..<2_000 {
            let middle = (low + high) / 2
            guard middle > low, middle < high else { break }
            if cdf(middle, df: df) < p { low = middle } else { high = middle }
        }
        return (low + high) / 2
    }
}

/// The chi-square distribution's upper tail.
public enum ChiSquare {
    /// P(X > x) with `df` degrees of freedom: the regularized upper incomplete gamma Q(df/2, x/2).
    public static func sf(_ x: Double, df: Double) -> Double {
        guard x > 0 else { return 1 }
        return Special.regularizedGammaQ(df / 2, x / 2)
    }
}

/// Special functions behind the distributions: continued fractions evaluated by the modified Lentz method.
public enum Special {
    static let epsilon = 1e-16
    static let tiny = 1e-300

    /// The regularized incomplete beta function I_x(a, b), a, b > 0, 0 ≤ x ≤ 1.
    public static func regularizedBeta(_ a: Double, _ b: Double, _ x: Double) -> Double {
        guard x > 0 else { return 0 }
        guard x < 1 else { return 1 }
        // x^a (1−x)^b / (a B(a, b)), in logs.
        let front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x))
        // The continued fraction converges fast for x < (a+1)/(a+b+2); otherwise use I_x(a,b) = 1 − I_{1−x}(b,a).
        if x < (a + 1) / (a + b + 2) {
            return front * betaFraction(a, b, x) / a
        }
        return 1 - front * betaFraction(b, a, 1 - x) / b
    }

    /// The continued fraction for I_x(a, b) (Numerical Recipes §6.4, eq. 6.4.5), by Lentz's method.
    private static func betaFraction(_ a: Double, _ b: Double, _ x: Double) -> Double {
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...10_000 {
            let m = Double(m)
            let m2 = 2 * m
            // The even step.
            var aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            // The odd step.
            aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < epsilon { break }
        }
        return h
    }

    /// The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a), a > 0, x ≥ 0.
    public static func regularizedGammaQ(_ a: Double, _ x: Double) -> Double {
        guard x > 0 else { return 1 }
        let front = exp(-x + a * log(x) - lgamma(a))
        if x < a + 1 {
            // The series for P(a, x); Q = 1 − P does not lose precision here, where Q is not small.
            var term = 1 / a
            var sum = term
            var n = a
            for _ in 0..<10_000 {
                n += 1
                term *= x / n
                sum += term
                if abs(term) < abs(sum) * epsilon { break }
            }
            return 1 - front * sum
        }
        // The continued fraction for Q(a, x) (Numerical Recipes §6.2, eq. 6.2.7), by Lentz's method.
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        for i in 1...10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < epsilon { break }
        }
        return front * h
    }
}
