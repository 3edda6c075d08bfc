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

    /// The personas to put in force from a fresh read, and the diagnostics to report: every
    /// persona that validates, and for a file that no longer does, the definition it gave last
    /// (its errors are reported, and the previous definition stays in force). A persona whose
    /// file is gone is left out. Two files may not give one name: the file whose definition is in
    /// force keeps it, and the other is refused with an error naming both (see
    /// ``nameCollisions(_:present:)``).
    func merge(valid: [PersonaDefinition], diagnostics: [Diagnostic]) -> (personas: [PersonaDefinition], diagnostics: [Diagnostic]) {
        let files = ((try? Configuration.personaFiles(in: location.personasDirectory)) ?? []).map { (DisplayPath.of($0), $0) }
        let present = Dictionary(files, uniquingKeysWith: { a, _ in a })
        let (diagnostics, refused) = nameCollisions(diagnostics, present: present)
        var byFile = Dictionary(valid.filter { !refused.contains($0.file) }.map { ($0.file, $0) }, uniquingKeysWith: { a, _ in a })
        lastGood.withLock { lastGood in
            // A present file that gave nothing to put in force is broken, refused, or kept its
            // name against a newcomer (validation blamed it): its last definition stays.
            for file in present.keys where byFile[file] == nil {
                if let previous = lastGood[file] { byFile[file] = previous }
            }
            for definition in byFile.values { lastGood[definition.file] = definition }
            lastGood = lastGood.filter { present[$0.key] != nil }
        }
        // Whatever else gives one name twice (cannot happen after the above): the first file stays.
        var names = Set<PersonaID>()
        let personas = byFile.keys.sorted().compactMap { file in names.insert(byFile[file]!.name).inserted ? byFile[file] : nil }
        return (personas, diagnostics)
    }

    /// Files that give a name another file gives. Validation blames the later file by name
    /// (`duplicate persona name`); a running runtime knows better: the file whose definition is
    /// in force keeps the name, and each other file giving it is refused, with an error naming
    /// both. When none of them is in force, all are refused. Returns the diagnostics with the
    /// duplicate errors replaced, and the refused files.
    func nameCollisions(_ diagnostics: [Diagnostic], present: [String: URL]) -> (diagnostics: [Diagnostic], refused: Set<String>) {
        let prefix = "duplicate persona name '"
        var claims: [PersonaID: Set<String>] = [:]
        var kept: [Diagnostic] = []
        for diagnostic in diagnostics {
            guard diagnostic.severity == .error, diagnostic.message.hasPrefix(prefix),
                let close = diagnostic.message.dropFirst(prefix.count).firstIndex(of: "'"),
                let name = PersonaID(rawValue: String(diagnostic.message.dropFirst(prefix.count)[..<close])),
                let other = diagnostic.message.range(of: "(also defined in ").map({ diagnostic.message[$0.upperBound...].dropLast() })
            else {
                kept.append(diagnostic)
                continue
            }
            claims[name, default: []].formUnion([diagnostic.file, String(other)])
        }
        guard !claims.isEmpty else { return (diagnostics, []) }
        let inForce = lastGood.value
        var refused = Set<String>()
        for (name, files) in claims.sorted(by: { $0.key < $1.key }) {
            let holder = files.sorted().first { inForce[$0]?.name == name }
            for file in files.sorted() where file != holder {
                refused.insert(file)
                let others = files.subtracting([file]).sorted().joined(separator: ", ")
                let message = holder.map { "persona name '\(name)' is taken by \($0), whose definition stays in force: " }
                    ?? "persona name '\(name)' is also given by \(others); neither is loaded: "
                kept.append(Self.diagnostic(
                    file: file, url: present[file], name: name,
                    message: message + "change 'name:' in \(file) (or remove one of the files)"))
            }
        }
        return (kept, refused)
    }

    /// An error at the `name:` line of a persona file.
    private static func diagnostic(file: String, url: URL?, name: PersonaID, message: String) -> Diagnostic {
        let lines = url.flatMap { try? String(contentsOf: $0, encoding: .utf8) }?.split(separator: "\n", omittingEmptySubsequences: false) ?? []
        let index = lines.firstIndex { $0.hasPrefix("name:") }
        let column = index.flatMap { lines[$0].range(of: name.rawValue) }.map { lines[index!].distance(from: lines[index!].startIndex, to: $0.lowerBound) + 1 }
        return Diagnostic(
            file: file, line: index.map { $0 + 1 } ?? 0, column: column ?? 1, message: message, sourceLine: index.map { String(lines[$0]) },
            length: name.rawValue.count)
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
        let (personas, diagnostics) = watch.merge(valid: read.personas, diagnostics: read.diagnostics)
        var reload = DefinitionReload(diagnostics: diagnostics)
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
                // A refused name says itself what stays in force.
                let note = diagnostic.message.contains("in force") ? "" : "\n(the previous definition stays in force)"
                logger.error("\(text)\(note)")
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
