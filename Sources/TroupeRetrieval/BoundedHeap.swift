/// The best `capacity` elements seen so far, as a min-heap on "worse": the root is the worst
/// kept, so a newcomer that cannot make the cut costs one comparison and nothing but the
/// survivors is ever sorted.
struct BoundedHeap<Element> {
    let capacity: Int
    /// Whether the first element ranks below the second (ties must be broken, for stable results).
    let isWorse: (Element, Element) -> Bool
    private(set) var items: [Element] = []

    init(capacity: Int, isWorse: @escaping (Element, Element) -> Bool) {
        self.capacity = max(0, capacity)
        self.isWorse = isWorse
        items.reserveCapacity(self.capacity)
    }

    var isFull: Bool { items.count >= capacity }

    /// The worst element kept, which a newcomer must beat once the heap is full.
    var worst: Element? { items.first }

    mutating func insert(_ element: Element) {
        if items.count < capacity {
            items.append(element)
            var i = items.count - 1
            while i > 0, isWorse(items[i], items[(i - 1) / 2]) {
                items.swapAt(i, (i - 1) / 2)
                i = (i - 1) / 2
            }
        } else if capacity > 0, isWorse(items[0], element) {
            items[0] = element
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count, isWorse(items[l], items[m]) { m = l }
                if r < items.count, isWorse(items[r], items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
    }

    /// Best first.
    func sorted() -> [Element] { items.sorted { isWorse($1, $0) } }
}
