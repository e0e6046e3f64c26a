import Foundation
import Logging
import PostgresNIO
import Synchronization

/// ``SQLBackend`` over PostgresNIO's `PostgresClient` connection pool.
final class PostgresBackend: SQLBackend {
    let dialect = SQLDialect.postgres
    let client: PostgresClient
    private let logger: Logger
    private let acquireTimeout: Duration

    init(settings: DatabaseConfiguration.PostgresSettings, logger: Logger) {
        var configuration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.username,
            password: settings.password, database: settings.database, tls: settings.tls.postgresTLS)
        configuration.options.maximumConnections = settings.poolSize
        configuration.options.connectTimeout = settings.connectTimeout
        // Every session runs in UTC so that `timestamp without time zone` columns (Drizzle/Prisma
        // installs store UTC there) convert to and from the `timestamptz` values we bind without a
        // server-local offset sneaking in.
        configuration.options.additionalStartupParameters = [("TimeZone", "UTC")]
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        self.acquireTimeout = settings.acquireTimeout
    }

    func run() async throws {
        await client.run()
    }

    func query(_ statement: SQLStatement) async throws -> [SQLRow] {
        try await shielded { [self] in try await unshieldedQuery(statement) }
    }

    func ping() async throws {
        _ = try await unshieldedQuery(SQLStatement("SELECT 1 AS ok"))
    }

    private func unshieldedQuery(_ statement: SQLStatement) async throws -> [SQLRow] {
        try await withLease { [logger] connection in
            try await PostgresConnectionExecutor(connection: connection, logger: logger).query(statement)
        }
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await shielded { [self] in try await unshieldedTransaction(body) }
    }

    private func unshieldedTransaction<T: Sendable>(
        _ body: @escaping @Sendable (any SQLExecutor) async throws -> T
    ) async throws -> T {
        // Our own BEGIN/COMMIT rather than `PostgresClient.withTransaction`, which wraps the
        // closure's errors in `PostgresTransactionError`: domain code needs its own errors back.
        try await withLease { [logger] connection in
            try await PostgresConnectionExecutor(connection: connection, logger: logger)
                .runTransaction(begin: "BEGIN", logger: logger, body)
        }
    }

    /// Leases a connection for `body`, giving up with ``DatabaseError/unavailable(_:)`` if none
    /// is available within `acquireTimeout`. Without this, requests wait for the pool's circuit
    /// breaker (60 s, not configurable) when the server is down. Only the wait for a connection
    /// is bounded: a statement, once sent, is never abandoned half-way.
    private func withLease<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let leased = LeaseFlag()
        let client = self.client
        let timeout = self.acquireTimeout
        return try await withThrowingTaskGroup(of: LeaseOutcome<T>.self) { group in
            group.addTask {
                try await client.withConnection { connection in
                    leased.set()
                    return .value(try await body(connection))
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                guard leased.isSet else {
                    throw DatabaseError.unavailable("no PostgreSQL connection within \(timeout)")
                }
                return .timerExpiredAfterLease
            }
            while let outcome = try await group.next() {
                if case .value(let value) = outcome {
                    group.cancelAll()  // the timer
                    return value
                }
            }
            throw CancellationError()  // unreachable: the lease task always yields a value or throws
        }
    }

    func classify(_ error: any Error) -> SQLErrorKind {
        guard let error = error as? PSQLError else {
            // The pool's own error (circuit breaker tripped: the server has been unreachable for
            // longer than the connect timeout) lives in a module PostgresNIO does not export.
            return String(describing: type(of: error)) == "ConnectionPoolError" ? .unavailable : .other
        }
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            if state == "23505" { return .uniqueViolation }
            // Class 08 (connection exception), 57P01..57P03 (admin shutdown, crash shutdown, cannot connect now).
            if state.hasPrefix("08") || state.hasPrefix("57P") { return .unavailable }
            return .other
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed,
            .sslUnsupported, .failedToAddSSLHandler, .uncleanShutdown:
            return .unavailable
        default:
            return .other
        }
    }

    static func collect(_ rows: PostgresRowSequence) async throws -> [SQLRow] {
        var result: [SQLRow] = []
        for try await row in rows {
            var columns: [String] = []
            var values: [SQLValue] = []
            for cell in row {
                columns.append(cell.columnName)
                values.append(try decode(cell))
            }
            result.append(SQLRow(columns: columns, values: values))
        }
        return result
    }

    static func decode(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .text, .varchar, .bpchar, .name:
            return .text(try cell.decode(String.self))
        case .int2, .int4, .int8:
            return .int(try cell.decode(Int64.self))
        case .float4, .float8:
            return .double(try cell.decode(Double.self))
        case .bool:
            return .bool(try cell.decode(Bool.self))
        case .timestamp, .timestamptz:
            // Both decode as UTC instants: `timestamp` columns hold UTC by better-auth's convention.
            let date = try cell.decode(Date.self)
            return .timestampMs(Int64((date.timeIntervalSince1970 * 1000).rounded()))
        default:
            throw DatabaseError.unsupportedColumnType(column: cell.columnName, type: "\(cell.dataType)")
        }
    }
}

private enum LeaseOutcome<T: Sendable>: Sendable {
    case value(T)
    case timerExpiredAfterLease
}

private final class LeaseFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

/// One leased connection inside a transaction.
struct PostgresConnectionExecutor: SQLExecutor {
    let connection: PostgresConnection
    let logger: Logger

    func query(_ statement: SQLStatement) async throws -> [SQLRow] {
        let rows = try await connection.query(try statement.postgresQuery(), logger: logger)
        return try await PostgresBackend.collect(rows)
    }
}

extension SQLStatement {
    func postgresQuery() throws -> PostgresQuery {
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .null: bindings.appendNull()
            case .text(let s): bindings.append(s)
            case .int(let i): bindings.append(i)
            case .double(let d): bindings.append(d)
            case .bool(let b): bindings.append(b)
            case .timestampMs(let ms): bindings.append(Date(timeIntervalSince1970: Double(ms) / 1000))
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }
}
