import Foundation
import Logging

/// Log output formats: `human` for terminals, `json` (one object per line) for log shippers.
public enum LogFormat: String, Sendable {
    case human
    case json
}

public enum LoggingSetup {
    private static let once = OnceFlag()

    /// Bootstraps swift-log once per process. Later calls are ignored (tests call it freely).
    public static func bootstrap(format: LogFormat, level: Logger.Level) {
        guard once.claim() else { return }
        LoggingSystem.bootstrap { label in
            switch format {
            case .human:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

/// One JSON object per line on stderr: `{"ts":...,"level":...,"label":...,"msg":...,<metadata>}`.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: String] = [:]
        for (key, value) in metadata { object[key] = "\(value)" }
        if let extra = event.metadata {
            for (key, value) in extra { object[key] = "\(value)" }
        }
        object["ts"] = Self.timestamp()
        object["level"] = event.level.rawValue
        object["label"] = label
        object["msg"] = "\(event.message)"
        object["source"] = event.source
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        data.append(0x0A)
        FileHandle.standardError.write(data)
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601)
    }
}
