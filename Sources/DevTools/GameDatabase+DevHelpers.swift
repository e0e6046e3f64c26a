import MMOTime
import DatabaseService

// Development helpers that play the web app's part: create better-auth users and sessions as
// better-auth's sign-up would. Used by `mmo dev create-user` and tests; kept out of the
// production DatabaseService library, whose SQL layer they reach through `package` access.

extension GameDatabase {
    /// Creates a better-auth user with an email/password credential, as better-auth's sign-up
    /// would: a `"user"` row and an `account` row with `providerId = 'credential'`,
    /// `accountId = userId` and the scrypt password hash (plus `issuer = 'local:credential'`
    /// where that v1.7 column exists). For `mmo dev create-user` and tests.
    ///
    /// - Parameters:
    ///   - password: nil creates a user without a credential account, as a social sign-in
    ///     would; load tests use it to skip scrypt (~0.1 s per user).
    ///   - role: Written to the admin plugin's `role` column; throws if the column is absent.
    /// - Returns: The new user's id.
    /// - Throws: ``DatabaseError/invalidInput(_:)`` for a password outside 8...128 characters,
    ///   an email in use, or a role without the admin plugin.
    public func createAuthUser(name: String, email: String, password: String?, role: String? = nil) async throws -> String {
        try await timed(.createAuthUser) {
            let schema = try requireSchema()
            if let password, !(8...128).contains(password.count) {
                throw DatabaseError.invalidInput("password must have 8 to 128 characters (better-auth's default limits)")
            }
            let email = email.lowercased()  // better-auth stores emails lowercased
            guard !name.isEmpty, !email.isEmpty else { throw DatabaseError.invalidInput("name and email are required") }
            if role != nil, !schema.has(.userRole) {
                throw DatabaseError.invalidInput("a role needs the admin plugin's role column, which is absent")
            }
            // scrypt takes 16 MB and ~0.1 s of CPU: off the cooperative threads, and before
            // taking a database connection.
            let hash: String? = if let password { try await offloadCPU { try BetterAuthPassword.hash(password) } } else { nil }
            let userID = randomAlphanumeric(32)  // better-auth's generateId(): 32 chars of [A-Za-z0-9]
            let now = Self.nowMs()
            let n = names

            var userColumns: [AuthNames.Column] = [
                .userID, .userName, .userEmail, .userEmailVerified, .userCreatedAt, .userUpdatedAt,
            ]
            var userValues: [SQLValue] = [.text(userID), .text(name), .text(email), .bool(true), .timestampMs(now), .timestampMs(now)]
            if let role {
                userColumns.append(.userRole)
                userValues.append(.text(role))
            }
            if schema.has(.userBanned) {
                // better-auth's admin plugin defaults banned to false in application code.
                userColumns.append(.userBanned)
                userValues.append(.bool(false))
            }

            var accountColumns: [AuthNames.Column] = [
                .accountID, .accountAccountID, .accountProviderID, .accountUserID, .accountPassword,
                .accountCreatedAt, .accountUpdatedAt,
            ]
            var accountValues: [SQLValue] = [
                .text(randomAlphanumeric(32)), .text(userID), .text("credential"), .text(userID), .text(hash ?? ""),
                .timestampMs(now), .timestampMs(now),
            ]
            if schema.has(.accountIssuer) {
                accountColumns.append(.accountIssuer)
                accountValues.append(.text("local:credential"))
            }

            do {
                try await backend.transaction { [userColumns, userValues, accountColumns, accountValues] db in
                    _ = try await db.query(insert(into: AuthNames.userTable, userColumns, userValues, names: n))
                    if hash != nil {
                        _ = try await db.query(insert(into: AuthNames.accountTable, accountColumns, accountValues, names: n))
                    }
                }
            } catch where backend.classify(error) == .uniqueViolation {
                throw DatabaseError.invalidInput("a user with this email already exists")
            }
            return userID
        }
    }

    /// Creates a better-auth session for `userId` and returns its token (32 characters of
    /// [A-Za-z0-9] from the system CSPRNG, stored as is, like better-auth does).
    public func createAuthSession(userId: String, lifetime: Duration = .seconds(7 * 24 * 3600)) async throws -> String {
        try await timed(.createAuthSession) {
            _ = try requireSchema()
            let token = randomAlphanumeric(32)
            let now = Self.nowMs()
            let expires = now + lifetime.wholeMilliseconds
            let columns: [AuthNames.Column] = [
                .sessionID, .sessionToken, .sessionExpiresAt, .sessionCreatedAt, .sessionUpdatedAt, .sessionUserID,
            ]
            let values: [SQLValue] = [
                .text(randomAlphanumeric(32)), .text(token), .timestampMs(expires), .timestampMs(now), .timestampMs(now),
                .text(userId),
            ]
            _ = try await backend.query(insert(into: AuthNames.sessionTable, columns, values, names: names))
            return token
        }
    }
}

private func insert(into table: String, _ columns: [AuthNames.Column], _ values: [SQLValue], names: AuthNames) -> SQLStatement {
    let placeholders = (1...values.count).map { "$\($0)" }.joined(separator: ", ")
    return SQLStatement(
        "INSERT INTO \(quoteIdentifier(table)) (\(columns.map(names.q).joined(separator: ", "))) VALUES (\(placeholders))",
        values)
}

private let alphanumerics = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

/// `count` characters of [A-Za-z0-9], uniformly (no modulo bias), from the system CSPRNG.
package func randomAlphanumeric(_ count: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    return String((0..<count).map { _ in alphanumerics[Int.random(in: 0..<alphanumerics.count, using: &generator)] })
}
