import AsyncHTTPClient
import Foundation
import Grants
import NIOCore
import NIOHTTP1

/// The outbound calls of `linkgate app`: reading a descriptor over http(s), and
/// sending lifecycle callbacks (docs/connect-install.md). Cold paths, one
/// short-lived client each.
enum LifecycleHTTP {
    struct Answer {
        let status: Int
        let body: String

        /// The app accepted the callback: any 2xx.
        var isSuccess: Bool { (200..<300).contains(status) }

        /// The start of the answer's body, on one line, for messages.
        var excerpt: String {
            let flat = body.split(whereSeparator: \.isNewline).joined(separator: " ")
                .trimmingCharacters(in: .whitespaces)
            if flat.isEmpty { return "(empty body)" }
            return flat.count > 200 ? String(flat.prefix(200)) + "…" : flat
        }
    }

    static let maximumBody = 1024 * 1024

    /// The descriptor's bytes: `GET` for an http(s) URL (redirects followed, 200
    /// required), else the file's content.
    static func readDescriptor(_ source: String) async throws -> [UInt8] {
        let lowered = source.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            guard let data = FileManager.default.contents(atPath: source) else {
                throw CommandFailure(message: "--descriptor: \(source) cannot be read")
            }
            return Array(data)
        }
        let answer: (status: Int, body: ByteBuffer)
        do {
            answer = try await perform(
                HTTPClientRequest(url: source), redirects: .follow(max: 5, allowCycles: false))
        } catch {
            throw CommandFailure(message: "--descriptor: \(source) cannot be fetched: \(describe(error))")
        }
        guard answer.status == 200 else {
            throw CommandFailure(message: "--descriptor: GET \(source) answered \(answer.status), not 200")
        }
        return Array(answer.body.readableBytesView)
    }

    /// POSTs the callback; redirects are not followed (a 3xx is not a success).
    static func send(_ callback: LifecycleCallback) async throws -> Answer {
        var request = HTTPClientRequest(url: callback.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Authorization", value: callback.authorization)
        request.headers.add(name: "User-Agent", value: "linkgate")
        request.body = .bytes(ByteBuffer(bytes: callback.body))
        do {
            let answer = try await perform(request, redirects: .disallow)
            return Answer(status: answer.status, body: String(buffer: answer.body))
        } catch {
            throw CommandFailure(
                message: "the app could not be reached for \(callback.event.rawValue) (POST \(callback.url)): "
                    + describe(error))
        }
    }

    private static func perform(
        _ request: HTTPClientRequest, redirects: HTTPClient.Configuration.RedirectConfiguration
    ) async throws -> (status: Int, body: ByteBuffer) {
        var configuration = HTTPClient.Configuration(redirectConfiguration: redirects)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: maximumBody)
            try await client.shutdown()
            return (Int(response.status.code), body)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return "\(error)" }
        return String(describing: error)
    }
}
