import BarfillCore

/// Builds text-format COPY rows and streams them to the server in batches of about 1 MB.
///
/// Fields are separated by tabs and rows end with a newline; text is escaped as COPY's text
/// format requires (backslash, tab, newline, carriage return), NULL is `\N`.
public struct CopyWriter {
    private let connection: PostgresConnection
    private var buffer: [UInt8] = []
    private var atRowStart = true
    private static let batchBytes = 1 << 20
    public private(set) var rows = 0

    init(connection: PostgresConnection) {
        self.connection = connection
        buffer.reserveCapacity(Self.batchBytes + 4_096)
    }

    private mutating func separate() {
        if atRowStart { atRowStart = false } else { buffer.append(0x09) }
    }

    /// A text field, escaped.
    public mutating func append(_ text: String) {
        separate()
        for byte in text.utf8 {
            switch byte {
            case 0x5C: buffer.append(0x5C); buffer.append(0x5C)      // \  -> \\
            case 0x09: buffer.append(0x5C); buffer.append(0x74)      // tab -> \t
            case 0x0A: buffer.append(0x5C); buffer.append(0x6E)      // newline -> \n
            case 0x0D: buffer.append(0x5C); buffer.append(0x72)      // CR -> \r
            default: buffer.append(byte)
            }
        }
    }

    public mutating func append(_ value: Int64) {
        separate()
        appendDigits(value)
    }

    public mutating func append(_ value: Int) { append(Int64(value)) }

    /// A finite number in a form `numeric` and `double precision` both read.
    public mutating func append(_ value: Double) throws(PostgresError) {
        guard value.isFinite else { throw .invalidInput("a non-finite number (\(value)) cannot be stored") }
        separate()
        buffer.append(contentsOf: String(value).utf8)
    }

    /// An instant (Unix seconds) as `timestamptz` text in UTC, `YYYY-MM-DD HH:MM:SS+00`.
    public mutating func appendTimestamp(_ seconds: Int64) {
        separate()
        let (days, secondOfDay) = UTC.day(of: seconds)
        let rest = Int(secondOfDay)
        let date = LocalDate(daysSinceEpoch: Int(days))
        appendPadded(date.year, 4); buffer.append(0x2D)
        appendPadded(date.month, 2); buffer.append(0x2D)
        appendPadded(date.day, 2); buffer.append(0x20)
        appendPadded(rest / 3_600, 2); buffer.append(0x3A)
        appendPadded(rest / 60 % 60, 2); buffer.append(0x3A)
        appendPadded(rest % 60, 2)
        buffer.append(0x2B); buffer.append(0x30); buffer.append(0x30)   // +00
    }

    public mutating func appendNull() {
        separate()
        buffer.append(0x5C); buffer.append(0x4E)   // \N
    }

    /// Ends the current row; sends a batch when the buffer is full.
    public mutating func endRow() throws(PostgresError) {
        buffer.append(0x0A)
        atRowStart = true
        rows += 1
        if buffer.count >= Self.batchBytes { try flush() }
    }

    mutating func flush() throws(PostgresError) {
        guard !buffer.isEmpty else { return }
        let result: Result<Void, PostgresError> = buffer.withUnsafeBytes { bytes in
            do throws(PostgresError) { try connection.putCopyData(bytes); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
        buffer.removeAll(keepingCapacity: true)
    }

    private mutating func appendDigits(_ value: Int64) {
        if value < 0 { buffer.append(0x2D) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[count] = UInt8(0x30 + magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
        }
        withUnsafeBytes(of: &digits) { raw in
            for index in stride(from: count - 1, through: 0, by: -1) { buffer.append(raw[index]) }
        }
    }

    private mutating func appendPadded(_ value: Int, _ width: Int) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var value = value
        if value >= divisor * 10 { appendDigits(Int64(value)); return }
        while divisor > 0 {
            buffer.append(UInt8(0x30 + value / divisor))
            value %= divisor
            divisor /= 10
        }
    }
}
