/// The shared provider budget's answer to a request for a grant.
public enum BudgetGrant: Sendable, Hashable {
    /// The request may be sent now; `id` names its row in the shared log.
    case granted(id: String)
    /// Nothing may be sent for at least this many real seconds; ask again then.
    case wait(seconds: Double)
}
