import Foundation
import JWT

/// Why an app cannot be installed, uninstalled, enabled or disabled as asked.
public struct AppInstallError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    init(_ message: String) { self.message = message }
}

/// The policy-folder side of installing a Connect app (docs/connect-install.md):
/// which files change and how. Pure: it reads the folder but writes nothing;
/// `PolicyFolderWriter` applies the changes once the app has accepted them.
public enum AppInstallation {
    /// What installing or changing an app does to the folder.
    public struct Plan: Sendable {
        /// The app's file, relative to the policy folder.
        public let appFile: String
        /// The app user's account id.
        public let appUser: String?
        /// Whether `users.json` gains the app user.
        public let createsUser: Bool
        /// Whether the app was installed already (its secret is rotated).
        public let reinstall: Bool
        /// Where the app's lifecycle callbacks go, when known.
        public let lifecycle: ConnectLifecycle?
        /// The app's `oauthClientId` (2LOi), sent in the callbacks' payload.
        public let oauthClientId: String?
        /// In the order to apply them: a running gateway reloads after each, and
        /// every intermediate folder loads.
        public let changes: [PolicyFileChange]
    }

    /// Where a generated shared secret is kept: `secrets/KEY.secret`, mode 0600.
    public static func secretFile(key: String) -> String { "secrets/\(key).secret" }

    /// The account id (and name) of the user created for an app: `addon_KEY`, as Jira names app users.
    public static func appUserId(key: String) -> String { "addon_\(key)" }

    /// A new shared secret: 48 random bytes as base64url, 64 characters (at least 32 bytes are required).
    public static func newSharedSecret() -> String { SecureRandom.identifier(bytes: 48) }

    /// The changes that install `descriptor` with `sharedSecret`: the secret file,
    /// the app user when missing, and the app file (`enabled`, the descriptor's
    /// scopes, `connect`). An app installed before keeps its file, its other
    /// members and its app user; its secret is replaced.
    public static func install(
        _ descriptor: ConnectDescriptor, sharedSecret: String, policy: CompiledPolicy
    ) throws(AppInstallError) -> Plan {
        let folder = policy.document.folder
        let existing = policy.app(key: descriptor.key)
        let appFile = existing?.source.file ?? "apps/\(descriptor.key).json"
        var app = JSONObject()
        if existing != nil {
            app = try readObject(appFile, folder: folder)
        } else if FileManager.default.fileExists(atPath: folder + "/" + appFile) {
            throw AppInstallError("\(appFile) exists and holds another app; rename it first")
        }
        let appUser = existing?.appUser ?? appUserId(key: descriptor.key)
        // Every installed app gets a client id for 2LOi, as the products issue one (docs/protocols.md §7).
        let oauthClientId = existing?.oauthClientId ?? "lg-" + SecureRandom.identifier(bytes: 12)
        var changes: [PolicyFileChange] = []
        let secretFile = secretFile(key: descriptor.key)
        changes.append(
            PolicyFileChange(
                file: secretFile, action: .write(Array((sharedSecret + "\n").utf8), mode: 0o600, private: true)))
        let createsUser = policy.user(accountId: appUser) == nil
        if createsUser {
            changes.append(try addUser(appUser, displayName: descriptor.name, policy: policy))
        }
        app["key"] = .string(descriptor.key)
        app["name"] = .string(descriptor.name)
        app["enabled"] = .bool(true)
        app["sharedSecret"] = .object(JSONObject([("file", .string(secretFile))]))
        app["scopes"] = .array(descriptor.scopes.map(JSONValue.string))
        app["oauthClientId"] = .string(oauthClientId)
        app["appUser"] = .string(appUser)
        app["connect"] = .object(connectMember(descriptor.lifecycle))
        changes.append(PolicyFileChange(file: appFile, action: .write(json(app), mode: 0o644, private: false)))
        return Plan(
            appFile: appFile, appUser: appUser, createsUser: createsUser, reinstall: existing != nil,
            lifecycle: descriptor.lifecycle, oauthClientId: oauthClientId, changes: changes)
    }

    /// Removes the app's file, then its generated secret file (in that order, so
    /// that the folder loads at every step). `users.json` keeps the app user.
    public static func uninstall(key: String, policy: CompiledPolicy) throws(AppInstallError) -> Plan {
        let app = try installed(key, policy: policy)
        var changes = [PolicyFileChange(file: app.source.file, action: .remove)]
        if case .file(let path) = app.sharedSecret?.origin, path == secretFile(key: key) {
            changes.append(PolicyFileChange(file: path, action: .remove))
        }
        return Plan(
            appFile: app.source.file, appUser: app.appUser, createsUser: false, reinstall: false,
            lifecycle: app.connect, oauthClientId: app.oauthClientId, changes: changes)
    }

    /// Sets the app file's `enabled`; every other member stays as written.
    public static func setEnabled(
        _ enabled: Bool, key: String, policy: CompiledPolicy
    ) throws(AppInstallError) -> Plan {
        let app = try installed(key, policy: policy)
        var object = try readObject(app.source.file, folder: policy.document.folder)
        object["enabled"] = .bool(enabled)
        return Plan(
            appFile: app.source.file, appUser: app.appUser, createsUser: false, reinstall: false,
            lifecycle: app.connect, oauthClientId: app.oauthClientId,
            changes: [
                PolicyFileChange(file: app.source.file, action: .write(json(object), mode: 0o644, private: false))
            ])
    }

    private static func installed(_ key: String, policy: CompiledPolicy) throws(AppInstallError) -> AppPolicy {
        guard let app = policy.app(key: key) else {
            let known = policy.document.apps.map(\.key).sorted().joined(separator: ", ")
            throw AppInstallError("no app has the key \(key) (apps: \(known.isEmpty ? "none" : known))")
        }
        return app
    }

    static func connectMember(_ lifecycle: ConnectLifecycle) -> JSONObject {
        var paths = JSONObject()
        for event in ConnectLifecycle.events {
            if let path = lifecycle.paths[event] { paths[event] = .string(path) }
        }
        var member = JSONObject([("baseUrl", .string(lifecycle.baseUrl)), ("lifecycle", .object(paths))])
        if let descriptor = lifecycle.descriptor { member["descriptor"] = .string(descriptor) }
        return member
    }

    /// `users.json` with the app user appended, as `addon_KEY`: no password, no groups.
    private static func addUser(
        _ accountId: String, displayName: String, policy: CompiledPolicy
    ) throws(AppInstallError) -> PolicyFileChange {
        let taken = policy.document.users.first { user in
            user.name.lowercased() == accountId.lowercased() || user.email?.lowercased() == accountId.lowercased()
        }
        if let taken {
            throw AppInstallError(
                "users.json: the user \(taken.accountId) already uses the name \(accountId), "
                    + "which the app user would get; rename that user first")
        }
        var root = try readObject("users.json", folder: policy.document.folder)
        var users = root["users"]?.arrayValue ?? []
        users.append(
            .object(
                JSONObject([
                    ("accountId", .string(accountId)), ("name", .string(accountId)),
                    ("displayName", .string(displayName)),
                ])))
        root["users"] = .array(users)
        return PolicyFileChange(file: "users.json", action: .write(json(root), mode: 0o644, private: false))
    }

    private static func readObject(_ file: String, folder: String) throws(AppInstallError) -> JSONObject {
        guard let data = FileManager.default.contents(atPath: folder + "/" + file) else {
            throw AppInstallError("\(file) cannot be read")
        }
        guard let object = (try? JSONValue.parse(Array(data), limits: .document))?.objectValue else {
            throw AppInstallError("\(file) is not a JSON object")
        }
        return object
    }

    /// Indented, members in their order, with a final newline.
    static func json(_ object: JSONObject) -> [UInt8] {
        JSONValue.object(object).serializedBytes(JSONValue.Layout(sortKeys: false, indent: 2)) + [0x0A]
    }
}
