import Testing

@testable import MMOBot

@Suite("Load plan")
struct LoadPlanTests {
    @Test("character names spell the index's five digits as syllables after the capitalized prefix")
    func characterNames() {
        #expect(LoadPlan.characterName(prefix: "Bot", index: 123) == "Botbabacedifo")
        #expect(LoadPlan.characterName(prefix: "bOT", index: 0) == "Botbababababa")
        #expect(LoadPlan.characterName(prefix: "x", index: 98_765) == "Xpunomileka")
        // Only five digits fit: indexes wrap at 100 000 rather than growing the name.
        #expect(LoadPlan.characterName(prefix: "Bot", index: 100_123) == "Botbabacedifo")
        let names = (0..<2000).map { LoadPlan.characterName(prefix: "Bot", index: $0) }
        #expect(Set(names).count == names.count)
        // The server's rules: letters only, 3-16 of them.
        #expect(names.allSatisfy { $0.allSatisfy(\.isLetter) && (3...16).contains($0.count) })
        #expect(LoadPlan.characterName(prefix: "Abcdef", index: 99_999).count == 16)
    }

    @Test("random points stay in the disc and cover it, not just its centre")
    func randomPoints() {
        var random = SeededGenerator(seed: 7)
        let center = BotPosition(x: 100, y: -50)
        let points = (0..<5000).map { _ in LoadPlan.randomPoint(around: center, within: 60, using: &random) }
        #expect(points.allSatisfy { $0.distance(to: center) <= 60.001 })
        // Uniform over the area: about a quarter fall within half the radius (a uniform radius
        // would put half there), and every quadrant is used.
        let inner = Double(points.filter { $0.distance(to: center) <= 30 }.count) / Double(points.count)
        #expect(abs(inner - 0.25) < 0.03)
        #expect(points.contains { $0.x > center.x && $0.y > center.y })
        #expect(points.contains { $0.x < center.x && $0.y < center.y })
        #expect(LoadPlan.randomPoint(around: center, within: 0, using: &random) == center)
    }

    @Test("steps are 75% of what the speed limit allows in one interval")
    func pacing() {
        func close(_ a: Float, _ b: Float) -> Bool { abs(a - b) < 1e-5 }
        #expect(close(BotPacing.stepLength(maxSpeed: 7, interval: .milliseconds(200)), 1.05))
        #expect(close(BotPacing.stepLength(maxSpeed: 10, interval: .seconds(1)), 7.5))
        #expect(close(BotPacing.stepLength(maxSpeed: 7, interval: .milliseconds(50)), 0.2625))
        // The scenario also caps its step at one unit.
        #expect(ScenarioWalk.stepLength(maxSpeed: 7, interval: .milliseconds(200)) == 1)
        #expect(close(ScenarioWalk.stepLength(maxSpeed: 1, interval: .milliseconds(200)), 0.15))
    }

    @Test("first moves and chats are spread over one interval")
    func firstDelays() {
        var random = SeededGenerator(seed: 3)
        let moves = (0..<1000).map { _ in LoadPlan.firstMoveDelay(interval: .milliseconds(200), using: &random) }
        #expect(moves.allSatisfy { $0 >= .zero && $0 < .milliseconds(200) })
        #expect(moves.min()! < .milliseconds(20) && moves.max()! > .milliseconds(180))
        let chats = (0..<1000).map { _ in LoadPlan.firstChatDelay(interval: .seconds(10), using: &random) }
        #expect(chats.allSatisfy { $0 >= .zero && $0 <= .seconds(10) })
        #expect(chats.max()! > .seconds(9))
    }

    @Test("a walk never moves further than one step and picks a new target on arrival")
    func walk() {
        var random = SeededGenerator(seed: 11)
        let center = BotPosition(x: 0, y: 0)
        let start = ContinuousClock.now
        var walk = LoadWalk(position: BotPosition(x: 0, y: 0), target: BotPosition(x: 3, y: 4), nextChat: start + .seconds(1))
        let step: Float = 1.05
        var previous = walk.position
        var targets = Set<String>()
        var chats: [String] = []
        for i in 0..<400 {
            let now = start + .milliseconds(200 * i)
            let (position, chat) = walk.advance(
                step: step, center: center, spread: 20, now: now, chatInterval: .seconds(2), name: "Botba", using: &random)
            #expect(position.distance(to: previous) <= step + 0.0001)
            // The start and every target lie in the disc, and the disc is convex.
            #expect(position.distance(to: center) <= 20.001)
            previous = position
            targets.insert(walk.target.description)
            if let chat { chats.append(chat) }
        }
        // Targets are ~18 units apart on average, so 400 steps reach many of them.
        #expect(targets.count > 10)
        // 80 s of moves with a chat every 2 s from t = 1 s: 40 lines, numbered.
        #expect(chats.count == 40)
        #expect(chats.first == "Botba says hi #1")
        #expect(chats.last == "Botba says hi #40")
    }

    @Test("a walk without a chat interval never chats")
    func silentWalk() {
        var random = SeededGenerator(seed: 1)
        var walk = LoadWalk(position: BotPosition(x: 0, y: 0), target: BotPosition(x: 1, y: 0), nextChat: ContinuousClock.now)
        let result = walk.advance(
            step: 5, center: BotPosition(x: 0, y: 0), spread: 10, now: ContinuousClock.now + .seconds(60), chatInterval: nil, name: "B",
            using: &random)
        #expect(result.position == BotPosition(x: 1, y: 0))
        #expect(result.chat == nil)
    }
}

@Suite("Load configuration")
struct LoadConfigurationTests {
    @Test("token files skip blank lines and comments and trim spaces")
    func tokens() throws {
        let parsed = LoadTokens.parse("# tokens\n  abc  \n\n\tdef\r\n#x\nghi")
        #expect(parsed == ["abc", "def", "ghi"])
        #expect(try LoadTokens.select(nil, from: parsed, source: "t.txt") == parsed)
        #expect(try LoadTokens.select(2, from: parsed, source: "t.txt") == ["abc", "def"])
        #expect(throws: BotConfigurationError("--bots 4 needs 4 tokens; t.txt has 3")) {
            try LoadTokens.select(4, from: parsed, source: "t.txt")
        }
        #expect(throws: BotConfigurationError("t.txt has no tokens")) { try LoadTokens.select(nil, from: [], source: "t.txt") }
    }

    @Test("out-of-range settings are refused with the flag's message")
    func validation() throws {
        try LoadConfiguration(tokens: ["a"]).validate()
        try LoadConfiguration(tokens: ["a"], chatInterval: .zero, spread: 0).validate()
        let positive = BotConfigurationError("durations, intervals, --concurrency and --max-speed must be positive")
        #expect(throws: positive) { try LoadConfiguration(tokens: [], duration: .zero).validate() }
        #expect(throws: positive) { try LoadConfiguration(tokens: [], moveInterval: .zero).validate() }
        #expect(throws: positive) { try LoadConfiguration(tokens: [], chatInterval: .seconds(-1)).validate() }
        #expect(throws: positive) { try LoadConfiguration(tokens: [], spread: -1).validate() }
        #expect(throws: positive) { try LoadConfiguration(tokens: [], maxSpeed: 0).validate() }
        #expect(throws: positive) { try LoadConfiguration(tokens: [], concurrency: 0).validate() }
        #expect(throws: positive) { try LoadConfiguration(tokens: [], requestTimeout: .zero).validate() }
        let prefix = BotConfigurationError("--name-prefix must be 1 to 6 ASCII letters")
        for bad in ["", "Abcdefg", "Bot1", "Böt"] {
            #expect(throws: prefix) { try LoadConfiguration(tokens: [], namePrefix: bad).validate() }
        }
    }
}
