import Logging
/// The SQL dialect a backend speaks. Only DDL and a few introspection queries differ; the
/// domain statements are written once in the common subset of PostgreSQL and SQLite.
package enum SQLDialect: Sendable {
    case postgres
    case sqlite
}

/// Something that runs statements: the pool, or one connection inside a transaction.
package protocol SQLExecutor: Sendable {
    func query(_ statement: SQLStatement) async throws -> [SQLRow]
}

extension SQLExecutor {
    /// Runs `body` on this connection between `begin` and COMMIT; when `body` throws, rolls
    /// back and rethrows its error (a failed ROLLBACK is only logged: the connection is then
    /// probably broken and its owner discards it).
    func runTransaction<T: Sendable>(
        begin: String, logger: Logger, _ body: @Sendable (any SQLExecutor) async throws -> T
    ) async throws -> T {
        _ = try await query(SQLStatement(begin))
        let result: T
        do {
            result = try await body(self)
        } catch {
            do {
                _ = try await query(SQLStatement("ROLLBACK"))
            } catch let rollbackError {
                logger.warning("ROLLBACK failed", metadata: ["error": "\(describe(rollbackError))"])
            }
            throw error
        }
        _ = try await query(SQLStatement("COMMIT"))
        return result
    }
}

/// A database connection (pool) for ``GameDatabase``.
package protocol SQLBackend: SQLExecutor {
    var dialect: SQLDialect { get }

    /// Long-running: keeps the pool (or file) open until the calling task is cancelled.
    func run() async throws

    /// Runs `body` in one transaction on one connection: COMMIT when it returns, ROLLBACK when it throws.
    /// `body` must only use the executor it is given.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T

    /// `SELECT 1`, cancellable (not shielded): for readiness checks with their own timeout.
    func ping() async throws

    /// Classifies a thrown error.
    func classify(_ error: any Error) -> SQLErrorKind
}

/// What the domain code needs to know about a database error.
package enum SQLErrorKind: Sendable, Equatable {
    /// SQLSTATE 23505 / SQLITE_CONSTRAINT_UNIQUE (or PRIMARYKEY).
    case uniqueViolation
    /// The database could not be reached or the connection broke.
    case unavailable
    case other
}

/// Runs `operation` in a new top-level task so that cancelling the caller (e.g. a client giving
/// up on an RPC) cannot interrupt it half-way. A half-run unit would be worse than a late one:
/// SQLiteNIO abandons statements of cancelled tasks, which could skip a ROLLBACK and leave the
/// shared connection inside a transaction; and a write the caller gave up on may still commit.
/// Waiting is bounded elsewhere (PostgreSQL: acquire timeout; SQLite: short statements).
func shielded<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await Task { try await operation() }.value
}
