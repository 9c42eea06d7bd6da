internal import CSQLiteSettings
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
internal import VaporCSQLite

/// One SQLite connection driven straight through the C API that sqlite-nio bundles,
/// as an `SQLDatabase`, so the store keeps writing SQLKit queries.
///
/// sqlite-nio sends every statement to NIO's thread pool and back (three thread
/// hops a statement); here a statement runs synchronously on the caller's thread,
/// which is the connection's `SQLiteThread`: a whole transaction costs one hop
/// (docs/grants.md, "Transactions"). Statements are prepared once and kept, by
/// their SQL text, for the life of the connection.
///
/// `@unchecked Sendable`: only the task of its `SQLiteQueue` uses it, on its thread.
final class SQLiteHandle: SQLDatabase, @unchecked Sendable {
    let logger: Logger
    let eventLoop: any EventLoop
    let dialect: any SQLDialect = SQLiteDialect()
    var queryLogLevel: Logger.Level? { nil }

    private var connection: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    private let thread: SQLiteThread
    /// Enough for every statement the store writes; past it (audit batches of many sizes) the cache starts over.
    private static let cachedStatements = 256

    private init(connection: OpaquePointer, thread: SQLiteThread, logger: Logger) {
        self.connection = connection
        self.thread = thread
        self.logger = logger
        self.eventLoop = MultiThreadedEventLoopGroup.singleton.any()
    }

    /// Opens `path` (`:memory:` for a private in-memory database). Runs on the caller's thread.
    static func open(path: String, thread: SQLiteThread, logger: Logger) throws -> SQLiteHandle {
        var connection: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_URI
        let status = sqlite_nio_sqlite3_open_v2(path, &connection, flags, nil)
        guard status == SQLITE_OK, let connection else {
            let message = connection.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) }
            sqlite_nio_sqlite3_close(connection)
            throw SQLiteFailure(code: status, message: message ?? "cannot open \(path)")
        }
        sqlite_nio_sqlite3_extended_result_codes(connection, 1)
        // Plans that never look at bound values: otherwise a join's lookup by a bound value
        // (the refresh rotation's) is prepared again for every new value, a seventh of the
        // rotation's write thread (docs/grants.md, "Transactions").
        guard linkgate_sqlite_enable_qpsg(UnsafeMutableRawPointer(connection)) == 1 else {
            sqlite_nio_sqlite3_close(connection)
            throw SQLiteFailure(code: SQLITE_ERROR, message: "cannot turn on the query planner stability guarantee")
        }
        return SQLiteHandle(connection: connection, thread: thread, logger: logger)
    }

    /// How many times SQLite prepared the kept statements again, since each was prepared:
    /// a statement whose plan looks at a bound value is prepared again for every new value,
    /// which costs as much as running it. The connection's planner stability guarantee
    /// (`open`) rules that out; tests check that none of the store's statements is.
    var reprepares: Int {
        statements.values.reduce(0) {
            $0 + Int(sqlite_nio_sqlite3_stmt_status($1, Int32(SQLITE_STMTSTATUS_REPREPARE), 0))
        }
    }

    /// Whether no transaction is open (SQLite rolls one back by itself after some errors).
    var isAutocommit: Bool { sqlite_nio_sqlite3_get_autocommit(connection) != 0 }

    /// Runs one statement without binds or rows (BEGIN, SAVEPOINT, COMMIT, pragmas).
    func run(_ sql: String) throws {
        try query(sql, binds: []) { _ in }
    }

    func close() {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        statements.removeAll()
        sqlite_nio_sqlite3_close_v2(connection)
        connection = nil
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        let (sql, binds) = serialize(query)
        let encoder = SQLiteDataEncoder()
        try self.query(sql, binds: try binds.map { try encoder.encode($0) }, onRow)
    }

    /// The legacy interface: the statement runs on the connection's thread all the same.
    func execute(
        sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void
    ) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        Task(executorPreference: thread) {
            do {
                try await self.execute(sql: query, onRow)
                promise.succeed()
            } catch {
                promise.fail(error)
            }
        }
        return promise.futureResult
    }

    /// Runs `sql` with `binds` straight on the connection, without SQLKit's serializer and
    /// encoders, handing each row over as it is (the OAuth 1.0a nonce log, a statement a nonce).
    func query(_ sql: String, _ binds: [SQLiteData], _ onRow: (SQLiteResultRow) -> Void = { _ in }) throws {
        try query(sql, binds: binds, onRow)
    }

    /// The connection under a transaction's `database` on SQLite.
    static func of(_ database: any SQLDatabase) throws -> SQLiteHandle {
        guard let handle = database as? SQLiteHandle else {
            throw SQLiteFailure(code: SQLITE_MISUSE, message: "not a connection of the SQLite store")
        }
        return handle
    }

    /// The rowid of the row the connection's last `INSERT` wrote.
    var lastInsertRowID: Int64 { sqlite_nio_sqlite3_last_insert_rowid(connection) }

    private func query(_ sql: String, binds: [SQLiteData], _ onRow: (SQLiteResultRow) -> Void) throws {
        let statement = try prepared(sql)
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        }
        for (index, value) in binds.enumerated() { try bind(value, at: Int32(index + 1), in: statement) }
        var columns: SQLiteResultRow.Columns?
        while true {
            let status = sqlite_nio_sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { throw failure(status) }
            let names = columns ?? SQLiteResultRow.Columns(statement: statement)
            columns = names
            onRow(SQLiteResultRow(columns: names, statement: statement))
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        if statements.count >= Self.cachedStatements {
            for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
            statements.removeAll()
        }
        var statement: OpaquePointer?
        let status = sqlite_nio_sqlite3_prepare_v3(
            connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else { throw failure(status) }
        statements[sql] = statement
        return statement
    }

    private func bind(_ value: SQLiteData, at index: Int32, in statement: OpaquePointer) throws {
        let status: Int32
        switch value {
        case .integer(let integer): status = sqlite_nio_sqlite3_bind_int64(statement, index, Int64(integer))
        case .float(let double): status = sqlite_nio_sqlite3_bind_double(statement, index, double)
        case .text(let text):
            status = sqlite_nio_sqlite3_bind_text64(
                statement, index, text, UInt64(text.utf8.count), Self.transient, UInt8(SQLITE_UTF8))
        case .blob(let blob):
            status = blob.withUnsafeReadableBytes {
                sqlite_nio_sqlite3_bind_blob64(statement, index, $0.baseAddress, UInt64($0.count), Self.transient)
            }
        case .null: status = sqlite_nio_sqlite3_bind_null(statement, index)
        }
        guard status == SQLITE_OK else { throw failure(status) }
    }

    private func failure(_ status: Int32) -> SQLiteFailure {
        SQLiteFailure(code: status, message: String(cString: sqlite_nio_sqlite3_errmsg(connection)))
    }

    /// SQLite copies the bound bytes (`SQLITE_TRANSIENT`).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

/// An SQLite error: its result code and SQLite's message (never a bound value).
struct SQLiteFailure: Error, CustomStringConvertible {
    let code: Int32
    let message: String

    var description: String { "SQLite error \(code): \(message)" }
}

/// One result row, copied out of the statement before it steps on.
struct SQLiteResultRow: SQLRow {
    /// The column names of a statement's result, shared by its rows.
    final class Columns: Sendable {
        let names: [String]

        init(statement: OpaquePointer) {
            names = (0..<sqlite_nio_sqlite3_column_count(statement)).map {
                sqlite_nio_sqlite3_column_name(statement, $0).map { String(cString: $0) } ?? ""
            }
        }

        func index(of column: String) -> Int? { names.firstIndex(of: column) }
    }

    let columns: Columns
    let values: [SQLiteData]

    init(columns: Columns, statement: OpaquePointer) {
        self.columns = columns
        values = (0..<Int32(columns.names.count)).map { Self.value(at: $0, of: statement) }
    }

    var allColumns: [String] { columns.names }

    func contains(column: String) -> Bool { columns.index(of: column) != nil }

    func decodeNil(column: String) throws -> Bool { try value(column) == .null }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        try SQLiteDataDecoder().decode(D.self, from: value(column))
    }

    private func value(_ column: String) throws -> SQLiteData {
        guard let index = columns.index(of: column) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "no column \(column) in the result"))
        }
        return values[index]
    }

    private static func value(at index: Int32, of statement: OpaquePointer) -> SQLiteData {
        switch sqlite_nio_sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(SQLiteInt64(sqlite_nio_sqlite3_column_int64(statement, index)))
        case SQLITE_FLOAT: return .float(sqlite_nio_sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            guard let text = sqlite_nio_sqlite3_column_text(statement, index) else { return .text("") }
            return .text(String(cString: text))
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            guard let bytes = sqlite_nio_sqlite3_column_blob(statement, index), count > 0 else {
                return .blob(ByteBuffer())
            }
            return .blob(ByteBuffer(bytes: UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }
}
