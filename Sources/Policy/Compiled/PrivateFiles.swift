import Foundation

/// The files of a policy folder that hold secrets or private keys: the
/// `{"file": PATH}` secrets, `accessTokens.keyFile` and the TLS private keys
/// (docs/policies.md §2, §3; docs/tls.md). `linkgate check` warns about those other users may read.
public struct PrivateFile: Sendable, Equatable {
    /// As written in the policy, relative to the folder unless absolute.
    public let path: String
    /// Its permission bits.
    public let mode: mode_t
}

extension PolicyDocument {
    /// The paths, as written, of the files that hold a secret or a private key.
    public var privateFilePaths: [String] {
        var paths: [String] = []
        for app in apps {
            for secret in [app.sharedSecret, app.oauth2?.clientSecret] {
                if case .file(let path)? = secret?.origin { paths.append(path) }
            }
        }
        if let keyFile = gateway.accessTokens.keyFile { paths.append(keyFile) }
        for listener in [gateway.tls, gateway.adminTls, gateway.authzTls] {
            if let keyFile = listener?.keyFile { paths.append(keyFile) }
        }
        for upstream in upstreams {
            if let keyFile = upstream.tls?.keyFile?.written { paths.append(keyFile) }
        }
        return paths
    }

    /// The private files that group or other users may read or write.
    public func privateFilesOpenToOthers(folder: String) -> [PrivateFile] {
        privateFilePaths.compactMap { path in
            let full = path.hasPrefix("/") ? path : folder + "/" + path
            var info = stat()
            guard stat(full, &info) == 0 else { return nil }
            let mode = info.st_mode & 0o777
            return mode & 0o077 == 0 ? nil : PrivateFile(path: path, mode: mode)
        }
    }
}
