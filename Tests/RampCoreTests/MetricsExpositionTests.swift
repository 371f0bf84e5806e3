import RampCore
import Testing

/// Prometheus' text exposition format, as `promtool check metrics` reads it.
@Suite struct MetricsExpositionTests {
    @Test func labelValuesAreEscapedAndValuesWrittenAsGoWritesThem() {
        var m = MetricsExposition()
        m.describe("ramp_x", .gauge, "A help text with a \\ and a\nnewline.")
        m.add("ramp_x", [("gate", #"say "hi" \ now"#), ("flag", "f")], 0.25)
        m.add("ramp_x", [("gate", "line\nbreak")], .nan)
        m.add("ramp_x", [], .infinity)
        m.add("ramp_x", [], -.infinity)
        m.add("ramp_x", [], 1_767_225_600)
        #expect(
            m.text == """
                # HELP ramp_x A help text with a \\\\ and a\\nnewline.
                # TYPE ramp_x gauge
                ramp_x{gate="say \\"hi\\" \\\\ now",flag="f"} 0.25
                ramp_x{gate="line\\nbreak"} NaN
                ramp_x +Inf
                ramp_x -Inf
                ramp_x 1767225600

                """)
    }
}
