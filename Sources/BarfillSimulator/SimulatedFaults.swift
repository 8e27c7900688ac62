import BarfillCore
import BarfillHTTP
import Foundation

// Faults the simulated provider applies: HTTP errors, cut connections, slow answers, spoiled bars or bodies,
// on a schedule (injected, every Nth) or at random rates from a seeded generator.
extension SimulatedProvider {
    /// A way to spoil a response's bars or body.
    public enum Corruption: String, Sendable, Hashable, CaseIterable {
        case duplicateTimestamp = "duplicate-timestamp"
        case outsideWindow = "outside-window"
        case lowAboveBody = "low-above-body"
        case highBelowBody = "high-below-body"
        case negativeVolume = "negative-volume"
        case nullValue = "null-value"
        /// `1e999`: valid-looking, but not a finite JSON number.
        case nonFiniteNumber = "non-finite-number"
        /// Massive only: the `ticker` field names another ticker.
        case wrongTicker = "wrong-ticker"
        /// The body is cut in half, with a `Content-Length` that matches the cut.
        case malformedJSON = "malformed-json"
        /// Finnhub only: the `t` array is one longer than the others.
        case mismatchedArrays = "mismatched-arrays"
        /// A proxy's HTML error page in place of the JSON, still with status 200.
        case htmlPage = "html-page"
        /// Status 200 with no body at all.
        case emptyBody = "empty-body"
    }

    /// Something to do to one response instead of answering normally.
    public enum Fault: Sendable, Hashable {
        /// Answer with this HTTP status (5xx with the provider's error body).
        case status(Int)
        /// Announce the whole body, send half, close the connection.
        case truncate
        /// Answer after this many nominal seconds.
        case slow(Double)
        case corrupt(Corruption)
        /// Massive: a `next_url` on another host.
        case foreignNextURL
    }

    /// A fault applied to every `every`-th request (counting from 1).
    public struct FaultRule: Sendable, Hashable {
        public var every: Int
        public var fault: Fault
        public init(every: Int, fault: Fault) {
            self.every = max(1, every)
            self.fault = fault
        }
    }

    /// Faults drawn at random, each at its own rate, from a seeded generator: the same seed and the
    /// same sequence of admitted requests give the same faults, so a failing trial can be rerun.
    public struct RandomFaults: Sendable, Hashable {
        public var seed: UInt64
        /// Share of admitted requests (0…1) answered 500, 502 or 503 with the provider's error body.
        public var serverError: Double
        /// Share answered 200 with half the body and a `Content-Length` that matches the half.
        public var garbled: Double
        /// Share whose whole length is announced, half the body sent, then the connection closed.
        public var cut: Double
        /// Share answered after `slowSeconds` nominal seconds.
        public var slow: Double
        public var slowSeconds: Double

        public init(seed: UInt64 = 1, serverError: Double = 0, garbled: Double = 0, cut: Double = 0, slow: Double = 0,
                    slowSeconds: Double = 5) {
            precondition([serverError, garbled, cut, slow].allSatisfy { $0 >= 0 } && serverError + garbled + cut + slow <= 1,
                         "fault rates are shares of requests that add up to at most 1")
            self.seed = seed
            self.serverError = serverError
            self.garbled = garbled
            self.cut = cut
            self.slow = slow
            self.slowSeconds = slowSeconds
        }

        /// The fault for the `request`-th admitted request (from 1), or nil to answer normally.
        /// One uniform draw per request picks at most one fault, so the rates are exact shares.
        public func fault(forRequest request: Int) -> Fault? {
            let draw = SimulatedBars.mix(seed ^ SimulatedBars.mix(UInt64(request)))
            let u = Double(draw >> 11) / Double(1 << 53)
            var bound = serverError
            if u < bound { return .status([500, 502, 503][Int(draw % 3)]) }
            bound += garbled
            if u < bound { return .corrupt(.malformedJSON) }
            bound += cut
            if u < bound { return .truncate }
            bound += slow
            if u < bound { return .slow(slowSeconds) }
            return nil
        }
    }

    /// Applies a body-level corruption: cut in half, an HTML page, nothing.
    static func garble(_ body: Data, _ corruption: Corruption?) -> Data {
        switch corruption {
        case .malformedJSON: body.prefix(body.count / 2)
        case .htmlPage: Data("<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n".utf8)
        case .emptyBody: Data()
        default: body
        }
    }

    /// Applies a bar-level corruption to the first bar (or adds one). `overrides` replaces a field's
    /// JSON text in the first bar, for values no `Int` can hold (`null`, `1e999`).
    func spoil(_ raws: inout [SimulatedBars.Raw], _ corruption: Corruption?, overrides: inout [String: String],
                       step: Int64, from: Int64) {
        guard let corruption, !raws.isEmpty else { return }
        switch corruption {
        case .duplicateTimestamp: raws.insert(raws[0], at: 1)
        case .outsideWindow:
            var early = raws[0]
            early.key = from - step
            raws.insert(early, at: 0)
        case .lowAboveBody: raws[0].low = max(raws[0].open, raws[0].close) + 1
        case .highBelowBody: raws[0].high = max(raws[0].open, raws[0].close) - 1; raws[0].low = min(raws[0].low, raws[0].high - 1)
        case .negativeVolume: raws[0].volume = -raws[0].volume
        case .nullValue: overrides["o"] = "null"
        case .nonFiniteNumber: overrides["o"] = "1e999"
        case .wrongTicker, .malformedJSON, .mismatchedArrays, .htmlPage, .emptyBody: break
        }
    }
}
