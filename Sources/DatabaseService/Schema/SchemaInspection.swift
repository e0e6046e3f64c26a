/// What ``GameDatabase/prepare()`` found: which optional better-auth columns exist.
package struct DetectedSchema: Sendable, Equatable {
    var optionalColumns: Set<AuthNames.Column>

    package func has(_ column: AuthNames.Column) -> Bool { optionalColumns.contains(column) }
}

extension GameDatabase {
    /// Reads the catalog and compares it with what this service needs.
    func inspectSchema() async throws -> DetectedSchema {
        let catalog = try await readCatalog()
        let (missing, detected) = Self.compare(
            catalog: catalog, names: names, sessionTableRequired: configuration.readsSessionTable)
        guard missing.isEmpty else { throw DatabaseError.schemaIncomplete(missing: missing) }
        return detected
    }

    /// Table name -> column names, for the tables we care about.
    func readCatalog() async throws -> [String: Set<String>] {
        let tables =
            [AuthNames.userTable, AuthNames.sessionTable, AuthNames.accountTable]
            + GameTables.required.map(\.table)
        let placeholders = (1...tables.count).map { "$\($0)" }.joined(separator: ", ")
        let sql: String
        switch backend.dialect {
        case .postgres:
            // current_schema(): where unqualified names resolve, i.e. the tables our queries hit.
            // The casts turn information_schema's sql_identifier domain into plain text.
            sql = """
                SELECT table_name::text AS table_name, column_name::text AS column_name
                FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name IN (\(placeholders))
                """
        case .sqlite:
            sql = """
                SELECT m.name AS table_name, p.name AS column_name
                FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p
                WHERE m.type = 'table' AND m.name IN (\(placeholders))
                """
        }
        let rows = try await backend.query(SQLStatement(sql, tables.map { .text($0) }))
        var catalog: [String: Set<String>] = [:]
        for row in rows {
            guard let table = row.string("table_name"), let column = row.string("column_name") else { continue }
            catalog[table, default: []].insert(column)
        }
        return catalog
    }

    /// Pure comparison, unit-tested: the missing entries (in a stable order) and the detected schema.
    /// Without `sessionTableRequired` (sessions read from better-auth's Redis secondary storage
    /// only) the `session` table may be absent: better-auth does not create it then.
    static func compare(
        catalog: [String: Set<String>], names: AuthNames, sessionTableRequired: Bool = true
    ) -> (missing: [String], detected: DetectedSchema) {
        var missing: [String] = []
        var missingTables = Set<String>()
        func checkTable(_ table: String) -> Bool {
            if catalog[table] == nil {
                if missingTables.insert(table).inserted { missing.append("table \(table)") }
                return false
            }
            return true
        }
        for (table, columns) in GameTables.required where checkTable(table) {
            for column in columns where !(catalog[table]?.contains(column) ?? false) {
                missing.append("column \(table).\(column)")
            }
        }
        let required = AuthNames.Column.required.filter { sessionTableRequired || $0.table != AuthNames.sessionTable }
        for column in required where checkTable(column.table) {
            let physical = names.name(column)
            if !(catalog[column.table]?.contains(physical) ?? false) {
                missing.append("column \(column.table).\(physical)")
            }
        }
        var optional = Set<AuthNames.Column>()
        for column in AuthNames.Column.optional where catalog[column.table]?.contains(names.name(column)) ?? false {
            optional.insert(column)
        }
        return (missing, DetectedSchema(optionalColumns: optional))
    }
}
