import NDArray

/// Copies (or adds) equally shaped strided blocks between two arrays of one dtype: block `i`
/// starts at element offset `srcOffsets[i]` in `src` and `dstOffsets[i]` in `dst`. Blocks are
/// processed in order, so repeated destinations accumulate when `accumulate` is set.
///
/// Writes through `dst`'s storage directly: callers pass a freshly made (unshared) array.
func transferBlocks(
    from src: NDArray, offsets srcOffsets: [Int], strides srcStrides: [Int],
    to dst: NDArray, offsets dstOffsets: [Int], strides dstStrides: [Int],
    shape: [Int], accumulate: Bool
) {
    precondition(src.dtype == dst.dtype, "transferBlocks needs one dtype")  // internal invariant
    src.dtype.visit(
        BlockVisitor(
            src: src, srcOffsets: srcOffsets, srcStrides: srcStrides, dst: dst,
            dstOffsets: dstOffsets, dstStrides: dstStrides, shape: shape,
            accumulate: accumulate))
}

private struct BlockVisitor: DTypeVisitor {
    let src: NDArray, srcOffsets: [Int], srcStrides: [Int]
    let dst: NDArray, dstOffsets: [Int], dstStrides: [Int]
    let shape: [Int], accumulate: Bool

    func visit<T: NDElement>(_: T.Type) {
        let s = src.storage.pointer.assumingMemoryBound(to: T.self)
        let d = dst.storage.pointer.assumingMemoryBound(to: T.self)
        let loop = StridedLoop(shape: shape, strides: [srcStrides, dstStrides])
        let isFloat = T.dtype.isFloat
        for (so, dOff) in zip(srcOffsets, dstOffsets) {
            loop.forEachRow(offsets: [so, dOff]) { o, n, st in
                var i = o[0]
                var j = o[1]
                if accumulate {
                    for _ in 0..<n {
                        d[j] =
                            isFloat
                            ? T(double: d[j].doubleValue + s[i].doubleValue)
                            : T(int64: d[j].int64Value &+ s[i].int64Value)
                        i += st[0]
                        j += st[1]
                    }
                } else {
                    for _ in 0..<n {
                        d[j] = s[i]
                        i += st[0]
                        j += st[1]
                    }
                }
            }
        }
    }
}

extension NDArray {
    /// A fresh contiguous copy (never shares storage with `self`).
    func freshCopy() -> NDArray { contiguous(forceCopy: true) }
}

/// Row-major element offsets of every position of `shape` in an array with `strides`.
func allOffsets(shape: [Int], strides: [Int], base: Int) -> [Int] {
    var out: [Int] = []
    out.reserveCapacity(shape.reduce(1, *))
    func walk(_ axis: Int, _ off: Int) {
        if axis == shape.count {
            out.append(off)
            return
        }
        for i in 0..<shape[axis] { walk(axis + 1, off + i * strides[axis]) }
    }
    walk(0, base)
    return out
}
