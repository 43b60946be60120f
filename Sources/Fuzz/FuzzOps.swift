import NDArray
import Theano

/// The fuzzer's vocabulary: each op name of `generate_fuzz.py` and the public constructor it
/// stands for.
enum FuzzOps {
    typealias Build = @Sendable ([Variable], FuzzCase.Node) throws -> Variable

    static let table: [String: Build] = {
        var all = structural
        for (name, f) in unary { all[name] = { @Sendable x, _ in f(x[0]) } }
        for (name, f) in binary { all[name] = { @Sendable x, _ in f(x[0], x[1]) } }
        return all
    }()

    static let unary: [String: @Sendable (Variable) -> Variable] = [
        "neg": { -$0 }, "exp": { exp($0) }, "log": { log($0) }, "log1p": { log1p($0) }, "expm1": { expm1($0) },
        "sqrt": { sqrt($0) }, "sqr": { sqr($0) }, "tanh": { tanh($0) }, "sigmoid": { sigmoid($0) },
        "softplus": { softplus($0) }, "sin": { sin($0) }, "cos": { cos($0) }, "reciprocal": { reciprocal($0) },
        "abs": { abs($0) }, "sign": { sign($0) }, "floor": { floor($0) }, "ceil": { ceil($0) }, "relu": { relu($0) },
        "softmax": { softmax($0) }, "log_softmax": { logSoftmax($0) }, "softsign": { softsign($0) }
    ]

    static let binary: [String: @Sendable (Variable, Variable) -> Variable] = [
        "add": { $0 + $1 }, "sub": { $0 - $1 }, "mul": { $0 * $1 }, "truediv": { $0 / $1 }, "pow": { $0 ** $1 },
        "maximum": { maximum($0, $1) }, "minimum": { minimum($0, $1) }, "intdiv": { intdiv($0, $1) },
        "mod": { $0 % $1 }, "eq": { eq($0, $1) }, "neq": { neq($0, $1) }, "lt": { lt($0, $1) },
        "le": { le($0, $1) }, "gt": { gt($0, $1) }, "ge": { ge($0, $1) }, "and": { $0 && $1 },
        "or": { $0 || $1 }, "xor": { xor($0, $1) }, "dot": { dot($0, $1) }, "outer": { outer($0, $1) },
        "advanced_subtensor": { $0[$1] },
        "categorical_crossentropy": { categoricalCrossentropy($0, $1) }
    ]

    static let structural: [String: Build] = [
        "select": { x, _ in select(x[0], x[1], x[2]) },
        "cast": { x, n in cast(x[0], try FuzzCase.dtype(n.dtype ?? "")) },
        "sum": { x, n in sum(x[0], axis: axes(n), keepdims: n.keepdims ?? false) },
        "prod": { x, n in prod(x[0], axis: axes(n), keepdims: n.keepdims ?? false) },
        "mean": { x, n in mean(x[0], axis: axes(n), keepdims: n.keepdims ?? false) },
        "max": { x, n in max(x[0], axis: axes(n), keepdims: n.keepdims ?? false) },
        "min": { x, n in min(x[0], axis: axes(n), keepdims: n.keepdims ?? false) },
        "all": { x, n in all(x[0], axis: axes(n), keepdims: n.keepdims ?? false) },
        "any": { x, n in any(x[0], axis: axes(n), keepdims: n.keepdims ?? false) },
        "argmax": { x, n in argmax(x[0], axis: single(n)) },
        "argmin": { x, n in argmin(x[0], axis: single(n)) },
        "reshape": { x, n in x[0].reshape(n.shape ?? []) },
        "flatten": { x, n in x[0].flatten(n.ndim ?? 1) },
        "dimshuffle": { x, n in
            x[0].dimshuffle(
                (n.pattern ?? []).map { p -> DimShuffleEntry in
                    if case .axis(let a) = p { return DimShuffleEntry(a) }
                    return DimShuffleEntry(nil)
                })
        },
        "concatenate": { x, n in concatenate([x[0], x[1]], axis: single(n) ?? 0) },
        "subtensor": { x, n in x[0][indices: items(n)] },
        "set_subtensor": { x, n in setSubtensor(x[0][indices: items(n)], x[1]) },
        "inc_subtensor": { x, n in incSubtensor(x[0][indices: items(n)], x[1]) },
        "advanced_inc_subtensor": { x, _ in incSubtensor(x[0][x[1]], x[2]) },
        "advanced_set_subtensor": { x, _ in setSubtensor(x[0][x[1]], x[2]) },
        "binary_crossentropy": { x, _ in binaryCrossentropy(x[0], x[1]) },
        "conv2d": { x, n in
            let border: BorderMode =
                switch n.border {
                case "full": .full
                case "half": .half
                default: .valid
                }
            let s = n.stride ?? [1, 1]
            return conv2d(x[0], x[1], border: border, stride: (s[0], s[1]), filterFlip: n.flip ?? true)
        },
        "pool2d": { x, n in
            let w = n.window ?? [2, 2]
            let s = n.stride ?? w
            let mode: PoolMode =
                switch n.mode {
                case "average_inc_pad": .averageIncludingPad
                case "average_exc_pad": .averageExcludingPad
                default: .max
                }
            return pool2d(
                x[0], window: (w[0], w[1]), ignoreBorder: n.ignoreBorder ?? true, stride: (s[0], s[1]),
                mode: mode)
        }
    ]

    static func axes(_ n: FuzzCase.Node) -> Axes {
        switch n.axis {
        case .one(let a)?: return Axes([a])
        case .several(let a)?: return Axes(a)
        case nil: return nil
        }
    }

    static func single(_ n: FuzzCase.Node) -> Int? {
        if case .one(let a)? = n.axis { return a }
        return nil
    }

    static func items(_ n: FuzzCase.Node) -> [any TensorIndex] {
        (n.items ?? []).map { item -> any TensorIndex in
            if let i = item.index { return i }
            return Slice(item.start, item.stop, step: item.step)
        }
    }
}
