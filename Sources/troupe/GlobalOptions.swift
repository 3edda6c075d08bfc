import ArgumentParser
import Foundation
import TroupeCore
import TroupeRuntime

/// Options every command takes; they may stand before or after the command name.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The home directory (memory, models).", valueName: "dir"))
    var home: String?

    @Option(name: .long, help: ArgumentHelp("The runtime config file (default: ./Config/troupe.yaml).", valueName: "file"))
    var config: String?

    /// Opens the workspace: validates config and personas (refusing to start if they are
    /// invalid) and opens the store.
    func workspace() throws -> Workspace {
        try Workspace.open(configFlag: config, homeFlag: home)
    }

    /// The workspace, with every persona's procedural seeds loaded (once; later calls read only).
    func memoryWorkspace() async throws -> Workspace {
        let workspace = try workspace()
        try await workspace.seedProceduralMemory()
        return workspace
    }

    /// The actor of persona `name` in this workspace: what a command with `--persona` acts as.
    func persona(_ name: String) async throws -> PersonaActor {
        try await memoryWorkspace().coordinator().persona(name)
    }
}

/// Writing to stdout and stderr.
enum Output {
    static func stdout(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func stderr(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) { stderr("error: \(text)") }

    static func warning(_ text: String) { stderr("warning: \(text)") }

    static func json(_ value: JSONValue) { stdout(value.canonicalText) }

    /// Whether stderr is a terminal (progress bars only go to terminals).
    static var stderrIsTerminal: Bool { isatty(2) == 1 }
}

extension SliceKind: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}
