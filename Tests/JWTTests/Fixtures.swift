import Foundation
import JWT

/// Reads test data shipped under Tests/JWTTests/Fixtures.
enum Fixture {
    static func url(_ name: String) -> URL {
        let path = (name as NSString).deletingPathExtension
        let ext = (name as NSString).pathExtension
        guard let url = Bundle.module.url(forResource: path, withExtension: ext, subdirectory: "Fixtures") else {
            fatalError("missing fixture \(name)")
        }
        return url
    }

    static func bytes(_ name: String) -> [UInt8] {
        [UInt8](try! Data(contentsOf: url(name)))
    }

    static func text(_ name: String) -> String {
        String(decoding: bytes(name), as: UTF8.self)
    }

    static func json(_ name: String) -> JSONValue {
        try! JSONValue.parse(bytes(name))
    }
}

/// Runs `body` and returns the code of the `JWTError` it throws (nil if none).
func jwtErrorCode(_ body: () throws -> Void) -> JWTError.Code? {
    do {
        try body()
        return nil
    } catch let error as JWTError {
        return error.code
    } catch {
        return nil
    }
}
