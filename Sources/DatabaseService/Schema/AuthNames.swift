/// Physical names of better-auth's tables and columns for one ``DatabaseConfiguration/AuthNaming``.
///
/// Every identifier that reaches SQL comes from here (or is a literal in our own statements):
/// logical names are compile-time constants in camelCase, translated by a fixed rule, never
/// taken from input.
package struct AuthNames: Sendable, Equatable {
    let naming: DatabaseConfiguration.AuthNaming

    // Table names are the same in both namings (singular, `user` reserved in PostgreSQL).
    package static let userTable = "user"
    package static let sessionTable = "session"
    package static let accountTable = "account"
    static let verificationTable = "verification"

    /// Columns we read or write, by table, as better-auth's logical (camelCase) field names.
    package enum Column: String, CaseIterable, Sendable {
        // "user"
        case userID = "user.id", userName = "user.name", userEmail = "user.email"
        case userEmailVerified = "user.emailVerified", userImage = "user.image"
        case userCreatedAt = "user.createdAt", userUpdatedAt = "user.updatedAt"
        case userRole = "user.role", userBanned = "user.banned", userBanReason = "user.banReason"
        case userBanExpires = "user.banExpires", userUsername = "user.username"
        case userDisplayUsername = "user.displayUsername"
        // session
        case sessionID = "session.id", sessionToken = "session.token", sessionExpiresAt = "session.expiresAt"
        case sessionCreatedAt = "session.createdAt", sessionUpdatedAt = "session.updatedAt"
        case sessionIPAddress = "session.ipAddress", sessionUserAgent = "session.userAgent"
        case sessionUserID = "session.userId", sessionImpersonatedBy = "session.impersonatedBy"
        // account
        case accountID = "account.id", accountAccountID = "account.accountId"
        case accountProviderID = "account.providerId", accountUserID = "account.userId"
        case accountPassword = "account.password", accountCreatedAt = "account.createdAt"
        case accountUpdatedAt = "account.updatedAt", accountIssuer = "account.issuer"

        var table: String { String(rawValue.prefix { $0 != "." }) }
        var logicalName: String { String(rawValue.drop { $0 != "." }.dropFirst()) }

        /// Core columns every better-auth install has and this service relies on.
        static let required: [Column] = [
            .userID, .userName, .userEmail, .userEmailVerified, .userCreatedAt, .userUpdatedAt,
            .sessionID, .sessionToken, .sessionExpiresAt, .sessionCreatedAt, .sessionUpdatedAt, .sessionUserID,
            .accountID, .accountAccountID, .accountProviderID, .accountUserID, .accountPassword,
            .accountCreatedAt, .accountUpdatedAt,
        ]

        /// Plugin (or version-dependent) columns: detected, never assumed.
        static let optional: [Column] = [
            .userRole, .userBanned, .userBanReason, .userBanExpires, .userUsername, .userDisplayUsername,
            .sessionImpersonatedBy, .accountIssuer,
        ]
    }

    init(_ naming: DatabaseConfiguration.AuthNaming) {
        self.naming = naming
    }

    /// The physical column name, unquoted.
    func name(_ column: Column) -> String {
        switch naming {
        case .camelCase: return column.logicalName
        case .snakeCase: return Self.snakeCase(column.logicalName)
        }
    }

    /// The physical column name, quoted for SQL.
    package func q(_ column: Column) -> String { quoteIdentifier(name(column)) }

    /// `emailVerified` -> `email_verified`, `userId` -> `user_id`.
    static func snakeCase(_ camel: String) -> String {
        var out = ""
        for c in camel {
            if c.isUppercase {
                out.append("_")
                out.append(contentsOf: c.lowercased())
            } else {
                out.append(c)
            }
        }
        return out
    }
}

/// Double-quotes an identifier. Only ever called with names from fixed tables in this module;
/// the precondition documents (and enforces) that no input can reach it.
package func quoteIdentifier(_ name: String) -> String {
    precondition(
        !name.isEmpty && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x41 && $0 <= 0x5a) || $0 == 0x5f },
        "identifier must come from a fixed table")
    return "\"" + name + "\""
}
