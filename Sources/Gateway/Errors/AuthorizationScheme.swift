/// The scheme word of an `Authorization` header, as far as the gateway knows it.
enum AuthorizationScheme: String, Sendable, Equatable {
    case jwt = "JWT"
    case bearer = "Bearer"
    case basic = "Basic"
    case oauth = "OAuth"
}

extension AuthorizationScheme {
    /// `text` made safe inside a quoted-string: printable ASCII only, `"` and `\` escaped.
    static func quotedStringContent(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"", "\\": result += "\\\(scalar)"
            case " "..."~": result.unicodeScalars.append(scalar)
            default: result += "?"
            }
        }
        return result
    }
}
