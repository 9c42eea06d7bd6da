import Foundation
import JWT
import Testing

@Suite("linkgate command line, through the real binary")
struct CommandLineTests {
    @Test("qsh prints the canonical request and its hash")
    func qsh() async throws {
        let result = try await LinkgateProcess.runAsync([
            "qsh", "--method", "get", "--url",
            "/path/to/service?zee_last=param&repeated=parameter%201&first=param&repeated=parameter%202",
        ])
        #expect(result.status == 0)
        #expect(
            result.standardOutput == """
                GET&/path/to/service&first=param&repeated=parameter%201,parameter%202&zee_last=param
                e52bb281606c3bd9ca16cfe96fe2df78f5d9ffa126f06befd750dfa10fa1a897

                """)
    }

    @Test("qsh removes the base URL's path and accepts a whole URL")
    func qshBaseURL() async throws {
        let result = try await LinkgateProcess.runAsync([
            "qsh", "--method", "GET", "--base-url", "https://example.com/jira",
            "--url", "https://example.com/jira/rest/api/2/project",
        ])
        #expect(result.status == 0)
        #expect(
            result.standardOutput.hasPrefix(
                "GET&/rest/api/2/project&\n376b86be226be6ed221f7a5c1ff9bafdf495036773264e22822dbff68e8aeafa"))
    }

    @Test(
        "bad arguments exit 2 with a usage message",
        arguments: [
            ["qsh", "--url", "/x"],
            ["qsh", "--method", "GET"],
            ["qsh", "--method", "G E T", "--url", "/x"],
            ["qsh", "--method", "GET", "--url", "/x?a=%zz"],
            ["jwt", "decode"],
            ["no-such-command"],
            ["qsh", "--method", "GET", "--url", "/x", "--unknown"],
        ])
    func badArguments(_ arguments: [String]) async throws {
        let result = try await LinkgateProcess.runAsync(arguments)
        #expect(result.status == 2)
        #expect(result.standardError.contains("Usage") || result.standardError.contains("Error"))
    }

    @Test("--help works for every command", arguments: [[], ["qsh"], ["jwt"], ["jwt", "decode"]])
    func help(_ command: [String]) async throws {
        let result = try await LinkgateProcess.runAsync(command + ["--help"])
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("USAGE"))
    }

    @Test("jwt decode prints header and claims, and warns that nothing was verified")
    func decode() async throws {
        let key = try JWTKey.secret(Array("a-shared-secret-of-at-least-32-bytes".utf8))
        let token = try ConnectJWTSigner(issuer: "com.example.app", key: key)
            .token(method: "GET", rawPath: "/rest/api/2/project", rawQuery: "", issuedAt: 1_700_000_000)
        let result = try await LinkgateProcess.runAsync(["jwt", "decode", token])
        #expect(result.status == 0)
        #expect(result.standardError.contains("NOT verified"))
        let document = try JSONValue.parse(result.standardOutput)
        #expect(document["header"]?["alg"] == "HS256")
        #expect(document["claims"]?["iss"] == "com.example.app")
        #expect(document["claims"]?["exp"] == .integer(1_700_000_180))
        #expect(document["claims"]?["qsh"] == "376b86be226be6ed221f7a5c1ff9bafdf495036773264e22822dbff68e8aeafa")
    }

    @Test("jwt decode refuses what is not a token, exit 1, without echoing it")
    func decodeGarbage() async throws {
        let result = try await LinkgateProcess.runAsync(["jwt", "decode", "not-a-token.secret-ish-part"])
        #expect(result.status == 1)
        #expect(result.standardError.contains("three segments"))
        #expect(!result.standardError.contains("secret-ish-part"))
    }

    @Test("hash-password reads the password on stdin and prints a hash that verifies it; empty input fails")
    func hashPassword() async throws {
        func hash(_ input: String, _ arguments: [String] = []) async throws -> (status: Int32, output: String) {
            let result = try await LinkgateProcess.runAsync(["hash-password"] + arguments, input: Data(input.utf8))
            return (result.status, result.standardOutput)
        }
        let scrypt = try await hash("correct horse\n")
        #expect(scrypt.status == 0)
        let parsed = try PasswordHash(parsing: scrypt.output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(scrypt.output.hasPrefix("$scrypt$ln=15,r=8,p=1$"))
        #expect(parsed.matches("correct horse") && !parsed.matches("correct horse\n"))
        let pbkdf2 = try await hash("pw", ["--pbkdf2"])
        #expect(pbkdf2.output.hasPrefix("$pbkdf2-sha256$i=600000$"))
        #expect(try PasswordHash(parsing: pbkdf2.output.trimmingCharacters(in: .whitespacesAndNewlines)).matches("pw"))
        #expect(try await hash("").status == 1)
    }
}
