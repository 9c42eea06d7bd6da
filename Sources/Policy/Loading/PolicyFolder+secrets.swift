extension PolicyFolder {
    /// Reads a secret written as a literal string, `{"env": NAME}` or
    /// `{"file": PATH}` (docs/policies.md §2). A missing variable or unreadable file is
    /// reported at the secret's pointer; messages name the source, never the value.
    func secret(_ reader: JSONReader) -> Secret? {
        if let literal = reader.value.stringValue {
            return Secret(literal, origin: .literal)
        }
        guard reader.value.objectValue != nil else {
            reader.report("expected a string or an object with \"env\" or \"file\", found \(reader.value.typeName)")
            return nil
        }
        guard let object = reader.object(keys: ["env", "file"]) else { return nil }
        switch (object.optional("env"), object.optional("file")) {
        case (let env?, nil):
            return environmentSecret(env, at: reader)
        case (nil, let file?):
            return fileSecret(file, at: reader)
        case (nil, nil) where !object.object.isEmpty:
            return nil  // only unknown keys, already reported with a suggestion
        default:
            reader.report("a secret names exactly one of \"env\" or \"file\"")
            return nil
        }
    }

    private func environmentSecret(_ reader: JSONReader, at secret: JSONReader) -> Secret? {
        guard let name = reader.nonEmptyString else { return nil }
        guard let value = environment[name] else {
            secret.report("environment variable \(name) is not set")
            return nil
        }
        return Secret(value, origin: .environment(name))
    }

    private func fileSecret(_ reader: JSONReader, at secret: JSONReader) -> Secret? {
        guard let path = reader.nonEmptyString else { return nil }
        guard var bytes = contents(of: path) else {
            secret.report("cannot read secret file \(path)")
            return nil
        }
        // Editors end files with a newline that is no part of the secret; only
        // one is removed, so a secret that really ends in whitespace survives.
        if bytes.last == UInt8(ascii: "\n") {
            bytes.removeLast()
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        }
        return Secret(bytes: bytes, origin: .file(path))
    }
}
