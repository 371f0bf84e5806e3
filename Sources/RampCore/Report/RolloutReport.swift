/// Renders a flag's rollout history as one self-contained HTML document for `ramp report FLAG --out FILE`: inline
/// CSS and inline SVG (tooltips are SVG `<title>`s), no script, no external asset, nothing fetched. Every text from
/// the store is escaped. Pure: the caller reads the store, verifies the log and passes the time of the report.
///
/// ```swift
/// let page = RolloutReport.html(input)   // "<!DOCTYPE html>\n<html lang=\"en\">…"
/// ```
public enum RolloutReport {
    /// The report as one HTML document: a verification banner, a summary line per rollout, then per rollout
    /// (`<section class="rollout" id="rollout-ID">`) its timeline, gate charts, audit entries and plan.
    public static func html(_ input: ReportInput) -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out += "<title>Rollout report · \(esc(input.flag))</title>\n<style>\n\(css)</style>\n</head>\n<body>\n<main>\n"
        out += "<header class=\"report-header\"><p class=\"eyebrow\">ramp · rollout report</p>"
        out += "<h1 class=\"flag\">\(esc(input.flag))</h1><p class=\"meta\">canary <b>\(esc(input.canary))</b> vs "
        let count = input.rollouts.count
        out += "baseline <b>\(esc(input.baseline))</b> · \(count) rollout\(count == 1 ? "" : "s") · generated "
        out += "<time datetime=\"\(input.generatedAt.description)\">\(minute(input.generatedAt)) UTC</time></p>"
        out += "</header>\n"
        let verification = input.verification
        out += "<div class=\"verification \(verification.ok ? "verified" : "failed")\" "
        out += "data-ok=\"\(verification.ok)\" role=\"status\"><strong>"
        out += verification.ok ? "✓ Audit log verified" : "✗ Audit log NOT verified"
        out += "</strong> <span class=\"verification-text\">\(esc(verification.text))</span></div>\n"
        summary(input, into: &out)
        for part in input.rollouts { rollout(part, input, into: &out) }
        out += "<footer>Made by ramp from the store's audit log and gate checks. All times are UTC.</footer>\n"
        return out + "</main>\n</body>\n</html>\n"
    }

    // MARK: - Sections

    private static func summary(_ input: ReportInput, into out: inout String) {
        out += "<section class=\"summary\"><h2>Summary</h2>\n"
        guard !input.rollouts.isEmpty else {
            out += "<p class=\"empty\">This flag has no rollouts.</p></section>\n"
            return
        }
        out += "<table class=\"summary-table\"><thead><tr><th>Rollout</th><th>State</th><th class=\"num\">Final share"
        out += "</th><th class=\"num\">Transitions</th><th>Period (UTC)</th></tr></thead><tbody>\n"
        for part in input.rollouts {
            out += "<tr class=\"summary-row\" data-rollout=\"\(part.id)\"><td><a href=\"#rollout-\(part.id)\">"
            out += "#\(part.id)</a></td><td>\(badge(part.state))</td><td class=\"num\">\(finalShare(part))</td>"
            out += "<td class=\"num\">\(part.entries.count)</td><td class=\"nowrap\">\(periodText(part))</td></tr>\n"
        }
        out += "</tbody></table></section>\n"
    }

    private static func rollout(_ part: ReportInput.Part, _ input: ReportInput, into out: inout String) {
        let plan = part.plan
        let span = period(part)
        let first = span?.first ?? input.generatedAt
        let last = span?.last ?? first
        // An active rollout keeps its share until now.
        let active = RolloutState(rawValue: part.state)?.isActive ?? false
        let now: Instant? = active && input.generatedAt >= last ? input.generatedAt : nil
        let range = timeRange(first, now ?? last)
        out += "<section class=\"rollout\" id=\"rollout-\(part.id)\" data-rollout=\"\(part.id)\" "
        out += "data-state=\"\(esc(part.state))\">\n<header class=\"rollout-header\"><h2><span class=\"flag\">"
        out += "\(esc(input.flag))</span> <span class=\"rollout-id\">rollout #\(part.id)</span> "
        out += "\(badge(part.state))</h2>\n"
        if let description = plan.description { out += "<p class=\"description\">\(esc(description))</p>\n" }
        let facts = [
            ("Canary vs baseline", "<b>\(esc(plan.canary))</b> vs <b>\(esc(plan.baseline))</b>"),
            ("Final share", finalShare(part).description),
            ("Transitions", String(part.entries.count)),
            ("Plan", "<code title=\"\(esc(part.planDigest))\">\(esc(String(part.planDigest.prefix(12))))</code>"),
            ("Period (UTC)", periodText(part)),
        ]
        out += "<dl class=\"facts\">"
        for (term, value) in facts { out += "<div><dt>\(term)</dt><dd>\(value)</dd></div>" }
        out += "</dl></header>\n<h3>Timeline</h3>\n"
        timeline(part, range: range, until: now, into: &out)
        out += "<h3>Gates</h3>\n"
        var names = plan.gates.map(\.name)
        for timed in part.checks where !names.contains(timed.check.gate) { names.append(timed.check.gate) }
        if names.isEmpty { out += "<p class=\"empty\">The plan has no gates.</p>\n" }
        for name in names {
            let checks = part.checks.filter { $0.check.gate == name }
            gateChart(name, plan.gates.first { $0.name == name }, checks, part.entries, range: range, into: &out)
        }
        out += "<h3>Audit entries</h3>\n"
        auditTable(part.entries, into: &out)
        out += "<h3>Plan</h3>\n"
        planTables(part, into: &out)
        out += "</section>\n"
    }

    // MARK: - Timeline

    private static func timeline(
        _ part: ReportInput.Part, range: (Double, Double), until now: Instant?, into out: inout String
    ) {
        let f = Frame(height: 260, top: 30, bottom: 36, xRange: range, yRange: (0, 100))
        out += "<figure class=\"chart\"><svg class=\"timeline\" viewBox=\"0 0 900 260\" role=\"img\" "
        out += "aria-label=\"Canary share over time\">\n"
        for p in stride(from: 0.0, through: 100, by: 25) {
            out += line(Frame.left, f.y(p), f.plotRight, f.y(p), "grid")
            out += text(Frame.left - 8, f.y(p) + 4, "\(Int(p))%", "tick", anchor: "end")
        }
        timeAxis(f, into: &out)
        // The plan's step levels, labelled in the right margin; a label that would touch the one below moves up.
        var levels: [(percent: Percent, steps: [Int])] = []
        for (i, step) in part.plan.steps.enumerated() {
            if let k = levels.firstIndex(where: { $0.percent == step.percent }) {
                levels[k].steps.append(i + 1)
            } else {
                levels.append((percent: step.percent, steps: [i + 1]))
            }
        }
        var labelY = Double.infinity
        for level in levels.sorted(by: { $0.percent < $1.percent }) {
            let y = f.y(level.percent.value)
            labelY = min(y + 3.5, labelY - 12)
            let numbers = level.steps.map { String($0) }.joined(separator: ",")
            let name = (level.steps.count == 1 ? "step " : "steps ") + numbers
            out += "<g class=\"guide\" data-percent=\"\(JSONValue.format(level.percent.value))\">"
            out += line(Frame.left, y, f.plotRight, y, "guide-line")
            out += text(f.plotRight + 6, labelY, "\(name) · \(level.percent)", "guide-label") + "</g>\n"
        }
        guard let start = part.entries.first else {
            out += text(450, 120, "no audit entries", "no-checks", anchor: "middle") + "</svg></figure>\n"
            return
        }
        // The canary's share as a step line: flat until the next transition that sets it.
        var share = start.fromPercent?.value ?? 0
        var path = Path()
        path.add(f.x(start.at), f.y(share))
        for entry in part.entries {
            guard let to = entry.toPercent?.value else { continue }
            path.add(f.x(entry.at), f.y(share))
            path.add(f.x(entry.at), f.y(to))
            share = to
        }
        let end = f.x(now ?? part.entries.last?.at ?? start.at)
        path.add(end, f.y(share))
        var area = path
        area.add(end, f.y(0))
        area.add(f.x(start.at), f.y(0))
        out += "<path class=\"share-area\" d=\"\(area.d)Z\"/>\n<path class=\"share-line\" d=\"\(path.d)\"/>\n"
        if now != nil {
            out += line(end, f.top, end, f.plotBottom, "now-line")
            out += text(end, f.top - 6, "now", "tick", anchor: "middle")
        }
        transitionMarkers(part.entries, f, into: &out)
        out += "</svg></figure>\n"
    }

    /// One marker per audit entry at the share after it, its event name beside it where no marker or label is.
    private static func transitionMarkers(_ entries: [AuditEntry], _ f: Frame, into out: inout String) {
        var markers: [(entry: AuditEntry, share: Double, x: Double, y: Double)] = []
        var current = entries.first?.fromPercent?.value ?? 0
        var previousX = -Double.infinity
        var stacked = 0
        for entry in entries {
            current = entry.toPercent?.value ?? current
            let exactX = f.x(entry.at)
            // Entries at the same instant fan out a little to the right, so each can be seen and hovered.
            stacked = abs(exactX - previousX) < 1 ? stacked + 1 : 0
            previousX = exactX
            markers.append((entry: entry, share: current, x: exactX + Double(min(stacked, 6)) * 7, y: f.y(current)))
        }
        var taken = markers.map { (x0: $0.x - 6, y0: $0.y - 6, x1: $0.x + 6, y1: $0.y + 6) }
        for (entry, share, cx, cy) in markers {
            guard let xs = num(cx), let ys = num(cy) else { continue }
            let name = String(entry.event.text.prefix(24))
            let width = Double(name.count) * 6.4 + 2
            let toLeft = cx + 8 + width > f.plotRight + 8
            let lx = toLeft ? cx - 8 : cx + 8
            let (left, right) = toLeft ? (lx - width, lx) : (lx, lx + width)
            let candidates: [Double] = [-8, 16, -20, 28, -32, 40]
            let offsets = candidates.filter { cy + $0 > 10 && cy + $0 < f.plotBottom - 2 }
            let free = offsets.first { dy in
                let top = cy + dy - 10
                let bottom = cy + dy + 2
                return !taken.contains { $0.x0 < right && left < $0.x1 && $0.y0 < bottom && top < $0.y1 }
            }
            let ly = cy + (free ?? offsets.first ?? -8)
            taken.append((x0: left, y0: ly - 10, x1: right, y1: ly + 2))
            var tip = "\(entry.event) — \(entry.actor) — \(entry.reason) — \(entry.at.description)"
            if let from = entry.fromPercent, let to = entry.toPercent, from != to { tip += "\nshare \(from) → \(to)" }
            if let from = entry.fromState, let to = entry.toState, from != to { tip += "\nstate \(from) → \(to)" }
            out += "<g class=\"transition kind-\(kind(entry.event.text))\" data-seq=\"\(entry.seq)\" "
            out += "data-event=\"\(esc(entry.event.text))\" data-percent=\"\(JSONValue.format(share))\" "
            out += "data-at=\"\(entry.at.description)\"><title>\(esc(tip))</title>"
            out += "<circle cx=\"\(xs)\" cy=\"\(ys)\" r=\"5\"/>"
            out += text(lx, ly, name, "event-label", anchor: toLeft ? "end" : "start") + "</g>\n"
        }
    }

    // MARK: - Gates

    /// One plotted check: the canary's value and the baseline's, or a statistical check's estimate and interval.
    private struct Point {
        var timed: ReportInput.TimedCheck
        var value: Double?
        var baseline: Double?
        var interval: (lower: Double, upper: Double)?
    }

    private static func gateChart(
        _ name: String, _ gate: Gate?, _ checks: [ReportInput.TimedCheck], _ entries: [AuditEntry],
        range: (Double, Double), into out: inout String
    ) {
        let spec = gate?.statistical
        let estimates = spec != nil && checks.contains { estimate($0.check) != nil }
        let points = checks.map { timed in
            estimates
                ? Point(timed: timed, value: estimate(timed.check), interval: interval(timed.check))
                : Point(
                    timed: timed, value: timed.check.value.flatMap(plottable),
                    baseline: timed.check.baseline.flatMap(plottable))
        }
        var bounds: [(name: String, value: Double)] = []
        if case .threshold(let lo, let hi)? = gate?.rule {
            if let lo, let v = plottable(lo) { bounds.append((name: "min", value: v)) }
            if let hi, let v = plottable(hi) { bounds.append((name: "max", value: v)) }
        }
        if estimates, let spec, let v = plottable(spec.worse == .higher ? spec.tolerance : -spec.tolerance) {
            bounds.append((name: "tolerance", value: v))
        }
        var values = bounds.map { $0.value }
        if estimates { values.append(0) }
        for p in points {
            values += [p.value, p.baseline, p.interval?.lower, p.interval?.upper].compactMap { $0 }
        }
        let scale = niceScale(values)

        out += "<figure class=\"gate\" data-gate=\"\(esc(name))\"><figcaption><span class=\"gate-name\">"
        out += "\(esc(name))</span> <span class=\"gate-kind\">\(gate?.kind ?? "not in plan")</span>"
        if gate?.shadow == true { out += " <span class=\"gate-kind shadow\">shadow</span>" }
        if let gate { out += " <span class=\"bound-text\">\(esc(gate.boundDescription))</span>" }
        if estimates {
            out += " <span class=\"key key-estimate\">estimate (canary − baseline) with interval</span>"
        } else if points.contains(where: { $0.baseline != nil }) {
            out += " <span class=\"key key-canary\">canary</span> <span class=\"key key-baseline\">baseline</span>"
        }
        out += "<span class=\"tallies\">"
        for outcome in GateOutcome.allCases {
            let n = checks.filter { $0.check.outcome == outcome }.count
            if n > 0 { out += "<span class=\"tally outcome-\(outcome.rawValue)\">\(n) \(words(outcome))</span>" }
        }
        out += "</span></figcaption>\n<svg class=\"gate-chart\" data-gate=\"\(esc(name))\" viewBox=\"0 0 900 160\" "
        out += "role=\"img\" aria-label=\"\(esc(name)) over time\">\n"
        let f = Frame(height: 160, top: 12, bottom: 34, xRange: range, yRange: (scale.lo, scale.hi))
        for tick in scale.ticks {
            out += line(Frame.left, f.y(tick), f.plotRight, f.y(tick), "grid")
            out += text(Frame.left - 8, f.y(tick) + 4, fixed(tick, scale.places), "tick", anchor: "end")
        }
        timeAxis(f, into: &out)
        for entry in entries { out += line(f.x(entry.at), f.top, f.x(entry.at), f.plotBottom, "transition-line") }
        if estimates { out += line(Frame.left, f.y(0), f.plotRight, f.y(0), "zero-line") }
        var labelY = -Double.infinity
        for bound in bounds.sorted(by: { $0.value > $1.value }) {
            let y = f.y(bound.value)
            labelY = max(y + 3.5, labelY + 12)
            out += "<g class=\"bound\" data-bound=\"\(bound.name)\" data-limit=\"\(JSONValue.format(bound.value))\">"
            out += line(Frame.left, y, f.plotRight, y, "bound-line")
            let label = "\(bound.name) \(JSONValue.format(bound.value))"
            out += text(f.plotRight + 6, labelY, label, "bound-label") + "</g>\n"
        }
        guard !points.isEmpty else {
            out += text(450, 70, "no checks recorded", "no-checks", anchor: "middle") + "</svg></figure>\n"
            return
        }
        var canary = Path()
        var baseline = Path()
        for p in points {
            let x = f.x(p.timed.at)
            if let v = p.value { canary.add(x, f.y(v)) } else { canary.lift() }
            if let b = p.baseline { baseline.add(x, f.y(b)) } else { baseline.lift() }
            if let i = p.interval {
                out += line(x, f.y(i.lower), x, f.y(i.upper), "errbar")
                out += line(x - 2.5, f.y(i.lower), x + 2.5, f.y(i.lower), "errbar")
                out += line(x - 2.5, f.y(i.upper), x + 2.5, f.y(i.upper), "errbar")
            }
        }
        if !baseline.d.isEmpty { out += "<path class=\"series baseline\" d=\"\(baseline.d)\"/>\n" }
        if !canary.d.isEmpty {
            out += "<path class=\"series \(estimates ? "estimate" : "canary")\" d=\"\(canary.d)\"/>\n"
        }
        let radius = points.count > 300 ? "2" : points.count > 80 ? "2.75" : "3.5"
        for p in points {
            // A check without a value (no data, an error) is a marker on the time axis.
            guard let cx = num(f.x(p.timed.at)), let cy = num(p.value.map { f.y($0) } ?? f.plotBottom) else { continue }
            let check = p.timed.check
            out += "<circle class=\"check outcome-\(check.outcome.rawValue)\(p.value == nil ? " on-axis" : "")\" "
            out += "cx=\"\(cx)\" cy=\"\(cy)\" r=\"\(radius)\" data-at=\"\(p.timed.at.description)\" "
            out += "data-step=\"\(p.timed.step)\""
            if let v = p.value { out += " data-value=\"\(JSONValue.format(v))\"" }
            if let i = p.interval {
                out += " data-lower=\"\(JSONValue.format(i.lower))\" data-upper=\"\(JSONValue.format(i.upper))\""
            }
            out += "><title>\(esc(checkTitle(p)))</title></circle>\n"
        }
        out += "</svg></figure>\n"
    }

    private static func checkTitle(_ p: Point) -> String {
        let check = p.timed.check
        let step = p.timed.step >= 0 ? "step \(p.timed.step + 1)" : "before the first step"
        var lines = ["\(check.gate): \(words(check.outcome)) — \(step) — \(p.timed.at.description)"]
        if let value = check.value {
            lines.append("value \(format(value))" + (check.baseline.map { " vs baseline \(format($0))" } ?? ""))
        }
        if let e = estimate(check) {
            let i = interval(check).map { ", interval \(format($0.lower)) … \(format($0.upper))" } ?? ""
            lines.append("estimate \(format(e))\(i)")
        }
        if !check.message.isEmpty { lines.append(check.message) }
        if check.streak > 1 { lines.append("\(check.streak) checks in a row") }
        if check.shadow { lines.append("shadow gate: recorded, never acts") }
        return lines.joined(separator: "\n")
    }

    private static func estimate(_ check: GateCheck) -> Double? {
        check.statistics?["estimate"]?.numberValue.flatMap(plottable)
    }

    private static func interval(_ check: GateCheck) -> (lower: Double, upper: Double)? {
        guard let ends = check.statistics?["interval"]?.arrayValue, ends.count == 2,
            let a = ends[0].numberValue.flatMap(plottable), let b = ends[1].numberValue.flatMap(plottable)
        else { return nil }
        return (lower: min(a, b), upper: max(a, b))
    }

    // MARK: - Tables

    private static func auditTable(_ entries: [AuditEntry], into out: inout String) {
        guard !entries.isEmpty else {
            out += "<p class=\"empty\">No audit entries.</p>\n"
            return
        }
        out += "<div class=\"table-wrap\"><table class=\"audit\"><thead><tr><th class=\"num\">Seq</th>"
        out += "<th>Time (UTC)</th><th>Actor</th><th>Event</th><th>State</th><th>Share</th><th>Reason</th>"
        out += "<th>Hash</th></tr></thead><tbody>\n"
        for e in entries {
            let writer = [e.osUser, e.host].compactMap { $0 }.joined(separator: "@")
            let actorTitle = writer.isEmpty ? "" : " title=\"written by \(esc(writer))\""
            out += "<tr data-seq=\"\(e.seq)\" data-event=\"\(esc(e.event.text))\"><td class=\"num\">\(e.seq)</td>"
            out += "<td class=\"nowrap\"><time datetime=\"\(e.at.description)\">"
            out += "\(minute(e.at, seconds: true))</time></td>"
            out += "<td class=\"actor\"\(actorTitle)>\(esc(e.actor))</td>"
            out += "<td><span class=\"event kind-\(kind(e.event.text))\">"
            out += "\(esc(e.event.text))</span></td><td>\(arrow(e.fromState?.text, e.toState?.text))</td>"
            out += "<td class=\"nowrap\">\(arrow(e.fromPercent?.description, e.toPercent?.description))</td>"
            out += "<td class=\"reason\">\(esc(e.reason))</td><td><code class=\"hash\" title=\"\(esc(e.hash))\">"
            out += "\(esc(String(e.hash.prefix(12))))</code></td></tr>\n"
        }
        out += "</tbody></table></div>\n"
    }

    private static func planTables(_ part: ReportInput.Part, into out: inout String) {
        let plan = part.plan
        let policy = plan.policy
        let hold = plan.effectiveMaxHold
        out += "<p class=\"policy\">Checked every <b>\(plan.interval)</b> · "
        out += "on fail → <b>\(policy.fail.rawValue)</b>, "
        out += "no data → <b>\(policy.noData.rawValue)</b>, error → <b>\(policy.error.rawValue)</b> · max hold "
        out += "<b>\(hold.after)</b> → <b>\(hold.then.rawValue)</b>\(plan.maxHold == nil ? " (default)" : "")</p>\n"
        out += "<table class=\"steps\"><thead><tr><th class=\"num\">Step</th><th class=\"num\">Share</th>"
        out += "<th>Segment</th><th>Bake</th><th>Approval</th></tr></thead><tbody>\n"
        for (i, step) in plan.steps.enumerated() {
            out += "<tr><td class=\"num\">\(i + 1)</td><td class=\"num\">\(step.percent)</td>"
            out += "<td>\(step.segment.map { esc($0) } ?? "—")</td>"
            out += "<td>\(step.bake == .zero ? "—" : step.bake.description)</td>"
            out += "<td>\(step.approval ? "required" : "—")</td></tr>\n"
        }
        out += "</tbody></table>\n"
        if !plan.gates.isEmpty {
            out += "<div class=\"table-wrap\"><table class=\"gates-table\"><thead><tr><th>Gate</th><th>Kind</th>"
            out += "<th>Source</th><th>Query</th><th>Bound</th><th class=\"num\">Failure limit</th><th>Shadow</th>"
            out += "</tr></thead><tbody>\n"
            for gate in plan.gates {
                let source = plan.sources[gate.source].map { "\(gate.source) (\($0.typeName))" } ?? gate.source
                let inputs = gate.statistical.map { spec in
                    spec.inputs.keys.sorted().map { "\($0): \(spec.inputs[$0] ?? "")" }.joined(separator: "\n")
                }
                let query = gate.query ?? inputs ?? ""
                let kind = gate.statistical.map { "\(gate.kind) · \($0.test.rawValue), \($0.metric.rawValue)" }
                out += "<tr data-gate=\"\(esc(gate.name))\"><td><b>\(esc(gate.name))</b></td>"
                out += "<td>\(esc(kind ?? gate.kind))</td><td>\(esc(source))</td>"
                out += "<td><code class=\"query\">\(query.isEmpty ? "—" : esc(query))</code></td>"
                out += "<td>\(esc(gate.boundDescription))</td><td class=\"num\">\(gate.failureLimit)</td>"
                out += "<td>\(gate.shadow ? "yes" : "—")</td></tr>\n"
            }
            out += "</tbody></table></div>\n"
        }
        out += "<details class=\"plan-text\"><summary>Plan file · sha256 <code>\(esc(part.planDigest))</code>"
        out += "</summary><pre>\(esc(part.planText))</pre></details>\n"
    }

    // MARK: - Charts

    /// A chart's drawing area in viewBox units: time across, a value range up; the right margin holds labels.
    private struct Frame {
        static let width = 900.0
        static let left = 56.0
        static let right = 112.0
        let height: Double
        let top: Double
        let bottom: Double
        let xRange: (Double, Double)
        let yRange: (Double, Double)

        var plotRight: Double { Self.width - Self.right }
        var plotBottom: Double { height - bottom }
        func x(_ t: Double) -> Double { Self.left + (t - xRange.0) / (xRange.1 - xRange.0) * (plotRight - Self.left) }
        func x(_ instant: Instant) -> Double { x(Double(instant.seconds)) }
        func y(_ v: Double) -> Double { plotBottom - (v - yRange.0) / (yRange.1 - yRange.0) * (plotBottom - top) }
    }

    /// An SVG path's `d`, point by point; a point that is not a finite number, or `lift()`, leaves a gap.
    private struct Path {
        private(set) var d = ""
        private var down = false

        mutating func add(_ x: Double, _ y: Double) {
            guard let xs = RolloutReport.num(x), let ys = RolloutReport.num(y) else { return lift() }
            d += (down ? "L" : d.isEmpty ? "M" : " M") + xs + " " + ys
            down = true
        }

        mutating func lift() { down = false }
    }

    /// The time axis at the bottom of a frame: ticks at whole minutes, hours or days, with the date where it changes.
    private static func timeAxis(_ f: Frame, into out: inout String) {
        out += line(Frame.left, f.plotBottom, f.plotRight, f.plotBottom, "axis")
        for tick in timeTicks(f.xRange.0, f.xRange.1) {
            let x = f.x(tick.at)
            out += line(x, f.top, x, f.plotBottom, "grid") + line(x, f.plotBottom, x, f.plotBottom + 4, "axis")
            out += text(x, f.plotBottom + 16, tick.label, "tick", anchor: "middle")
            if let day = tick.day { out += text(x, f.plotBottom + 29, day, "tick day", anchor: "middle") }
        }
    }

    private static func timeTicks(_ t0: Double, _ t1: Double) -> [(at: Double, label: String, day: String?)] {
        let span = t1 - t0
        let steps: [Double] = [
            60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172_800, 604_800, 1_209_600,
            2_592_000, 7_776_000, 31_536_000,
        ]
        let step = steps.first { span / $0 <= 7 } ?? (span / 6 / 86_400).rounded(.up) * 86_400
        guard span.isFinite, step.isFinite, step > 0 else { return [] }
        let firstTick = (t0 / step).rounded(.up) * step
        var ticks: [(at: Double, label: String, day: String?)] = []
        var previousDay = ""
        for k in 0..<10 {
            let t = firstTick + Double(k) * step
            guard t <= t1 else { break }
            guard let seconds = Int64(exactly: t.rounded()) else { continue }
            let stamp = Instant(seconds: seconds).description
            let day = String(stamp.prefix(10))
            let label = step < 86_400 ? String(stamp.dropFirst(11).prefix(5)) : day
            ticks.append((at: t, label: label, day: step < 86_400 && day != previousDay ? day : nil))
            previousDay = day
        }
        return ticks
    }

    /// A value range with room around `values` and 1-2-5 ticks; equal values get a range around them.
    private static func niceScale(_ values: [Double]) -> (lo: Double, hi: Double, ticks: [Double], places: Int) {
        var lo = values.min() ?? 0
        var hi = values.max() ?? 1
        let size = max(abs(lo), abs(hi))
        if hi - lo <= size * 1e-9 {
            let pad = size > 0 ? size * 0.1 : 1
            lo -= pad
            hi += pad
        } else if lo > 0, lo <= hi / 2 {
            lo = 0  // a positive metric near zero reads best from zero
        } else {
            let pad = (hi - lo) * 0.05  // keeps the extremes off the axis, where valueless checks sit
            lo -= pad
            hi += pad
        }
        let raw = (hi - lo) / 4
        var magnitude = 1.0
        var rounds = 0
        while magnitude * 10 <= raw, rounds < 400 { magnitude *= 10; rounds += 1 }
        while magnitude > raw, rounds < 800 { magnitude /= 10; rounds += 1 }
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? magnitude * 10
        guard step > 0, step.isFinite else { return (lo, hi, [], 0) }
        let first = (lo / step).rounded(.down) * step
        let last = (hi / step).rounded(.up) * step
        var ticks: [Double] = []
        for k in 0..<12 where first + Double(k) * step <= last + step / 1000 { ticks.append(first + Double(k) * step) }
        var places = 0
        var unit = step
        while unit < 0.999_999, places < 20 {
            unit *= 10
            places += 1
        }
        return (min(first, lo), max(last, hi), ticks, places)
    }

    private static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ cls: String) -> String {
        guard let a = num(x1), let b = num(y1), let c = num(x2), let d = num(y2) else { return "" }
        return "<line class=\"\(cls)\" x1=\"\(a)\" y1=\"\(b)\" x2=\"\(c)\" y2=\"\(d)\"/>"
    }

    private static func text(_ x: Double, _ y: Double, _ s: String, _ cls: String, anchor: String = "start") -> String {
        guard let a = num(x), let b = num(y) else { return "" }
        let anchorAttribute = anchor == "start" ? "" : " text-anchor=\"\(anchor)\""
        return "<text class=\"\(cls)\" x=\"\(a)\" y=\"\(b)\"\(anchorAttribute)>\(esc(s))</text>"
    }

    // MARK: - Words and numbers

    /// A coordinate with at most two decimals, or nil for anything that is not a finite number of sane size.
    private static func num(_ x: Double) -> String? {
        guard x.isFinite, abs(x) < 1e9 else { return nil }
        let hundredths = Int64((x * 100).rounded())
        let whole = String(hundredths.magnitude / 100)
        let cents = hundredths.magnitude % 100
        let sign = hundredths < 0 ? "-" : ""
        if cents == 0 { return sign + whole }
        let fraction = cents % 10 == 0 ? String(cents / 10) : (cents < 10 ? "0" : "") + String(cents)
        return sign + whole + "." + fraction
    }

    /// Values a chart can place: finite and below 10^15, so that no range or coordinate overflows.
    private static func plottable(_ v: Double) -> Double? { v.isFinite && abs(v) < 1e15 ? v : nil }

    /// A tick value with the step's decimals: `0.05`, `120`.
    private static func fixed(_ x: Double, _ places: Int) -> String {
        guard places <= 6, abs(x) < 1e12 else { return format(x) }
        var scale: Int64 = 1
        for _ in 0..<places { scale *= 10 }
        let units = Int64((abs(x) * Double(scale)).rounded())
        let sign = x < 0 && units != 0 ? "-" : ""
        guard places > 0 else { return sign + String(units) }
        let fraction = String(units % scale)
        return sign + String(units / scale) + "." + String(repeating: "0", count: places - fraction.count) + fraction
    }

    /// Text made safe for HTML content and attribute values; control characters are shown, never passed on.
    private static func esc(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\n", "\t", "\r": out.unicodeScalars.append(scalar)
            case _ where Escape.isControl(scalar): out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func badge(_ state: String) -> String {
        let cls = RolloutState(rawValue: state) == nil ? "unknown" : state
        let words = String(state.map { $0 == "_" ? " " : $0 })
        return "<span class=\"badge state-\(cls)\" data-state=\"\(esc(state))\">\(esc(words))</span>"
    }

    /// The colour family of an audit event: `danger`, `warn`, `ok`, `approval` or `neutral`.
    private static func kind(_ event: String) -> String {
        switch AuditEvent(rawValue: event) {
        case .rollback?, .abort?, .kill?: "danger"
        case .pause?, .disable?: "warn"
        case .complete?: "ok"
        case .awaitApproval?, .approve?: "approval"
        default: "neutral"
        }
    }

    private static func words(_ outcome: GateOutcome) -> String { outcome == .noData ? "no data" : outcome.rawValue }

    private static func arrow(_ from: String?, _ to: String?) -> String {
        if from == nil, to == nil { return "—" }
        if from == to, let to { return esc(to) }
        return "\(esc(from ?? "—")) → \(esc(to ?? "—"))"
    }

    private static func finalShare(_ part: ReportInput.Part) -> Percent {
        part.entries.last { $0.toPercent != nil }?.toPercent ?? .zero
    }

    private static func period(_ part: ReportInput.Part) -> (first: Instant, last: Instant)? {
        let times = part.entries.map(\.at) + part.checks.map(\.at)
        guard let first = times.min(), let last = times.max() else { return nil }
        return (first: first, last: last)
    }

    private static func periodText(_ part: ReportInput.Part) -> String {
        guard let p = period(part) else { return "—" }
        return "\(minute(p.first)) → \(minute(p.last)) <span class=\"muted\">(\(p.last - p.first))</span>"
    }

    /// The x range of a rollout's charts: its period with a little room, or ten minutes around a single instant.
    private static func timeRange(_ first: Instant, _ last: Instant) -> (Double, Double) {
        let lo = Double(first.seconds)
        let hi = Double(last.seconds)
        let pad = hi - lo < 60 ? 300 : (hi - lo) * 0.02
        return (lo - pad, hi + pad)
    }

    /// `2026-01-01 00:10`, or with `seconds` `2026-01-01 00:10:00`.
    private static func minute(_ t: Instant, seconds: Bool = false) -> String {
        String(t.description.prefix(10)) + " " + String(t.description.dropFirst(11).prefix(seconds ? 8 : 5))
    }
}
