import Foundation
import MMOUtils

/// Entry point shared by the per-service executables (`auth-service`, ...) and `mmo serve`:
/// read configuration, build, run until SIGTERM/SIGINT. Exits non-zero with the reason on a
/// configuration or start-up error.
public enum ServiceMain {
    public static func run(_ services: [ServiceKind], arguments: [String] = CommandLine.arguments) async {
        do {
            let reader = try await ConfigLoader.load(arguments: arguments)
            let configuration = try ServerConfiguration(reader: reader, services: services)
            try await ServerAssembly.run(configuration)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }
}
