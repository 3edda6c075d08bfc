import Foundation
import TroupeCore
import TroupeStore

extension JSONView {
    /// `memory import --from … --json`: counts, what was written, and every item left out.
    public static func foreignImportReport(_ report: ForeignImporter.Report, file: String) -> JSONValue {
        let skipped: [JSONValue] = report.skipped.map { s in
            .object(["at": .string(s.location), "field": s.field.map(JSONValue.string) ?? .null, "message": .string(s.message)])
        }
        return .object([
            "file": .string(file), "from": .string(report.format.rawValue), "outcome": .string(report.dryRun ? "validated" : "imported"),
            "items": .number(Double(report.items)), "records": .number(Double(report.records)),
            "inserted": .number(Double(report.written.inserted)), "updated": .number(Double(report.written.updated)),
            "unchanged": .number(Double(report.written.unchanged)), "seconds": .number((report.seconds * 1000).rounded() / 1000),
            "not_imported": .array(skipped),
        ])
    }
}
