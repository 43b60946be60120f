import Runtime
import Synchronization

/// Where a graph node was built in the user's code.
///
/// Operators such as `+` cannot take `#fileID` default arguments, so every node records the
/// return addresses of its call stack (about 3 µs with the image map captured once) and
/// symbolicates them only when a message needs the location: the first frame outside this
/// library's own sources is the user's line. Unwinding uses DWARF call-frame information
/// (`.precise`): release builds omit frame pointers and tail-call, which loses frames otherwise.
public final class SourceLocation: @unchecked Sendable, CustomStringConvertible {
    private let backtrace: Backtrace?
    private let explicit: (file: String, line: Int)?
    private let cache = Mutex<Resolved??>(nil)
    /// Symbolication reads shared debug-information caches: one thread at a time.
    private static let symbolication = Mutex<Void>(())

    private struct Resolved: Sendable {
        var file: String, line: Int, function: String
    }

    private static let images = ImageMap.capture()

    init(backtrace: Backtrace?) {
        self.backtrace = backtrace
        self.explicit = nil
    }

    /// A location given explicitly (used by tests and by code that builds nodes on a user's behalf).
    public init(file: String, line: Int) {
        self.backtrace = nil
        self.explicit = (file, line)
    }

    /// While a rewrite runs, the location of the node it replaces: what it builds keeps that
    /// location instead of the compiler's.
    @TaskLocal static var inherited: SourceLocation?

    /// Records the current call stack (or the inherited location during a rewrite).
    @inline(never)
    public static func capture() -> SourceLocation {
        if let inherited { return inherited }
        return SourceLocation(backtrace: try? Backtrace.capture(algorithm: .precise, limit: 32, top: 0, images: images))
    }

    /// The user's file, line and function, when debug information allows.
    public var resolved: (file: String, line: Int, function: String)? {
        if let e = explicit { return (e.file, e.line, "") }
        let r: Resolved? = cache.withLock { cached in
            if let c = cached { return c }
            let r = SourceLocation.symbolication.withLock { _ in resolve() }
            cached = .some(r)
            return r
        }
        return r.map { ($0.file, $0.line, $0.function) }
    }

    /// The file name (without directories), or nil when unknown.
    public var file: String? { resolved.map { String($0.file.split(separator: "/").last ?? "") } }
    public var line: Int? { resolved?.line }

    /// `File.swift:12`, or `unknown location`.
    public var description: String {
        guard let r = resolved else { return "unknown location" }
        let name = r.file.split(separator: "/").last.map(String.init) ?? r.file
        return "\(name):\(r.line)"
    }

    private func resolve() -> Resolved? {
        guard let bt = backtrace, let sym = bt.symbolicated(with: SourceLocation.images) else { return nil }
        for frame in sym.frames {
            guard let symbol = frame.symbol, let loc = symbol.sourceLocation else { continue }
            let path = loc.path
            // Our own frames: mangled names of module Theano, or files under Sources/Theano.
            if symbol.rawName.hasPrefix("$s6Theano") || path.contains("Sources/Theano/") || path.hasPrefix("<")
                || loc.line == 0
            {
                continue
            }
            return Resolved(file: path, line: loc.line, function: symbol.name)
        }
        return nil
    }
}
