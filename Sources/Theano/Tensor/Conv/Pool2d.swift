import NDArray

/// How a pooling window summarises its pixels.
public enum PoolMode: String, Hashable, Sendable {
    /// The largest value (NaN if any is NaN).
    case max
    /// The mean over the window's pixels inside the padded image, padding counted as zeros.
    case averageIncludingPad
    /// The mean over the window's pixels inside the image itself.
    case averageExcludingPad
}

/// The window, strides, padding and border rule of a 2-d pooling.
public struct PoolGeometry: Hashable, Sendable, CustomStringConvertible {
    public var window: [Int]
    public var stride: [Int]
    public var padding: [Int]
    /// `true`: only whole windows (of the padded image); `false`: windows cut by the bottom and
    /// right border give an output too (over the pixels they do cover).
    public var ignoreBorder: Bool
    public var mode: PoolMode

    public var description: String {
        "\(mode), window=(\(window[0]), \(window[1])), stride=(\(stride[0]), \(stride[1]))"
            + (padding == [0, 0] ? "" : ", padding=(\(padding[0]), \(padding[1]))")
            + (ignoreBorder ? "" : ", partial windows")
    }

    func validate() throws {
        guard window.count == 2, window.allSatisfy({ $0 >= 1 }) else {
            throw OpError("the pooling window must be two positive integers, got \(window)")
        }
        guard stride.count == 2, stride.allSatisfy({ $0 >= 1 }) else {
            throw OpError("pooling strides must be two positive integers, got \(stride)")
        }
        guard padding.count == 2, padding.allSatisfy({ $0 >= 0 }) else {
            throw OpError("pooling padding must be two non-negative integers, got \(padding)")
        }
        guard padding[0] < window[0], padding[1] < window[1] else {
            throw OpError(
                "pooling padding (\(padding[0]), \(padding[1])) must be smaller than the window (\(window[0]), "
                    + "\(window[1])): a window could hold padding only"
            )
        }
        guard ignoreBorder || padding == [0, 0] else {
            throw OpError("pooling with padding needs ignoreBorder: true (as Theano's)")
        }
    }

    /// Output length along `axis` (0 rows, 1 columns), as Theano's `Pool.out_shape`.
    func outputLength(_ n: Int, axis: Int) -> Int {
        let w = window[axis]
        let s = stride[axis]
        let padded = n + 2 * padding[axis]
        if ignoreBorder { return padded < w ? 0 : (padded - w) / s + 1 }
        if n == 0 { return 0 }
        return s >= w ? (n - 1) / s + 1 : max(0, (n - 1 - w + s) / s) + 1
    }
}

/// 2-d pooling over the last two axes of a tensor of rank ≥ 2, and its gradients.
///
/// - `forward(x)` → the pooled tensor;
/// - `grad(x, gy)` → ∂/∂x of ⟨gy, pool(x)⟩: each output's gradient goes to the first maximum of
///   its window (max), or is spread evenly over the pixels it averaged;
/// - `gradGrad(x, h)` (max only) → the adjoint of `grad` in `gy`: for each window, `h` at the
///   window's first maximum. With it, second derivatives of max pooling are exact.
public struct Pool2d: DifferentiableOp {
    public enum Role: Hashable, Sendable { case forward, grad, gradGrad }
    public let role: Role
    public let geometry: PoolGeometry

    public var description: String {
        let name =
            switch role {
            case .forward: "Pool2d"
            case .grad: "Pool2dGrad"
            case .gradGrad: "MaxPool2dGradGrad"
            }
        return "\(name){\(geometry)}"
    }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        try geometry.validate()
        guard inputs.count == (role == .forward ? 1 : 2) else {
            throw OpError("\(self) takes \(role == .forward ? 1 : 2) inputs, got \(inputs.count)")
        }
        let x = inputs[0]
        guard x.ndim >= 2 else {
            throw OpError("pool2d pools the last two axes and needs a tensor of rank ≥ 2, got \(x)")
        }
        guard inputs.allSatisfy({ $0.dtype.isFloat }) else {
            throw OpError("pool2d needs float tensors, got \(inputs.summary); cast first")
        }
        guard role != .gradGrad || geometry.mode == .max else { throw OpError("gradGrad exists for max pooling only") }
        let pooled =
            Array(x.shape.dropLast(2)) + [
                x.shape[x.ndim - 2].map { geometry.outputLength($0, axis: 0) },
                x.shape[x.ndim - 1].map { geometry.outputLength($0, axis: 1) }
            ]
        let dtype = inputs.dropFirst().reduce(x.dtype) { DType.promote($0, $1.dtype) }
        if role != .forward {
            let other = inputs[1]
            let expected = role == .grad ? pooled : x.shape
            guard other.ndim == x.ndim else { throw OpError("\(self): inputs \(inputs.summary) differ in rank") }
            for (d, (a, b)) in zip(other.shape, expected).enumerated() {
                if let a, let b, a != b {
                    throw OpError("\(self): length \(a) in dimension \(d), expected \(b)", kind: .shape)
                }
            }
        }
        return [TensorType(dtype, shape: role == .grad ? x.shape : pooled)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] { try perform(inputs, reusing: []) }

    public var reusesBuffers: Bool { true }

    public func perform(_ inputs: [NDArray], reusing buffers: [NDArray?]) throws -> [NDArray] {
        try perform(inputs, reusing: buffers, native: nil)
    }

    /// `native`: the native backend's image kernels, which run max pooling by tiling windows.
    func perform(_ inputs: [NDArray], reusing buffers: [NDArray?], native: FixedKernels?) throws -> [NDArray] {
        let dtype = inputs.dropFirst().reduce(inputs[0].dtype) { DType.promote($0, $1.dtype) }
        let x = inputs[0]
        let h = x.shape[x.ndim - 2]
        let w = x.shape[x.ndim - 1]
        let s = PoolShape(
            planes: x.shape.dropLast(2).reduce(1, *), height: h, width: w,
            outH: geometry.outputLength(h, axis: 0), outW: geometry.outputLength(w, axis: 1), geometry: geometry)
        let pooled = Array(x.shape.dropLast(2)) + [s.outH, s.outW]
        if role != .forward {
            let expected = role == .grad ? pooled : x.shape
            guard inputs[1].shape == expected else {
                throw OpError(
                    "\(self): the second input has shape \(inputs[1].shape), expected \(expected) for images "
                        + "\(x.shape)",
                    kind: .shape)
            }
        }
        let data = inputs.map { ($0.dtype == dtype ? $0 : $0.cast(to: dtype)).contiguous() }
        let shape = role == .grad ? x.shape : pooled
        let out = try reusable(buffers, 0, shape: shape, dtype: dtype) ?? NDArray.empty(shape, dtype: dtype)
        if let native = native?.image(dtype), PoolKernels.isTiled(s), s.planes > 0, s.outH > 0, s.outW > 0,
            let kernel = role == .forward ? native.maxPool : (role == .grad ? native.maxPoolGrad : nil)
        {
            let g = geometry.window
            let dims = [s.height, s.width, s.outH, s.outW, g[0], g[1]].map { Int64($0) }
            let x = UnsafeRawPointer(ImageKernels.pointer(data[0]))
            let other = data.count > 1 ? UnsafeRawPointer(ImageKernels.pointer(data[1])) : nil
            let y = ImageKernels.pointer(out)
            let done = withExtendedLifetime(data) {
                dims.withUnsafeBufferPointer { d in
                    parallelChunksSucceed(s.planes, work: s.planes * s.height * s.width) { r in
                        kernel(d.baseAddress, x, other, y, Int64(r.lowerBound), Int64(r.upperBound)) == 0
                    }
                }
            }
            guard done else {
                throw OpError(
                    "\(self): the native kernel could not allocate its scratch rows for images \(inputs[0].shape)")
            }
            return [out]
        }
        switch dtype {
        case .float32: run(Float.self, data, s, out)
        default: run(Double.self, data, s, out)
        }
        return [out]
    }

    private func run<T: ConvFloat>(_: T.Type, _ a: [NDArray], _ s: PoolShape, _ out: NDArray) {
        let x = a[0].basePointer(as: T.self)
        let y = out.basePointer(as: T.self)
        switch role {
        case .forward: PoolKernels.forward(x, s, y)
        case .grad: PoolKernels.grad(x, a[1].basePointer(as: T.self), s, y)
        case .gradGrad: PoolKernels.gradGrad(x, a[1].basePointer(as: T.self), s, y)
        }
    }
}

/// Pools the last two axes of `input` (as Theano's `pool_2d`): windows of `window` pixels every
/// `stride` (default: the window), after zero `padding` on each side.
///
/// ```swift
/// let p = pool2d(conv2d(x, w), window: (2, 2))                  // LeNet's max-pooling
/// let a = pool2d(x, window: (3, 3), stride: (1, 1), padding: (1, 1), mode: .averageExcludingPad)
/// ```
public func pool2d(
    _ input: Variable, window: (Int, Int), ignoreBorder: Bool = true, stride: (Int, Int)? = nil,
    padding: (Int, Int) = (0, 0), mode: PoolMode = .max
) -> Variable {
    let st = stride ?? window
    let g = PoolGeometry(
        window: [window.0, window.1], stride: [st.0, st.1], padding: [padding.0, padding.1],
        ignoreBorder: ignoreBorder, mode: mode)
    return apply1(Pool2d(role: .forward, geometry: g), [input])
}

extension Pool2d {
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        guard let h = gradients[0] else { return Array(repeating: .disconnected, count: node.inputs.count) }
        let x = node.inputs[0]
        func op(_ r: Role, _ i: [Variable]) -> Variable { apply1(Pool2d(role: r, geometry: geometry), i) }
        switch role {
        case .forward:
            return [.value(cast(op(.grad, [x, h]), x.dtype))]
        case .grad:
            // Linear in gy; piecewise constant in x (which only chooses the maxima).
            let gy = node.inputs[1]
            let back = geometry.mode == .max ? op(.gradGrad, [x, h]) : op(.forward, [h])
            return [.zero, .value(cast(back, gy.dtype))]
        case .gradGrad:
            return [.zero, .value(cast(op(.grad, [x, h]), node.inputs[1].dtype))]
        }
    }
}

extension Pool2d {
    public func outputLength(_ node: Apply, output o: Int, dim d: Int) -> Variable? {
        if let n = ShapeInference.staticLength(node, o, d) { return n }
        return role == .grad || d < node.inputs[0].ndim - 2 ? ShapeInference.length(node.inputs[0], d) : nil
    }
}

extension Pool2d: ImageKernelOp {}
