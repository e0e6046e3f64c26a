import MMOTime
import Foundation

/// The pure arithmetic of a load run: character names, where bots walk, and how their timers
/// are spread so they do not all act in the same tick. Random choices take the generator as a
/// parameter so tests can pin them.
enum LoadPlan {
    /// The bot's character name: the prefix, then each of the index's five decimal digits as a
    /// consonant-vowel syllable. Names must be letters only with no letter three times in a
    /// row, and the server capitalizes them, so the result is already in that form.
    static func characterName(prefix: String, index: Int) -> String {
        let syllables = ["ba", "ce", "di", "fo", "gu", "ka", "le", "mi", "no", "pu"]
        var digits: [Int] = []
        var rest = index % 100_000
        for _ in 0..<5 {
            digits.append(rest % 10)
            rest /= 10
        }
        let capitalized = prefix.prefix(1).uppercased() + prefix.dropFirst().lowercased()
        return capitalized + digits.reversed().map { syllables[$0] }.joined()
    }

    /// A point uniformly distributed over the disc of `radius` around `center`.
    static func randomPoint(
        around center: BotPosition, within radius: Float, using generator: inout some RandomNumberGenerator
    ) -> BotPosition {
        // Uniform over the disc, not bunched at the centre: the distance grows with the square
        // root of a uniform number.
        let r = radius * Float.random(in: 0...1, using: &generator).squareRoot()
        let angle = Float.random(in: 0..<(2 * .pi), using: &generator)
        return BotPosition(x: center.x + r * cos(angle), y: center.y + r * sin(angle))
    }

    /// Delay before a bot's first move: somewhere in one move interval, so the bots' moves are
    /// spread over the interval instead of arriving together.
    static func firstMoveDelay(interval: Duration, using generator: inout some RandomNumberGenerator) -> Duration {
        let ms = max(1, Int64(interval.inMilliseconds))
        return .milliseconds(Int64.random(in: 0..<ms, using: &generator))
    }

    /// Delay before a bot's first chat line: somewhere in one chat interval, for the same reason.
    static func firstChatDelay(interval: Duration, using generator: inout some RandomNumberGenerator) -> Duration {
        .milliseconds(Int64.random(in: 0...max(1, Int64(interval.inMilliseconds)), using: &generator))
    }
}

/// One load bot's walk: towards a random target in the gathering disc, one step per move, a
/// new target on arrival, and a chat line when one is due.
struct LoadWalk {
    var position: BotPosition
    var target: BotPosition
    var nextChat: ContinuousClock.Instant
    var chats = 0

    /// Advances one move at `now`; returns the position to send and the chat line to say, if due.
    mutating func advance(
        step: Float, center: BotPosition, spread: Float, now: ContinuousClock.Instant, chatInterval: Duration?, name: String,
        using generator: inout some RandomNumberGenerator
    ) -> (position: BotPosition, chat: String?) {
        let (next, arrived) = position.stepped(towards: target, by: step)
        position = next
        if arrived { target = LoadPlan.randomPoint(around: center, within: spread, using: &generator) }
        var chat: String?
        if let chatInterval, now >= nextChat {
            chats += 1
            chat = "\(name) says hi #\(chats)"
            nextChat = now + chatInterval
        }
        return (position, chat)
    }
}
