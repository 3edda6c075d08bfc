import ArgumentParser
import Foundation
import TroupeConfig
import TroupeCore
import TroupeRuntime
import TroupeService

/// `troupe run`: a scripted multi-persona session.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a scripted multi-persona session (a YAML file, e.g. in Scripts/sessions/).",
        discussion: """
            Writes transcript.md, log.jsonl and start.sqlite (the home before the run) into --out (default: \
            sessions/<file name> in the home), prints progress on stderr and a summary on stdout (--json for machines). \
            Every run is a new run, with ids of its own; memories are dated by the real clock unless the file sets \
            'start:' or 'clock: fixed'. --replay LOG re-runs with the replies recorded in LOG instead of a model, from \
            the state the recorded run started from (start.sqlite beside LOG; what the home held is kept in \
            --out/home-before.sqlite): same transcript, same memory, wherever it is replayed. --resume continues a \
            killed run from its log. --sandbox runs on a copy of the home (no Redis) and, when the session has \
            expectations and all of them pass, writes its memory changes into the home: all of them or, on any \
            failure, none. Exit code 1 when an expectation fails or nothing could be written.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The session file.") var session: String
    @Option(help: ArgumentHelp("Where transcript.md and log.jsonl go.", valueName: "dir")) var out: String?
    @Option(help: ArgumentHelp("Replay this log instead of asking a model.", valueName: "log")) var replay: String?
    @Flag(help: "Continue the killed run in --out from its log.") var resume = false
    @Flag(help: "Run on a copy of the home (see above).") var sandbox = false
    @Flag(help: "Print the summary as JSON.") var json = false

    func validate() throws {
        if resume && replay != nil { throw ValidationError("--resume continues a run; --replay re-runs a log: give one") }
    }

    func run() async throws {
        let service = TroupeService(runtime: try await global.runtime())
        let url = URL(fileURLWithPath: session)
        let (definition, diagnostics) = try service.sessionDefinition(file: url, .local)
        for diagnostic in diagnostics where diagnostic.severity != .error { Output.stderr(diagnostic.rendered) }
        guard let definition else { throw ConfigError(diagnostics) }
        let folder = out.map { URL(fileURLWithPath: $0) } ?? service.sessionFolder(url.deletingPathExtension().lastPathComponent)
        // The run opens a runtime of its own over the home; this one, which only read the config, goes first.
        await service.runtime.shutdown()
        let options = SessionOptions(
            out: folder, replay: replay.map { URL(fileURLWithPath: $0) }, resume: resume, sandbox: sandbox,
            progress: { Output.stderr($0) })
        let result = try await service.runSession(definition, options: options, .local)
        if json {
            Output.json(result.json)
        } else {
            Output.stdout("\(definition.title): stopped because of \(result.stoppedBy) after \(result.turns) turns "
                + String(format: "(%.1f s, %.1f s in the model)", result.seconds, result.modelSeconds))
            for check in result.checks { Output.stdout("  \(check.passed ? "passed" : "FAILED"): \(check.expectation) — \(check.found)") }
            if let committed = result.committed {
                Output.stdout(committed ? "the sandbox's memory changes were written into the home" : "sandbox: the home was left untouched")
            }
            Output.stdout("transcript: \(result.transcript.path)\nlog:        \(result.log.path)")
        }
        if !result.passed { throw ExitCode(1) }
    }
}
