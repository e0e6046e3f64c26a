import Logging
import Synchronization

/// A `LogHandler` that passes lines to another one through a ``LogRateLimiter`` (per message
/// text), adding `suppressed=N` to the first line written after some were held back. Copies
/// (a logger with changed metadata or level) share one limiter.
///
/// Wrap the loggers of code that clients can make log: `RateLimitedLogHandler.wrap(logger)`.
public struct RateLimitedLogHandler: LogHandler {
    private final class Shared: Sendable {
        let limiter: Mutex<LogRateLimiter>
        init(_ limiter: LogRateLimiter) { self.limiter = Mutex(limiter) }
    }

    private var base: any LogHandler
    private let shared: Shared
    private let now: @Sendable () -> ContinuousClock.Instant

    public init(
        wrapping base: any LogHandler, limiter: LogRateLimiter = LogRateLimiter(),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.base = base
        self.shared = Shared(limiter)
        self.now = now
    }

    /// `logger` with its handler rate-limited (same label, level and metadata).
    public static func wrap(_ logger: Logger, limiter: LogRateLimiter = LogRateLimiter()) -> Logger {
        let handler = RateLimitedLogHandler(wrapping: logger.handler, limiter: limiter)
        return Logger(label: logger.label, factory: { _ in handler })
    }

    public var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    public var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { base.metadataProvider }
        set { base.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        let instant = now()
        let decision = shared.limiter.withLock { $0.admit(event.message.description, now: instant) }
        guard case .write(let suppressed) = decision else { return }
        guard suppressed > 0 else {
            base.log(event: event)
            return
        }
        var event = event
        var metadata = event.metadata ?? [:]
        metadata["suppressed"] = "\(suppressed)"
        event.metadata = metadata
        base.log(event: event)
    }
}
