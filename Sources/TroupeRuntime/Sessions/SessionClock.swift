import Foundation
import TroupeConfig
import TroupeCore

/// A session's clock. It stands still within a round, so that every write of a round carries
/// the round's time, and moves at the start of each round: to the real time (the default), or
/// a minute on (`clock: fixed`), or, for a round the log holds, to the time it recorded, so a
/// replay or a resumed run dates its memories as the recorded run did.
public final class SessionClock: WallClock {
    public let mode: SessionDefinition.Clock
    /// When the session started (its seeds are written then).
    public let start: Date
    /// Round → its time, from the log being replayed or resumed.
    let recorded: [Int: Date]
    private let current: LockedBox<Date>

    init(mode: SessionDefinition.Clock, start: Date, recorded: [Int: Date] = [:]) {
        self.mode = mode
        self.start = start.truncatedToMilliseconds
        self.recorded = recorded
        current = LockedBox(self.start)
    }

    public func now() -> Date { current.value }

    /// Moves the clock to `round`'s time and returns it.
    func enter(round: Int) -> Date {
        current.withLock { now in
            if let time = recorded[round] {
                now = time
            } else if mode == .fixed {
                now = now.addingTimeInterval(60).truncatedToMilliseconds
            } else {
                // Never backwards, never twice the same instant: rounds stay in order.
                now = max(Date().truncatedToMilliseconds, now.addingTimeInterval(0.001)).truncatedToMilliseconds
            }
            return now
        }
    }
}

/// A forced failure for tests (`TROUPE_FAULT=session.commit:after=N`): the sandbox's commit
/// fails as it enters round N+1, with N rounds written. Read only by the commit path.
struct SessionFault: Sendable, Hashable {
    var afterRounds: Int

    static func commit(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> SessionFault? {
        guard let spec = environment["TROUPE_FAULT"], spec.hasPrefix("session.commit:after="),
            let n = Int(spec.dropFirst("session.commit:after=".count))
        else { return nil }
        return SessionFault(afterRounds: n)
    }
}

extension SessionRun {
    /// Starts `round`: the clock moves to its time, which the log keeps (a `clock` line) unless
    /// it has it already (a resumed run's recorded rounds).
    func enterRound(_ round: Int) throws {
        if let fault = runner.options.fault, round > fault.afterRounds {
            throw TroupeError(.storage, "a forced failure (TROUPE_FAULT) after \(fault.afterRounds) rounds of the commit")
        }
        let recorded = clock.recorded[round] != nil
        let time = clock.enter(round: round)
        if !(runner.options.resume && recorded) { try log.append(SessionLog.clockLine(round: round, at: time)) }
    }
}
