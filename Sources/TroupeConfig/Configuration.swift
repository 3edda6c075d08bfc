import Foundation
import TroupeCore
import Yams

/// Where a command finds its files: flags and environment first, then the working directory.
public struct ConfigLocation: Sendable, Hashable {
    /// The runtime config file in use, or `nil` for built-in defaults.
    public var configFile: URL?
    /// The home: `--home` > `TROUPE_HOME` > `home:` in the config file > `~/.troupe`.
    public var home: URL
    /// The persona directory: `personas:` in the config file > `./Personas` > `<home>/personas`.
    public var personasDirectory: URL

    public init(configFile: URL?, home: URL, personasDirectory: URL) {
        self.configFile = configFile
        self.home = home
        self.personasDirectory = personasDirectory
    }
}

/// A validated configuration: the runtime config and every persona.
public struct Configuration: Sendable {
    public var location: ConfigLocation
    public var runtime: RuntimeConfig
    /// Personas by name, in name order.
    public var personas: [PersonaDefinition]
    /// Persona files read, as shown to the user.
    public var personaFiles: [String]
    /// Warnings that did not stop loading.
    public var warnings: [Diagnostic]

    /// A configuration made in code (tests, benchmarks, embedders of the library).
    public init(
        location: ConfigLocation, runtime: RuntimeConfig = RuntimeConfig(), personas: [PersonaDefinition],
        personaFiles: [String] = [], warnings: [Diagnostic] = []
    ) {
        self.location = location
        self.runtime = runtime
        self.personas = personas.sorted { $0.name < $1.name }
        self.personaFiles = personaFiles
        self.warnings = warnings
    }

    public func persona(_ name: String) -> PersonaDefinition? {
        personas.first { $0.name.rawValue == name }
    }

    public func sharedSlice(_ name: String) -> RuntimeConfig.SharedSlice? {
        runtime.sharedSlices.first { $0.name.rawValue == name }
    }

    /// Loads and validates everything; throws a ``ConfigError`` listing every problem.
    public static func load(
        configFlag: String?, homeFlag: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    ) throws -> Configuration {
        let (location, runtime, configSource, members) = try locate(
            configFlag: configFlag, homeFlag: homeFlag, environment: environment, currentDirectory: currentDirectory)
        let files = try personaFiles(in: location.personasDirectory)
        let result = validate(personaFiles: files, runtime: runtime, configSource: configSource, members: members)
        let errors = result.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty else { throw ConfigError(result.diagnostics) }
        return Configuration(
            location: location, runtime: runtime, personas: result.personas,
            personaFiles: files.map { DisplayPath.of($0) }, warnings: result.diagnostics)
    }

    /// Resolves the config file, home and persona directory, and reads the config file.
    public static func locate(
        configFlag: String?, homeFlag: String?, environment: [String: String], currentDirectory: URL
    ) throws -> (ConfigLocation, RuntimeConfig, YAMLSource?, [(PersonaID, Node)]) {
        let fm = FileManager.default
        func absolute(_ path: String) -> URL {
            URL(fileURLWithPath: RuntimeConfig.resolve(path, against: currentDirectory))
        }
        let envHome = environment["TROUPE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
        let provisionalHome = (homeFlag ?? envHome).map(absolute)
            ?? fm.homeDirectoryForCurrentUser.appendingPathComponent(".troupe")

        var configFile: URL?
        if let path = configFlag ?? environment["TROUPE_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
            configFile = absolute(path)
            guard fm.fileExists(atPath: configFile!.path) else {
                throw ConfigError([Diagnostic(file: path, line: 0, column: 0, message: "config file not found")])
            }
        } else {
            let candidates = [
                currentDirectory.appendingPathComponent("Config/troupe.yaml"),
                provisionalHome.appendingPathComponent("troupe.yaml"),
            ]
            configFile = candidates.first { fm.fileExists(atPath: $0.path) }
        }

        var runtime = RuntimeConfig()
        var source: YAMLSource?
        var members: [(PersonaID, Node)] = []
        if let configFile {
            let yaml = YAMLSource(contentsOf: configFile)
            (runtime, members) = RuntimeConfig.read(from: yaml, directory: configFile.deletingLastPathComponent())
            if yaml.hasErrors { throw ConfigError(yaml.diagnostics) }
            source = yaml
        }
        let home = (homeFlag ?? envHome).map(absolute) ?? runtime.home.map { URL(fileURLWithPath: $0) } ?? provisionalHome
        let localPersonas = currentDirectory.appendingPathComponent("Personas")
        let personas = runtime.personasDirectory.map { URL(fileURLWithPath: $0) }
            ?? (fm.fileExists(atPath: localPersonas.path) ? localPersonas : home.appendingPathComponent("personas"))
        return (ConfigLocation(configFile: configFile, home: home, personasDirectory: personas), runtime, source, members)
    }

    /// Reads a runtime config file's contents (problems go to `source`).
    public static func read(runtimeFrom source: YAMLSource, directory: URL) -> RuntimeConfig {
        RuntimeConfig.read(from: source, directory: directory).0
    }

    /// The `.yaml` and `.yml` files of a persona directory, sorted; a missing directory is empty.
    public static func personaFiles(in directory: URL) throws -> [URL] {
        let fm = FileManager.default
        guard fm.fileExists(atPath: directory.path) else { return [] }
        let names = try fm.contentsOfDirectory(atPath: directory.path)
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            .map { directory.appendingPathComponent($0) }
    }

    /// Validates persona files together with the runtime config: every file on its own, then
    /// duplicate names, shared-slice references and shared-slice members.
    public static func validate(
        personaFiles: [URL], runtime: RuntimeConfig, configSource: YAMLSource? = nil,
        members: [(PersonaID, Node)] = []
    ) -> (personas: [PersonaDefinition], diagnostics: [Diagnostic]) {
        var sources: [YAMLSource] = []
        var read: [(definition: PersonaDefinition?, name: PersonaID?, nameNode: Node?, shared: [(PersonaID, Node)], source: YAMLSource)] = []
        for file in personaFiles {
            let source = YAMLSource(contentsOf: file)
            sources.append(source)
            let stem = file.deletingPathExtension().lastPathComponent
            if let r = PersonaDefinition.read(from: source, defaults: runtime.memory, fileStem: stem) {
                read.append((r.definition, r.name, r.nameNode, r.shared, source))
            }
        }

        var firstFile: [PersonaID: String] = [:]
        let sharedNames = Set(runtime.sharedSlices.map(\.name))
        for entry in read {
            let name = entry.name
            if let name {
                if let other = firstFile[name] {
                    entry.source.error("duplicate persona name '\(name)' (also defined in \(other))", at: entry.nameNode)
                } else {
                    firstFile[name] = entry.source.displayPath
                }
                if sharedNames.contains(name) {
                    entry.source.error("persona name '\(name)' is also the name of a shared slice", at: entry.nameNode)
                }
            }
            for (slice, node) in entry.shared {
                guard let declared = runtime.sharedSlices.first(where: { $0.name == slice }) else {
                    var message = "shared slice '\(slice)' is not declared in the runtime config"
                    if let guess = Suggestion.closest(to: slice.rawValue, in: sharedNames.map(\.rawValue)) {
                        message += " (did you mean '\(guess)'?)"
                    }
                    entry.source.error(message, at: node)
                    continue
                }
                if let name, !declared.members.contains(name) {
                    entry.source.error("persona '\(name)' is not a member of shared slice '\(slice)'", at: node)
                }
            }
        }
        var diagnostics = sources.flatMap(\.diagnostics)
        if let configSource {
            let personaNames = Set(read.compactMap(\.name))
            for (member, node) in members where !personaNames.contains(member) {
                var message = "shared slice member '\(member)' is not a known persona"
                if let guess = Suggestion.closest(to: member.rawValue, in: personaNames.map(\.rawValue)) {
                    message += " (did you mean '\(guess)'?)"
                }
                configSource.error(message, at: node)
            }
            diagnostics = configSource.diagnostics + diagnostics
        }
        let personas = read.filter { !$0.source.hasErrors }.compactMap(\.definition)
        return (personas.sorted { $0.name < $1.name }, diagnostics)
    }
}

extension Configuration {
    /// Reads the config file and persona files of `location` again, as a running runtime does
    /// when they change: the runtime config (`nil` when the file no longer validates, so the
    /// caller keeps the one in force), the personas that validate, and every diagnostic.
    public static func reread(_ location: ConfigLocation, current: RuntimeConfig) -> (
        runtime: RuntimeConfig?, personas: [PersonaDefinition], diagnostics: [Diagnostic]
    ) {
        var runtime: RuntimeConfig? = current
        var diagnostics: [Diagnostic] = []
        var source: YAMLSource?
        var members: [(PersonaID, Node)] = []
        if let file = location.configFile {
            let yaml = YAMLSource(contentsOf: file)
            let (read, references) = RuntimeConfig.read(from: yaml, directory: file.deletingLastPathComponent())
            if yaml.hasErrors {
                diagnostics += yaml.diagnostics
                runtime = nil
            } else {
                (runtime, source, members) = (read, yaml, references)
            }
        }
        let files = (try? personaFiles(in: location.personasDirectory)) ?? []
        let result = validate(personaFiles: files, runtime: runtime ?? current, configSource: source, members: members)
        return (runtime, result.personas, diagnostics + result.diagnostics)
    }
}
