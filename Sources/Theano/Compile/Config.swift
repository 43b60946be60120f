import Foundation
import NDArray
import Synchronization

/// How a compiled function treats an explicit input that the outputs do not use.
public enum UnusedInputPolicy: String, Sendable {
    case raise, warn, ignore
}

/// The library's settings: the only global mutable state. Read from `THEANO_FLAGS`
/// (`floatX=float64,mode=FAST_COMPILE,on_unused_input=warn`) at first use; change in code with
/// ``Config/current``:
///
/// ```swift
/// Config.current.floatX = .float64
/// ```
public struct Config: Sendable {
    /// The dtype of `matrix()`, `vector()`, … and of Swift float literals with integer tensors.
    public var floatX: DType = .float32
    /// The default compile mode.
    public var mode: Mode = .fastRun
    public var onUnusedInput: UnusedInputPolicy = .raise
    /// Whether an `NDArray` input of a wider dtype may be narrowed (float64 → float32).
    public var allowDowncast = false
    /// Whether compiled functions record time per node (``Function/profile``).
    public var profile = false
    /// The C compiler for native kernels (`THEANO_FLAGS=cxx=…`); nil: `$CC`, else `cc`, `gcc`
    /// or `clang`; empty: no native code (reference kernels everywhere).
    public var cxx: String?
    /// Where compiled kernels are cached (`THEANO_FLAGS=compiledir=…`); nil:
    /// `$XDG_CACHE_HOME/theano-swift` or `~/.cache/theano-swift`.
    public var compiledir: String?
    /// Parts our parallel loops and products are cut into (`THEANO_FLAGS=threads=…`); nil: one
    /// per core.
    public var threads: Int?
    /// Whether float32 native kernels flush denormal inputs and results to zero
    /// (`THEANO_FLAGS=flush_denormals=True`). Off by default: IEEE results. On, computations whose
    /// values underflow (tiny gradients, long products of probabilities) avoid the 10–100× slow
    /// path some CPUs take on denormals, at the cost of results that are exactly 0 instead.
    public var flushDenormals = false
    /// OpenBLAS threads (`THEANO_FLAGS=blas_threads=…`); nil: the library's default.
    public var blasThreads: Int?
    /// Whether products with a narrow side (3–15 columns, not 8, against hundreds of rows) run
    /// our own kernels instead of the BLAS library's (`THEANO_FLAGS=narrow_products=False` turns
    /// them off). See docs/NATIVE.md, "Narrow products".
    public var narrowProducts = true
    /// Whether products with a minibatch side (at most 64 rows, or an inner size of at most 64,
    /// against hundreds of columns) run our own kernels instead of the BLAS library's
    /// (`THEANO_FLAGS=short_products=False` turns them off). See docs/NATIVE.md, "Short products".
    public var shortProducts = true
    /// Where compiled functions run (`THEANO_FLAGS=device=cpu|cuda|cuda0|…|cuda-sim`): the CPU, or
    /// the CUDA backend (docs/GPU.md; `cuda-sim` runs its kernels on the CPU, for tests).
    public var device: Device = .cpu

    public init() {}

    /// Parses `THEANO_FLAGS`-style text: comma-separated `key=value` pairs.
    public init(flags: String) throws {
        var excluded: [String] = []
        defer { for name in excluded { mode = mode.excluding(name) } }
        for pair in flags.split(separator: ",") where !pair.trimmingCharacters(in: .whitespaces).isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard kv.count == 2 else { throw TheanoError(.config, "THEANO_FLAGS entry '\(pair)' is not key=value") }
            switch kv[0] {
            case "floatX":
                guard let d = DType(rawValue: kv[1]), d.isFloat else {
                    throw TheanoError(.config, "floatX must be float32 or float64, got '\(kv[1])'")
                }
                floatX = d
            case "mode":
                guard let m = Mode(name: kv[1]) else {
                    throw TheanoError(.config, "unknown mode '\(kv[1])' (FAST_RUN, FAST_COMPILE, DEBUG)")
                }
                mode = m
            case "on_unused_input":
                guard let p = UnusedInputPolicy(rawValue: kv[1]) else {
                    throw TheanoError(.config, "on_unused_input must be raise, warn or ignore")
                }
                onUnusedInput = p
            case "optimizer_excluding":
                excluded += kv[1].split(separator: ":").map(String.init)  // applied after `mode=`, whatever the order
            case "profile":
                profile = try Config.flag(kv)
            case "cxx":
                cxx = kv[1]
            case "compiledir":
                compiledir = kv[1]
            case "threads":
                guard let n = Int(kv[1]), n >= 1 else {
                    throw TheanoError(.config, "threads must be a positive integer, got '\(kv[1])'")
                }
                threads = n
            case "flush_denormals":
                flushDenormals = try Config.flag(kv)
            case "blas_threads":
                guard let n = Int(kv[1]), n >= 1 else {
                    throw TheanoError(.config, "blas_threads must be a positive integer, got '\(kv[1])'")
                }
                blasThreads = n
            case "narrow_products":
                narrowProducts = try Config.flag(kv)
            case "short_products":
                shortProducts = try Config.flag(kv)
            case "device":
                guard let d = Device(flag: kv[1]) else {
                    throw TheanoError(.config, "device must be cpu, cuda, cuda<N> or cuda-sim, got '\(kv[1])'")
                }
                device = d
            case "allow_downcast":
                allowDowncast = try Config.flag(kv)
            default:
                throw TheanoError(.config, "unknown THEANO_FLAGS key '\(kv[0])'")
            }
        }
    }

    private static let storage = Mutex<Config>(Config.fromEnvironment())

    /// Settings from `THEANO_FLAGS`; an invalid value is reported once on stderr and ignored.
    /// A boolean flag's value: True/true/1 or False/false/0; anything else is an error rather
    /// than a silent False.
    private static func flag(_ kv: [String]) throws -> Bool {
        switch kv[1] {
        case "True", "true", "1": return true
        case "False", "false", "0": return false
        default: throw TheanoError(.config, "\(kv[0]) must be True or False, got '\(kv[1])'")
        }
    }

    static func fromEnvironment() -> Config {
        guard let flags = ProcessInfo.processInfo.environment["THEANO_FLAGS"] else { return Config() }
        do { return try Config(flags: flags) } catch {
            FileHandle.standardError.write(Data("theano: ignoring THEANO_FLAGS: \(error)\n".utf8))
            return Config()
        }
    }

    /// The settings in force.
    public static var current: Config {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}

/// A compile mode: which rewrites run and which implementations are used.
///
/// ```swift
/// let f = try function(inputs: [x], outputs: [y], mode: .fastRun.excluding("log1p"))
/// ```
public struct Mode: Sendable, Hashable, CustomStringConvertible {
    /// `FAST_RUN`, `FAST_COMPILE` or `DEBUG`.
    public let name: String
    /// Rewrite names and tags that are not run.
    public private(set) var excluded: Set<String> = []

    /// All rewrites, elementwise fusion and native (generated C) kernels.
    public static let fastRun = Mode(named: "FAST_RUN")
    /// Merge, constant folding, canonicalize and stabilize; reference `perform` everywhere.
    public static let fastCompile = Mode(named: "FAST_COMPILE").excluding("specialize", "fusion", "native")
    /// `FAST_RUN` plus checks: every native kernel against the reference `perform`, every rewrite
    /// against the unoptimized graph, declared views and untouched inputs.
    public static let debug = Mode(named: "DEBUG")
    /// No rewrites and no native code: the graph exactly as built, run by the reference ops.
    public static let unoptimized = Mode(named: "FAST_RUN").excluding(
        "merge", "constant_folding", "canonicalize", "stabilize", "specialize", "fusion", "native")

    /// Whether this mode runs native kernels (not excluded by `"native"`).
    public var usesNativeCode: Bool { !excluded.contains("native") }

    /// Whether float32 native kernels flush denormals to zero (off by default; see
    /// ``Config/flushDenormals``, which turns it on for every mode).
    public private(set) var flushesDenormals = false

    /// This mode with denormal flushing on or off.
    ///
    /// ```swift
    /// let f = try function(inputs: [x], outputs: [y], mode: .fastRun.flushingDenormals())
    /// ```
    public func flushingDenormals(_ on: Bool = true) -> Mode {
        var m = self
        m.flushesDenormals = on
        return m
    }

    /// The device this mode's functions run on; nil: ``Config/device``.
    public private(set) var device: Device?

    /// This mode on `device`, whatever ``Config/device`` says.
    ///
    /// ```swift
    /// let f = try function(inputs: [x], outputs: [exp(x)], mode: .fastRun.on(.simulatedCUDA))
    /// ```
    public func on(_ device: Device) -> Mode {
        var m = self
        m.device = device
        return m
    }

    private init(named name: String) { self.name = name }

    public init?(name: String) {
        switch name.uppercased() {
        case "FAST_RUN": self = .fastRun
        case "FAST_COMPILE": self = .fastCompile
        case "DEBUG": self = .debug
        default: return nil
        }
    }

    /// This mode without the named rewrites or tags (`"log1p"`, `"stabilize"`, `"merge"`, …).
    public func excluding(_ names: String...) -> Mode {
        var m = self
        m.excluded.formUnion(names)
        return m
    }

    /// This mode with previously excluded rewrites or tags enabled again.
    public func including(_ names: String...) -> Mode {
        var m = self
        m.excluded.subtract(names)
        return m
    }

    public var description: String {
        (excluded.isEmpty ? name : "\(name) excluding \(excluded.sorted().joined(separator: ", "))")
            + (flushesDenormals ? ", flushing denormals" : "") + (device.map { " on \($0)" } ?? "")
    }
}
