import NDArray
import Testing

/// Expects `got` to match `want` array by array: the same shape and dtype, and every element
/// within `tolerance` (times `max(scaleFloor, |want|)` when a floor is given, so large values get
/// a relative bound). A tolerance of 0 asks for equal elements.
///
/// ```swift
/// expectClose(try device(x), try reference(x), tolerance: 2e-5, scaleFloor: 1)
/// ```
public func expectClose(
    _ got: [NDArray], _ want: [NDArray], tolerance: Double, scaleFloor: Double? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(got.count == want.count, sourceLocation: sourceLocation)
    for (k, (g, w)) in zip(got, want).enumerated() {
        #expect(g.shape == w.shape && g.dtype == w.dtype, "output \(k): \(g) \(w)", sourceLocation: sourceLocation)
        for (p, q) in zip(g.doubles, w.doubles) {
            let bound = scaleFloor.map { tolerance * max($0, abs(q)) } ?? tolerance
            #expect(abs(p - q) <= bound, "output \(k): \(p) \(q)", sourceLocation: sourceLocation)
        }
    }
}
