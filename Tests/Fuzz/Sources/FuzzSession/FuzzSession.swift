import Foundation
import FuzzSupport
import TroupeConfig

/// The configuration a session file is checked against: the five shipped personas, and two
/// shared slices of different kinds with some of them as members.
let configuration: Configuration = {
    var runtime = RuntimeConfig()
    runtime.sharedSlices = [
        .init(name: "team-decisions", kind: .semantic, members: ["athena", "artemis", "bellona", "hestia", "seshat"], policy: .keepBoth),
        .init(name: "incident-log", kind: .episodic, members: ["bellona", "hestia"], policy: .lastWriterWins),
    ]
    let personas = ["athena", "artemis", "bellona", "hestia", "seshat"].map { PersonaDefinition(name: .init(stringLiteral: $0)) }
    let location = ConfigLocation(configFile: nil, home: URL(fileURLWithPath: "/tmp"), personasDirectory: URL(fileURLWithPath: "/dev/shm"))
    return Configuration(location: location, runtime: runtime, personas: personas)
}()

/// A session file of any bytes, read and validated as `troupe run` does, its diagnostics
/// rendered.
func fuzzSession(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let url = URL(fileURLWithPath: "/dev/shm/troupe-fuzz-session-\(getpid()).yaml")
    _ = FileManager.default.createFile(atPath: url.path, contents: Data(bytes: data, count: size))
    let (_, diagnostics) = SessionDefinition.load(url, configuration: configuration)
    for diagnostic in diagnostics { _ = diagnostic.rendered }
    return 0
}

@_cdecl("FuzzSession_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzSession(data, size) }
}
