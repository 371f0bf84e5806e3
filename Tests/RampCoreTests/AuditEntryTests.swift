import Foundation
import RampCore
import Testing

/// The audit entry's canonical form and hash, byte for byte (docs/audit.md).
@Suite struct AuditEntryTests {
    static let entry: AuditEntry = {
        var entry = AuditEntry(
            seq: 7, at: Instant(rfc3339: "2026-01-01T00:00:00Z")!, actor: "alice", rollout: 3, flag: "checkout-v2",
            event: "advance", fromState: "progressing", toState: "progressing",
            fromPercent: Percent(basisPoints: 100), toPercent: Percent(basisPoints: 500), reason: "bake 10m passed",
            evidence: [
                "checks": [
                    [
                        "gate": "errors", "source": "m", "value": 0.002, "bound": "≤ 0.01", "verdict": "pass",
                        "message": "0.002 ≤ 0.01",
                    ]
                ]
            ],
            planDigest: String(repeating: "ab", count: 32), prevHash: String(repeating: "cd", count: 32))
        entry.osUser = "ramp"
        entry.host = "build-7"
        return entry
    }()

    /// python3 -c "import hashlib; print(hashlib.sha256(bytes.fromhex('cd'*32) + BODY.encode()).hexdigest())"
    @Test func oneFixedEntryHashesToItsPublishedValue() {
        let body =
            #"{"actor":"alice","at":"2026-01-01T00:00:00Z","event":"advance","evidence":{"checks":[{"bound":"≤ 0.01","gate":"errors","message":"0.002 ≤ 0.01","source":"m","value":0.002,"verdict":"pass"}]},"flag":"checkout-v2","from_bp":100,"from_state":"progressing","host":"build-7","os_user":"ramp","plan_digest":"abababababababababababababababababababababababababababababababab","reason":"bake 10m passed","rollout":3,"seq":7,"to_bp":500,"to_state":"progressing"}"#
        #expect(Self.entry.hashedBody == body)
        #expect(Self.entry.computeHash() == "e23c29e3ed12d99c595d56815c722dedea5060c1c63d1ee72b6a9c2a63c20330")
    }

    /// The body written straight from the typed fields is the canonical form of the body as a JSON value, whatever
    /// is absent, escaped, negative, beyond 2^53, or read back from a store.
    @Test func theDirectBodyIsTheCanonicalFormOfTheJSONBody() {
        var bare = AuditEntry(
            seq: 9_007_199_254_740_993, at: Instant(seconds: 0), actor: "é \"q\"\n\u{1}", rollout: nil, flag: "*",
            event: "configure", fromState: nil, toState: nil, fromPercent: nil, toPercent: nil, reason: "",
            evidence: ["to": -12, "z": [1.5, nil, true], "a\\": ["": "\t"]], planDigest: nil)
        #expect(bare.hashedBodyBytes == bare.body.canonicalBytes)
        bare.host = "h"
        #expect(bare.hashedBodyBytes == bare.body.canonicalBytes)
        bare.host = nil
        bare.osUser = "u"
        bare.rollout = -4
        #expect(bare.hashedBodyBytes == bare.body.canonicalBytes)
        #expect(Self.entry.hashedBodyBytes == Self.entry.body.canonicalBytes)
        var stored = Self.entry
        stored.storedAt = "2026-01-01T00:00:00.000Z"
        stored.storedEvidence = #"{ "checks": [] }"#
        #expect(
            stored.hashedBody
                == Self.entry.hashedBody.replacingOccurrences(of: "00:00:00Z", with: "00:00:00.000Z")
                .replacingOccurrences(of: Self.entry.evidence.canonical, with: #"{ "checks": [] }"#))
    }

    /// Events and states are typed when ramp knows the word and kept verbatim when it does not, so an entry from a
    /// newer ramp (or an altered one) is still hashed over exactly what is stored.
    @Test func eventsAndStatesAreTypedAndKeepUnknownWordsVerbatim() {
        #expect(Recorded<AuditEvent>(text: "advance") == .known(.advance))
        #expect(Recorded<RolloutState>(text: "rolled_back").value == .rolledBack)
        let unknown = Recorded<AuditEvent>(text: "teleport")
        #expect(unknown == .unknown("teleport") && unknown.value == nil && unknown.text == "teleport")
        var entry = Self.entry
        entry.event = unknown
        entry.toState = Recorded(text: "Progressing")
        #expect(entry.hashedBody.contains(#""event":"teleport""#))
        #expect(entry.hashedBody.contains(#""to_state":"Progressing""#))
        #expect(entry.toState?.value == nil)
    }

    /// Every field counts: changing any one changes the hash.
    @Test(arguments: 0..<15)
    func everyFieldIsHashed(field: Int) {
        var other = Self.entry
        switch field {
        case 0: other.seq = 8
        case 1: other.at = Instant(rfc3339: "2026-01-01T00:00:01Z")!
        case 2: other.actor = "mallory"
        case 3: other.rollout = 4
        case 4: other.flag = "checkout-v3"
        case 5: other.event = "promote"
        case 6: other.fromState = "paused"
        case 7: other.toState = "completed"
        case 8: other.fromPercent = Percent(basisPoints: 101)
        case 9: other.toPercent = Percent(basisPoints: 10_000)
        case 10: other.reason = "bake 10m passed!"
        case 11: other.evidence = [:]
        case 12: other.planDigest = nil
        case 13: other.osUser = "root"
        default: other.host = nil
        }
        #expect(other.computeHash() != Self.entry.computeHash())
    }

    /// An entry whose own hash is right but that links to another previous hash: only the link check sees it.
    @Test func onlyTheLinkCheckCatchesAnEntryRehashedOverAForeignPreviousHash() throws {
        let first = Self.entry.chained(after: nil)
        var second = Self.entry.chained(after: (first.seq, first.hash))
        second.prevHash = String(repeating: "ef", count: 32)
        second.hash = second.computeHash()
        var chain = AuditChain()
        try chain.append(first)
        #expect(throws: AuditChain.Broken(seq: 2, message: "previous hash does not match entry #1's hash")) {
            try chain.append(second)
        }
    }

    @Test func aStoredTextIsHashedAsStoredSoTheSameValueInOtherBytesIsCaught() {
        var read = Self.entry
        read.storedAt = "2026-01-01T00:00:00Z"
        read.storedEvidence = Self.entry.evidence.canonical
        #expect(read.computeHash() == Self.entry.computeHash())
        read.storedEvidence = Self.entry.evidence.canonical.replacing(":", with: ": ")
        #expect(read.computeHash() != Self.entry.computeHash())
        read.storedEvidence = Self.entry.evidence.canonical
        read.storedAt = "2026-01-01T00:00:00+00:00"
        #expect(read.computeHash() != Self.entry.computeHash())
    }
}
