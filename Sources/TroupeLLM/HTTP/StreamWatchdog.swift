import NIOConcurrencyHelpers
import TroupeCore

/// The two timeouts of a reply in flight: until the first token, then between reads.
///
/// ``run()`` runs beside the exchange in a task group and throws when the deadline in force
/// passes; the group then cancels the exchange, which closes the connection. The exchange moves
/// the deadline: ``firstToken()`` switches to the idle timeout, ``sawBytes()`` extends it (bytes,
/// not tokens: keep-alive comments prove the server alive once the reply flows, but do not
/// count as a first token).
final class StreamWatchdog: Sendable {
    enum Phase: Sendable {
        case firstToken
        case idle
    }

    private struct State {
        var phase: Phase = .firstToken
        var deadline: ContinuousClock.Instant
    }

    let firstTokenTimeout: Duration
    let idleTimeout: Duration
    private let state: NIOLockedValueBox<State>

    init(firstTokenTimeout: Duration, idleTimeout: Duration) {
        self.firstTokenTimeout = firstTokenTimeout
        self.idleTimeout = idleTimeout
        self.state = NIOLockedValueBox(State(deadline: .now + firstTokenTimeout))
    }

    func firstToken() {
        state.withLockedValue {
            $0.phase = .idle
            $0.deadline = .now + idleTimeout
        }
    }

    func sawBytes() {
        state.withLockedValue {
            if $0.phase == .idle { $0.deadline = .now + idleTimeout }
        }
    }

    /// Returns only by throwing: the phase whose deadline passed (``Expired``), or
    /// `CancellationError` when the exchange ended first.
    func run() async throws {
        while true {
            let (phase, deadline) = state.withLockedValue { ($0.phase, $0.deadline) }
            if deadline <= .now {
                throw Expired(phase: phase, timeout: phase == .firstToken ? firstTokenTimeout : idleTimeout)
            }
            // Never sleep longer than the idle timeout at once: `firstToken()` can bring the
            // deadline forward to now + idle, and this wakes by then at the latest. Otherwise the
            // deadline only moves later, and waking to find it moved costs one loop.
            let wake = min(deadline, ContinuousClock.now + idleTimeout)
            try await Task.sleep(until: wake, clock: .continuous)
        }
    }

    struct Expired: Error {
        var phase: Phase
        var timeout: Duration
    }
}

extension Duration {
    /// `300 ms`, `0.5 s`, `60 s`, `2 min`: a timeout as a message shows it.
    var spoken: String {
        let (seconds, attoseconds) = components
        let total = Double(seconds) + Double(attoseconds) / 1e18
        if total < 1 { return "\(Int((total * 1000).rounded())) ms" }
        if total >= 120, total.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(total / 60)) min" }
        if total == total.rounded() { return "\(Int(total)) s" }
        return "\((total * 10).rounded() / 10) s"
    }
}
