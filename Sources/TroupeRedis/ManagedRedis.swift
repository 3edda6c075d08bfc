import Foundation
import TroupeCore
import TroupeStore

/// The redis-server Troupe runs for a home (`redis.mode: managed`): a unix socket in the home
/// and no TCP port, no persistence (SQLite is the truth), started on first use, reused by every
/// later invocation, stopped by `troupe redis stop`.
public struct ManagedRedis: Sendable {
    /// `<home>/redis`: pidfile, log, and the socket when its path is short enough.
    public let directory: URL
    public let socketPath: String
    /// The home whose server this is: the server stops by itself once it is deleted.
    public let home: URL
    /// The server stops by itself after this many seconds without a client (0: never).
    public let idleStop: Double
    /// How often its watchdog looks (seconds).
    let watchInterval: Double

    public enum Status: Sendable, Hashable {
        case running(pid: Int32)
        case stopped
        /// A pidfile whose process is gone (killed, or the machine restarted).
        case stale(pid: Int32)
    }

    public init(home: URL, idleStop: Double = 0, watchInterval: Double = 5) {
        self.home = home
        self.idleStop = idleStop
        self.watchInterval = watchInterval
        directory = home.appendingPathComponent("redis")
        let inHome = directory.appendingPathComponent("redis.sock").path
        // A unix socket path holds at most 107 bytes; a deeper home gets one in the temporary
        // directory, named after the home.
        if inHome.utf8.count <= 100 {
            socketPath = inHome
        } else {
            socketPath = "/tmp/troupe-\(SHA256.hex(of: Array(home.standardizedFileURL.path.utf8)).prefix(16)).sock"
        }
    }

    public var endpoint: RedisEndpoint { RedisEndpoint(.unix(path: socketPath)) }
    var pidFile: URL { directory.appendingPathComponent("redis.pid") }
    public var logFile: URL { directory.appendingPathComponent("redis.log") }

    /// redis-server on PATH (or in /usr/bin, /usr/sbin), if installed.
    public static func binary() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/sbin", "/usr/local/bin"]
        return dirs.map { "\($0)/redis-server" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public func status() -> Status {
        guard let text = try? String(contentsOf: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
        else { return .stopped }
        return Self.isAlive(pid) ? .running(pid: pid) : .stale(pid: pid)
    }

    /// Whether `pid` is a live process. A daemon is reparented to PID 1, which in a container
    /// may never reap it: a zombie counts as dead.
    static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        // /proc files report a size of 0, so they are read with read(2), not Foundation.
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return true }
        let stat = String(decoding: buffer[..<count], as: UTF8.self)
        // "pid (name) S …": the state follows the name's closing parenthesis.
        guard let end = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: end)...].trimmingCharacters(in: .whitespaces).first != "Z"
    }

    /// Starts the server unless one already answers on the socket; returns its endpoint.
    /// Several processes may call this at once: they agree on one server (a lock serialises
    /// the check and the start).
    @discardableResult
    public func start(timeout: Double = 5) throws -> RedisEndpoint {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let lock = open(directory.appendingPathComponent("start.lock").path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw TroupeError(.unavailable, "cannot lock \(directory.path) to start redis-server") }
        flock(lock, LOCK_EX)
        defer { flock(lock, LOCK_UN); close(lock) }
        if case .running = status(), answers() { return endpoint }
        guard let binary = Self.binary() else {
            throw TroupeError(.unavailable, "redis-server is not installed (Scripts/setup installs it; or set `redis.mode: off`)")
        }
        try? FileManager.default.removeItem(atPath: socketPath)
        try? FileManager.default.removeItem(at: pidFile)
        try? FileManager.default.removeItem(at: watchdogFile)
        try Self.daemonize(binary, [
            "--port", "0", "--unixsocket", socketPath, "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
            "--daemonize", "yes", "--pidfile", pidFile.path, "--logfile", logFile.path, "--dir", directory.path,
        ])
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if answers() {
                if case .running(let pid) = status() { try watch(pid) }
                return endpoint
            }
            usleep(10_000)
        }
        throw TroupeError(.unavailable, "redis-server did not answer on \(socketPath) within \(timeout) s (see \(logFile.path))")
    }

    /// Stops the server (SIGTERM, then waits); whether one was running.
    @discardableResult
    public func stop(timeout: Double = 5) -> Bool {
        guard case .running(let pid) = status() else {
            try? FileManager.default.removeItem(at: pidFile)
            return false
        }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(timeout)
        while Self.isAlive(pid), Date() < deadline { usleep(10_000) }
        if Self.isAlive(pid) { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(at: pidFile)
        try? FileManager.default.removeItem(atPath: socketPath)
        try? FileManager.default.removeItem(at: watchdogFile)
        return true
    }

    /// Kills the server at once (SIGKILL), as a crash would; for fault tests.
    public func crash() {
        if case .running(let pid) = status() {
            kill(pid, SIGKILL)
            while Self.isAlive(pid) { usleep(1000) }
        }
    }

    /// Runs `binary`, which daemonises itself, and reaps the parent it leaves behind.
    static func daemonize(_ binary: String, _ arguments: [String], environment: [String]? = nil) throws {
        _ = try Spawn.run(binary, arguments, environment: environment)
    }

    /// Whether something answers PING on the socket.
    public func answers() -> Bool {
        guard let connection = try? RedisConnection(endpoint: endpoint, connectTimeout: 0.2, commandTimeout: 0.5) else { return false }
        return (try? connection.command([Array("PING".utf8)], name: "PING")) == .status("PONG")
    }
}
