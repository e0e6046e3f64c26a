import Testing
@testable import CharacterService

@Suite struct CharacterRulesTests {
    let rules = CharacterRules()

    @Test(arguments: [("arthas", "Arthas"), ("JAINA", "Jaina"), ("Uther", "Uther"), ("abc", "Abc")])
    func validNamesAreCapitalized(_ input: String, _ expected: String) throws {
        #expect(try rules.normalizeName(input).get() == expected)
    }

    @Test func invalidNamesSayWhy() {
        #expect(rules.normalizeName("ab") == .failure(.tooShort(min: 3)))
        #expect(rules.normalizeName("") == .failure(.tooShort(min: 3)))
        #expect(rules.normalizeName(String(repeating: "ab", count: 9)) == .failure(.tooLong(max: 16)))
        for hostile in ["Robert'); DROP TABLE characters;--", "Ar thas", "Arthas1", "Ärthas", "Аrthas" /* Cyrillic A */,
                        "Ar\u{200B}thas", "Ar\u{0000}thas", "<script>"] {
            #expect(rules.normalizeName(hostile) == .failure(.invalidCharacters), "\(hostile)")
        }
        #expect(rules.normalizeName("Aaargh") == .failure(.repeatedLetters))
        #expect(rules.normalizeName("ADMIN") == .failure(.reserved))
    }

    /// Reserved words are refused in any letter case: the long ones anywhere in a name, the short
    /// ones ("gm", and "server", which "Observer" contains) at its start, where they would read as a title.
    @Test(arguments: ["Admins", "Gmx", "xAdminx", "ADMINISTRATOR", "GmBob", "Gamemasterx", "Moderators", "Systemic",
                      "Staffy", "Supporter", "Serverus", "Theadmin"])
    func namesWithAReservedWordAreReserved(_ name: String) {
        #expect(rules.normalizeName(name) == .failure(.reserved), "\(name)")
    }

    @Test(arguments: ["Enigma", "Sigmund", "Ogma", "Magnus", "Devon", "Observer", "Stafa", "Gimli"])
    func ordinaryNamesContainingShortSequencesAreAllowed(_ name: String) throws {
        #expect(try rules.normalizeName(name).get() == name)
    }

    @Test func classesAndAppearance() {
        #expect(rules.isValidClass(1) && rules.isValidClass(4))
        #expect(!rules.isValidClass(0) && !rules.isValidClass(5))
        #expect(rules.isValidAppearance(0x0F0F_0F07))
        #expect(!rules.isValidAppearance(0x0000_0008))  // skin 8
        #expect(!rules.isValidAppearance(0x1000_0000))  // hair colour 16
    }
}
