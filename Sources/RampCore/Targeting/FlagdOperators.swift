/// flagd's own JsonLogic operations (https://flagd.dev/reference/custom-operations/): `fractional` and `sem_ver`
/// (`starts_with` and `ends_with` are one line each and live with the standard ones).
enum FlagdOperators {
    /// `{"fractional": [bucketBy?, [variant, weight], ...]}`: the variant whose share of the total weight holds the
    /// hash of the bucketing value. Without a `bucketBy`, the value is the flag key and the targeting key (a
    /// string: any other key gets null, so the flag's default), hashed as the store's bucketing generation says. A missing weight is 1 and a negative one 0, as in flagd.
    /// Null when there is nothing to hash (no targeting key), a share is malformed or the weights sum to 0.
    static func fractional(_ args: [JSONValue], environment: TargetingEnvironment?) -> JSONValue {
        guard let first = args.first else { return .null }
        let custom: JSONValue? = if case .array = first { nil } else { first }
        guard let split = Split(args.dropFirst(custom == nil ? 0 : 1)) else { return .null }
        return split.choose(bucketBy: custom, environment: environment)
    }

    /// `fractional`'s shares, read once (at compile time when they are constant).
    struct Split: Sendable {
        let shares: [(variant: JSONValue, weight: Int)]
        let total: Int

        init?(_ args: ArraySlice<JSONValue>) {
            var shares: [(variant: JSONValue, weight: Int)] = []
            var total = 0
            for share in args {
                guard case .array(let pair) = share, let variant = pair.first, pair.count <= 2 else { return nil }
                var weight = 1
                if pair.count == 2 {
                    guard case .number(let w) = pair[1], w == w.rounded(), abs(w) < 1e15 else { return nil }
                    weight = max(0, Int(w))
                }
                shares.append((variant, weight))
                // Weights past flagd's total (2^31 − 1) are refused below; adding must not overflow first.
                total = min(total + weight, Int(Int32.max) + 1)
            }
            guard total > 0, total <= Int(Int32.max) else { return nil }
            self.shares = shares
            self.total = total
        }

        /// The variant for this evaluation; `bucketBy` is a custom bucketing value (a string under either
        /// generation, any JSON value but null under the CBOR one), nil for the flag key and targeting key.
        func choose(bucketBy: JSONValue?, environment: TargetingEnvironment?) -> JSONValue {
            guard let environment else { return .null }
            let hash: UInt32
            switch bucketBy {
            case nil:
                guard let key = environment.context.targetingKey, !key.isEmpty else { return .null }
                hash = Bucketing.hash(
                    flagKey: environment.flagKey, targetingKey: key, generation: environment.bucketing)
            case .string(let value)? where !value.isEmpty || environment.bucketing == .cbor:
                hash = Bucketing.hash(value, generation: environment.bucketing)
            case let value? where environment.bucketing == .cbor && value != .null:
                // The next generation hashes any JSON value by its canonical CBOR (the Python provider 0.6.x).
                hash = Bucketing.cborHash(value)
            default:
                return .null
            }
            let bucket = Bucketing.bucket(hash: hash, totalWeight: total)
            var end = 0
            for share in shares {
                end += share.weight
                if bucket < end { return share.variant }
            }
            return .null
        }
    }

    /// `{"sem_ver": [version, operator, version]}` with `=`, `!=`, `<`, `<=`, `>`, `>=`, `^` (same major) and `~`
    /// (same major and minor). Versions are semantic versions; a leading `v` is allowed and a missing minor or patch
    /// is 0 (`"1.2"` is 1.2.0), as flagd does; a number is read as its text (`2` is 2.0.0, `2.5` is 2.5.0), as
    /// flagd's providers read it. Anything else gives null.
    static func semVer(_ args: [JSONValue]) -> JSONValue {
        guard args.count == 3, case .string(let op) = args[1], let a = SemanticVersion(args[0]),
            let b = SemanticVersion(args[2])
        else { return .null }
        switch op {
        case "=": return .bool(a == b)
        case "!=": return .bool(a != b)
        case "<": return .bool(a < b)
        case "<=": return .bool(a <= b)
        case ">": return .bool(a > b)
        case ">=": return .bool(a >= b)
        case "^": return .bool(a.major == b.major)
        case "~": return .bool(a.major == b.major && a.minor == b.minor)
        default: return .null
        }
    }
}

/// A semantic version (https://semver.org): precedence by major, minor, patch, then pre-release identifiers;
/// build metadata is ignored.
struct SemanticVersion: Comparable {
    var major: UInt64
    var minor: UInt64
    var patch: UInt64
    var prerelease: [Substring]

    init?(_ value: JSONValue) {
        var text: String
        switch value {
        case .string(let given): text = given
        case .number(let n) where n.isFinite:
            // A number is read as flagd's providers read it, by its text: 2 (or 2.0) is 2.0.0, 2.5 is 2.5.0.
            // Integral values print as integers below 10^16, the rest in their shortest form (which with an
            // exponent, like 1e+16, is no version).
            text = n == n.rounded() && abs(n) < 1e16 ? String(Int64(n)) : "\(n)"
        default: return nil
        }
        if text.hasPrefix("v") || text.hasPrefix("V") { text.removeFirst() }
        let withoutBuild = text.split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let parts = withoutBuild.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        var core = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        while core.count < 3 { core.append("0") }
        func number(_ s: Substring) -> UInt64? {
            guard !s.isEmpty, s.allSatisfy(\.isASCII), s.allSatisfy(\.isNumber), s == "0" || s.first != "0" else {
                return nil
            }
            return UInt64(s)
        }
        guard core.count == 3, let major = number(core[0]), let minor = number(core[1]), let patch = number(core[2])
        else { return nil }
        self.major = major
        self.minor = minor
        self.patch = patch
        prerelease = parts.count > 1 ? parts[1].split(separator: ".", omittingEmptySubsequences: false) : []
        if parts.count > 1, prerelease.contains(where: \.isEmpty) { return nil }
    }

    static func == (a: SemanticVersion, b: SemanticVersion) -> Bool {
        a.major == b.major && a.minor == b.minor && a.patch == b.patch && a.prerelease == b.prerelease
    }

    static func < (a: SemanticVersion, b: SemanticVersion) -> Bool {
        if (a.major, a.minor, a.patch) != (b.major, b.minor, b.patch) {
            return (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
        }
        // A pre-release sorts before its release; identifiers compare numerically when both are numbers.
        if a.prerelease.isEmpty || b.prerelease.isEmpty { return !a.prerelease.isEmpty && b.prerelease.isEmpty }
        for (x, y) in zip(a.prerelease, b.prerelease) where x != y {
            switch (UInt64(x), UInt64(y)) {
            case (let m?, let n?): return m < n
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return x.utf8.lexicographicallyPrecedes(y.utf8)
            }
        }
        return a.prerelease.count < b.prerelease.count
    }
}
