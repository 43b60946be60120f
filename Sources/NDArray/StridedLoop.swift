/// Walks several arrays of one (broadcast) shape together, one innermost row at a time.
///
/// Dimensions that are contiguous for every operand are merged first, so a loop over
/// contiguous arrays is a single row. Callers write the tight inner loop themselves:
///
/// ```swift
/// StridedLoop(shape: out.shape, strides: [a.strides, out.strides])
///     .forEachRow(offsets: [a.offset, out.offset]) { offs, n, inner in … }
/// ```
public struct StridedLoop {
    public private(set) var shape: [Int]
    public private(set) var strides: [[Int]]

    public init(shape: [Int], strides: [[Int]]) {
        // Drop length-1 dimensions, then merge neighbours that are contiguous for every operand.
        var dims: [(n: Int, s: [Int])] = []
        for (i, n) in shape.enumerated() where n != 1 {
            dims.append((n, strides.map { $0[i] }))
        }
        var merged: [(n: Int, s: [Int])] = []
        for d in dims {
            if let last = merged.last,
                zip(last.s, d.s).allSatisfy({ $0 == $1 * d.n })
            {
                merged[merged.count - 1] = (last.n * d.n, d.s)
            } else {
                merged.append(d)
            }
        }
        if merged.isEmpty { merged = [(1, strides.map { _ in 0 })] }
        self.shape = merged.map(\.n)
        self.strides = (0..<strides.count).map { k in merged.map { $0.s[k] } }
    }

    /// Calls `body(offsets, count, innerStrides)` once per innermost row; `offsets` holds each
    /// operand's element offset at the row's start.
    public func forEachRow(
        offsets start: [Int],
        _ body: (_ offsets: [Int], _ count: Int, _ innerStrides: [Int]) -> Void
    ) {
        let nd = shape.count
        if shape.contains(0) { return }
        let k = strides.count
        let inner = strides.map { $0[nd - 1] }
        let n = shape[nd - 1]
        var offsets = start
        if nd == 1 {
            body(offsets, n, inner)
            return
        }
        var index = [Int](repeating: 0, count: nd - 1)
        while true {
            body(offsets, n, inner)
            var d = nd - 2
            while d >= 0 {
                index[d] += 1
                for j in 0..<k { offsets[j] += strides[j][d] }
                if index[d] < shape[d] { break }
                for j in 0..<k { offsets[j] -= strides[j][d] * shape[d] }
                index[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }
}
