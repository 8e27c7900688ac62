import Synchronization

/// The requests a whole run may send (`--max-requests`), shared by every provider's limiter,
/// so a plan using two providers spends one budget, not one each.
public final class RequestAllowance: Sendable {
    /// nil: no limit.
    public let maxRequests: Int?
    private let granted = Mutex(0)

    public init(maxRequests: Int?) { self.maxRequests = maxRequests }

    /// Requests granted so far, by every limiter sharing this allowance.
    public var spent: Int { granted.withLock { $0 } }

    /// Nothing more may be granted.
    public var isSpent: Bool {
        guard let maxRequests else { return false }
        return granted.withLock { $0 >= maxRequests }
    }

    /// Takes one request out of the allowance; false when it is spent.
    func take() -> Bool {
        granted.withLock { count in
            if let maxRequests, count >= maxRequests { return false }
            count += 1
            return true
        }
    }

    /// Gives back a request that was granted but never left this machine.
    func giveBack() { granted.withLock { $0 = max(0, $0 - 1) } }
}
