import PacketService
import ServiceLifecycle
import UnixSignals

/// Reloads the client port's TLS certificate and key on SIGHUP (`PacketServer.reloadTLS()`:
/// new connections get the new pair, a failed reload is logged and keeps the old one), so a
/// renewed certificate is picked up without dropping players. Only runs when `packet.tls.*` is
/// set; otherwise SIGHUP keeps its default meaning.
struct ClientTLSReloader: Service {
    let server: PacketServer

    func run() async throws {
        // Trapping replaces SIGHUP's default action (terminate) for the life of the process.
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                server.reloadTLS()
            }
        }
    }
}
