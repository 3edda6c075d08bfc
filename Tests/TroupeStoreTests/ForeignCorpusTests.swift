import Foundation
import Testing
import TroupeCore
import TroupeStore
import TroupeStoreConformance

/// Each file in ForeignCorpus/FORMAT/ is an awkward or broken file of that system; the file
/// beside it with `.expected` added holds exactly what reading it must give: `error: FILE:LINE:COL:
/// MESSAGE` for a file that is refused (nothing imported), else one `note:` line per item left out
/// and the count of records. Files named `anonymous-…` are read without `--persona`.
///
/// `TROUPE_WRITE_EXPECTED=1 swift test --filter ForeignCorpusTests` rewrites the `.expected`
/// files from what the readers give now: read the diff before committing it.
@Suite("Foreign import corpus")
struct ForeignCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("ForeignCorpus")

    static var cases: [String] {
        ForeignFormat.allCases.flatMap { format in
            ((try? FileManager.default.contentsOfDirectory(atPath: corpus.appendingPathComponent(format.rawValue).path)) ?? [])
                .filter { !$0.hasSuffix(".expected") }.sorted().map { "\(format.rawValue)/\($0)" }
        }
    }

    /// What reading the file at `path` (relative to the corpus) gives, as the `.expected` file has it.
    static func outcome(_ path: String) -> String {
        let format = ForeignFormat(rawValue: String(path.split(separator: "/")[0]))!
        let name = String(path.split(separator: "/")[1])
        let context = ForeignContext(
            owner: name.hasPrefix("anonymous-") ? nil : "athena", knownOwners: ["athena", "seshat"],
            now: Date(timeIntervalSince1970: 1_790_000_000))
        let file = corpus.appendingPathComponent(path).path
        do {
            let read = try ForeignImporter.read(file: file, format: format, context: context)
            return (read.skipped.map { "note: \($0)" } + ["records: \(read.records.count) of \(read.items) items"]).joined(separator: "\n")
        } catch let error as TroupeError {
            // The path as given, shortened to the corpus's own.
            return "error: " + error.description.replacingOccurrences(of: corpus.path + "/", with: "")
        } catch {
            return "error: \(error)"
        }
    }

    @Test func everyFormatHasBrokenAndAwkwardFiles() {
        for format in ForeignFormat.allCases {
            #expect(Self.cases.filter { $0.hasPrefix(format.rawValue + "/") }.count >= 3, "\(format)")
        }
    }

    @Test(arguments: cases)
    func readsAsExpected(_ path: String) async throws {
        let expectedURL = Self.corpus.appendingPathComponent(path + ".expected")
        let (actual, expected) = try await offThePool("troupe-test.foreign-corpus") {
            let actual = Self.outcome(path)
            if ProcessInfo.processInfo.environment["TROUPE_WRITE_EXPECTED"] == "1" { try (actual + "\n").write(to: expectedURL, atomically: true, encoding: .utf8) }
            return (actual, try? String(contentsOf: expectedURL, encoding: .utf8))
        }
        #expect(expected != nil, "\(path) has no .expected file")
        #expect(actual + "\n" == expected, "\(path) reads as:\n\(actual)")
    }
}
