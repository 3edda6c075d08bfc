import ArgumentParser
import Foundation
import TroupeConfig
import TroupeCore
import TroupeRuntime
import TroupeService

struct PersonasCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "personas", abstract: "List, show and validate persona definitions.",
        subcommands: [List.self, Show.self, Validate.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the personas.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let personas = try await TroupeService(runtime: try await global.runtime()).personas(.local)
            if json {
                Output.json(.array(personas.map(JSONView.persona)))
                return
            }
            let rows = personas.map { p in
                [p.name.rawValue, p.displayName, p.role, String(p.priority), p.shared.map(\.rawValue).joined(separator: ",")]
            }
            Output.stdout(Table.render(header: ["NAME", "DISPLAY", "ROLE", "PRIORITY", "SHARED"], rows: rows))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one persona in full.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The persona's name.") var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let p = try await TroupeService(runtime: try await global.runtime()).persona(name, .local)
            if json {
                Output.json(JSONView.persona(p))
                return
            }
            let m = p.memory
            var lines = [
                "\(p.displayName) (\(p.name)) — \(p.role)", "file: \(p.file)", "priority: \(p.priority)",
                "traits: \(p.traits.joined(separator: ", "))",
                "shared slices: \(p.shared.isEmpty ? "none" : p.shared.map(\.rawValue).joined(separator: ", "))",
                "memory: working ttl \(DurationText.format(m.workingTTL)), capacity \(m.workingCapacity); "
                    + "episodic hot \(DurationText.format(m.episodicHotTTL)), kept \(m.episodicRetention.map(DurationText.format) ?? "forever"); "
                    + "semantic cache \(DurationText.format(m.semanticCacheTTL)); procedural cache \(DurationText.format(m.proceduralCacheTTL))",
                "", p.description, "", "system prompt:",
            ]
            lines += p.systemPrompt.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
            lines.append("")
            lines.append("procedural seeds (\(p.procedural.count)):")
            lines += p.procedural.map { "  - [\($0.kind.rawValue)] \($0.text)" }
            Output.stdout(lines.joined(separator: "\n"))
        }
    }

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate persona files (all of them, or the files named) against the runtime config.",
            discussion: "Prints every problem as file:line:column: error: message. Exits 1 on any error.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Persona files; default: every file in the persona directory.") var files: [String] = []

        func run() async throws {
            let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            let (location, runtime, source, members) = try Configuration.locate(
                configFlag: global.config, homeFlag: global.home, environment: ProcessInfo.processInfo.environment,
                currentDirectory: cwd)
            let urls = files.isEmpty
                ? try Configuration.personaFiles(in: location.personasDirectory)
                : files.map { URL(fileURLWithPath: $0, relativeTo: cwd).standardizedFileURL }
            // Member checks only make sense against the whole directory.
            let result = Configuration.validate(
                personaFiles: urls, runtime: runtime, configSource: files.isEmpty ? source : nil,
                members: files.isEmpty ? members : [])
            for diagnostic in result.diagnostics { Output.stderr(diagnostic.rendered) }
            let errors = result.diagnostics.filter { $0.severity == .error }
            let badFiles = Set(errors.map(\.file))
            if errors.isEmpty {
                Output.stdout("\(urls.count) persona file\(urls.count == 1 ? "" : "s") valid (\(result.personas.map(\.name.rawValue).joined(separator: ", ")))")
            } else {
                Output.stdout("\(errors.count) error\(errors.count == 1 ? "" : "s") in \(badFiles.count) of \(urls.count + (source != nil && files.isEmpty ? 1 : 0)) files")
                throw ExitCode(1)
            }
        }
    }
}

/// Plain-text tables with aligned columns.
enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
