import Foundation
import TroupeCore
import TroupeStore

/// A managed server never outlives its use: a small watchdog beside it stops it (SIGTERM; it
/// keeps no data) once its home is deleted, or once no client has been connected for
/// `idleStop` seconds, so a removed temporary home never leaves a daemon behind.
///
/// The watchdog is a shell loop (redis-server has no timer of its own for this) started with
/// the server, in its own process group; it ends with the server. It writes what it last saw
/// to `<home>/redis/watchdog` for `troupe doctor`.
extension ManagedRedis {
    var watchdogFile: URL { directory.appendingPathComponent("watchdog") }

    /// What the watchdog last saw, if it runs.
    public struct WatchdogState: Sendable, Hashable {
        /// When a client other than the watchdog was last connected.
        public var lastClient: Date
        /// Seconds without a client before the server stops (0: never).
        public var idleStop: Double
        /// Clients connected at the last look.
        public var clients: Int

        /// When the server stops if no client comes, or `nil` when it does not stop by itself.
        public var stopsAt: Date? { idleStop > 0 && clients == 0 ? lastClient.addingTimeInterval(idleStop) : nil }
    }

    /// The watchdog's last report (`nil` when none is running).
    public func watchdog() -> WatchdogState? {
        guard case .running = status(), let text = try? String(contentsOf: watchdogFile, encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard fields.count == 3 else { return nil }
        return WatchdogState(lastClient: Date(timeIntervalSince1970: fields[0]), idleStop: fields[1], clients: Int(fields[2]))
    }

    /// Starts the watchdog of the server `pid`.
    func watch(_ pid: Int32) throws {
        guard let cli = Self.cliBinary() else { return }
        // Its settings travel in the environment, not the command line: `ps` shows the watchdog
        // as what it is, not as a second process of the socket.
        try Self.daemonize("/bin/sh", ["-c", Self.watchdogScript, "troupe-redis-watchdog"], environment: [
            "TROUPE_WATCH_HOME=\(home.path)", "TROUPE_WATCH_SOCKET=\(socketPath)", "TROUPE_WATCH_PID=\(pid)",
            "TROUPE_WATCH_IDLE=\(Int(idleStop.rounded(.up)))", "TROUPE_WATCH_EVERY=\(String(format: "%.2f", max(0.1, watchInterval)))",
            "TROUPE_WATCH_STATE=\(watchdogFile.path)", "TROUPE_WATCH_CLI=\(cli)", "PATH=/usr/bin:/bin",
        ])
    }

    /// redis-cli, which the watchdog counts clients with.
    static func cliBinary() -> String? {
        guard let server = binary() else { return nil }
        let cli = (server as NSString).deletingLastPathComponent + "/redis-cli"
        return FileManager.default.isExecutableFile(atPath: cli) ? cli : nil
    }

    /// The settings come as `TROUPE_WATCH_*` variables (home, socket, server pid, idle seconds
    /// with 0 for never, interval, state file, redis-cli). The loop runs in the background so that
    /// the shell started by `daemonize` returns at once; `connected_clients` counts redis-cli
    /// itself.
    static let watchdogScript = #"""
        ( home=$TROUPE_WATCH_HOME sock=$TROUPE_WATCH_SOCKET pid=$TROUPE_WATCH_PID idle=$TROUPE_WATCH_IDLE
          every=$TROUPE_WATCH_EVERY state=$TROUPE_WATCH_STATE cli=$TROUPE_WATCH_CLI
          last=$(date +%s)
          while kill -0 "$pid" 2>/dev/null; do
            if [ ! -d "$home" ]; then kill -TERM "$pid"; exit 0; fi
            n=$("$cli" -s "$sock" info clients 2>/dev/null | tr -d '\r' | sed -n 's/^connected_clients://p')
            others=$(( ${n:-1} - 1 ))
            now=$(date +%s)
            if [ "$others" -gt 0 ]; then last=$now; fi
            printf '%s %s %s\n' "$last" "$idle" "$others" > "$state.tmp" 2>/dev/null && mv "$state.tmp" "$state" 2>/dev/null
            # Whole seconds: more than `idle` apart, so that at least `idle` seconds passed.
            if [ "$idle" -gt 0 ] && [ $(( now - last )) -gt "$idle" ]; then kill -TERM "$pid"; exit 0; fi
            sleep "$every"
          done ) </dev/null >/dev/null 2>&1 &
        """#
}
