import BarfillCore
import BarfillHTTP
import Foundation

// Finnhub's candle API as the simulated provider answers it: the query, daily keys at 00:00 UTC, the body.
extension SimulatedProvider {
    /// `stock/candle?symbol&resolution&from&to`, from/to Unix seconds inclusive.
    func finnhub(query: [String: String], corruption: Corruption?) -> (status: Int, body: Data, bars: Int) {
        guard let ticker = query["symbol"], !ticker.isEmpty, let resolution = query["resolution"],
              let timeframe = FinnhubClient.timeframe(resolution: resolution),
              let from = query["from"].flatMap(Int64.init), let to = query["to"].flatMap(Int64.init) else {
            return (422, Data(#"{"error":"Wrong resolution or missing parameters."}"#.utf8), 0)
        }
        var raws: [SimulatedBars.Raw]
        if timeframe.isIntraday {
            raws = SimulatedBars.bars(ticker: ticker, timeframe: timeframe, from: from, through: to,
                                      extendedHours: false, illiquid: isIlliquid(ticker))
        } else {
            // Finnhub stamps daily and longer candles at 00:00 UTC of the date.
            raws = SimulatedBars.bars(ticker: ticker, timeframe: timeframe, from: from - 86_400, through: to + 86_400,
                                      extendedHours: false, illiquid: isIlliquid(ticker))
                .map { var r = $0; r.key = NewYork.localDate(of: r.key).utcMidnight; return r }
                .filter { $0.key >= from && $0.key <= to }
        }
        var overrides: [String: String] = [:]
        spoil(&raws, corruption, overrides: &overrides, step: timeframe.intradaySeconds ?? 86_400 * 7, from: from)
        guard !raws.isEmpty else { return (200, Data(#"{"s":"no_data"}"#.utf8), 0) }
        var body = SimulatedProvider.finnhubBody(raws: raws, overrides: overrides, extraTime: corruption == .mismatchedArrays)
        body = Self.garble(body, corruption)
        return (200, body, raws.count)
    }

    /// A Finnhub candle answer: parallel arrays, `"s":"ok"`.
    public static func finnhubBody(raws: [SimulatedBars.Raw], overrides: [String: String] = [:], extraTime: Bool = false) -> Data {
        func column(_ name: String, _ value: (SimulatedBars.Raw) -> String) -> String {
            raws.enumerated().map { $0.offset == 0 ? (overrides[name] ?? value($0.element)) : value($0.element) }
                .joined(separator: ",")
        }
        var times = raws.map { String($0.key) }
        if extraTime, let last = raws.last { times.append(String(last.key + 60)) }
        let out = #"{"c":[\#(column("c") { price($0.close) })],"h":[\#(column("h") { price($0.high) })],"l":[\#(column("l") { price($0.low) })],"o":[\#(column("o") { price($0.open) })],"s":"ok","t":[\#(times.joined(separator: ","))],"v":[\#(column("v") { String($0.volume) })]}"#
        return Data(out.utf8)
    }
}
