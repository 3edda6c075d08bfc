import Foundation
import TroupeCore
import TroupeLLM

extension Runtime {
    /// The embedded SmolLM2 backend for the model at `file`.
    static func embeddedBackend(_ file: URL) throws -> any ChatBackend {
        throw TroupeError(.unavailable, "the embedded chat model is not part of this build yet", context: file.path)
    }
}
