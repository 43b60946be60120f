import NDArray
import Synchronization

/// A program's replay plan and when to make one: after two calls in a row with the same input
/// and shared-value layouts (a few plans at most per program, so alternating shapes do not
/// re-plan forever).
final class ReplayCache: Sendable {
    private struct State {
        var plan: Replay?
        var last: [Int] = []
        var plans = 0
    }
    private let state = Mutex(State())
    static let maxPlans = 8

    /// The current plan.
    var plan: Replay? { state.withLock { $0.plan } }

    /// Whether the ordinary call about to run with these arguments should be traced to plan
    /// from: its layouts are those of the previous ordinary call.
    func shouldTrace(_ inputs: [NDArray], _ shared: [NDArray]) -> Bool {
        // Programs that stopped planning do not pay for a signature on every call.
        guard state.withLock({ $0.plans < Self.maxPlans }) else { return false }
        let signature = (inputs + shared).flatMap { [$0.ndim] + $0.shape + $0.strides }
        return state.withLock { s in
            defer { s.last = signature }
            return s.plans < Self.maxPlans && s.last == signature
        }
    }

    func install(_ plan: Replay?) {
        state.withLock { s in
            s.plans += 1
            if let plan { s.plan = plan }
        }
    }

    /// Drops a plan that had to abandon a call (its shapes depend on values).
    func discard(_ plan: Replay) {
        state.withLock { s in
            if s.plan === plan { s.plan = nil }
            s.plans = Self.maxPlans
        }
    }
}
