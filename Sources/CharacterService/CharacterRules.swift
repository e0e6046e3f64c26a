/// Character creation rules. Pure and I/O-free; the database enforces uniqueness and slots
/// atomically, these decide what may be asked of it.
public struct CharacterRules: Sendable {
    public var minNameLength: Int
    public var maxNameLength: Int
    public var maxCharactersPerAccount: Int
    /// Valid class ids (1 Warrior, 2 Mage, 3 Rogue, 4 Cleric by default).
    public var classes: ClosedRange<UInt32>
    /// Lowercase words no name may contain anywhere, in any case ("xAdminx", "Moderators").
    /// Keep them long enough (4+ letters) not to catch ordinary names.
    public var reservedWords: Set<String>
    /// Lowercase words no name may start with, in any case ("Gmx", "GmBob"): short ones, which
    /// ordinary names contain ("Enigma"), or ones that ordinary words contain ("Observer").
    public var reservedPrefixes: Set<String>

    public init(
        minNameLength: Int = 3,
        maxNameLength: Int = 16,
        maxCharactersPerAccount: Int = 8,
        classes: ClosedRange<UInt32> = 1...4,
        reservedWords: Set<String> = ["admin", "gamemaster", "moderator", "system", "support", "staff"],
        reservedPrefixes: Set<String> = ["gm", "server"]
    ) {
        self.minNameLength = minNameLength
        self.maxNameLength = maxNameLength
        self.maxCharactersPerAccount = maxCharactersPerAccount
        self.classes = classes
        self.reservedWords = reservedWords
        self.reservedPrefixes = reservedPrefixes
    }

    public enum NameProblem: Error, Equatable, Sendable, CustomStringConvertible {
        case tooShort(min: Int)
        case tooLong(max: Int)
        case invalidCharacters
        case repeatedLetters
        case reserved

        /// Safe to show to the player.
        public var description: String {
            switch self {
            case .tooShort(let min): "name must be at least \(min) letters"
            case .tooLong(let max): "name must be at most \(max) letters"
            case .invalidCharacters: "name may contain only the letters A-Z"
            case .repeatedLetters: "name may not repeat a letter three times in a row"
            case .reserved: "name is reserved"
            }
        }
    }

    /// Validates and normalizes a name: ASCII letters only (no digits, spaces, punctuation,
    /// control or look-alike Unicode characters, so names can't impersonate each other),
    /// returned capitalized ("aRTHAS" -> "Arthas").
    public func normalizeName(_ raw: String) -> Result<String, NameProblem> {
        let bytes = Array(raw.utf8)
        guard bytes.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }) else {
            // Check length first for empty input so the message is the helpful one.
            if bytes.isEmpty { return .failure(.tooShort(min: minNameLength)) }
            return .failure(.invalidCharacters)
        }
        guard bytes.count >= minNameLength else { return .failure(.tooShort(min: minNameLength)) }
        guard bytes.count <= maxNameLength else { return .failure(.tooLong(max: maxNameLength)) }
        let lower = raw.lowercased()
        let lowerBytes = Array(lower.utf8)
        if lowerBytes.count >= 3 {
            for i in 2..<lowerBytes.count where lowerBytes[i] == lowerBytes[i - 1] && lowerBytes[i] == lowerBytes[i - 2] {
                return .failure(.repeatedLetters)
            }
        }
        guard !isReserved(lower) else { return .failure(.reserved) }
        return .success(lower.prefix(1).uppercased() + lower.dropFirst())
    }

    /// `lower` is ASCII lowercase, so plain substring tests are case-insensitive.
    private func isReserved(_ lower: String) -> Bool {
        reservedPrefixes.contains { lower.hasPrefix($0) } || reservedWords.contains { lower.contains($0) }
    }

    public func isValidClass(_ classId: UInt32) -> Bool { classes.contains(classId) }

    /// Appearance is four packed bytes: skin (0-7), face (0-15), hair style (0-15),
    /// hair colour (0-15), least significant byte first.
    public func isValidAppearance(_ appearance: UInt32) -> Bool {
        let skin = appearance & 0xFF
        let face = (appearance >> 8) & 0xFF
        let hair = (appearance >> 16) & 0xFF
        let colour = (appearance >> 24) & 0xFF
        return skin < 8 && face < 16 && hair < 16 && colour < 16
    }
}
