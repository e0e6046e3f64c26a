import Foundation

/// `docs/protocol.md`, parsed into the pieces the spec tests check against the code: its tables
/// (each with the heading it sits under) and the hex frames of its worked example. The tests read
/// the document so that the spec, not a copy of it, is what the server is held to.
struct ProtocolSpec {
    struct Table {
        var heading: String
        var header: [String]
        var rows: [[String]]

        /// The cells of `column` (by header name), one per row.
        func column(_ name: String) throws -> [String] {
            guard let index = header.firstIndex(of: name) else { throw SpecError("no column \(name) in \(header)") }
            return rows.map { $0[index] }
        }
    }

    /// One frame of the worked example: who sends it, its bytes, and the description lines.
    struct ExampleFrame {
        var fromClient: Bool
        var bytes: [UInt8]
        var note: String
    }

    struct SpecError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    let tables: [Table]
    let example: [ExampleFrame]

    static func load() throws -> ProtocolSpec {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/protocol.md")
        return try ProtocolSpec(markdown: String(contentsOf: url, encoding: .utf8))
    }

    init(markdown: String) throws {
        var tables: [Table] = []
        var example: [ExampleFrame] = []
        var heading = ""
        var current: Table?
        var inCode = false
        var inExample = false

        for raw in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if line.hasPrefix("```") {
                inCode.toggle()
                continue
            }
            if inCode {
                if inExample { try Self.parseExampleLine(line, into: &example) }
                continue
            }
            if line.hasPrefix("#") {
                heading = line.drop(while: { $0 == "#" }).trimmingCharacters(in: .whitespaces)
                inExample = heading.hasPrefix("Worked example")
            }
            if line.hasPrefix("|") {
                let cells = Self.cells(line)
                if var table = current {
                    if !cells.allSatisfy({ $0.allSatisfy { $0 == "-" || $0 == ":" } && !$0.isEmpty }) {
                        table.rows.append(cells)
                    }
                    current = table
                } else {
                    current = Table(heading: heading, header: cells, rows: [])
                }
            } else if let table = current {
                tables.append(table)
                current = nil
            }
        }
        if let table = current { tables.append(table) }
        self.tables = tables
        self.example = example
    }

    /// The table under `heading` whose first header cell is `firstColumn`.
    func table(under heading: String, firstColumn: String) throws -> Table {
        guard let table = tables.first(where: { $0.heading == heading && $0.header.first == firstColumn }) else {
            throw SpecError("no table starting with column '\(firstColumn)' under '\(heading)'")
        }
        return table
    }

    private static func cells(_ line: String) -> [String] {
        var parts = line.split(separator: "|", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        if parts.first == "" { parts.removeFirst() }
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    private static func parseExampleLine(_ line: String, into frames: inout [ExampleFrame]) throws {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        var body = trimmed
        var starts: Bool?
        if trimmed.hasPrefix("C:") { starts = true; body = String(trimmed.dropFirst(2)) }
        if trimmed.hasPrefix("S:") { starts = false; body = String(trimmed.dropFirst(2)) }
        let tokens = body.split(separator: " ")
        let isHex = !tokens.isEmpty && tokens.allSatisfy { $0.count == 2 && UInt8($0, radix: 16) != nil }
        if let fromClient = starts {
            guard isHex else { throw SpecError("example line is not hex: \(line)") }
            frames.append(ExampleFrame(fromClient: fromClient, bytes: tokens.map { UInt8($0, radix: 16)! }, note: ""))
        } else if isHex, !frames.isEmpty {
            frames[frames.count - 1].bytes += tokens.map { UInt8($0, radix: 16)! }
        } else if !trimmed.isEmpty, !frames.isEmpty {
            frames[frames.count - 1].note += (frames[frames.count - 1].note.isEmpty ? "" : " ") + trimmed
        }
    }
}

extension String {
    /// `characterListResult` -> `CHARACTER_LIST_RESULT`: Swift case names as the spec spells them.
    var screamingSnakeCase: String {
        var out = ""
        for c in self {
            if c.isUppercase, !out.isEmpty { out.append("_") }
            out.append(contentsOf: c.uppercased())
        }
        return out
    }

    /// The text between the first pair of backticks, or the string itself.
    var unquoted: String {
        guard let open = firstIndex(of: "`"), let close = self[index(after: open)...].firstIndex(of: "`") else { return self }
        return String(self[index(after: open)..<close])
    }
}
