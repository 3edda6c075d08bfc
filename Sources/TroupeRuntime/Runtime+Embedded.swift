import Foundation
import TroupeCore
import TroupeLLM

extension Runtime {
    /// The embedded SmolLM2 backend for the model at `file` (loaded once per process: the
    /// runtime keeps the backends it made).
    static func embeddedBackend(_ file: URL) throws -> any ChatBackend {
        try EmbeddedBackend(modelFile: file)
    }
}
