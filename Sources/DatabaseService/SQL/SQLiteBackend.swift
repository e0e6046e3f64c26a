import Logging
import SQLiteNIO
import Synchronization

/// ``SQLBackend`` over one SQLiteNIO connection to a file (the embedded default).
///
/// One connection, serialized by an async lock: SQLite allows one writer at a time anyway, and a
/// shared connection must not interleave one request's statements into another's transaction.
final class SQLiteBackend: SQLBackend {
    let dialect = SQLDialect.sqlite
    let path: String
    private let logger: Logger
    private let lock = AsyncSerialLock()

    private enum ConnectionState {
        case notOpened
        case open(SQLiteConnection)
        case closed
    }

    /// Only read or written while `lock` is held; the Mutex satisfies Sendable checking.
    private let connection = Mutex(ConnectionState.notOpened)

    init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    func run() async throws {
        // Open eagerly so that a bad path fails the service at startup, not at the first request.
        _ = try await shielded { [self] in try await lock.withLock { try await openIfNeeded() } }
        // Hold the file open until cancelled (graceful shutdown cancels the task running us).
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
        // The close must happen even though this task is cancelled.
        await Task {
            do {
                try await lock.withLock {
                    let current = connection.withLock { state -> SQLiteConnection? in
                        defer { state = .closed }
                        if case .open(let c) = state { return c }
                        return nil
                    }
                    try await current?.close()
                }
            } catch {
                logger.warning("closing SQLite failed", metadata: ["error": "\(error)"])
            }
        }.value
    }

    func query(_ statement: SQLStatement) async throws -> [SQLRow] {
        try await shielded { [self] in
            try await lock.withLock {
                let connection = try await openIfNeeded()
                return try await SQLiteConnectionExecutor(connection: connection).query(statement)
            }
        }
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await shielded { [self] in try await lockedTransaction(body) }
    }

    private func lockedTransaction<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await lock.withLock {
            let executor = SQLiteConnectionExecutor(connection: try await openIfNeeded())
            // IMMEDIATE takes the write lock up front, so another process sharing the file cannot
            // make this transaction fail half-way with SQLITE_BUSY on its first write.
            return try await executor.runTransaction(begin: "BEGIN IMMEDIATE", logger: logger, body)
        }
    }

    func ping() async throws {
        // Cancelling this abandons at most a `SELECT 1`, outside any transaction: harmless.
        try await lock.withLock {
            _ = try await SQLiteConnectionExecutor(connection: try await openIfNeeded()).query(SQLStatement("SELECT 1 AS ok"))
        }
    }

    func classify(_ error: any Error) -> SQLErrorKind {
        if let error = error as? DatabaseError, case .closed = error { return .unavailable }
        guard let error = error as? SQLiteError else { return .other }
        switch error.reason {
        case .constraintUniqueFailed, .constraintPrimaryKeyFailed:
            return .uniqueViolation
        case .constraint where error.message.contains("UNIQUE"):
            return .uniqueViolation
        case .cantOpen, .cantOpenDirectory, .cantOpenInvalidPath, .ioError, .notADatabase, .corrupt, .full:
            return .unavailable
        default:
            return .other
        }
    }

    /// Call with `lock` held.
    private func openIfNeeded() async throws -> SQLiteConnection {
        switch connection.withLock({ $0 }) {
        case .open(let c): return c
        case .closed: throw DatabaseError.closed
        case .notOpened: break
        }
        // Shielded: a connection abandoned between open and close would trip SQLiteNIO's
        // "not closed before deinit" assertion.
        let opened = try await shielded { [path, logger] in
            let opened = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            do {
                // WAL lets readers in other processes (`mmo` CLI, sqlite3 shell) work during
                // writes; foreign keys are off by default in SQLite.
                _ = try await opened.query("PRAGMA journal_mode = WAL", [])
                _ = try await opened.query("PRAGMA synchronous = NORMAL", [])
                _ = try await opened.query("PRAGMA foreign_keys = ON", [])
            } catch {
                try? await opened.close()
                throw error
            }
            return opened
        }
        connection.withLock { $0 = .open(opened) }
        logger.debug("opened SQLite database", metadata: ["path": "\(path)"])
        return opened
    }
}

/// The single connection, used with the lock held.
struct SQLiteConnectionExecutor: SQLExecutor {
    let connection: SQLiteConnection

    func query(_ statement: SQLStatement) async throws -> [SQLRow] {
        let binds: [SQLiteData] = statement.binds.map { value in
            switch value {
            case .null: .null
            case .text(let s): .text(s)
            case .int(let i): .integer(SQLiteInt64(i))
            case .double(let d): .float(d)
            case .bool(let b): .integer(b ? 1 : 0)
            case .timestampMs(let ms): .integer(SQLiteInt64(ms))
            }
        }
        let rows = try await connection.query(sqlitePlaceholders(statement.sql), binds)
        return rows.map { row in
            let columns = row.columns
            return SQLRow(
                columns: columns.map(\.name),
                values: columns.map { column in
                    switch column.data {
                    case .integer(let i): .int(Int64(i))
                    case .float(let d): .double(d)
                    case .text(let s): .text(s)
                    case .blob(let b): .text(String(buffer: b))
                    case .null: .null
                    }
                })
        }
    }
}

/// Rewrites PostgreSQL placeholders `$N` to SQLite's numbered `?N`, outside quotes.
///
/// SQLite also accepts `$N`, but as a *named* parameter numbered by first appearance, which would
/// silently bind the wrong values whenever `$2` appears before `$1`.
func sqlitePlaceholders(_ sql: String) -> String {
    var out = ""
    out.reserveCapacity(sql.utf8.count)
    var quote: Character? = nil
    var previous: Character? = nil
    var iterator = sql.makeIterator()
    var pending = iterator.next()
    while let c = pending {
        pending = iterator.next()
        if let q = quote {
            if c == q { quote = nil }
            out.append(c)
        } else if c == "'" || c == "\"" {
            quote = c
            out.append(c)
        } else if c == "$", let next = pending, next.isASCII, next.isNumber,
            !(previous.map { $0.isLetter || $0.isNumber || $0 == "_" } ?? false)
        {
            out.append("?")
        } else {
            out.append(c)
        }
        previous = c
    }
    return out
}
