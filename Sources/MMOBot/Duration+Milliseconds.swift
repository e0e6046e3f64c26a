// The bots' one Duration→number conversion. Issue 6 asks for a single shared helper across the
// repository; until it exists this is the only copy in MMOBot, kept in its own file so it can be
// deleted in favour of the shared one without touching anything else.
extension Duration {
    /// This duration in milliseconds, with the fraction kept (summaries print 2 decimals).
    var inMilliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    /// This duration in seconds, with the fraction kept.
    var inSeconds: Double { inMilliseconds / 1000 }
}
