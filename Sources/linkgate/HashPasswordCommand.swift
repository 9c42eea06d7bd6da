import ArgumentParser
import Foundation
import JWT
import Policy

/// `linkgate hash-password`: reads a password on stdin, prints the hash for `users.json`.
struct HashPasswordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-password",
        abstract: "Read a password on standard input and print its hash, for passwordHash in users.json.",
        discussion: """
            The hash is scrypt (N = 2^15, r = 8, p = 1) with a random salt, through OpenSSL, in the form \
            $scrypt$ln=15,r=8,p=1$SALT$HASH. One trailing newline is removed from the input. \
            --pbkdf2 makes a PBKDF2-HMAC-SHA256 hash (600,000 iterations) instead.
            Example: printf '%s' 'correct horse' | linkgate hash-password
            """
    )

    @Flag(help: "PBKDF2-HMAC-SHA256 instead of scrypt.")
    var pbkdf2 = false

    func run() throws {
        var input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        if input.hasSuffix("\r\n") { input.removeLast(2) } else if input.hasSuffix("\n") { input.removeLast() }
        guard !input.isEmpty else { throw CommandFailure(message: "no password on standard input") }
        guard input.utf8.count <= 1024 else { throw CommandFailure(message: "the password is over 1024 bytes") }
        let scheme: PasswordHash.Scheme = pbkdf2 ? .pbkdf2SHA256(iterations: 600_000) : PasswordHash.defaultScheme
        print(try PasswordHash.make(input, scheme: scheme))
    }
}
