import Foundation
import TroupeCore
import TroupeStore

/// A throwaway PostgreSQL server of the machine's own installation (Debian's `postgresql`):
/// `initdb` in a temporary directory, `pg_ctl` on a free loopback port with its socket in that
/// directory, trust authentication for the user `troupe`. For tests and benchmarks: ``stop()``
/// stops and removes it, and a watchdog does the same if the process that started it dies.
///
/// PostgreSQL refuses to run as root; as root, the server runs as the `postgres` user that
/// Debian's package creates.
///
/// It keeps no state of its own, so it holds no lock: ``start()``, ``stopServer()`` and
/// ``stop()`` each run `pg_ctl` and wait for the server, and a caller runs them one after
/// another (PostgreSQL itself refuses a second server on one data directory).
public final class ScratchPostgres: Sendable {
    public let directory: URL
    public let port: Int
    private let bin: String

    /// The data directory.
    public var data: String { directory.appendingPathComponent("data").path }

    /// The server over TCP on loopback.
    public var url: String { "postgres://troupe@127.0.0.1:\(port)/postgres" }

    /// The server over its unix socket.
    public var socketURL: String {
        "postgres://troupe@" + (directory.path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? directory.path)
            + ":\(port)/postgres"
    }

    /// The directory holding `initdb` and `pg_ctl`: on the PATH, else the newest under
    /// /usr/lib/postgresql; `nil` when PostgreSQL is not installed.
    public static func binaries() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":").map(String.init)
        where FileManager.default.isExecutableFile(atPath: directory + "/initdb") && FileManager.default.isExecutableFile(atPath: directory + "/pg_ctl") {
            return directory
        }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return versions.compactMap(Int.init).sorted().last.map { "/usr/lib/postgresql/\($0)/bin" }
            .flatMap { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") ? $0 : nil }
    }

    /// Creates and starts a server; `settings` are extra `-c name=value` pairs.
    public init(settings: [String: String] = [:]) throws {
        guard let bin = Self.binaries() else {
            throw TroupeError(.unavailable, "PostgreSQL is not installed (Debian's package 'postgresql'; Scripts/setup installs it)")
        }
        self.bin = bin
        directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("troupe-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = try FreePort.find()
        if getuid() == 0 { try Self.run("/bin/chown", ["postgres:postgres", directory.path]) }
        try asServerUser("initdb", ["-D", data, "-U", "troupe", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        var options = ["listen_addresses": "127.0.0.1", "max_connections": "400", "unix_socket_directories": directory.path]
        options.merge(settings) { _, new in new }
        let conf = options.sorted { $0.key < $1.key }.map { "\($0.key) = '\($0.value)'" }.joined(separator: "\n")
        try (conf + "\nport = \(port)\n").appendingTo(data + "/postgresql.auto.conf")
        try watchdog()
        try start()
    }

    /// Starts the server (again, after ``kill()`` or ``stopServer()``); waits until it accepts connections.
    public func start() throws {
        try asServerUser("pg_ctl", ["-D", data, "-l", directory.path + "/server.log", "-w", "-t", "120", "start"])
    }

    /// Stops the server (fast shutdown: sessions are ended, everything committed is kept).
    public func stopServer() throws {
        try asServerUser("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"])
    }

    /// Kills the server's postmaster with SIGKILL, as a crash would.
    public func kill() throws {
        let pidLine = try String(contentsOfFile: data + "/postmaster.pid", encoding: .utf8).split(separator: "\n").first
        guard let pid = pidLine.flatMap({ Int32($0) }) else { throw TroupeError(.unavailable, "the server has no pid file") }
        Foundation.kill(pid, SIGKILL)
        // The other server processes notice the postmaster is gone and exit.
        for _ in 0..<200 where Foundation.kill(pid, 0) == 0 { usleep(20_000) }
    }

    /// Stops the server and removes its directory.
    public func stop() {
        try? asServerUser("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(at: directory)
    }

    private func asServerUser(_ tool: String, _ arguments: [String]) throws {
        if getuid() == 0 {
            try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", bin + "/" + tool] + arguments)
        } else {
            try Self.run(bin + "/" + tool, arguments)
        }
    }

    /// A shell that waits for this process to end, then stops the server and removes it.
    private func watchdog() throws {
        let stop = getuid() == 0 ? "/usr/sbin/runuser -u postgres -- \(bin)/pg_ctl" : "\(bin)/pg_ctl"
        let script = """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
            \(stop) -D '\(data)' -m immediate stop >/dev/null 2>&1; rm -rf '\(directory.path)'
            """
        // In the background of a shell that returns at once, so that the watchdog is not our child.
        try Self.run("/bin/sh", ["-c", "(\(script)) >/dev/null 2>&1 &"])
    }

    private static func run(_ executable: String, _ arguments: [String]) throws {
        let log = NSTemporaryDirectory() + "troupe-pg-run-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let status = try Spawn.run(executable, arguments, output: log)
        guard status == 0 else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw TroupeError(.unavailable, "\((executable as NSString).lastPathComponent) \(arguments.first ?? "") failed: \(text.suffix(600))")
        }
    }
}

extension String {
    fileprivate func appendingTo(_ path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(utf8))
    }
}

/// A free TCP port on the loopback interface (bound to port 0, read back, released).
public enum FreePort {
    public static func find() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TroupeError(.unavailable, "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TroupeError(.unavailable, "bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
