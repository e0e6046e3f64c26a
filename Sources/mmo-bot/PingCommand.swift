import ArgumentParser
import MMOClient

/// `mmo-bot ping`: HELLO, then PINGs; no login needed.
struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Connect, handshake and measure PING round trips (no login).")

    @OptionGroup var server: ServerOptions

    @Option(help: "Number of pings.")
    var count = 5

    @Option(help: "Milliseconds between pings.")
    var intervalMs = 200

    func run() async throws {
        Report.lineBufferStdout()
        let started = ContinuousClock.now
        let client: GameClient
        do {
            client = try await GameClient.connect(host: server.host, port: server.port, clientName: "mmo-bot-ping", timeout: .seconds(5))
        } catch {
            print("FAIL connect to \(server.host):\(server.port): \(error)")
            throw ExitCode.failure
        }
        print("connected to \(server.host):\(server.port) in \(Report.millis(ContinuousClock.now - started)) "
            + "(protocol v\(client.serverVersion), max client frame \(client.maxClientFrame) bytes)")
        var histogram = LatencyHistogram()
        for i in 1...max(1, count) {
            do {
                let rtt = try await client.ping()
                histogram.record(rtt)
                print("ping \(i): \(Report.millis(rtt))")
            } catch {
                print("FAIL ping \(i): \(error)")
                await client.close()
                throw ExitCode.failure
            }
            if i < count { try? await Task.sleep(for: .milliseconds(intervalMs)) }
        }
        print("rtt min \(Report.millis(histogram.min)) avg \(Report.millis(histogram.mean)) max \(Report.millis(histogram.max))")
        await client.logout(timeout: .seconds(2))
    }
}
