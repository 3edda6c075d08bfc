import Foundation
import TroupeConfig
import TroupeCore
import TroupeLLM
import TroupeRedis
import TroupeRetrieval
import TroupeStore

/// What `troupe doctor` finds: each check with a status and an explanation.
public struct DoctorReport: Sendable {
    public enum Status: String, Sendable { case ok, warning, error }

    public struct Check: Sendable {
        public var name: String
        public var status: Status
        public var detail: String
        /// Further lines: files, counts, hints.
        public var notes: [String] = []
    }

    public var checks: [Check] = []
    /// Current records per owner and slice, when the store could be opened.
    public var stats: StoreStats?

    public var worst: Status {
        checks.contains { $0.status == .error } ? .error : checks.contains { $0.status == .warning } ? .warning : .ok
    }
}

/// Runs the checks. Unlike other commands, the doctor works on a broken setup and explains it.
public enum Doctor {
    public static func run(
        configFlag: String?, homeFlag: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) async -> DoctorReport {
        var report = DoctorReport()
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)

        // Config and personas.
        let location: ConfigLocation
        let runtime: RuntimeConfig
        do {
            let located = try Configuration.locate(configFlag: configFlag, homeFlag: homeFlag, environment: environment, currentDirectory: cwd)
            location = located.0
            runtime = located.1
            report.checks.append(.init(
                name: "config", status: .ok,
                detail: location.configFile.map { DisplayPath.of($0) } ?? "none found; built-in defaults in use"))
        } catch let error as ConfigError {
            report.checks.append(.init(name: "config", status: .error, detail: "invalid", notes: error.diagnostics.map(\.description)))
            return report
        } catch {
            report.checks.append(.init(name: "config", status: .error, detail: "\(error)"))
            return report
        }

        do {
            let c = try Configuration.load(configFlag: configFlag, homeFlag: homeFlag, environment: environment)
            let status: DoctorReport.Status = c.personas.isEmpty ? .warning : .ok
            var notes = zip(c.personas, c.personas.map(\.file)).map { "\($0.name): \($1)" }
            notes += c.warnings.map(\.description)
            report.checks.append(.init(
                name: "personas", status: status,
                detail: "\(c.personas.count) valid in \(DisplayPath.of(location.personasDirectory))"
                    + (c.personas.isEmpty ? " (add YAML files there)" : ""),
                notes: notes))
        } catch let error as ConfigError {
            report.checks.append(.init(
                name: "personas", status: .error,
                detail: "\(error.errors.count) errors in \(DisplayPath.of(location.personasDirectory)); other commands refuse to start",
                notes: error.diagnostics.map(\.description)))
        } catch {
            report.checks.append(.init(name: "personas", status: .error, detail: "\(error)"))
        }

        // Home and store.
        if let problem = HomeDirectory.problem(location.home) {
            report.checks.append(.init(name: "home", status: .error, detail: problem))
            return report
        }
        report.checks.append(.init(
            name: "home", status: .ok,
            detail: location.home.path + (FileManager.default.fileExists(atPath: location.home.path) && !HomeDirectory.isWritable(location.home)
                ? " (read-only: recall and export work, writes fail)" : "")))
        let (vault, sealer) = vaultCheck(runtime.storage, home: location.home, environment: environment)
        if let vault { report.checks.append(vault) }
        let (check, store) = await storeCheck(runtime, home: location.home, sealer: sealer)
        report.checks.append(check)
        if let store {
            report.stats = try? await store.stats()
            report.checks.append(await accessCheck(store: store))
        }
        if runtime.storage.mirror != nil { report.checks.append(await mirrorCheck(runtime.storage, primary: store, environment: environment)) }

        // Components of later tiers.
        report.checks.append(await redisCheck(runtime, home: location.home, store: store))
        report.checks.append(blasCheck())
        report.checks.append(modelCheck(runtime, home: location.home))
        report.checks.append(await llmCheck(runtime, home: location.home))
        return report
    }

    /// Which chat backend `llm:` chooses here and why, and why not each of the others.
    static func llmCheck(_ runtime: RuntimeConfig, home: URL) async -> DoctorReport.Check {
        let file = Runtime.embeddedModelFile(home: home)
        let selection = await BackendSelector.live().select(
            Runtime.llmSettings(runtime, persona: nil), environment: ProcessInfo.processInfo.environment,
            embeddedModelPath: file.path, embeddedModelInstalled: FileManager.default.isReadableFile(atPath: file.path))
        let what: String
        switch selection.choice {
        case .openAI(let url, let model): what = "\(selection.candidate.rawValue): \(url)" + (model.map { " model \($0)" } ?? "")
        case .embedded(let path): what = "embedded SmolLM2-135M-Instruct (\(DisplayPath.of(URL(fileURLWithPath: path))))"
        case .offline: what = "offline: replies say that no model is available"
        }
        let notes = ["chosen because \(selection.reason)"] + selection.rejected.filter { !$0.reason.isEmpty }
            .map { "not \($0.candidate.rawValue): \($0.reason)" }
        return .init(name: "llm", status: selection.choice == .offline && runtime.llm.backend != .offline ? .warning : .ok, detail: what, notes: notes)
    }

    static func redisCheck(_ runtime: RuntimeConfig, home: URL, store: (any MemoryStore)?) async -> DoctorReport.Check {
        if runtime.redis.mode == .off { return .init(name: "redis", status: .ok, detail: "off (SQLite only, by config)") }
        let endpoint: RedisEndpoint
        var detail: String
        var watchdog: String?
        if runtime.redis.mode == .external {
            do { endpoint = try RedisEndpoint(url: runtime.redis.url ?? "") } catch {
                return .init(name: "redis", status: .error, detail: "\(error)")
            }
            detail = "external at \(endpoint)"
        } else {
            guard let binary = ManagedRedis.binary() else {
                return .init(
                    name: "redis", status: .warning,
                    detail: "redis-server not found; Troupe runs on SQLite alone (install it with Scripts/setup)")
            }
            let managed = ManagedRedis(home: home, idleStop: runtime.redis.idleStop)
            let output = (try? await offThePool("troupe.doctor.redis") { Executable.output(binary, ["--version"]) }) ?? nil
            let version = output?.split(separator: " ").first { $0.hasPrefix("v=") }
                .map { String($0.dropFirst(2)) } ?? "unknown version"
            switch managed.status() {
            case .running(let pid):
                detail = "managed redis-server \(version), pid \(pid), on \(managed.socketPath)"
                watchdog = watchdogNote(managed)
            case .stopped, .stale:
                return .init(
                    name: "redis", status: .ok,
                    detail: "managed redis-server \(version) at \(binary): not running; the first command that needs it starts it on \(managed.socketPath)")
            }
            endpoint = managed.endpoint
        }
        guard let store else { return .init(name: "redis", status: .ok, detail: detail) }
        let tier = HotTier(
            client: RedisClient(endpoint: endpoint, connectTimeout: 0.3, commandTimeout: 0.5), home: home, store: store, clock: SystemClock(),
            reconnects: false)
        let stats = await tier.stats()
        await tier.close()
        guard stats.mode != .degraded else {
            return .init(
                name: "redis", status: .warning,
                detail: "\(detail): unreachable; Troupe works on SQLite alone (degraded mode) and reconnects when it is back")
        }
        var notes = stats.hotItems.sorted { $0.key < $1.key }.map { "hot: \($0.key) \($0.value)" }
        if notes.isEmpty { notes.append("hot: nothing (no live working memory or recent episodes)") }
        notes.append(HotTierText.cache(stats))
        if let watchdog { notes.append(watchdog) }
        return .init(name: "redis", status: .ok, detail: detail, notes: notes)
    }

    /// When the managed server will stop by itself, as its watchdog last saw it.
    static func watchdogNote(_ managed: ManagedRedis) -> String {
        guard let state = managed.watchdog() else { return "stops: no watchdog runs (it stops with `troupe redis stop`)" }
        guard state.idleStop > 0 else { return "stops: when its home is deleted (idle_stop: never)" }
        let idle = DurationText.format(state.idleStop)
        if let at = state.stopsAt {
            return "stops: at \(Timestamp.format(at)) unless a client connects (\(idle) without a client), or when its home is deleted"
        }
        return "stops: \(idle) after its last client leaves (\(state.clients) connected now), or when its home is deleted"
    }

    static func blasCheck() -> DoctorReport.Check {
        BLASThreads.configure()  // the threads a runtime uses
        guard let handle = dlopen("libblas.so.3", RTLD_NOW) ?? dlopen("libblas.so", RTLD_NOW) else {
            return .init(name: "blas", status: .warning, detail: "libblas not found (install libopenblas-dev with Scripts/setup)")
        }
        defer { dlclose(handle) }
        if let symbol = dlsym(handle, "openblas_get_config") {
            typealias GetConfig = @convention(c) () -> UnsafePointer<CChar>?
            let config = unsafeBitCast(symbol, to: GetConfig.self)().map { String(cString: $0) } ?? "OpenBLAS"
            var threads = ""
            if let t = dlsym(handle, "openblas_get_num_threads") {
                typealias GetThreads = @convention(c) () -> Int32
                threads = ", \(unsafeBitCast(t, to: GetThreads.self)()) threads"
            }
            return .init(name: "blas", status: .ok, detail: "OpenBLAS (\(config.trimmingCharacters(in: .whitespaces))\(threads))")
        }
        return .init(
            name: "blas", status: .warning,
            detail: "reference BLAS only (about 25× slower than OpenBLAS; install libopenblas-dev)")
    }

    static func modelCheck(_ runtime: RuntimeConfig, home: URL) -> DoctorReport.Check {
        let (found, looked) = EmbedderChoice.modelDirectory(runtime, home: home)
        if let found {
            return .init(name: "embedder", status: .ok, detail: "\(runtime.embedder.model) at \(found.path) (MiniLM in Swift on BLAS)")
        }
        let fallback = runtime.embedder.fallback == "hashing"
            ? "the hashing fallback is in use (word overlap only, no synonyms)" : "recall is lexical only (fallback: none)"
        return .init(
            name: "embedder", status: .warning,
            detail: "model \(runtime.embedder.model) not installed (looked in \(looked.map(\.path).joined(separator: ", ")); "
                + "needs \(EmbedderChoice.modelFiles.joined(separator: " and "))); \(fallback); Scripts/setup installs it")
    }

    /// The model id of the vectors a home's recall uses (the model, its fallback, or none).
    static func embedderModelID(_ runtime: RuntimeConfig, home: URL) -> String? {
        if modelCheck(runtime, home: home).status == .ok { return runtime.embedder.model }
        return runtime.embedder.fallback == "hashing" ? "hashing-384-v1" : nil
    }
}

/// Finding and running helper programs.
enum Executable {
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin"]
        return dirs.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func output(_ path: String, _ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(data: data, encoding: .utf8)
    }
}

/// How the hot tier reads in `memory stats` and `doctor`.
public enum HotTierText {
    public static func cache(_ stats: HotTier.Stats) -> String {
        let lookups = stats.cacheHits + stats.cacheMisses
        guard let rate = stats.hitRate else { return "recall cache: no lookups yet" }
        return String(format: "recall cache: %.0f%% of %@ lookups served from Redis", rate * 100, ProgressLine.grouped(lookups))
    }

    /// The figures `memory stats --json` and `redis status --json` give.
    public static func json(_ stats: HotTier.Stats) -> JSONValue {
        .object([
            "endpoint": .string(stats.endpoint), "mode": .string(stats.mode.rawValue),
            "hot_items": .object(stats.hotItems.mapValues { .number(Double($0)) }),
            "cache_hits": .number(Double(stats.cacheHits)), "cache_misses": .number(Double(stats.cacheMisses)),
        ])
    }

    public static func summary(_ stats: HotTier.Stats) -> String {
        guard stats.mode != .degraded else {
            return "hot tier: Redis at \(stats.endpoint) unreachable since \(stats.degradedSince.map(Timestamp.format) ?? "?"): SQLite alone (degraded)"
        }
        var bySlice: [String: Int] = [:]
        for (key, count) in stats.hotItems { bySlice[String(key.split(separator: "/").last ?? ""), default: 0] += count }
        let hot = bySlice.isEmpty ? "nothing hot" : bySlice.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") + " hot"
        return "hot tier: Redis at \(stats.endpoint) (up): \(hot); \(cache(stats))"
    }
}
