import ArgumentParser
import Foundation
import TroupeCore
import TroupeRetrieval
import TroupeRuntime

/// `troupe embed`: the embedder on its own, for the operator; it calls the runtime directly, not
/// the service layer (no persona's memory is read or written).
struct EmbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed", abstract: "Print the tokens and vector of each text, as recall sees them.",
        discussion: "Texts come from the arguments, or one per line of --file. Uses the configured model (or its fallback).")
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Embed each non-empty line of this file.", valueName: "file")) var file: String?
    @Flag(help: "One JSON line per text: {text, model, tokens, vector}.") var json = false
    @Argument(help: "Texts to embed.") var texts: [String] = []

    func validate() throws {
        if texts.isEmpty == (file == nil) { throw ValidationError("give texts as arguments or --file FILE, not both") }
    }

    func run() async throws {
        let runtime = try await global.runtime()
        if let warning = runtime.embedderChoice.warning { Output.warning(warning) }
        guard let queue = try await runtime.embedder() else {
            throw TroupeError(.unavailable, "no embedder is configured (embedder.fallback is none and the model is missing)")
        }
        var inputs = texts
        if let file {
            do {
                inputs = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
                    .filter { $0.contains { !$0.isWhitespace } }
            } catch { throw TroupeError(.invalidInput, "cannot read the file", context: file, cause: error) }
        }
        let embedder = queue.embedder
        let vectors = try await queue.embed(inputs)
        for (text, vector) in zip(inputs, vectors) {
            let tokens = (embedder as? MiniLMEmbedder)?.tokens(text) ?? LexicalTokenizer.tokens(text)
            if json {
                Output.json(.object([
                    "text": .string(text), "model": .string(embedder.modelID), "tokens": .array(tokens.map(JSONValue.string)),
                    "vector": .array(vector.map { .number(Double($0)) }),
                ]))
            } else {
                Output.stdout("\(text)\n  model:  \(embedder.modelID) (\(vector.count) dimensions)\n  tokens: \(tokens.joined(separator: " "))")
                Output.stdout("  vector: [" + vector.prefix(8).map { String(format: "%.4f", $0) }.joined(separator: ", ") + ", …]")
            }
        }
    }
}
