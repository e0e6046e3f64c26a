/// The world stopped without saving some characters: its final save did not land within
/// `WorldConfiguration.finalSaveTimeout`. The server's world lifecycle throws it after
/// `WorldRuntime.run()` returns, so the process exits non-zero.
public struct WorldProgressLost: Error, Sendable, Equatable, CustomStringConvertible {
    /// Characters whose progress since their last successful save is lost.
    public var characters: Int

    public init(characters: Int) {
        self.characters = characters
    }

    public var description: String {
        "world: the final save was given up; \(characters) characters' progress since their last save is lost"
    }
}
