/// One piece of work for a device, kept as data so that a call can queue it, run it later in
/// order, and compare it with the same point of the previous call (``DeviceQueue``).
enum DeviceWork: Equatable, Sendable {
    /// A kernel of a module on `blocks` blocks, with its argument struct's words.
    case launch(module: any DeviceModule, kernel: String, blocks: Int, arguments: [Int64])
    /// A matrix product: cuBLAS on a GPU.
    case gemm(DeviceGemm)
    /// `bytes` bytes copied within device memory.
    case copy(from: DevicePointer, to: DevicePointer, bytes: Int)
    /// `bytes` bytes set to zero.
    case zero(DevicePointer, bytes: Int)

    static func == (a: DeviceWork, b: DeviceWork) -> Bool {
        switch (a, b) {
        case (.launch(let m, let k, let n, let w), .launch(let m2, let k2, let n2, let w2)):
            m === m2 && k == k2 && n == n2 && w == w2
        case (.gemm(let g), .gemm(let g2)): g == g2
        case (.copy(let s, let d, let n), .copy(let s2, let d2, let n2)): s == s2 && d == d2 && n == n2
        case (.zero(let d, let n), .zero(let d2, let n2)): d == d2 && n == n2
        default: false
        }
    }

    /// Whether `a` and `b` are the same steps in the same order (each launch of the same kernel),
    /// so that a graph made of one can be updated to run the other: only pointers, sizes and
    /// other arguments differ.
    static func sameSteps(_ a: [DeviceWork], _ b: [DeviceWork]) -> Bool {
        a.count == b.count
            && zip(a, b).allSatisfy { x, y in
                switch (x, y) {
                case (.launch(let m, let k, _, _), .launch(let m2, let k2, _, _)): m === m2 && k == k2
                case (.gemm, .gemm), (.copy, .copy), (.zero, .zero): true
                default: false
                }
            }
    }

    /// How the work is listed in errors: `th_d0 ×3, gemm, th_softmax`.
    static func describe(_ work: [DeviceWork]) -> String {
        var names: [(String, Int)] = []
        for w in work {
            let name =
                switch w {
                case .launch(_, let kernel, _, _): kernel
                case .gemm: "gemm"
                case .copy: "copy"
                case .zero: "zero"
                }
            if let last = names.last, last.0 == name { names[names.count - 1].1 += 1 } else { names.append((name, 1)) }
        }
        let shown = names.prefix(8).map { $0.1 > 1 ? "\($0.0) ×\($0.1)" : $0.0 }.joined(separator: ", ")
        return names.count > 8 ? shown + ", …" : shown
    }
}

extension DeviceModule {
    /// ``launch(_:blocks:arguments:)`` with the argument struct as its words.
    func launch(_ kernel: String, blocks: Int, words: [Int64]) throws {
        try words.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            try launch(kernel, blocks: blocks, arguments: base)
        }
    }
}

/// A captured sequence of device work, instantiated and ready to run again: a CUDA graph on a
/// GPU. Replaying it costs one launch instead of one per kernel.
protocol DeviceGraph: AnyObject, Sendable {
    /// Makes the graph run `work` instead, which has the same steps (``DeviceWork/sameSteps``)
    /// with other arguments; false when the device cannot (a new graph is then made).
    func update(to work: [DeviceWork]) throws -> Bool
    /// Runs the graph and waits for it.
    func launch() throws
}
