import Foundation
import TroupeConfig
import TroupeCore

/// What a running runtime knows of its persona and config files: their last-seen state, and
/// the last definition each persona file gave that validated.
final class DefinitionWatch: Sendable {
    let location: ConfigLocation
    /// Path → modification time and size, of the config file and every persona file.
    private let seen: LockedBox<[String: [Int64]]>
    /// Persona file (as shown) → the definition it gave when it last validated.
    private let lastGood: LockedBox<[String: PersonaDefinition]>

    init(configuration: Configuration) {
        location = configuration.location
        seen = LockedBox(Self.snapshot(configuration.location))
        lastGood = LockedBox(Dictionary(configuration.personas.map { ($0.file, $0) }, uniquingKeysWith: { a, _ in a }))
    }

    /// Whether any file changed, appeared or went away since the last call (or since the
    /// runtime opened).
    func changed() -> Bool {
        let now = Self.snapshot(location)
        return seen.withLock { seen in
            defer { seen = now }
            return now != seen
        }
    }

    /// The personas to put in force from a fresh read: every one that validates, and for a file
    /// that no longer does, the definition it gave last (its errors are reported, and the
    /// previous definition stays in force). A persona whose file is gone is left out.
    func merge(valid: [PersonaDefinition], diagnostics: [Diagnostic]) -> [PersonaDefinition] {
        let broken = Set(diagnostics.filter { $0.severity == .error }.map(\.file))
        let present = Set(((try? Configuration.personaFiles(in: location.personasDirectory)) ?? []).map { DisplayPath.of($0) })
        var byFile = Dictionary(valid.map { ($0.file, $0) }, uniquingKeysWith: { a, _ in a })
        lastGood.withLock { lastGood in
            for file in broken where byFile[file] == nil && present.contains(file) {
                if let previous = lastGood[file] { byFile[file] = previous }
            }
            for definition in valid { lastGood[definition.file] = definition }
            lastGood = lastGood.filter { present.contains($0.key) }
        }
        // Two files may not give one name: the first (by file) stays.
        var names = Set<PersonaID>()
        return byFile.keys.sorted().compactMap { file in names.insert(byFile[file]!.name).inserted ? byFile[file] : nil }
    }

    private static func snapshot(_ location: ConfigLocation) -> [String: [Int64]] {
        var files = (try? Configuration.personaFiles(in: location.personasDirectory)) ?? []
        if let config = location.configFile { files.append(config) }
        var result: [String: [Int64]] = [:]
        for file in files {
            var info = stat()
            guard stat(file.path, &info) == 0 else { continue }
            result[file.path] = [Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec), Int64(info.st_size), Int64(info.st_ino)]
        }
        return result
    }
}

/// What putting changed definitions in force did.
public struct DefinitionReload: Sendable {
    public var added: [PersonaID] = []
    public var changed: [PersonaID] = []
    public var removed: [PersonaID] = []
    /// Problems found (file:line:column), with the line and a caret; a broken file's previous
    /// definition stays in force.
    public var diagnostics: [Diagnostic] = []
    /// Settings that changed in the config file but apply only when the runtime starts again.
    public var needRestart: [String] = []
}

extension Runtime {
    /// Polls the persona directory and the config file (every `interval`) and puts what
    /// changed in force. Ends when cancelled.
    func watchDefinitions(every interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard watch.changed() else { continue }
            report(reloadDefinitions())
        }
    }

    /// Reads the persona files and the config file again and puts the valid definitions in
    /// force: a new or changed persona is loaded, a broken file is reported and its previous
    /// definition stays, a removed persona stops taking turns (its memory stays).
    @discardableResult
    public func reloadDefinitions() -> DefinitionReload {
        let current = configuration.runtime
        let read = Configuration.reread(watch.location, current: current)
        var reload = DefinitionReload(diagnostics: read.diagnostics)
        let personas = watch.merge(valid: read.personas, diagnostics: read.diagnostics)
        var shared: [RuntimeConfig.SharedSlice]?
        if let runtime = read.runtime {
            shared = runtime.sharedSlices
            var restart: [String] = []
            if runtime.storage != current.storage { restart.append("storage") }
            if runtime.redis != current.redis { restart.append("redis") }
            if runtime.embedder != current.embedder { restart.append("embedder") }
            if runtime.retrieval != current.retrieval { restart.append("retrieval") }
            reload.needRestart = restart
        }
        (reload.added, reload.changed, reload.removed) = registry.replace(personas: personas, sharedSlices: shared)
        return reload
    }

    private func report(_ reload: DefinitionReload) {
        for diagnostic in reload.diagnostics {
            let text = diagnostic.description
            if diagnostic.severity == .error {
                logger.error("\(text)\n(the previous definition stays in force)")
            } else {
                logger.warning("\(text)")
            }
        }
        let changes = [("added", reload.added), ("changed", reload.changed), ("removed", reload.removed)]
            .filter { !$0.1.isEmpty }.map { "\($0.0) \($0.1.map(\.rawValue).joined(separator: ", "))" }
        if !changes.isEmpty { logger.notice("personas: \(changes.joined(separator: "; "))") }
        if !reload.needRestart.isEmpty {
            logger.warning("config: \(reload.needRestart.joined(separator: ", ")) changed; that takes effect when troupe starts again")
        }
    }
}
