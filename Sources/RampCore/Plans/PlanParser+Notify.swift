/// A plan's `notify` targets and `alerts` (also `ramp config notify`).
extension Fields {
    /// `notify`: the targets that hear about this rollout.
    mutating func notify() throws(PlanError) -> [NotifyTarget] {
        guard let items = try array("notify") else { return [] }
        var targets: [NotifyTarget] = []
        for (index, item) in items.enumerated() {
            var fields = try Fields(file: file, path: join("notify") + "[\(index)]", value: item)
            let target = try fields.notifyTarget()
            if targets.contains(where: { $0.name == target.name }) {
                throw fields.fail("name", "\"\(target.name)\" names another target already")
            }
            targets.append(target)
        }
        return targets
    }

    mutating func notifyTarget() throws(PlanError) -> NotifyTarget {
        try allow(["name", "type", "url", "url_env", "url_file", "command", "secret_env", "events", "timeout"])
        let name = try requiredString("name")
        guard Self.isValidKey(name) else {
            throw fail("name", "\"\(Escape.line(name))\" is not a valid target name (letters, digits, '.', '_', '-')")
        }
        let typeText = try requiredString("type")
        guard let kind = NotifyTarget.Kind(rawValue: typeText) else {
            throw fail(
                "type",
                "unknown target type \"\(Escape.line(typeText))\" (known: "
                    + NotifyTarget.Kind.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        var url: NotifyTarget.URLSource?
        var given: [String] = []
        if let text = try string("url") {
            given.append("url")
            let rest =
                text.hasPrefix("https://") ? text.dropFirst(8) : text.hasPrefix("http://") ? text.dropFirst(7) : nil
            let authority = rest?.split(separator: "/", omittingEmptySubsequences: false).first ?? ""
            guard !authority.isEmpty, !text.contains(where: \.isWhitespace),
                !text.unicodeScalars.contains(where: Escape.isControl)
            else {
                throw fail("url", "\"\(Escape.line(text))\" is not an http:// or https:// URL with a host")
            }
            if kind == .slack {
                throw fail("url", "a Slack webhook URL is a secret: give it with url_env or url_file")
            }
            if authority.contains("@") {
                throw fail("url", "has credentials in it: give the URL with url_env or url_file")
            }
            if text.contains("?") {
                throw fail("url", "has a query string, where tokens go: give the URL with url_env or url_file")
            }
            url = .literal(text)
        }
        if let env = try string("url_env") {
            given.append("url_env")
            try checkEnvName(env, at: "url_env")
            url = .env(env)
        }
        if let path = try string("url_file") {
            given.append("url_file")
            guard path.hasPrefix("/") else {
                throw fail("url_file", "\"\(Escape.line(path))\" is not an absolute path")
            }
            url = .file(path)
        }
        if given.count > 1 { throw fail(given[1], "give one of url, url_env and url_file") }
        var command: [String] = []
        if let items = try array("command") {
            for (index, item) in items.enumerated() {
                guard case .string(let part) = item else {
                    throw fail("command[\(index)]", "expected a string, found \(item.typeName)")
                }
                command.append(part)
            }
            guard !command.isEmpty, !command[0].isEmpty else { throw fail("command", "needs at least the executable") }
        }
        switch kind {
        case .webhook, .slack:
            if url == nil {
                throw fail(
                    nil, "a \(kind.rawValue) target needs url_env or url_file" + (kind == .webhook ? " (or url)" : ""))
            }
            if !command.isEmpty { throw fail("command", "only a command target runs a command") }
        case .command:
            if command.isEmpty { throw fail("command", "is required for a command target") }
            if let first = given.first { throw fail(first, "a command target has no URL") }
        }
        let secretEnv = try string("secret_env")
        if let secretEnv {
            guard kind == .webhook else { throw fail("secret_env", "only a webhook signs its body") }
            try checkEnvName(secretEnv, at: "secret_env")
        }
        var events = NotifyEvent.defaults
        if let items = try array("events") {
            events = []
            for (index, item) in items.enumerated() {
                guard case .string(let text) = item else {
                    throw fail("events[\(index)]", "expected a string, found \(item.typeName)")
                }
                guard let event = NotifyEvent(rawValue: text), event != .test else {
                    let known = NotifyEvent.allCases.filter { $0 != .test }.map(\.rawValue)
                    throw fail(
                        "events[\(index)]",
                        "unknown event \"\(Escape.line(text))\"" + Spelling.hint(for: text, among: Set(known))
                            + " (known: \(known.joined(separator: ", ")))")
                }
                events.insert(event)
            }
            if events.isEmpty { throw fail("events", "is empty: the target would hear nothing") }
        }
        let timeout = try span("timeout", minimum: TimeSpan(seconds: 1)) ?? NotifyTarget.defaultTimeout
        if timeout.seconds > 60 { throw fail("timeout", "\(timeout) is longer than the maximum 60s") }
        try rejectUnknown()
        return NotifyTarget(
            name: name, kind: kind, url: url, command: command, secretEnv: secretEnv, events: events, timeout: timeout)
    }

    func checkEnvName(_ name: String, at key: String) throws(PlanError) {
        let valid =
            !name.isEmpty && name.utf8.count <= 128
            && name.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_")
            }
            && !("0"..."9").contains(name.unicodeScalars.first!)
        guard valid else { throw fail(key, "\"\(Escape.line(name))\" is not an environment variable name") }
    }

    /// `alerts`: when the notifications that are not transitions fire.
    mutating func alerts() throws(PlanError) -> Plan.Alerts {
        guard let v = value("alerts") else { return Plan.Alerts() }
        var fields = try Fields(file: file, path: join("alerts"), value: v)
        var alerts = Plan.Alerts()
        if let n = try fields.number("unhealthy_checks") {
            guard n.isFinite, n == n.rounded(), n >= 1, n <= 1000 else {
                throw fields.fail("unhealthy_checks", "\(JSONValue.format(n)) is not a whole number from 1 to 1000")
            }
            alerts.unhealthyChecks = Int(n)
        }
        if let span = try fields.span("max_hold_warning", minimum: TimeSpan(seconds: 1)) {
            alerts.maxHoldWarning = span
        }
        if let span = try fields.span("approval_waiting", minimum: TimeSpan(seconds: 1)) {
            alerts.approvalWaiting = span
        }
        try fields.rejectUnknown()
        return alerts
    }
}
