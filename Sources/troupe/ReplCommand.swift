import ArgumentParser
import Dispatch
import Foundation
import Logging
import ServiceLifecycle
import TroupeCore
import TroupeRuntime

/// `troupe repl`: talk with personas. The terminal side: line editing, Ctrl-C and Ctrl-D,
/// piped input; the logic is ``ReplSession``, on the runtime itself rather than the service
/// layer (its `:commands` reach into a conversation's turns, the recall behind them, formation).
struct ReplCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl", abstract: "Talk with personas (:help lists the commands).",
        discussion: """
            Replies stream as they are generated. `@name message` addresses another persona. Ctrl-C stops a reply, \
            Ctrl-D (or :quit) leaves with everything stored. Line history is kept in <home>/repl_history. With input \
            piped in, each line is one message or command, no prompt is shown, and the exit code is 1 if any failed.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "The persona to talk with first (default: the first by name).") var persona: String?

    func run() async throws {
        let runtime = try await global.memoryRuntime()
        await runtime.resumeFormation()
        let session = try ReplSession(runtime: runtime, persona: persona)
        let loop = ReplLoop(session: session, interactive: isatty(0) == 1, home: runtime.configuration.location.home)
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: runtime),
                .init(service: loop, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sighup], logger: Logger(label: "troupe.repl")))
        try await group.run()
        if loop.failures > 0 && !loop.interactive { throw ExitCode(1) }
    }
}

/// The read–reply loop as a service beside the runtime's: it ends at Ctrl-D, `:quit` or the end
/// of piped input, and the group then shuts the runtime down (facts being formed land, Redis
/// connections close).
final class ReplLoop: Service, Sendable {
    let session: ReplSession
    let interactive: Bool
    let editor: LineEditor?
    private let failedLines = LockedBox(0)
    /// The Ctrl-C handler, kept alive while the loop runs.
    private let interrupts = LockedBox<(any DispatchSourceSignal)?>(nil)

    init(session: ReplSession, interactive: Bool, home: URL) {
        self.session = session
        self.interactive = interactive
        editor = interactive ? LineEditor(home: home) : nil
    }

    /// Lines that failed (a command, or a reply the model broke off).
    var failures: Int { failedLines.value }

    func run() async throws {
        watchCtrlC()
        if interactive {
            Output.stdout("talking with \(await session.current) (:help for commands, Ctrl-D to leave)")
        }
        // SIGTERM ends the loop at once, even at the prompt; the runtime then shuts down.
        await cancelWhenGracefulShutdown { [self] in await loop() }
        if interactive { Output.stdout("") }
    }

    private func loop() async {
        let output = TerminalOutput()
        while !Task.isCancelled {
            guard let line = await nextLine() else { return }
            if interactive, !line.trimmingCharacters(in: .whitespaces).isEmpty { editor?.remember(line) }
            switch await session.handle(line, output: output) {
            case .ok: break
            case .failed: failedLines.withLock { $0 += 1 }
            case .quit: return
            }
        }
    }

    private func nextLine() async -> String? {
        if let editor { return await editor.read(prompt: await session.prompt) }
        // readLine blocks, for as long as the pipe is quiet: on a thread of its own (the global
        // dispatch queues would take one of the cooperative pool's threads).
        return (try? await offThePool("troupe.repl.stdin") { readLine(strippingNewline: true) }) ?? nil
    }

    /// Ctrl-C stops the reply being generated; at the prompt it only says how to leave.
    private func watchCtrlC() {
        signal(SIGINT, SIG_IGN)
        let session = session, interactive = interactive
        // Made inside the closure so that the box can own it: a signal source is not Sendable.
        interrupts.withLock { $0 = Self.ctrlCSource(session: session, interactive: interactive) }
    }

    private static func ctrlCSource(session: ReplSession, interactive: Bool) -> any DispatchSourceSignal {
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            Task {
                if await !session.cancelReply(), interactive { Output.stdout("\n(Ctrl-D or :quit leaves; Ctrl-C stops a reply)") }
            }
        }
        source.resume()
        return source
    }
}

/// REPL output on the terminal (or a pipe): terminal-safe, a streamed reply piece by piece.
struct TerminalOutput: ReplOutput {
    func line(_ text: String) { Output.stdout(text) }
    func piece(_ text: String) { Output.piece(text) }
    func problem(_ text: String) { Output.error(text) }
}
