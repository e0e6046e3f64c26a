import MMOClient

/// What `mmo-bot ping` does: where to connect and how many PINGs to send.
public struct PingConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// TLS to the client port (`mmos://`, `--tls`); nil: plain TCP.
    public var tls: GameClientTLS? = nil
    /// PINGs to send; at least one is sent whatever this says.
    public var count: Int
    /// Pause between two PINGs.
    public var interval: Duration

    public init(host: String = "127.0.0.1", port: Int = 7777, count: Int = 5, interval: Duration = .milliseconds(200)) {
        self.host = host
        self.port = port
        self.count = count
        self.interval = interval
    }
}

/// HELLO, then PINGs; no login needed. One line per step, then min/avg/max.
public enum PingRun {
    /// Runs the pings; true when the connection and every PING succeeded.
    public static func run(_ configuration: PingConfiguration, output: BotOutput) async -> Bool {
        let host = configuration.host, port = configuration.port
        let started = ContinuousClock.now
        let client: GameClient
        do {
            client = try await GameClient.connect(host: host, port: port, clientName: "mmo-bot-ping", timeout: .seconds(5),
                                                  configuration: .with(tls: configuration.tls))
        } catch {
            output("FAIL connect to \(host):\(port): \(error)")
            return false
        }
        output("connected to \(host):\(port) in \(BotFormat.millis(ContinuousClock.now - started)) "
            + "(protocol v\(client.serverVersion), max client frame \(client.maxClientFrame) bytes)")
        var histogram = LatencyHistogram()
        let count = max(1, configuration.count)
        for i in 1...count {
            do {
                let rtt = try await client.ping()
                histogram.record(rtt)
                output("ping \(i): \(BotFormat.millis(rtt))")
            } catch {
                output("FAIL ping \(i): \(error)")
                await client.close()
                return false
            }
            if i < count { try? await Task.sleep(for: configuration.interval) }
        }
        output("rtt min \(BotFormat.millis(histogram.min)) avg \(BotFormat.millis(histogram.mean)) max \(BotFormat.millis(histogram.max))")
        await client.logout(timeout: .seconds(2))
        return true
    }
}
