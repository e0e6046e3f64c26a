/// Who a character is, as far as others can see. Taken from the join request.
public struct PlayerProfile: Sendable, Equatable {
    public var characterID: UInt64
    public var accountID: String
    public var name: String
    public var classID: UInt8
    public var appearance: UInt32
    public var level: UInt16

    public init(characterID: UInt64, accountID: String = "", name: String, classID: UInt8 = 0, appearance: UInt32 = 0, level: UInt16 = 1) {
        self.characterID = characterID
        self.accountID = accountID
        self.name = name
        self.classID = classID
        self.appearance = appearance
        self.level = level
    }
}
