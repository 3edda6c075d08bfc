import Foundation
import TroupeCore
import TroupeRuntime
import TroupeStore

extension TroupeService {
    /// Forgets every memory of `persona` and destroys its data keys, so that no copy of the store
    /// can be read for it (`memory forget --persona P --shred`): the whole home's operator only.
    /// Each memory leaves its forget receipt; the security log gets a line naming the keys.
    public func shred(persona: String, reason: String?, _ context: RequestContext) async throws -> ShredReceipt {
        try context.checkWholeHome("shred a persona's memory")
        guard let id = PersonaID(rawValue: persona) else {
            throw ArgumentError(field: "persona", "'\(persona)': \(PersonaID.problem(with: persona) ?? "not a persona name")")
        }
        let receipt = try await runtime.shred(persona: id, reason: reason)
        await log(
            .dataKeyShredded, key: nil,
            "\(persona): \(receipt.forgotten) memories forgotten, \(receipt.formationJobs) formation jobs dropped, data keys \(receipt.keys.joined(separator: ", ")) destroyed by \(context.principal.id)",
            context)
        return receipt
    }
}
