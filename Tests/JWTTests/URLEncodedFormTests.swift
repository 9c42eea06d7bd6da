import JWT
import Testing

@Suite("application/x-www-form-urlencoded on bytes: + is a space, %XX a byte, UTF-8 throughout")
struct URLEncodedFormTests {
    static func decoded(_ form: String) throws(JWTError) -> [String] {
        try URLEncodedForm.parameters(Array(form.utf8)).map { "\($0.name)=\($0.value)" }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let form: String
        let parameters: [String]
        var testDescription: String { form.isEmpty ? "(empty)" : form }
    }

    @Test(
        "decoded parameters, in order",
        arguments: [
            Case(form: "", parameters: []),
            Case(form: "grant_type=authorization_code", parameters: ["grant_type=authorization_code"]),
            Case(form: "scope=read+write", parameters: ["scope=read write"]),
            Case(form: "scope=read%20write", parameters: ["scope=read write"]),
            Case(form: "secret=a%2Bb", parameters: ["secret=a+b"]),
            Case(form: "secret=a%2bb%3D%26", parameters: ["secret=a+b=&"]),
            Case(form: "code=", parameters: ["code="]),
            Case(form: "a=b=c", parameters: ["a=b=c"]),
            Case(form: "a+b=1", parameters: ["a b=1"]),
            Case(form: "=1", parameters: ["=1"]),
            Case(form: "a=1&&b=2&", parameters: ["a=1", "b=2"]),
            Case(form: "bare&a=1&also%zz", parameters: ["a=1"]),
            Case(form: "a=1&a=2", parameters: ["a=1", "a=2"]),
            Case(form: "name=Ren%C3%A9e&city=Z%C3%BCrich", parameters: ["name=Renée", "city=Zürich"]),
            Case(form: "name=Renée", parameters: ["name=Renée"]),
            Case(form: "e=%F0%9F%94%91", parameters: ["e=🔑"]),
            Case(form: "nul=%00", parameters: ["nul=\u{0}"]),
        ])
    func decodes(_ example: Case) throws {
        #expect(try Self.decoded(example.form) == example.parameters)
    }

    @Test(
        "a broken escape or text that is not UTF-8 is refused, naming the parameter and never its value",
        arguments: [
            ("a=%zz", "the value of the form parameter \"a\""),
            ("a=%2", "the value of the form parameter \"a\""),
            ("a=%", "the value of the form parameter \"a\""),
            ("a=%+1", "the value of the form parameter \"a\""),
            ("ok=1&client_secret=s3cr%e7", "the value of the form parameter \"client_secret\""),
            ("%zz=1", "a parameter name in the form"),
            ("a=%FF", "the value of the form parameter \"a\""),
            ("a=%C3", "the value of the form parameter \"a\""),
            ("a=%C0%AF", "the value of the form parameter \"a\""),
        ])
    func refuses(form: String, subject: String) {
        #expect {
            try Self.decoded(form)
        } throws: { error in
            guard let error = error as? JWTError, error.code == .invalidQueryEncoding else { return false }
            return error.reason.hasPrefix(subject) && !error.reason.contains("s3cr")
        }
    }

    @Test("raw bytes that are not UTF-8 are refused like escaped ones")
    func rawInvalidUTF8() {
        #expect(throws: JWTError(.invalidQueryEncoding)) { try URLEncodedForm.parameters([0x61, 0x3D, 0xFF]) }
        #expect(throws: JWTError(.invalidQueryEncoding)) { try URLEncodedForm.parameters([0xC3, 0x3D, 0x31]) }
    }

    @Test("a form as long as the body allows decodes in one scratch buffer")
    func long() throws {
        let value = String(repeating: "%41+", count: 4096)
        let parameters = try URLEncodedForm.parameters(Array("assertion=\(value)&x=1".utf8))
        #expect(parameters.count == 2)
        #expect(parameters[0].value == String(repeating: "A ", count: 4096))
    }
}
