import ArgumentParser
import Foundation
import Logging
import TroupeCore
import TroupeRuntime
import TroupeService

/// Options every command takes; they may stand before or after the command name.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The home directory (memory, models).", valueName: "dir"))
    var home: String?

    @Option(name: .long, help: ArgumentHelp("The runtime config file (default: ./Config/troupe.yaml).", valueName: "file"))
    var config: String?

    /// Opens the runtime: validates config and personas (refusing to start if they are
    /// invalid) and opens the store. It is shut down when the command ends.
    func runtime() async throws -> Runtime {
        let runtime = try await Runtime.open(configFlag: config, homeFlag: home, logger: Logger(label: "troupe"))
        OpenRuntimes.shared.add(runtime)
        return runtime
    }

    /// The runtime, with every persona's procedural seeds loaded (once; later calls read only).
    func memoryRuntime() async throws -> Runtime {
        let runtime = try await runtime()
        try await runtime.seedProceduralMemory()
        return runtime
    }

    /// The service layer over the runtime (procedural seeds loaded), for the commands that go
    /// through it as the local operator.
    func service() async throws -> TroupeService {
        TroupeService(runtime: try await memoryRuntime())
    }
}

/// The runtimes a command opened, shut down when it ends (Redis connections closed, shared
/// writes under way committed).
final class OpenRuntimes: Sendable {
    static let shared = OpenRuntimes()
    private let runtimes = LockedBox<[Runtime]>([])

    func add(_ runtime: Runtime) { runtimes.withLock { $0.append(runtime) } }

    func shutdown() async {
        let all = runtimes.withLock { runtimes in
            defer { runtimes.removeAll() }
            return runtimes
        }
        for runtime in all { await runtime.shutdown() }
    }
}

/// Library log messages on stderr, as a compiler prints them: `warning: …`, `error: …`; notices
/// as they are; nothing below.
struct StderrLogHandler: LogHandler {
    var logLevel: Logger.Level = .notice
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        switch event.level {
        case .warning: Output.warning("\(event.message)")
        case .error, .critical: Output.error("\(event.message)")
        default: Output.stderr("\(event.message)")
        }
    }
}

/// Writing to stdout and stderr.
enum Output {
    /// A reader that went away (`troupe … | head`) ends the command quietly, as it does for
    /// other tools: the Redis client ignores SIGPIPE, so the write fails with EPIPE instead.
    static func stdout(_ text: String) {
        if !write(TerminalText.escaped(text) + "\n", to: 1) { exit(0) }
    }

    /// Every line to stderr is made terminal-safe too: messages echo arguments and file names.
    static func stderr(_ text: String) {
        _ = write(TerminalText.escaped(text) + "\n", to: 2)
    }

    /// Writes all of `text`; `false` if the descriptor's reader is gone.
    private static func write(_ text: String, to fd: Int32) -> Bool {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return errno != EPIPE
            }
            bytes = bytes.dropFirst(written)
        }
        return true
    }

    /// Part of a line (a streamed reply), made terminal-safe, written at once.
    static func piece(_ text: String) {
        if !write(TerminalText.escaped(text), to: 1) { exit(0) }
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

/// Range checks for numeric flags, in `validate()`: the same ranges as the config keys they
/// stand for, so that no flag value can make a command allocate without bound (exit code 2).
enum FlagRange {
    static func check<T: Comparable>(_ value: T?, _ range: ClosedRange<T>, _ flag: String, setting: String? = nil) throws {
        guard let value, !range.contains(value) else { return }
        let same = setting.map { " (as \($0) in the config)" } ?? ""
        throw ValidationError("\(flag) must be between \(range.lowerBound) and \(range.upperBound)\(same), not \(value)")
    }

    /// Every comma-separated count of `list` in `range`.
    static func check(list: String, _ range: ClosedRange<Int>, _ flag: String) throws {
        let parts = list.split(separator: ",", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.allSatisfy({ Int($0) != nil }) else { throw ValidationError("\(flag): comma-separated whole numbers") }
        for part in parts { try check(Int(part), range, flag) }
    }

    /// Counts of benchmarks and the like: up to ten million.
    static let count = 1...10_000_000
    static let countOrNone = 0...10_000_000
}
