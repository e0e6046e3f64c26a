import Foundation

/// A bound parameter or a decoded cell, independent of the backend.
///
/// Both backends speak this small vocabulary so the domain code is written once. Timestamps
/// travel as Unix epoch milliseconds: PostgreSQL binds them as `timestamptz`, SQLite stores them
/// as INTEGER milliseconds.
package enum SQLValue: Sendable, Equatable {
    case null
    case text(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case timestampMs(Int64)
}

/// A parameterized statement. Placeholders are written PostgreSQL-style (`$1`, `$2`, ...);
/// the SQLite backend rewrites them to `?1`, `?2` so that reusing a number binds the same value
/// on both backends. Identifiers never come from input: they come from ``AuthNaming``'s fixed table.
package struct SQLStatement: Sendable, CustomStringConvertible {
    var sql: String
    var binds: [SQLValue]

    package init(_ sql: String, _ binds: [SQLValue] = []) {
        self.sql = sql
        self.binds = binds
    }

    /// The SQL only: bound values can be secrets (tokens, password hashes) and must never be logged.
    package var description: String { sql }
}

/// One result row, addressable by column name.
package struct SQLRow: Sendable {
    var columns: [String]
    var values: [SQLValue]

    subscript(_ name: String) -> SQLValue {
        guard let index = columns.firstIndex(of: name) else { return .null }
        return values[index]
    }

    func string(_ name: String) -> String? {
        switch self[name] {
        case .text(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return b ? "true" : "false"
        case .timestampMs(let ms): return String(ms)
        case .null: return nil
        }
    }

    func int(_ name: String) -> Int64? {
        switch self[name] {
        case .int(let i): return i
        case .double(let d): return d.isFinite ? Int64(d) : nil
        case .bool(let b): return b ? 1 : 0
        case .text(let s): return Int64(s)
        case .timestampMs(let ms): return ms
        case .null: return nil
        }
    }

    func double(_ name: String) -> Double? {
        switch self[name] {
        case .double(let d): return d
        case .int(let i): return Double(i)
        case .text(let s): return Double(s)
        default: return nil
        }
    }

    /// Booleans are native on PostgreSQL and 0/1 integers on SQLite.
    func bool(_ name: String) -> Bool? {
        switch self[name] {
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .text(let s):
            switch s.lowercased() {
            case "1", "t", "true": return true
            case "0", "f", "false": return false
            default: return nil
            }
        default: return nil
        }
    }

    /// A timestamp as Unix epoch milliseconds, whatever the storage: `timestamptz` and UTC
    /// `timestamp` (decoded by the PostgreSQL backend), INTEGER milliseconds or seconds, REAL
    /// seconds, or ISO-8601 / `YYYY-MM-DD HH:MM:SS` text (SQLite files written by other tools).
    func timestampMs(_ name: String) -> Int64? {
        switch self[name] {
        case .timestampMs(let ms): return ms
        case .int(let i):
            // Seconds until year 5138; milliseconds after 1973: anything this large is milliseconds.
            return i > 100_000_000_000 || i < -100_000_000_000 ? i : i * 1000
        case .double(let d): return d.isFinite ? Int64(d * 1000) : nil
        case .text(let s): return parseTimestampMs(s)
        case .bool, .null: return nil
        }
    }
}

/// Parses `YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|±HH[:MM]]` (no zone means UTC).
func parseTimestampMs(_ text: String) -> Int64? {
    let chars = Array(text.utf8)
    var i = 0
    func number(_ digits: Int) -> Int? {
        guard i + digits <= chars.count else { return nil }
        var value = 0
        for k in i..<(i + digits) {
            let c = chars[k]
            guard c >= 48, c <= 57 else { return nil }
            value = value * 10 + Int(c - 48)
        }
        i += digits
        return value
    }
    func expect(_ c: UInt8...) -> Bool {
        guard i < chars.count, c.contains(chars[i]) else { return false }
        i += 1
        return true
    }
    guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")),
        let day = number(2)
    else { return nil }
    var hour = 0, minute = 0, second = 0, millis = 0, offsetMinutes = 0
    if i < chars.count {
        guard expect(UInt8(ascii: "T"), UInt8(ascii: " ")), let h = number(2), expect(UInt8(ascii: ":")),
            let m = number(2), expect(UInt8(ascii: ":")), let s = number(2)
        else { return nil }
        (hour, minute, second) = (h, m, s)
        if i < chars.count, chars[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 100
            while i < chars.count, chars[i] >= 48, chars[i] <= 57 {
                millis += Int(chars[i] - 48) * scale
                scale /= 10
                i += 1
            }
        }
        if i < chars.count {
            if chars[i] == UInt8(ascii: "Z") {
                i += 1
            } else if chars[i] == UInt8(ascii: "+") || chars[i] == UInt8(ascii: "-") {
                let sign = chars[i] == UInt8(ascii: "-") ? -1 : 1
                i += 1
                guard let oh = number(2) else { return nil }
                var om = 0
                if i < chars.count {
                    _ = expect(UInt8(ascii: ":"))
                    guard let parsed = number(2) else { return nil }
                    om = parsed
                }
                offsetMinutes = sign * (oh * 60 + om)
            }
        }
        guard i == chars.count else { return nil }
    }
    guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
    let days = daysFromCivil(year: year, month: month, day: day)
    let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
    return seconds * 1000 + Int64(millis)
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
private func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}
