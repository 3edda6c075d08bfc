import Foundation
import NIOConcurrencyHelpers

extension BackendSelector {
    /// The selector `troupe` uses: it probes with ``OpenAIBackend/probe(timeout:)`` (no key, no
    /// retries, `timeout` in all) and remembers each URL's answer for the rest of the process,
    /// so that choosing a backend for every persona costs one probe, not one each.
    public static func live(timeout: Duration = .milliseconds(300)) -> BackendSelector {
        BackendSelector(probe: { url in try await ProbeCache.shared.models(at: url, timeout: timeout) })
    }

    /// The backend for `selection`, with `settings`' timeouts and key. The embedded backend is
    /// built by `embedded` (it lives in its own part of TroupeLLM, wired by the runtime); the
    /// offline backend says which candidates were missing.
    public static func makeBackend(
        _ selection: BackendSelection, settings: LLMSettings, environment: [String: String] = ProcessInfo.processInfo.environment,
        embedded: (_ path: String) throws -> any ChatBackend
    ) throws -> any ChatBackend {
        switch selection.choice {
        case .openAI(let baseURL, let model):
            return OpenAIBackend(openAIConfiguration(baseURL: baseURL, model: model, settings: settings), environment: environment)
        case .embedded(let path):
            return try embedded(path)
        case .offline:
            return OfflineBackend(reason: offlineReason(selection))
        }
    }

    /// Why offline, for its replies: the setting, or what `auto` found missing.
    static func offlineReason(_ selection: BackendSelection) -> String {
        if selection.reason.hasPrefix("llm.backend") { return selection.reason }
        let missing = selection.rejected.filter { $0.candidate == .ollama || $0.candidate == .embedded }
        return missing.map { "\($0.candidate.rawValue): \($0.reason)" }.joined(separator: "; ")
    }

    /// The HTTP backend's configuration for a chosen server: `llm.timeout` is both the
    /// first-token and the idle timeout.
    public static func openAIConfiguration(baseURL: String, model: String?, settings: LLMSettings) -> OpenAIBackend.Configuration {
        OpenAIBackend.Configuration(
            baseURL: baseURL, model: model, apiKeyEnv: settings.apiKeyEnv, connectTimeout: settings.connectTimeout,
            firstTokenTimeout: settings.timeout, idleTimeout: settings.timeout)
    }
}

/// Probe answers by URL, for the life of the process (a server that appears later is seen by
/// the next process: a REPL does not re-probe between turns).
final class ProbeCache: Sendable {
    static let shared = ProbeCache()

    private enum Answer {
        case models([String])
        case failed(any Error)
    }
    private let answers = NIOLockedValueBox<[String: Answer]>([:])

    func models(at url: String, timeout: Duration) async throws -> [String] {
        switch answers.withLockedValue({ $0[url] }) {
        case .models(let models)?: return models
        case .failed(let error)?: throw error
        case nil: break
        }
        // Two callers probing at once both probe; the answers agree, and the lock is never held
        // across an await.
        do {
            let models = try await OpenAIBackend(.init(baseURL: url, retry: RetryPolicy(maxAttempts: 1)), environment: [:])
                .probe(timeout: timeout)
            answers.withLockedValue { $0[url] = .models(models) }
            return models
        } catch {
            answers.withLockedValue { $0[url] = .failed(error) }
            throw error
        }
    }
}
