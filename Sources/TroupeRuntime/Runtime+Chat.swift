import Foundation
import TroupeConfig
import TroupeCore
import TroupeLLM

/// Which chat model answers a persona (`llm:` in the config, the persona's overrides, what the
/// machine has), and the backend itself, made once per process and kept.
extension Runtime {
    /// The `llm:` settings for `persona`: the config's, with the persona's overrides.
    public func llmSettings(for persona: PersonaDefinition?) -> LLMSettings {
        Self.llmSettings(configuration.runtime, persona: persona)
    }

    static func llmSettings(_ runtime: RuntimeConfig, persona: PersonaDefinition?) -> LLMSettings {
        let llm = runtime.llm
        let settings = LLMSettings(
            backend: BackendPreference(rawValue: llm.backend.rawValue) ?? .auto, baseURL: llm.baseURL, model: llm.model,
            apiKeyEnv: llm.apiKeyEnv, temperature: llm.temperature, maxTokens: llm.maxTokens,
            timeout: .milliseconds(Int64(llm.timeout * 1000)))
        guard let o = persona?.llm else { return settings }
        return settings.overridden(model: o.model, temperature: o.temperature, maxTokens: o.maxTokens, baseURL: o.baseURL)
    }

    /// Where the embedded model's file is looked for: `$TROUPE_LLM_MODEL_DIR`, else
    /// `<home>/models/smollm2-135m-instruct`, else `~/.troupe/models/smollm2-135m-instruct`
    /// (where Scripts/setup installs it).
    public var embeddedModelFile: URL { Self.embeddedModelFile(home: configuration.location.home) }

    static func embeddedModelFile(home: URL) -> URL {
        let name = "SmolLM2-135M-Instruct.Q4_1.gguf", folder = "smollm2-135m-instruct"
        if let dir = ProcessInfo.processInfo.environment["TROUPE_LLM_MODEL_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir).appendingPathComponent(name)
        }
        let inHome = home.appendingPathComponent("models/\(folder)/\(name)")
        if FileManager.default.fileExists(atPath: inHome.path) { return inHome }
        let user = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return URL(fileURLWithPath: user).appendingPathComponent(".troupe/models/\(folder)/\(name)")
    }

    /// What `auto` (or the configured backend) chooses for `persona`, and why not the others.
    public func selectBackend(for persona: PersonaDefinition?) async -> BackendSelection {
        let file = embeddedModelFile
        return await chat.selector.select(
            llmSettings(for: persona), environment: ProcessInfo.processInfo.environment, embeddedModelPath: file.path,
            embeddedModelInstalled: FileManager.default.isReadableFile(atPath: file.path))
    }

    /// The chat backend for `persona`, made on first use and shared by every persona that
    /// chooses the same one (one embedded model in memory, one HTTP client per server).
    public func chatBackend(for persona: PersonaDefinition?) async throws -> (backend: any ChatBackend, selection: BackendSelection) {
        let selection = await selectBackend(for: persona)
        let settings = llmSettings(for: persona)
        let backend = try await chat.backend(for: selection) {
            try BackendSelector.makeBackend(selection, settings: settings, embedded: { path in
                try Self.embeddedBackend(URL(fileURLWithPath: path))
            })
        }
        return (backend, selection)
    }
}

/// The runtime's chat backends: the selector (whose probe answers are kept for the process)
/// and the backends made so far, by what was chosen. A backend is made off the cooperative pool
/// (the embedded one reads and copies a GGUF), once: turns that ask for it meanwhile wait for it.
final class ChatBackends: Sendable {
    let selector: BackendSelector
    private let made = LockedBox<[BackendSelection.Choice: MadeOnce<any ChatBackend>]>([:])

    init(selector: BackendSelector = .live()) { self.selector = selector }

    func backend(for selection: BackendSelection, make: @escaping @Sendable () throws -> any ChatBackend) async throws -> any ChatBackend {
        let once = made.withLock { made in
            if let known = made[selection.choice] { return known }
            let once = MadeOnce("troupe.chat-backend.load", make)
            made[selection.choice] = once
            return once
        }
        do {
            return try await once.value()
        } catch {
            // Not kept: the next turn tries again (the file may have been installed meanwhile).
            made.withLock { made in
                if made[selection.choice] === once { made[selection.choice] = nil }
            }
            throw error
        }
    }
}
