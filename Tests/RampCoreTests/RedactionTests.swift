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
    ])
    func redactsThePassword(input: String, expected: String) {
        #expect(ConnectionString.redacted(input) == expected)
    }
}
