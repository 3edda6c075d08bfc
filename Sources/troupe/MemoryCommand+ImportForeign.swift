import ArgumentParser
import Foundation
import TroupeCore
import TroupeRuntime
import TroupeService
import TroupeStore

extension ForeignFormat: ExpressibleByArgument {}

extension MemoryCommand.Import {
    /// `memory import --from FORMAT FILE`: another system's file through the service; each item
    /// left out is listed on stderr (`FILE: agents[0].tools: not imported: …`).
    func runForeign(_ format: ForeignFormat) async throws {
        let service = TroupeService(runtime: try await global.runtime())
        if !noEmbed, !dryRun, let warning = service.embedderWarning { Output.warning(warning) }
        let request = ForeignImportRequest(format: format, file: file, owner: persona, dryRun: dryRun, batchSize: batchSize, embedding: !noEmbed)
        let report = try await service.importForeign(request, .local)
        if json {
            Output.json(JSONView.foreignImportReport(report, file: file))
            return
        }
        for item in report.skipped {
            Output.stderr("\(file): \(item.location): note: not imported: " + (item.field.map { "field '\($0)': " } ?? "") + item.message)
        }
        Output.stdout(Self.summary(report, file: file))
    }

    static func summary(_ r: ForeignImporter.Report, file: String) -> String {
        let g = ProgressLine.grouped
        var text = "\(file) (\(r.format.rawValue)): \(g(r.items)) items → \(g(r.records)) records"
        if r.dryRun {
            text += " (dry run: nothing written)"
        } else {
            text += ": \(g(r.written.inserted)) new, \(g(r.written.updated)) updated, \(g(r.written.unchanged)) unchanged"
        }
        if !r.skipped.isEmpty { text += "; \(g(r.skipped.count)) not imported (listed above)" }
        return text
    }
}
