import BarfillCore
import BarfillHTTP
import Foundation

// Massive's aggregates API as the simulated provider answers it: the request path, paging, the body.
extension SimulatedProvider {
    /// `/v2/aggs/ticker/{T}/range/{mult}/{timespan}/{from}/{to}`; from/to as ms or `YYYY-MM-DD`, both inclusive.
    func massive(path: String, query: [String: String], host: String, requestID: String,
                         corruption: Corruption?, foreignNext: Bool) -> (status: Int, body: Data, bars: Int) {
        // ["v2", "aggs", "ticker", T, "range", mult, timespan, from, to]
        let parts = path.split(separator: "/").map(String.init)
        func bad(_ message: String) -> (Int, Data, Int) {
            (400, Data(#"{"status":"ERROR","request_id":"\#(requestID)","error":"\#(message)"}"#.utf8), 0)
        }
        guard parts.count == 9, let multiplier = Int(parts[5]),
              let timeframe = MassiveClient.timeframe(multiplier: multiplier, timespan: parts[6]) else {
            return bad("Could not parse the aggregates request")
        }
        let ticker = parts[3].removingPercentEncoding ?? parts[3]
        func instant(_ text: String, end: Bool) -> Int64? {
            if let ms = Int64(text) { return ms >= 0 ? (end ? ms / 1000 : (ms + 999) / 1000) : nil }
            guard let date = LocalDate(iso: text) else { return nil }
            return end ? NewYork.midnight(date.adding(days: 1)) - 1 : NewYork.midnight(date)
        }
        guard let from = instant(parts[7], end: false), let through = instant(parts[8], end: true) else {
            return bad("Could not parse the from or to parameter")
        }
        let limit = min(50_000, max(1, Int(query["limit"] ?? "") ?? 5_000))
        // `limit` counts base aggregates: minutes for intraday bars.
        let perPage = configuration.pageSize ?? max(1, timeframe.intradaySeconds.map { limit / Int($0 / 60) } ?? limit)
        var raws = SimulatedBars.bars(ticker: ticker, timeframe: timeframe, from: from, through: through,
                                      extendedHours: true, illiquid: isIlliquid(ticker))
        var next: String? = nil
        if raws.count > perPage {
            let rest = raws[perPage].key * 1000
            raws.removeSubrange(perPage...)
            next = "http://\(host)/v2/aggs/ticker/\(parts[3])/range/\(parts[5])/\(parts[6])/\(rest)/\(parts[8])?adjusted=true&sort=asc&limit=\(limit)"
        }
        if foreignNext {
            next = "http://elsewhere.invalid/v2/aggs/ticker/\(parts[3])/range/\(parts[5])/\(parts[6])/\(through * 1000)/\(parts[8])?adjusted=true&sort=asc&limit=\(limit)"
        }
        var overrides: [String: String] = [:]
        spoil(&raws, corruption, overrides: &overrides, step: timeframe.intradaySeconds ?? 86_400 * 7, from: from)
        let answeredTicker = corruption == .wrongTicker ? ticker + "X" : ticker
        var body = SimulatedProvider.massiveBody(ticker: answeredTicker, raws: raws, requestID: requestID, nextURL: next,
                                                 overrides: overrides)
        body = Self.garble(body, corruption)
        return (200, body, raws.count)
    }

    static func price(_ cents: Int) -> String {
        let sign = cents < 0 ? "-" : ""
        let c = abs(cents)
        let fraction = c % 100
        return "\(sign)\(c / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// A Massive aggregates answer, exactly as the service shapes it.
    public static func massiveBody(ticker: String, raws: [SimulatedBars.Raw], requestID: String = "sim",
                                   nextURL: String? = nil, overrides: [String: String] = [:]) -> Data {
        var out = #"{"ticker":"\#(ticker)","queryCount":\#(raws.count),"resultsCount":\#(raws.count),"adjusted":true,"#
        if !raws.isEmpty {
            out += #""results":["#
            out.reserveCapacity(raws.count * 110)
            for (i, r) in raws.enumerated() {
                let field = { (name: String, value: String) in i == 0 ? (overrides[name] ?? value) : value }
                if i > 0 { out += "," }
                let vw = (r.high + r.low + r.close) / 3
                out += #"{"v":\#(field("v", String(r.volume))),"vw":\#(price(vw)),"o":\#(field("o", price(r.open))),"c":\#(field("c", price(r.close))),"h":\#(field("h", price(r.high))),"l":\#(field("l", price(r.low))),"t":\#(r.key * 1000),"n":\#(r.trades)}"#
            }
            out += "],"
        }
        out += #""status":"OK","request_id":"\#(requestID)","count":\#(raws.count)"#
        if let nextURL { out += #","next_url":"\#(nextURL)""# }
        out += "}"
        return Data(out.utf8)
    }
}
