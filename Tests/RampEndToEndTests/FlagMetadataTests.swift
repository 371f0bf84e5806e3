import Foundation
import RampCore
import Testing

/// A flag's metadata: from its plan, stored, returned by `ramp eval --json`, exported beside ramp's own keys, kept by
/// a plan that leaves it out, and replayed by `ramp audit verify`.
@Suite struct FlagMetadataTests {
    static func plan(_ metadata: String?, first: Int = 10) -> String {
        """
        {"flag": "m", "variants": {"on": "new", "off": "old"}, "canary": "on", "baseline": "off",
         \(metadata.map { #""metadata": \#($0),"# } ?? "")
         "steps": [{"percent": \(first), "bake": "1h"}, {"percent": 100}]}
        """
    }

    @Test func metadataIsStoredEvaluatedExportedAndVerified() throws {
        let box = Sandbox()
        box.write("m.json", Self.plan(#"{"owner": "payments", "ticket": 1234, "experimental": true}"#))
        #expect(box.ramp(["submit", "m.json", "--now", t(0)]).status == 0)
        box.ramp(["tick", "--now", t(1)])
        let expected: JSONValue = ["owner": "payments", "ticket": 1234, "experimental": true]
        let evaluated = box.ramp(["eval", "m", "--key", "u1", "--json"]).json.first
        #expect(evaluated?["metadata"] == expected, "\(String(describing: evaluated))")
        let file = box.dir.appendingPathComponent("flags.json").path
        #expect(box.ramp(["export", "--format", "flagd", "--out", file]).status == 0)
        let exported = try JSONParser.parse(String(contentsOfFile: file, encoding: .utf8))["flags"]?["m"]?["metadata"]
        #expect(exported?["owner"] == "payments" && exported?["ticket"] == 1234 && exported?["experimental"] == true)
        #expect(exported?["rampState"] == "progressing" && exported?["rampPercent"] == 10)
        // A later plan that says nothing of metadata keeps it; one that gives it replaces it.
        box.write("again.json", Self.plan(nil, first: 20))
        #expect(box.ramp(["abort", "m", "--now", t(2)]).status == 0)
        let resubmitted = box.ramp(["submit", "again.json", "--now", t(3)])
        #expect(resubmitted.status == 0, "\(resubmitted.stderr)")
        #expect(box.ramp(["eval", "m", "--key", "u1", "--json"]).json.first?["metadata"] == expected)
        box.write("new.json", Self.plan(#"{"owner": "checkout"}"#, first: 30))
        #expect(box.ramp(["abort", "m", "--now", t(4)]).status == 0)
        #expect(box.ramp(["submit", "new.json", "--now", t(5)]).status == 0)
        #expect(box.ramp(["eval", "m", "--key", "u1", "--json"]).json.first?["metadata"] == ["owner": "checkout"])
        let submit = box.ramp(["audit", "log", "--json", "--flag", "m"]).json.last { $0["event"] == "submit" }
        #expect(submit?["evidence"]?["metadata"] == ["owner": "checkout"])
        #expect(box.ramp(["audit", "verify"]).status == 0)
    }

    @Test(arguments: [
        (#""team""#, "p.json: metadata: expected an object of name to string, number or boolean, found a string"),
        (
            #"{"rampState": "x"}"#,
            "p.json: metadata.rampState: names starting with \"ramp\" are ramp's own in the export"
        ),
        (#"{"owner": {"name": "x"}}"#, "p.json: metadata.owner: expected a string, number or boolean, found an object"),
        (#"{"owner": null}"#, "p.json: metadata.owner: expected a string, number or boolean, found null"),
        (#"{"": 1}"#, "p.json: metadata: a name is empty"),
        (#"{"owner": "a\u0007b"}"#, "p.json: metadata.owner: \"a\\u{7}b\" has a control character"),
    ])
    func badMetadataIsRefusedByName(metadata: String, message: String) {
        let box = Sandbox()
        box.write("p.json", Self.plan(metadata))
        let ran = box.ramp(["submit", "p.json", "--now", t(0)])
        #expect(ran.status != 0)
        #expect(ran.stderr == "ramp: \(message)\n", "\(ran.stderr)")
        #expect(!box.storeExists() || box.events().isEmpty)
    }
}
