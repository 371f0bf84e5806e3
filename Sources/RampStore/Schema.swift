/// The store's schema, one migration per version; `PRAGMA user_version` says which have run.
enum Schema {
    static let migrations: [String] = [
        // Version 1: flags, plans, rollouts, the latest observation per rollout, and the audit log.
        """
        CREATE TABLE flags(
            key TEXT PRIMARY KEY,
            variants TEXT NOT NULL,
            baseline TEXT NOT NULL,
            canary TEXT NOT NULL,
            canary_bp INTEGER NOT NULL DEFAULT 0 CHECK (canary_bp BETWEEN 0 AND 10000),
            killed INTEGER NOT NULL DEFAULT 0 CHECK (killed IN (0, 1)),
            updated_at INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE plans(
            digest TEXT PRIMARY KEY,
            flag TEXT NOT NULL REFERENCES flags(key),
            file TEXT NOT NULL,
            base_dir TEXT NOT NULL,
            body TEXT NOT NULL,
            submitted_at INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE rollouts(
            id INTEGER PRIMARY KEY,
            flag TEXT NOT NULL REFERENCES flags(key),
            plan_digest TEXT NOT NULL REFERENCES plans(digest),
            state TEXT NOT NULL CHECK (state IN
                ('pending', 'progressing', 'awaiting_approval', 'paused', 'completed', 'rolled_back')),
            step INTEGER NOT NULL,
            step_entered_at INTEGER,
            paused_from TEXT,
            version INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT;
        CREATE UNIQUE INDEX rollouts_one_active_per_flag ON rollouts(flag)
            WHERE state NOT IN ('completed', 'rolled_back');
        CREATE INDEX rollouts_by_flag ON rollouts(flag, id);
        CREATE TABLE observations(
            rollout_id INTEGER PRIMARY KEY REFERENCES rollouts(id),
            checked_at INTEGER NOT NULL,
            reason TEXT NOT NULL,
            evidence TEXT NOT NULL
        ) STRICT;
        CREATE TABLE audit(
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            rollout_id INTEGER,
            flag TEXT NOT NULL,
            event TEXT NOT NULL,
            from_state TEXT,
            to_state TEXT,
            from_bp INTEGER,
            to_bp INTEGER,
            reason TEXT NOT NULL,
            evidence TEXT NOT NULL,
            plan_digest TEXT,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        ) STRICT;
        CREATE INDEX audit_by_flag ON audit(flag, seq);
        CREATE INDEX audit_by_rollout ON audit(rollout_id, seq);
        CREATE TRIGGER audit_refuses_update BEFORE UPDATE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_refuses_delete BEFORE DELETE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TABLE audit_head(
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq INTEGER NOT NULL,
            hash TEXT NOT NULL
        ) STRICT;
        """,
        // Version 2: every gate check of every tick, for evidence, failure streaks and `ramp explain`.
        """
        CREATE TABLE gate_checks(
            id INTEGER PRIMARY KEY,
            rollout_id INTEGER NOT NULL REFERENCES rollouts(id),
            step INTEGER NOT NULL,
            checked_at INTEGER NOT NULL,
            gate TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'no_data', 'error')),
            detail TEXT NOT NULL
        ) STRICT;
        CREATE INDEX gate_checks_by_gate ON gate_checks(rollout_id, gate, id);
        CREATE INDEX gate_checks_by_time ON gate_checks(checked_at);
        """,
        // Version 3: targeting rules, named segments and the segments the canary has reached; store-wide settings.
        """
        ALTER TABLE flags ADD COLUMN rules TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE flags ADD COLUMN segments TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE flags ADD COLUMN canary_segments TEXT NOT NULL DEFAULT '[]';
        CREATE TABLE settings(
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) STRICT;
        """,
        // Version 4: a flag can be disabled (flagd's DISABLED state).
        """
        ALTER TABLE flags ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1));
        """,
        // Version 5: exposures and outcomes (`ramp record`) for statistical gates; gate checks may be inconclusive.
        """
        CREATE TABLE exposures(
            id INTEGER PRIMARY KEY,
            flag TEXT NOT NULL,
            variant TEXT NOT NULL,
            key TEXT NOT NULL,
            at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX exposures_by_flag ON exposures(flag, at);
        CREATE INDEX exposures_by_key ON exposures(flag, key, id);
        CREATE TABLE outcomes(
            id INTEGER PRIMARY KEY,
            metric TEXT NOT NULL,
            flag TEXT,
            key TEXT,
            variant TEXT,
            value REAL NOT NULL,
            at INTEGER NOT NULL,
            CHECK (key IS NOT NULL OR variant IS NOT NULL)
        ) STRICT;
        CREATE INDEX outcomes_by_metric ON outcomes(metric, at);
        CREATE TABLE gate_checks_v5(
            id INTEGER PRIMARY KEY,
            rollout_id INTEGER NOT NULL REFERENCES rollouts(id),
            step INTEGER NOT NULL,
            checked_at INTEGER NOT NULL,
            gate TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'no_data', 'error', 'inconclusive')),
            detail TEXT NOT NULL
        ) STRICT;
        INSERT INTO gate_checks_v5 SELECT * FROM gate_checks;
        DROP TABLE gate_checks;
        ALTER TABLE gate_checks_v5 RENAME TO gate_checks;
        CREATE INDEX gate_checks_by_gate ON gate_checks(rollout_id, gate, id);
        CREATE INDEX gate_checks_by_time ON gate_checks(checked_at);
        """,
        // Version 6: who really wrote each audit entry, beside the actor the caller declared.
        """
        ALTER TABLE audit ADD COLUMN os_user TEXT;
        ALTER TABLE audit ADD COLUMN host TEXT;
        """,
        // Version 7: facts about ramp's own running (the last tick), for `ramp metrics`; they decide nothing.
        """
        CREATE TABLE runtime(
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) STRICT;
        """,
        // Version 8: the notification outbox, written in the transaction of the event it reports and delivered after
        // the commit. One row per event and target; `key` is the idempotency key (a transition's audit seq).
        """
        CREATE TABLE outbox(
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL,
            target TEXT NOT NULL,
            spec TEXT NOT NULL,
            event TEXT NOT NULL,
            flag TEXT NOT NULL,
            body TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at INTEGER NOT NULL,
            claimed_until INTEGER,
            last_error TEXT,
            done_at INTEGER,
            UNIQUE (key, target)
        ) STRICT;
        CREATE INDEX outbox_by_state ON outbox(state, next_at);
        """,
        // Version 9: when each active rollout is next due, indexed, so that a tick reads only the rollouts it must
        // check (and a tick with nothing due reads nothing, however many are active). 0: due at once.
        """
        ALTER TABLE rollouts ADD COLUMN next_check_at INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE rollouts ADD COLUMN due_at INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX rollouts_due ON rollouts(due_at) WHERE state NOT IN ('completed', 'rolled_back');
        CREATE INDEX observations_by_time ON observations(checked_at);
        """,
        // Version 10: beside each observation's evidence, what the next tick needs from it — the cause of a hold
        // and each gate's streak — so a tick never parses the evidence. NULL in rows written before: read from
        // the evidence then.
        """
        ALTER TABLE observations ADD COLUMN hold_cause TEXT;
        ALTER TABLE observations ADD COLUMN streaks TEXT;
        """,
        // Version 11: a flag's metadata (flagd's flag metadata, from its plan), returned by eval and exported.
        """
        ALTER TABLE flags ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
        """,
        // Version 12: a flag's base weights (variant → integer; '{}' is the baseline alone).
        """
        ALTER TABLE flags ADD COLUMN weights TEXT NOT NULL DEFAULT '{}';
        """,
        // Version 13: experiments and bandits (their plan, state and the split they serve, segment by segment), and
        // the attributes an exposure was recorded with (for a readout's cohorts).
        """
        CREATE TABLE experiments(
            id INTEGER PRIMARY KEY,
            flag TEXT NOT NULL REFERENCES flags(key),
            plan_digest TEXT NOT NULL REFERENCES plans(digest),
            state TEXT NOT NULL CHECK (state IN ('running', 'stopped', 'concluded', 'shipped')),
            started_at INTEGER NOT NULL,
            checked_at INTEGER NOT NULL,
            ended_at INTEGER,
            allocation TEXT NOT NULL,
            reweights INTEGER NOT NULL DEFAULT 0
        ) STRICT;
        CREATE INDEX experiments_by_flag ON experiments(flag, id);
        ALTER TABLE exposures ADD COLUMN attributes TEXT;
        """,
    ]

    static var version: Int { migrations.count }
}
