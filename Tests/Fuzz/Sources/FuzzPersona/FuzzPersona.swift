import Foundation
import FuzzSupport
import TroupeConfig

/// A persona file of any bytes: read from disk as the loader reads it (type and size checks,
/// UTF-8 and NUL checks, YAML, every field), validated, and its diagnostics rendered.
func fuzzPersona(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let url = URL(fileURLWithPath: "/dev/shm/troupe-fuzz-persona-\(getpid()).yaml")
    _ = FileManager.default.createFile(atPath: url.path, contents: Data(bytes: data, count: size))
    var runtime = RuntimeConfig()
    runtime.sharedSlices = [.init(name: "team-decisions", kind: .semantic, members: ["athena"], policy: .keepBoth)]
    let result = Configuration.validate(personaFiles: [url], runtime: runtime)
    for diagnostic in result.diagnostics { _ = diagnostic.rendered }
    return 0
}

@_cdecl("FuzzPersona_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzPersona(data, size) }
}
