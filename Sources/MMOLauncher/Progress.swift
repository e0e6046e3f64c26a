import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where progress and status lines go. The launcher writes them to stderr so stdout stays
/// free for the game client.
public struct ProgressOutput: Sendable {
    /// Whether lines may be redrawn in place (`\r`): a terminal.
    public var isInteractive: Bool
    /// Columns available for the bar.
    public var width: Int
    public var write: @Sendable (String) -> Void

    public init(isInteractive: Bool, width: Int = 80, write: @escaping @Sendable (String) -> Void) {
        self.isInteractive = isInteractive
        self.width = width
        self.write = write
    }

    /// stderr; a redrawn bar when it is a terminal, a plain line every few seconds otherwise.
    public static func standardError() -> ProgressOutput {
        let interactive = isatty(2) == 1
        var width = 80
        if interactive {
            var size = winsize()
            if ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col >= 40 { width = Int(size.ws_col) }
        }
        return ProgressOutput(isInteractive: interactive, width: width) { text in
            FileHandle.standardError.write(Data(text.utf8))
        }
    }

    /// Discards everything (tests, `--quiet`).
    public static let silent = ProgressOutput(isInteractive: false) { _ in }
}

/// Counts downloaded bytes from any number of concurrent downloads and renders a progress line:
/// bytes done of total, rate over the last few seconds, and time left.
public final class TransferProgress: Sendable {
    private struct State {
        var done: Int64
        var samples: [(at: Int64, done: Int64)] = []
        var lastRender: Int64 = 0
        var finished = false
    }

    public let total: Int64
    private let output: ProgressOutput
    private let state: Mutex<State>
    private let startedAt: Int64
    /// How often a line is drawn: 5 times a second on a terminal, every 5 s in a log.
    private let interval: Int64

    /// `alreadyDone` counts bytes kept from interrupted downloads: they count towards the total
    /// but not towards the rate.
    public init(total: Int64, alreadyDone: Int64 = 0, output: ProgressOutput) {
        self.total = total
        self.output = output
        let now = Self.monotonicNow()
        self.startedAt = now
        self.state = Mutex(State(done: alreadyDone, samples: [(now, alreadyDone)]))
        self.interval = output.isInteractive ? 200_000_000 : 5_000_000_000
    }

    /// Records `count` more bytes and redraws when it is time.
    public func add(_ count: Int) {
        let now = Self.monotonicNow()
        let line: String? = state.withLock { state in
            state.done += Int64(count)
            guard now - state.lastRender >= interval, !state.finished else { return nil }
            state.lastRender = now
            return render(&state, now: now)
        }
        if let line { output.write(line) }
    }

    /// Takes back bytes that have to be fetched again (a server that ignored `Range`).
    public func rewind(_ count: Int64) {
        state.withLock { $0.done -= count }
    }

    /// Draws the final line.
    public func finish() {
        let now = Self.monotonicNow()
        let line: String? = state.withLock { state in
            guard !state.finished else { return nil }
            state.finished = true
            return render(&state, now: now) + (output.isInteractive ? "\n" : "")
        }
        if let line { output.write(line) }
    }

    /// Bytes counted so far.
    public var done: Int64 { state.withLock { $0.done } }

    private func render(_ state: inout State, now: Int64) -> String {
        // Rate over a sliding window of about 5 s, so a stall shows quickly.
        state.samples.append((now, state.done))
        while state.samples.count > 2, now - state.samples[1].at > 5_000_000_000 { state.samples.removeFirst() }
        let first = state.samples[0]
        let elapsed = Double(now - first.at) / 1e9
        let rate = elapsed > 0.05 ? Double(state.done - first.done) / elapsed : nil
        let line = Self.formatLine(
            done: state.done, total: total, bytesPerSecond: rate, width: output.width, bar: output.isInteractive)
        return output.isInteractive ? "\r\u{1B}[2K" + line : line + "\n"
    }

    /// One progress line: `[#####-----]  45%  12.3 MiB / 27.0 MiB  3.2 MiB/s  ETA 0:05`; without
    /// the bar for logs.
    public static func formatLine(done: Int64, total: Int64, bytesPerSecond: Double?, width: Int = 80, bar: Bool) -> String {
        let fraction = total > 0 ? min(1, max(0, Double(done) / Double(total))) : 1
        let percent = Int(fraction * 100)
        var eta = "--:--"
        if let rate = bytesPerSecond, rate > 0 {
            eta = formatDuration(Double(max(0, total - done)) / rate)
        } else if done >= total {
            eta = formatDuration(0)
        }
        let rate = bytesPerSecond.map { formatBytes(Int64($0)) + "/s" } ?? "-- B/s"
        let numbers = "\(String(repeating: " ", count: max(0, 3 - String(percent).count)))\(percent)%  \(formatBytes(done)) / \(formatBytes(total))  \(rate)  ETA \(eta)"
        guard bar else { return "download: " + numbers }
        let barWidth = max(10, min(40, width - numbers.count - 4))
        let filled = Int(fraction * Double(barWidth))
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: barWidth - filled) + "] " + numbers
    }

    /// Binary units with one decimal: `512 B`, `1.5 KiB`, `12.3 MiB`, `4.0 GiB`.
    public static func formatBytes(_ bytes: Int64) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB"]
        guard bytes >= 1024 else { return "\(bytes) B" }
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return String(format: "%.1f", value) + " " + units[unit]
    }

    /// `m:ss`, or `h:mm:ss` from an hour; `>99h` beyond.
    public static func formatDuration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--:--" }
        let total = Int(seconds.rounded(.up))
        if total >= 100 * 3600 { return ">99h" }
        let hours = total / 3600
        let minutes = (total % 3600) / 60
        let secs = total % 60
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }

    static func monotonicNow() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
