import Testing
@testable import PacketService

@Suite struct FileDescriptorBudgetTests {
    @Test func enoughDescriptorsChangeNothing() throws {
        let budget = try FileDescriptorBudget(maxConnections: 1_000, reserve: 256, soft: 65_536, hard: 65_536)
        #expect(budget == FileDescriptorBudget.expected(raise: nil, max: 1_000, configured: 1_000))
        #expect(!budget.lowered)
    }

    @Test func theSoftLimitIsRaisedAsFarAsNeeded() throws {
        let budget = try FileDescriptorBudget(maxConnections: 20_000, reserve: 256, soft: 1_024, hard: 1_048_576)
        #expect(budget.raiseSoftLimitTo == 20_256)
        #expect(budget.maxConnections == 20_000)
        let unlimited = try FileDescriptorBudget(maxConnections: 20_000, reserve: 256, soft: 1_024, hard: .max)
        #expect(unlimited.raiseSoftLimitTo == 20_256)
    }

    @Test func aLimitThatCannotHoldTheConnectionsLowersThem() throws {
        let budget = try FileDescriptorBudget(maxConnections: 20_000, reserve: 256, soft: 1_024, hard: 4_096)
        #expect(budget.raiseSoftLimitTo == 4_096)
        #expect(budget.maxConnections == 3_840)
        #expect(budget.lowered)
        let stuck = try FileDescriptorBudget(maxConnections: 300, reserve: 256, soft: 512, hard: 512)
        #expect(stuck.raiseSoftLimitTo == nil)
        #expect(stuck.maxConnections == 256)
    }

    @Test func aLimitBelowTheReserveRefusesToStart() {
        #expect(throws: FileDescriptorBudget.TooLow.self) {
            try FileDescriptorBudget(maxConnections: 300, reserve: 256, soft: 200, hard: 256)
        }
    }
}

extension FileDescriptorBudget {
    static func expected(raise: UInt64?, max: Int, configured: Int) -> FileDescriptorBudget {
        var budget = try! FileDescriptorBudget(maxConnections: configured, reserve: 0, soft: .max, hard: .max)
        budget.raiseSoftLimitTo = raise
        budget.maxConnections = max
        return budget
    }
}
