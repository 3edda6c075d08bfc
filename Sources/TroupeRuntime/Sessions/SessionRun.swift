import Foundation
import TroupeConfig
import TroupeCore
import TroupeLLM
import TroupeStore

/// One run of a session: the round loop and its state.
struct SessionRun {
    let runner: SessionRunner
    let runtime: Runtime
    let clock: SessionClock
    let book: CallBook
    /// Turns at the start that come from the log (a replay, or what a resumed run had done).
    let replayedTurns: Int
    /// For a replay: the number of turns the recorded run had.
    let recordedEnd: Int?
    var definition: SessionDefinition { runner.definition }
    let conversation: Conversation
    let log: SessionLog
    var turns: [SessionLog.Turn] = []
    var stoppedBy = "max_rounds"
    var tokens = 0
    var lastSpeaker: PersonaID?
    var lastReply: (from: String, text: String)?
    let startedAt = Date()
    /// Slice versions of the shared slices before the first round (for `untouched`).
    var versionsBefore: [String: Int64] = [:]
    var conflictsBefore = 0
    /// The recorded lines (replay, resume), for the order of parallel rounds' writes.
    var recordedLines: [[String: JSONValue]] = []
    /// The moderator's choice for the turn about to run, for its log line.
    var pendingChoice: JSONValue?
    /// The recorded run's stop reason (replay).
    var recordedStop: String?
    /// The decision the run ended with (`decide:`).
    var decided: SessionDecision?

    init(runner: SessionRunner, runtime: Runtime, clock: SessionClock, book: CallBook, replayedTurns: Int, recordedEnd: Int?) {
        self.runner = runner
        self.runtime = runtime
        self.clock = clock
        self.book = book
        self.replayedTurns = replayedTurns
        self.recordedEnd = recordedEnd
        // A conversation of its own per run (a run's replay has the same run id, so the same one).
        let run = (runtime.ids as? SessionIDs)?.run ?? ""
        conversation = Conversation(runtime: runtime, id: run.isEmpty ? "session-\(runner.definition.seed)" : "session-\(run)", formsInline: true)
        log = SessionLog(url: runner.logURL)
    }

    /// Whether the next turn comes from the log.
    var replaying: Bool { turns.count < replayedTurns }

    /// Seeds the memory and writes the log's header (a resumed run keeps its log). A seed the
    /// home holds already (same owner, slice and text, current) is not written again; the
    /// header says which seeds were written and which skipped.
    mutating func start() async throws {
        let seeds = try await plantSeeds()
        versionsBefore = try await runtime.store.sliceVersions(owners: definition.shared, slices: SliceKind.allCases)
        conflictsBefore = await runtime.coordinator.committed.conflicts
        if runner.options.resume {
            // The log holds the turns to replay; new ones are appended (with the rounds' times).
            let read = try SessionLog.read(runner.logURL)
            try rewriteLog(keeping: read)
            for (round, time) in clock.recorded.sorted(by: { $0.key < $1.key }) { try log.append(SessionLog.clockLine(round: round, at: time)) }
        } else {
            try log.start(header(seeds: seeds))
        }
    }

    /// A resumed log keeps its header and whole turn lines only (a line cut by the kill goes).
    private func rewriteLog(keeping read: (header: [String: JSONValue], turns: [[String: JSONValue]], end: [String: JSONValue]?)) throws {
        try log.start(.object(read.header))
        for turn in read.turns { try log.append(.object(turn)) }
    }

    /// The rounds, until a stop condition or `max_rounds`.
    mutating func rounds() async throws -> [SessionLog.Turn] {
        for round in 1...definition.maxRounds {
            if let end = recordedEnd, turns.count >= end { break }
            try enterRound(round)
            if let parallel = definition.parallel.first(where: { $0.round == round }) {
                try await parallelRound(parallel)
            } else {
                guard let speaker = try await nextSpeaker(round: round) else {
                    stoppedBy = "moderator"
                    break
                }
                let (said, quoting) = input(round: round)
                let choice = pendingChoice
                pendingChoice = nil
                try await turn(round: round, speaker: speaker, said: said, quoting: quoting, choice: choice)
            }
            if let reason = stopReason() {
                stoppedBy = reason
                break
            }
        }
        if let end = recordedEnd, turns.count < end {
            throw TroupeError(.invalidInput, "the replay ended after \(turns.count) of the \(end) recorded turns: the session file changed since?")
        }
        if let recordedStop { stoppedBy = recordedStop }
        try await decide()
        return turns
    }

    /// What the round's speaker hears: the opening, else the last reply; an injected message
    /// of the round comes first, quoting the last reply. The opening and injections are a
    /// person's words (whoever wrote the session), whatever name they are said as; a reply is
    /// a model's.
    func input(round: Int) -> (said: Utterance, quoting: Utterance?) {
        let reply = lastReply.map { Utterance($0.text, speaker: $0.from, source: .persona) }
        if let injection = definition.injections.first(where: { $0.round == round }) {
            return (Utterance(injection.message.text, speaker: injection.message.from, source: .person), reply)
        }
        return (reply ?? Utterance(definition.opening.text, speaker: definition.opening.from, source: .person), nil)
    }

    func stopReason() -> String? {
        guard let last = turns.last?.record else { return nil }
        if let phrase = definition.stop.phrase, SessionReplyReading.holds(phrase, in: last.reply) { return "phrase" }
        if definition.stop.done, SessionReplyReading.saysDone(last.reply) { return "done" }
        if let budget = definition.stop.tokens, tokens >= budget { return "tokens" }
        if !replaying, let time = definition.stop.time, Date().timeIntervalSince(startedAt) >= time { return "time" }
        return nil
    }
}
