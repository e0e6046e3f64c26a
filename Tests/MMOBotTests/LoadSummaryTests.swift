import Foundation
import MMOClient
import Testing

@testable import MMOBot

@Suite("Load summary")
struct LoadSummaryTests {
    /// A snapshot with chosen counters. It has no public memberwise init (clients only read
    /// them), but it is Codable.
    private func snapshot(moves: Int = 0, updates: Int = 0, events: Int = 0, received: Int = 0, sent: Int = 0) -> ClientStatistics.Snapshot {
        let json = """
            {"bytesReceived": \(received), "framesReceived": 0, "worldUpdatesReceived": \(updates), "worldEventsReceived": \(events),
             "bytesSent": \(sent), "framesSent": 0, "movesSent": \(moves)}
            """
        return try! JSONDecoder().decode(ClientStatistics.Snapshot.self, from: Data(json.utf8))
    }

    private func summary(
        recorder: LoadRecorder = LoadRecorder(), window: Duration = .seconds(2),
        before: ClientStatistics.Snapshot? = nil, after: ClientStatistics.Snapshot? = nil
    ) -> LoadSummary {
        LoadSummary(
            configuration: LoadConfiguration(
                host: "10.0.0.1", port: 7000, tokens: ["a", "b", "c"], moveInterval: .milliseconds(250), chatInterval: .seconds(5), spread: 40),
            recorder: recorder, setupTime: .milliseconds(1500), window: window, before: before ?? snapshot(), after: after ?? snapshot())
    }

    @Test("traffic is the difference of the window's snapshots, and rates divide by the window")
    func rates() {
        let s = summary(
            window: .milliseconds(2500),
            before: snapshot(moves: 100, updates: 10, events: 40, received: 1000, sent: 500),
            after: snapshot(moves: 600, updates: 60, events: 1040, received: 251_000, sent: 10_500))
        #expect(s.movesSent == 500)
        #expect(s.movesPerSecond == 200)
        #expect(s.worldUpdatesReceived == 50)
        #expect(s.worldEventsReceived == 1000)
        #expect(s.worldEventsPerSecond == 400)
        #expect(s.bytesReceived == 250_000)
        #expect(s.bytesReceivedPerSecond == 100_000)
        #expect(s.bytesSent == 10_000)
        #expect(s.measuredSeconds == 2.5)
        #expect(s.setupSeconds == 1.5)
        #expect(s.botsRequested == 3)
        #expect(s.moveIntervalMs == 250)
        #expect(s.chatIntervalS == 5)
    }

    @Test("an empty window divides by 1 ms instead of zero")
    func emptyWindow() {
        let s = summary(window: .zero, after: snapshot(moves: 2))
        #expect(s.measuredSeconds == 0.001)
        #expect(s.movesPerSecond == 2000)
    }

    @Test("counters, failures and latencies come from the recorder")
    func recorderFigures() {
        let recorder = LoadRecorder()
        recorder.connected.store(3, ordering: .relaxed)
        recorder.loggedIn.store(2, ordering: .relaxed)
        recorder.inWorld.store(2, ordering: .relaxed)
        recorder.lostDuringRun.store(1, ordering: .relaxed)
        recorder.corrections.store(4, ordering: .relaxed)
        recorder.unmatchedMoves.store(5, ordering: .relaxed)
        recorder.fail("login: TOKEN_UNKNOWN")
        recorder.fail("login: TOKEN_UNKNOWN")
        recorder.refused("SAY CHAT_RATE_LIMITED")
        // Samples on different shards merge into one histogram.
        recorder.recordMoveLatencies((1...100).map { .milliseconds($0) }, shard: 0)
        recorder.recordMoveLatencies([.milliseconds(1000)], shard: 5)
        recorder.loginLatency.withLock { $0.record(.milliseconds(20)) }

        let s = summary(recorder: recorder)
        #expect((s.botsConnected, s.botsLoggedIn, s.botsInWorld, s.botsLostDuringRun) == (3, 2, 2, 1))
        #expect(s.corrections == 4)
        #expect(s.unmatchedMoveEvents == 5)
        #expect(s.failures == ["login: TOKEN_UNKNOWN": 2])
        #expect(s.refusals == ["SAY CHAT_RATE_LIMITED": 1])
        #expect(s.moveToNeighbourLatency.samples == 101)
        #expect(s.moveToNeighbourLatency.maxMs == 1000)
        // The histogram's buckets are within ~1.6% of the true value.
        #expect(abs(s.moveToNeighbourLatency.p50Ms! - 51) < 51 * 0.02)
        #expect(abs(s.moveToNeighbourLatency.p90Ms! - 91) < 91 * 0.02)
        #expect(abs(s.moveToNeighbourLatency.p99Ms! - 100) < 100 * 0.02)
        #expect(s.loginLatency.samples == 1)
        #expect(abs(s.loginLatency.p50Ms! - 20) < 0.5)
        #expect(s.connectToInWorldLatency == LoadSummary.Latency(LatencyHistogram()))
        #expect(s.connectToInWorldLatency.p50Ms == nil && s.connectToInWorldLatency.maxMs == nil)
    }

    @Test("the text summary keeps the lines people and BENCHMARKS.md read")
    func text() {
        let recorder = LoadRecorder()
        recorder.connected.store(3, ordering: .relaxed)
        recorder.fail("login: TOKEN_UNKNOWN")
        recorder.fail("connect: CONNECT_FAILED")
        recorder.reconnects.store(3, ordering: .relaxed)
        recorder.resumed.store(2, ordering: .relaxed)
        recorder.reentered.store(1, ordering: .relaxed)
        let s = summary(
            recorder: recorder, window: .seconds(2), after: snapshot(moves: 300, updates: 20, events: 900, received: 2_000_000, sent: 150_000))
        #expect(s.textLines == [
            "load run against 10.0.0.1:7000: 3 bots, move every 250 ms, chat every 5.0 s, spread 40.0",
            "bots:        3 connected, 0 logged in, 0 in world, 0 lost during the run",
            "failures:    connect: CONNECT_FAILED x1, login: TOKEN_UNKNOWN x1",
            "refusals:    none",
            "setup:       1.50 s to bring every bot in; measured 2.00 s after that",
            "moves:       300 sent (150.0/s), 0 corrected",
            "world:       900 events (450.0/s) in 20 updates; 2.00 MB received (1000.0 KB/s), 0.15 MB sent",
            "move->neighbour latency: p50 -  p90 -  p99 -  max -  (0 samples), 0 move events unmatched",
            "login latency:           p50 -  p90 -  p99 -  max -  (0 samples)",
            "connect->in world:       p50 -  p90 -  p99 -  max -  (0 samples)",
            "reconnects:  3 drops in the world, 2 resumed, 1 re-entered after a refused resume, 0 lost",
        ])
    }

    @Test("latency text shows two decimals in milliseconds")
    func latencyText() {
        var histogram = LatencyHistogram()
        histogram.record(.microseconds(100))
        #expect(LoadSummary.Latency(histogram).text == "p50 0.10 ms  p90 0.10 ms  p99 0.10 ms  max 0.10 ms  (1 samples)")
    }

    @Test("the JSON has the keys bench-load.sh and BENCHMARKS.md use, sorted, and reads back")
    func json() throws {
        let s = summary(after: snapshot(moves: 10))
        let text = try s.json()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        for key in ["botsInWorld", "movesPerSecond", "worldEventsPerSecond", "bytesReceivedPerSecond", "moveToNeighbourLatency",
                    "loginLatency", "connectToInWorldLatency", "failures", "refusals", "unmatchedMoveEvents", "setupSeconds"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["movesPerSecond"] as? Double == 5)
        #expect(text.range(of: "\"botsConnected\"")!.lowerBound < text.range(of: "\"botsInWorld\"")!.lowerBound)
        #expect(try JSONDecoder().decode(LoadSummary.self, from: Data(text.utf8)) == s)
    }
}
