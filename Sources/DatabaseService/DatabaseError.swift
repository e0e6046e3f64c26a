/// Errors thrown by ``GameDatabase``. Messages never contain bound values (tokens, hashes).
public enum DatabaseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The schema lacks tables or columns this service needs; each entry reads like
    /// `table characters` or `column session.expiresAt`.
    case schemaIncomplete(missing: [String])
    /// A domain method was called before ``GameDatabase/prepare()`` succeeded.
    case notPrepared
    /// The database has been closed (``GameDatabase/run()`` returned).
    case closed
    /// The database could not be reached.
    case unavailable(String)
    /// The configuration is invalid, e.g. a malformed PostgreSQL URL.
    case invalidConfiguration(String)
    /// A stored value could not be interpreted.
    case corruptRow(String)
    /// A query returned a PostgreSQL type this service does not decode.
    case unsupportedColumnType(column: String, type: String)
    /// A dev helper was given unusable input, e.g. an email that already exists.
    case invalidInput(String)

    public var description: String {
        switch self {
        case .schemaIncomplete(let missing):
            return "database schema is incomplete: " + missing.map { "missing \($0)" }.joined(separator: ", ")
        case .notPrepared: return "GameDatabase.prepare() has not completed"
        case .closed: return "the database is closed"
        case .unavailable(let reason): return "the database is unavailable: \(reason)"
        case .invalidConfiguration(let reason): return "invalid database configuration: \(reason)"
        case .corruptRow(let reason): return "unexpected stored data: \(reason)"
        case .unsupportedColumnType(let column, let type): return "unsupported type \(type) of column \(column)"
        case .invalidInput(let reason): return "invalid input: \(reason)"
        }
    }
}
