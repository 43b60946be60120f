import NDArray

/// How a convolution treats the image border.
public enum BorderMode: Hashable, Sendable, CustomStringConvertible {
    /// No padding: the filter stays inside the image (output `in − extent + 1`).
    case valid
    /// Every overlap of filter and image (padding `extent − 1`, output `in + extent − 1`).
    case full
    /// Padding `extent / 2` on each side: with stride 1 and an odd filter the output has the
    /// input's size (Theano's `half`, also called `same`).
    case half
    /// Explicit zero padding on each side of the rows and of the columns.
    case padding(Int, Int)

    /// Another name for ``half``.
    public static let same = BorderMode.half

    public var description: String {
        switch self {
        case .valid: "valid"
        case .full: "full"
        case .half: "half"
        case .padding(let r, let c): "(\(r), \(c))"
        }
    }

    /// The padding for a filter extent (`(k − 1)·dilation + 1`) along one axis.
    func pad(extent: Int, axis: Int) -> Int {
        switch self {
        case .valid: 0
        case .full: extent - 1
        case .half: extent / 2
        case .padding(let r, let c): axis == 0 ? r : c
        }
    }
}

/// Everything about a 2-d convolution except the data: border, strides, dilation, flip.
public struct ConvGeometry: Hashable, Sendable, CustomStringConvertible {
    public var border: BorderMode
    /// Row and column strides (Theano's `subsample`).
    public var stride: [Int]
    /// Row and column dilation (`filter_dilation`).
    public var dilation: [Int]
    /// `true`: a real convolution (the filters are flipped), as Theano's `conv2d`; `false`:
    /// cross-correlation, as most other libraries.
    public var filterFlip: Bool

    public var description: String {
        "border=\(border), stride=(\(stride[0]), \(stride[1])), dilation=(\(dilation[0]), \(dilation[1]))"
            + (filterFlip ? "" : ", correlation")
    }

    func validate() throws {
        guard stride.count == 2, stride.allSatisfy({ $0 >= 1 }) else {
            throw OpError("strides must be two positive integers, got \(stride)")
        }
        guard dilation.count == 2, dilation.allSatisfy({ $0 >= 1 }) else {
            throw OpError("dilation must be two positive integers, got \(dilation)")
        }
        if case .padding(let r, let c) = border, r < 0 || c < 0 {
            throw OpError("padding must not be negative, got (\(r), \(c))")
        }
    }

    /// Output length along `axis` for an input length and a filter length.
    func outputLength(input n: Int, filter k: Int, axis: Int) -> Int {
        let extent = (k - 1) * dilation[axis] + 1
        let padded = n + 2 * border.pad(extent: extent, axis: axis)
        return padded < extent ? 0 : (padded - extent) / stride[axis] + 1
    }

    /// The same, for static lengths that may be unknown.
    func outputLength(input n: Int?, filter k: Int?, axis: Int) -> Int? {
        guard let n, let k else { return nil }
        return outputLength(input: n, filter: k, axis: axis)
    }
}

/// The numbers of one convolution call: batch, channels, sizes, padding, strides, dilation.
struct ConvShape {
    let batch, channels, height, width: Int
    let filters, kh, kw: Int
    let outH, outW: Int
    let padH, padW, strideH, strideW, dilH, dilW: Int

    init(input x: [Int], filters w: [Int], geometry g: ConvGeometry) {
        batch = x[0]
        channels = x[1]
        height = x[2]
        width = x[3]
        filters = w[0]
        kh = w[2]
        kw = w[3]
        padH = g.border.pad(extent: (kh - 1) * g.dilation[0] + 1, axis: 0)
        padW = g.border.pad(extent: (kw - 1) * g.dilation[1] + 1, axis: 1)
        strideH = g.stride[0]
        strideW = g.stride[1]
        dilH = g.dilation[0]
        dilW = g.dilation[1]
        outH = g.outputLength(input: height, filter: kh, axis: 0)
        outW = g.outputLength(input: width, filter: kw, axis: 1)
    }

    /// Rows of the lowered matrix: one per (channel, filter row, filter column).
    var patch: Int { channels * kh * kw }
    /// Output pixels per image and channel.
    var pixels: Int { outH * outW }
}
