/// A listener's certificate and private key (`tls`, `adminTls` and `authzTls` in
/// `gateway.json`, docs/tls.md §1): PEM files, the certificate file may hold the
/// chain after the leaf. Paths are relative to the policy folder unless absolute.
public struct ListenerTLSFiles: Sendable, Equatable {
    /// As written in `gateway.json`.
    public var certificateFile: String
    public var keyFile: String
    /// The paths to open: the ones written, resolved against the policy folder.
    public var certificatePath: String
    public var keyPath: String

    public init(certificateFile: String, keyFile: String, certificatePath: String, keyPath: String) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}

/// How the gateway speaks TLS to one upstream (`routes.json` → `upstreams` →
/// `tls`, docs/tls.md §2): the CA that signs the upstream's certificate instead
/// of the system's trust roots, a client certificate for mutual TLS, and the
/// name to verify (and send as SNI) instead of the URL's host. The upstream's
/// certificate is always verified. Paths are resolved against the policy folder.
public struct UpstreamTLSFiles: Sendable, Equatable {
    /// As written, and the path to open, of each file.
    public struct File: Sendable, Equatable {
        public var written: String
        public var path: String

        public init(written: String, path: String) {
            self.written = written
            self.path = path
        }
    }

    public var caFile: File?
    public var certificateFile: File?
    public var keyFile: File?
    public var serverName: String?

    public init(caFile: File? = nil, certificateFile: File? = nil, keyFile: File? = nil, serverName: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.serverName = serverName
    }
}

/// Reads the `tls` objects of `gateway.json` and `routes.json`.
enum TLSFilesReader {
    /// `{"certificateFile": …, "keyFile": …}`, both required and readable.
    static func listener(_ reader: JSONReader?, folder: PolicyFolder) -> ListenerTLSFiles? {
        guard let object = reader?.object(keys: ["certificateFile", "keyFile"]) else { return nil }
        let certificate = readableFile(object.required("certificateFile"), folder: folder, what: "certificate")
        let key = readableFile(object.required("keyFile"), folder: folder, what: "key")
        guard let certificate, let key else { return nil }
        return ListenerTLSFiles(
            certificateFile: certificate.written, keyFile: key.written, certificatePath: certificate.path,
            keyPath: key.path)
    }

    /// `{"caFile", "certificateFile", "keyFile", "serverName"}`, all optional; a
    /// client certificate needs its key and the other way round.
    static func upstream(_ reader: JSONReader?, folder: PolicyFolder) -> UpstreamTLSFiles? {
        guard let object = reader?.object(keys: ["caFile", "certificateFile", "keyFile", "serverName"]) else {
            return nil
        }
        var files = UpstreamTLSFiles()
        files.caFile = object.optional("caFile").flatMap { readableFile($0, folder: folder, what: "CA certificate") }
        files.certificateFile = object.optional("certificateFile").flatMap {
            readableFile($0, folder: folder, what: "client certificate")
        }
        files.keyFile = object.optional("keyFile").flatMap { readableFile($0, folder: folder, what: "client key") }
        if (object.optional("certificateFile") == nil) != (object.optional("keyFile") == nil) {
            reader?.report("certificateFile and keyFile go together: a client certificate needs its key")
        }
        if let nameReader = object.optional("serverName"), let name = nameReader.nonEmptyString {
            if isHostName(name) {
                files.serverName = name
            } else {
                nameReader.report("must be a DNS name such as api.internal (letters, digits, - and .)")
            }
        }
        return files
    }

    /// The file a member names, when it can be read.
    private static func readableFile(
        _ reader: JSONReader?, folder: PolicyFolder, what: String
    )
        -> UpstreamTLSFiles.File?
    {
        guard let reader, let written = reader.nonEmptyString else { return nil }
        guard folder.contents(of: written) != nil else {
            reader.report("cannot read the \(what) file \(written)")
            return nil
        }
        return UpstreamTLSFiles.File(written: written, path: folder.resolve(written))
    }

    private static func isHostName(_ name: String) -> Bool {
        name.count <= 253 && !name.hasPrefix(".") && !name.hasSuffix(".")
            && name.utf8.allSatisfy { byte in
                (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                    || byte == 0x2D || byte == 0x2E
            }
    }
}
