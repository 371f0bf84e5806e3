import Foundation
import RampCore
import Testing

/// Segment steps, targeting rules and the configured flagd export, through the `ramp` binary.
@Suite struct TargetingEndToEndTests {
    static let plan = """
        {"flag": "checkout", "variants": {"on": "new", "off": "old"}, "canary": "on", "baseline": "off",
         "segments": {"internal": {"ends_with": [{"var": "email"}, "@example.com"]},
                      "beta": {"in": [{"var": "cohort"}, ["beta", "alpha"]]}},
         "rules": [{"when": {"==": [{"var": "region"}, "blocked"]}, "variant": "off"}],
         "steps": [{"segment": "internal", "bake": "1h"}, {"segment": "beta", "bake": "1h"}, {"percent": 10}]}
        """

    @Test func segmentStepsAreTransitionsWithAuditEntriesAndAccumulate() throws {
        let box = Sandbox()
        box.write("p.json", Self.plan)
        #expect(box.ramp(["submit", "p.json", "--now", t(0)]).status == 0)
        box.ramp(["tick", "--now", t(0)])
        func eval(_ context: String) -> String { box.ramp(["eval", "checkout", "--context", context]).stdout }
        #expect(eval(#"{"targetingKey": "a", "email": "a@example.com"}"#) == "on\t\"new\"\tTARGETING_MATCH\n")
        #expect(eval(#"{"targetingKey": "b", "cohort": "beta"}"#) == "off\t\"old\"\tDEFAULT\n")
        box.ramp(["tick", "--now", t(61)])
        // The beta step adds its segment; the internal one keeps the canary.
        #expect(eval(#"{"targetingKey": "b", "cohort": "beta"}"#) == "on\t\"new\"\tTARGETING_MATCH\n")
        #expect(eval(#"{"targetingKey": "a", "email": "a@example.com"}"#) == "on\t\"new\"\tTARGETING_MATCH\n")
        #expect(
            eval(#"{"targetingKey": "a", "email": "a@example.com", "region": "blocked"}"#)
                == "off\t\"old\"\tTARGETING_MATCH\n")
        let entries = box.ramp(["audit", "log", "--json"]).json
        let segmentChanges = entries.compactMap { $0["evidence"]?["segments"] }
        #expect(
            segmentChanges == [["from": [], "to": ["internal"]], ["from": ["internal"], "to": ["internal", "beta"]]])
        #expect(box.ramp(["audit", "verify"]).status == 0)
        // A rollback takes the segments away with the share.
        #expect(box.ramp(["abort", "checkout", "--now", t(62)]).status == 0)
        #expect(eval(#"{"targetingKey": "b", "cohort": "beta"}"#) == "off\t\"old\"\tDEFAULT\n")
    }

    @Test func aDisabledFlagAnswersDisabledPausesItsRolloutAndHoldsItUntilEnabled() throws {
        let box = Sandbox()
        box.write("p.json", Self.plan)
        box.ramp(["submit", "p.json", "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        #expect(box.ramp(["disable", "checkout", "--now", t(1)]).status == 0)
        let disabled = box.ramp(["eval", "checkout", "--context", #"{"targetingKey": "a", "email": "a@example.com"}"#])
        #expect(disabled.stdout == "\tnull\tDISABLED\n" && disabled.status == 0)
        // No variant means no type to check: a typed request is DISABLED too, as the flagd provider answers.
        #expect(box.ramp(["eval", "checkout", "--key", "a", "--type", "boolean"]).stdout == "\tnull\tDISABLED\n")
        #expect(box.status("checkout")["state"] == "paused" && box.status("checkout")["disabled"] == true)
        // Nothing moves the rollout while the flag is disabled, and a new plan waits for enable too.
        #expect(box.ramp(["resume", "checkout", "--now", t(2)]).stderr.contains("run `ramp enable checkout` first"))
        #expect(box.ramp(["promote", "checkout", "--now", t(2)]).status == 5)
        box.ramp(["tick", "--now", t(120)])
        #expect(box.status("checkout")["step"] == 1)
        #expect(box.ramp(["disable", "checkout"]).stdout == "checkout is already disabled; nothing changed\n")
        #expect(box.ramp(["enable", "checkout", "--now", t(121)]).status == 0)
        #expect(box.ramp(["eval", "checkout", "--key", "a"]).stdout == "off\t\"old\"\tDEFAULT\n")
        #expect(
            box.ramp(["eval", "checkout", "--context", #"{"targetingKey": "a", "email": "a@example.com"}"#]).stdout
                == "on\t\"new\"\tTARGETING_MATCH\n")
        #expect(box.status("checkout")["state"] == "paused")
        #expect(box.ramp(["resume", "checkout", "--now", t(122)]).status == 0)
        #expect(box.events(flag: "checkout") == ["submit", "start", "disable", "enable", "resume"])
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }

    @Test func aStepNamingAnUnknownSegmentIsRefusedAndNothingIsStored() throws {
        let box = Sandbox()
        box.write(
            "p.json",
            Self.plan.replacingOccurrences(of: #"{"segment": "beta", "bake": "1h"}"#, with: #"{"segment": "gamma"}"#))
        let ran = box.ramp(["submit", "p.json", "--now", t(0)])
        #expect(ran.status == 3)
        #expect(
            ran.stderr
                == "ramp: p.json: steps[1].segment: no segment \"gamma\" in the plan or on flag \"checkout\" (known: beta, internal)\n"
        )
        #expect(box.ramp(["status", "checkout"]).status == 4)
        #expect(!box.storeExists(), "a refused submit leaves no new store behind")
    }

    @Test func evalReportsTypeMismatchAndParseErrorsAsFlagdDoes() {
        let box = Sandbox()
        box.write("p.json", Self.plan)
        box.ramp(["submit", "p.json", "--now", t(0)])
        let mismatch = box.ramp(["eval", "checkout", "--key", "k", "--type", "boolean", "--json"])
        #expect(mismatch.status == 3)
        #expect(mismatch.json.first?["errorCode"] == "TYPE_MISMATCH" && mismatch.json.first?["reason"] == "ERROR")
        #expect(box.ramp(["eval", "checkout", "--key", "k", "--type", "string"]).stdout == "off\t\"old\"\tDEFAULT\n")
        let batch = box.ramp(
            ["eval", "checkout", "--contexts", "-"],
            stdin: "{\"targetingKey\": \"a\"}\n[1]\n{\"email\": \"x@example.com\"}\n")
        #expect(batch.lines == ["a\toff\t\"old\"\tDEFAULT", "\t\tnull\tERROR\tPARSE_ERROR", "\toff\t\"old\"\tDEFAULT"])
    }

    @Test func theConfiguredExportIsRewrittenAfterEveryChangeAndHealedByTheNextTick() throws {
        let box = Sandbox()
        let file = box.dir.appendingPathComponent("flags.json").path
        #expect(box.ramp(["config", "export.flagd", "flags.json", "--now", t(0)]).status == 0)
        #expect(box.ramp(["config", "export.flagd"]).stdout == file + "\n")
        box.write("p.json", Self.plan)
        box.ramp(["submit", "p.json", "--now", t(0)])
        func exported() throws -> JSONValue { try JSONParser.parse(String(contentsOfFile: file, encoding: .utf8)) }
        #expect(try exported()["flags"]?["checkout"]?["metadata"]?["rampState"] == "pending")
        box.ramp(["tick", "--now", t(0)])
        #expect(try exported()["flags"]?["checkout"]?["metadata"]?["rampSegments"] == "internal")
        #expect(try exported() == (try JSONParser.parse(box.ramp(["export", "--format", "flagd"]).stdout)))
        box.ramp(["kill", "checkout", "--now", t(1)])
        #expect(try exported()["flags"]?["checkout"]?["targeting"] == nil)
        // A crash between commit and export, simulated: the file is lost; the next tick writes it again.
        try FileManager.default.removeItem(atPath: file)
        #expect(box.ramp(["tick", "--now", t(2)]).status == 0)
        #expect(try exported()["flags"]?["checkout"]?["metadata"]?["rampKilled"] == true)
        // A folder that cannot take the file: the change is committed, the failure is reported with exit 1.
        try FileManager.default.removeItem(atPath: file)
        try FileManager.default.createDirectory(atPath: file, withIntermediateDirectories: false)
        let failed = box.ramp(["unkill", "checkout", "--now", t(3)])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("the change is committed, but the flagd export failed"))
        #expect(box.status("checkout")["killed"] == false)
    }

    @Test func bucketingCannotChangeWhileAFlagIsPartway() {
        let box = Sandbox()
        box.ramp(["submit", box.plan("f", steps: [(5, "1h", false)]), "--now", t(0)])
        box.ramp(["tick", "--now", t(0)])
        let refused = box.ramp(["config", "bucketing", "cbor"])
        #expect(refused.status == 5)
        #expect(refused.stderr.contains("cannot change bucketing while flag \"f\" serves its canary to 5%"))
        #expect(box.ramp(["config", "bucketing"]).stdout == "concat\n")
        #expect(box.ramp(["config", "bucketing", "md5"]).status == 3)
    }
}
