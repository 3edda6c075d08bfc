import Foundation

/// Gathers recall requests that arrive within a short window and answers them as one batch:
/// the queries are embedded together and each partition is scored once for all of them, so a
/// round in which eight personas recall costs one sgemm per partition, not one per persona.
public actor RecallBatcher {
    let recaller: Recaller
    /// How long the first request of a batch waits for others.
    let window: Duration
    /// Batches larger than this are answered at once, without waiting out the window.
    let maxBatch: Int
    private var pending: [(request: RecallRequest, reply: CheckedContinuation<[RecallHit], any Error>)] = []
    private var scheduled = false
    /// Batches answered so far, and requests in them (for stats and tests).
    public private(set) var batches = 0
    public private(set) var requests = 0

    public init(recaller: Recaller, window: Duration = .milliseconds(2), maxBatch: Int = 256) {
        self.recaller = recaller
        self.window = window
        self.maxBatch = max(1, maxBatch)
    }

    /// Recalls for `request`, batched with whatever else arrives within the window.
    public func recall(_ request: RecallRequest) async throws -> [RecallHit] {
        try await withCheckedThrowingContinuation { reply in
            pending.append((request, reply))
            if pending.count >= maxBatch {
                Task { await self.flush() }
            } else if !scheduled {
                scheduled = true
                Task {
                    try? await Task.sleep(for: self.window)
                    await self.flush()
                }
            }
        }
    }

    private func flush() async {
        scheduled = false
        let batch = pending
        pending.removeAll()
        guard !batch.isEmpty else { return }
        batches += 1
        requests += batch.count
        do {
            let answers = try await recaller.recall(batch: batch.map(\.request))
            for (item, answer) in zip(batch, answers) { item.reply.resume(returning: answer) }
        } catch {
            for item in batch { item.reply.resume(throwing: error) }
        }
    }
}
