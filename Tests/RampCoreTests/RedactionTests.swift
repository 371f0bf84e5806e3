import RampCore
import Testing

/// Secrets never reach evidence: the configured values, and anything shaped like a credential.
@Suite struct RedactionTests {
    @Test(arguments: [
        ("no token; you sent Authorization: Bearer abc.def-123", "no token; you sent Authorization: [redacted]"),
        (#"{"headers": {"Authorization": "Basic dXNlcjpwdw=="}}"#, #"{"headers": {"Authorization": "[redacted]"}}"#),
        ("authorization=xyz&other=1", "authorization=[redacted]&other=1"),
        ("rejected Bearer eyJhbGciOi.x.y for user", "rejected Bearer [redacted] for user"),
        ("Basic Zm9vOmJhcg== refused", "Basic [redacted] refused"),
        ("bearer token: environment variable T is not set", "bearer token: environment variable T is not set"),
        ("Basic auth is not configured", "Basic [redacted] is not configured"),
        ("nothing secret here", "nothing secret here"),
    ])
    func credentialShapesAreRedacted(text: String, expected: String) {
        #expect(Redaction.apply(text) == expected)
    }

    @Test func configuredSecretsAreRedactedWhereverTheyAppear() {
        #expect(
            Redaction.apply("upstream said: token s3cr3t-value is expired (s3cr3t-value)", secrets: ["s3cr3t-value"])
                == "upstream said: token [redacted] is expired ([redacted])")
        #expect(Redaction.apply("abc is short", secrets: ["abc"]) == "abc is short", "too short to redact safely")
    }
}

/// PostgreSQL connection strings lose their password, in every form libpq reads.
@Suite struct ConnectionStringTests {
    @Test(arguments: [
        ("postgres://ramp:s3cret@db:5432/ramp", "postgres://ramp:***@db:5432/ramp"),
        ("postgresql://ramp:p%40ss@db/ramp?sslmode=require", "postgresql://ramp:***@db/ramp?sslmode=require"),
        (
            "postgres://ramp@db/ramp?sslmode=require&password=s3cret",
            "postgres://ramp@db/ramp?sslmode=require&password=***"
        ),
        ("postgres://db/ramp", "postgres://db/ramp"),
        ("host=db password=s3cret user=ramp", "host=db password=*** user=ramp"),
        ("host=db password = 'a b\\' c' dbname=x", "host=db password=*** dbname=x"),
        ("host=db oldpassword=x", "host=db oldpassword=x"),
        // libpq reads each of these as a password too.
        ("postgres://ramp@db/x?%70assword=s3cret", "postgres://ramp@db/x?%70assword=***"),
        (
            "postgres://ramp@db/x?sslpassword=s3cret&sslmode=require",
            "postgres://ramp@db/x?sslpassword=***&sslmode=require"
        ),
        ("postgres://ramp:Top?Secret@db:5432/x", "postgres://ramp:***@db:5432/x"),
        ("postgres://ramp:a/b@c@db/x", "postgres://ramp:***@db/x"),
        ("host=db sslpassword=s3cret", "host=db sslpassword=***"),
    ])
    func redactsThePassword(input: String, expected: String) {
        #expect(ConnectionString.redacted(input) == expected)
    }

    @Test func findsThePasswordsAMessageMightQuote() {
        #expect(ConnectionString.secrets(in: "postgres://ramp:se%3Aret@db/x") == ["se%3Aret", "se:ret"])
        #expect(ConnectionString.secrets(in: "postgres://ramp@db/x?password=abc") == ["abc"])
        #expect(ConnectionString.secrets(in: "host=db password='a b' user=x") == ["a b"])
        #expect(ConnectionString.secrets(in: "postgres://ramp@db/x").isEmpty)
        let hidden = ConnectionString.hiding(
            "postgres://ramp:se%zzret@db/x", in: #"invalid percent-encoded token: "se%zzret""#)
        #expect(hidden == #"invalid percent-encoded token: "***""#)
    }

    @Test func addsTimeoutsAUserDidNotSet() {
        #expect(
            ConnectionString.withDefaults("postgres://ramp@db/x")
                == "postgres://ramp@db/x?connect_timeout=10&keepalives_idle=30&keepalives_interval=10"
                + "&keepalives_count=3&tcp_user_timeout=60000")
        let given = ConnectionString.withDefaults("postgres://ramp@db/x?connect_timeout=3&sslmode=require")
        #expect(given.hasPrefix("postgres://ramp@db/x?connect_timeout=3&sslmode=require&keepalives_idle=30"))
        #expect(!given.contains("connect_timeout=10"))
        #expect(ConnectionString.withDefaults("ramp.db") == "ramp.db")
    }

    @Test func tellsLibpqsKeyValueFormFromAFileName() {
        #expect(ConnectionString.isKeywordForm("host=db dbname=ramp"))
        #expect(ConnectionString.isKeywordForm("dbname = ramp"))
        #expect(!ConnectionString.isKeywordForm("ramp.db"))
        #expect(!ConnectionString.isKeywordForm("/var/lib/ramp/host=1.db"))
    }
}
