import ArgumentParser
import Foundation
import Logging
import TroupeConfig
import TroupeCore
import TroupeService

/// The `troupe` command: parses, calls the library, prints.
@main
struct Troupe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "troupe",
        abstract: "A runtime for AI personas that remember.",
        discussion: """
            Personas are YAML files in Personas/; memory lives in a SQLite file in the home
            (--home, $TROUPE_HOME, `home:` in the config, or ~/.troupe), or on a PostgreSQL
            server shared by several processes (storage.backend: postgres).
            Exit codes: 0 ok, 1 failure, 2 usage.
            """,
        version: "0.1.0",
        subcommands: [
            PersonasCommand.self, MemoryCommand.self, ChatCommand.self, ReplCommand.self, RunCommand.self, AuditCommand.self, RedisCommand.self,
            McpCommand.self, ServeCommand.self, KeysCommand.self, EmbedCommand.self, DoctorCommand.self, MigrateCommand.self, ReconcileCommand.self, VaultCommand.self,
            GraphCommand.self,
            BenchCommand.self,
        ])

    /// Runs the command and maps errors to exit codes: 1 for failures, 2 for usage errors.
    static func main() async {
        LoggingSystem.bootstrap { _ in StderrLogHandler() }
        do {
            var command = try parseAsRoot(hoistingGlobalOptions(Array(CommandLine.arguments.dropFirst())))
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            await OpenRuntimes.shared.shutdown()
        } catch {
            await OpenRuntimes.shared.shutdown()
            fail(error)
        }
    }

    /// Prints `error` as it deserves and exits with its code.
    static func fail(_ error: any Error) -> Never {
        switch error {
        case let error as TroupeError:
            Output.error(error.description)
            Foundation.exit(ErrorTable.entry(error.code).exitCode)
        case let error as ArgumentError:
            Output.error(error.description)
            Foundation.exit(ErrorTable.entry(.invalidInput).exitCode)
        case let error as ConfigError:
            Output.stderr(error.description)
            Foundation.exit(1)
        default:
            if exitCode(for: error) == .validationFailure {
                Output.stderr(fullMessage(for: error))
                Foundation.exit(ErrorTable.usageExitCode)
            }
            exit(withError: error)
        }
    }

    /// `troupe --home DIR memory add …`: global options given before the command name are moved
    /// after it, where every command declares them.
    static func hoistingGlobalOptions(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var rest = arguments[...]
        while let first = rest.first, first.hasPrefix("--home") || first.hasPrefix("--config") {
            leading.append(rest.removeFirst())
            if !first.contains("="), let value = rest.first {
                leading.append(value)
                rest.removeFirst()
            }
        }
        guard !leading.isEmpty else { return arguments }
        var result = Array(rest)
        let end = result.firstIndex(of: "--") ?? result.endIndex
        result.insert(contentsOf: leading, at: end)
        return result
    }
}
