import MMOContracts

// The one place where the database's domain values meet the generated protobuf types.
// A `.proto` change is absorbed here; GameDatabase and its tests never see `Mmo_*`.

extension Mmo_Character {
    init(_ record: CharacterRecord) {
        self.init()
        id = record.id
        accountID = record.accountID
        name = record.name
        classID = record.classID
        appearance = record.appearance
        level = record.level
        zoneID = record.zoneID
        x = record.x
        y = record.y
        createdAtMs = record.createdAtMs
        stateVersion = record.stateVersion
    }
}

extension Mmo_SessionRecord {
    init(_ record: SessionRecord) {
        self.init()
        sessionID = record.sessionID
        userID = record.userID
        userName = record.userName
        email = record.email
        expiresAtMs = record.expiresAtMs
        banned = record.banned
        banExpiresAtMs = record.banExpiresAtMs
        banReason = record.banReason
        roles = record.roles
        impersonatedBy = record.impersonatedBy
        displayUsername = record.displayUsername
    }
}

extension Mmo_CreateCharacterResponse {
    init(_ outcome: CreateCharacterOutcome) {
        self.init()
        switch outcome {
        case .created(let record):
            status = .created
            character = Mmo_Character(record)
        case .nameTaken:
            status = .nameTaken
        case .slotLimit:
            status = .slotLimit
        }
    }
}

extension CharacterStateUpdate {
    init(_ state: Mmo_CharacterState) {
        self.init(characterID: state.characterID, zoneID: state.zoneID, x: state.x, y: state.y, version: state.version)
    }
}
