import BarfillApply
import BarfillCore
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Writes text to standard error without buffering, so progress and messages interleave in order.
enum StandardError {
    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static var isTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}

/// Shows a run's progress on standard error: a redrawn bar on a terminal, a plain line every
/// `interval` seconds otherwise (CI logs), and one line per chunk that failed or was skipped as stale.
final class ProgressOutput: Sendable {
    private struct State {
        var chunks = 0
        var finished = 0
        var requestsLeft = 0
        var counts = ChunkCountsTally()
        var lastLine: Double = 0
        var drawn = false
    }

    private struct ChunkCountsTally {
        var bars = 0
        var inserted = 0
        var requests = 0
        var failed = 0
    }

    private let terminal: Bool
    private let interval: Double
    /// Requests per minute of the slowest provider in the plan, for the ETA.
    private let requestsPerMinute: Double
    private let state = Mutex(State())

    init(terminal: Bool = StandardError.isTerminal, interval: Double = 10, requestsPerMinute: Double) {
        self.terminal = terminal
        self.interval = interval
        self.requestsPerMinute = max(requestsPerMinute, 0.001)
    }

    func handle(_ event: ApplyEvent) {
        state.withLock { s in
            switch event {
            case let .began(chunks, alreadyFinished, requests, missingBars):
                s.chunks = chunks
                s.finished = alreadyFinished
                s.requestsLeft = requests
                let resumed = alreadyFinished > 0 ? " (\(alreadyFinished) already finished)" : ""
                line(&s, "apply: \(chunks) chunks\(resumed), \(missingBars) missing bars, \(requests) requests to make, about \(Self.duration(Double(requests) / requestsPerMinute * 60))")
            case .chunkStarted:
                break
            case let .chunkFinished(result):
                s.requestsLeft = max(0, s.requestsLeft - max(result.counts.requests, 1))
                s.counts.bars += result.counts.fetched
                s.counts.inserted += result.counts.inserted + result.counts.updated
                s.counts.requests += result.counts.requests
                switch result.status {
                case .done, .skipped:
                    s.finished += 1
                case .failed:
                    s.finished += 1
                    s.counts.failed += 1
                    line(&s, "apply: chunk \(result.id) \(result.symbol) \(result.timeframe.rawValue) failed: \(result.message ?? "")")
                case .pending, .running:
                    if let message = result.message {
                        line(&s, "apply: chunk \(result.id) \(result.symbol) \(result.timeframe.rawValue) left for the next run: \(message)")
                    }
                }
                tick(&s)
            case let .warning(text):
                line(&s, "warning: \(text)")
            case let .stopping(stop):
                line(&s, "apply: stopping: \(stop)")
            }
        }
    }

    /// Clears the bar so the final summary starts on a clean line.
    func finish() {
        state.withLock { s in
            if terminal && s.drawn {
                StandardError.write("\r\u{1B}[K")
                s.drawn = false
            }
        }
    }

    private func tick(_ s: inout State) {
        let now = Date().timeIntervalSince1970
        if terminal {
            StandardError.write("\r\u{1B}[K" + bar(s))
            s.drawn = true
        } else if now - s.lastLine >= interval || s.finished == s.chunks {
            StandardError.write("apply: " + summary(s) + "\n")
            s.lastLine = now
        }
    }

    private func line(_ s: inout State, _ text: String) {
        if terminal && s.drawn { StandardError.write("\r\u{1B}[K") }
        StandardError.write(text + "\n")
        if terminal && s.drawn { StandardError.write(bar(s)) }
    }

    private func bar(_ s: State) -> String {
        let width = 24
        let filled = s.chunks == 0 ? width : width * s.finished / s.chunks
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + summary(s)
    }

    private func summary(_ s: State) -> String {
        var text = "\(s.finished)/\(s.chunks) chunks · \(s.counts.bars) bars fetched · \(s.counts.inserted) written · \(s.counts.requests) requests"
        if s.counts.failed > 0 { text += " · \(s.counts.failed) failed" }
        if s.finished < s.chunks { text += " · ETA \(Self.duration(Double(s.requestsLeft) / requestsPerMinute * 60))" }
        return text
    }

    /// Whole seconds rounded up, in the plan summary's form (`4m 05s`).
    static func duration(_ seconds: Double) -> String { Plan.duration(Int(seconds.rounded(.up))) }
}
