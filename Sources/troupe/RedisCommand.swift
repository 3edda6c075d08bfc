import ArgumentParser
import Foundation
import TroupeCore
import TroupeRuntime
import TroupeStore

/// `troupe redis`: the home's managed redis-server. Operator plumbing on the runtime itself, not
/// through the service layer.
struct RedisCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis", abstract: "Start, stop or inspect the home's managed redis-server.",
        discussion: """
            With `redis.mode: managed` (the default) Troupe runs a redis-server of its own for the home, on a unix socket
            in <home>/redis (no TCP port, no persistence: SQLite is the truth). Commands start it when they need it and
            later ones reuse it; `troupe redis stop` stops it.
            """,
        subcommands: [Status.self, Start.self, Stop.self], defaultSubcommand: Status.self)

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Whether it runs, and what the hot tier holds.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let runtime = try await global.runtime()
            let managed = runtime.managedRedis
            let mode = runtime.configuration.runtime.redis.mode
            var object: [String: JSONValue] = ["mode": .string(mode.rawValue), "socket": .string(managed.socketPath)]
            var lines: [String] = []
            switch managed.status() {
            case .running(let pid):
                object["running"] = .bool(true)
                object["pid"] = .number(Double(pid))
                lines.append("managed redis-server running, pid \(pid), on \(managed.socketPath)")
            case .stopped, .stale:
                object["running"] = .bool(false)
                lines.append("managed redis-server not running (it starts on first use; socket \(managed.socketPath))")
            }
            if mode != .managed {
                lines.append("note: this config uses redis.mode \(mode.rawValue)")
            }
            if object["running"] == .bool(true), let stats = await runtime.managedHotTierStats() {
                if case .object(let figures) = HotTierText.json(stats) {
                    for key in ["hot_items", "cache_hits", "cache_misses"] { object[key] = figures[key] }
                }
                lines.append(HotTierText.summary(stats))
            }
            if json { Output.json(.object(object)) } else { lines.forEach(Output.stdout) }
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start it now (commands also start it when they need it).")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let managed = try await global.runtime().managedRedis
            try managed.start()
            if case .running(let pid) = managed.status() { Output.stdout("managed redis-server running, pid \(pid), on \(managed.socketPath)") }
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop it (the hot tier is rebuilt from SQLite when it next starts).")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let managed = try await global.runtime().managedRedis
            Output.stdout(managed.stop() ? "stopped the managed redis-server" : "the managed redis-server was not running")
        }
    }
}
