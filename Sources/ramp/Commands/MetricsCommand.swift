import RampCore
import RampEngine

enum MetricsCommand {
    static let command = Command(
        name: "metrics", usage: "metrics",
        summary: "Print ramp's own metrics in Prometheus' text exposition format",
        details: """
            Each flag's rollout state, canary share, step, kill switch, disabled state and when max_hold acts;
            each active rollout's gates at their last check (outcome, value per variant, streak); audit entries
            by event; the last tick's time and duration. Metric names and labels are in README.md.
            With `ramp config metrics.textfile /var/lib/node_exporter/ramp.prom`, every tick rewrites that file
            (atomically) for node_exporter's textfile collector.
            """
    ) { context in
        try context.args.expect([])
        Output.print(try context.open().metricsText(now: try context.now()), newline: false)
        return ExitCode.ok
    }
}
