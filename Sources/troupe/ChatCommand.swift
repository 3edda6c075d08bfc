import ArgumentParser
import Foundation
import TroupeCore
import TroupeLLM
import TroupeRuntime
import TroupeService

/// `troupe chat`: one turn, to try a persona and its backend alone.
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat", abstract: "Send one message to a persona and print the reply.",
        discussion: """
            The whole turn runs: recall, the prompt, the reply (streamed to a terminal), the exchange stored in memory. \
            `troupe doctor` says which chat backend answers and why. Exit code 1 when the model failed.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Who answers.") var persona: String
    @Flag(help: "Print the turn as JSON: reply, backend, recalled memories, what was written, timings.") var json = false
    @Argument(help: "The message.") var message: String

    func validate() throws {
        guard !message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ValidationError("the message is empty") }
    }

    func run() async throws {
        let handle = try await global.service().startTurn(persona: persona, message: message, .local)
        let streaming = !json && isatty(1) == 1
        var record: TurnRecord?
        for try await event in handle.events {
            switch event {
            case .delta(let piece) where streaming: Output.piece(piece)
            case .done(let done): record = done
            default: break
            }
        }
        guard let record else { throw TroupeError(.storage, "the turn ended without a record") }
        if json {
            Output.json(JSONView.turn(record))
        } else if streaming {
            Output.stdout("")
        } else {
            Output.stdout(record.reply)
        }
        if !json { for outdated in record.outdated { Output.stdout("  " + ReplSession.note(outdated)) } }
        if let failure = record.failure {
            throw TroupeError(.unavailable, "the model failed during the reply (\(failure)); what came of it is stored, marked partial")
        }
    }
}
