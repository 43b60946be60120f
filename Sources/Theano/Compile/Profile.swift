import Foundation
import NDArray

/// Time spent per node and per op kind over the calls of a function compiled with profiling on
/// (`function(…, profile: true)` or `THEANO_FLAGS=profile=True`).
///
/// ```swift
/// let f = try function(inputs: [x], outputs: [y], profile: true)
/// for _ in 0..<100 { try f(batch) }
/// print(f.profile!)          // op kinds by total time, the slowest nodes, host↔device transfers
/// ```
///
/// On a CUDA device a node without a device kernel runs on the host: the bytes it brings down
/// from the device (and those that go up for the next device node) are listed per node.
public final class Profile: CustomStringConvertible, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var nodeSeconds: [Double]
    /// Host↔device traffic while each node ran (the call's ``TrafficTally``).
    private(set) var nodeTraffic: [MirrorTraffic]
    private let nodeNames: [String]
    private let kindNames: [String]
    public private(set) var calls = 0

    init(nodes: [Apply]) {
        nodeSeconds = Array(repeating: 0, count: nodes.count)
        nodeTraffic = Array(repeating: MirrorTraffic(), count: nodes.count)
        nodeNames = nodes.map { "\($0.op) (\($0.location))" }
        kindNames = nodes.map { String(describing: type(of: $0.op)) }
    }

    func record(node: Int, seconds: Double, traffic: MirrorTraffic? = nil) {
        lock.lock()
        nodeSeconds[node] += seconds
        if let t = traffic {
            nodeTraffic[node].uploads += t.uploads
            nodeTraffic[node].downloads += t.downloads
            nodeTraffic[node].uploadedBytes += t.uploadedBytes
            nodeTraffic[node].downloadedBytes += t.downloadedBytes
        }
        lock.unlock()
    }

    /// Host↔device transfers per node that made any, most bytes first.
    public var transfers: [(node: String, traffic: MirrorTraffic)] {
        lock.lock()
        defer { lock.unlock() }
        return zip(nodeNames, nodeTraffic).filter { $0.1 != MirrorTraffic() }
            .sorted { $0.1.uploadedBytes + $0.1.downloadedBytes > $1.1.uploadedBytes + $1.1.downloadedBytes }
            .map { ($0.0, $0.1) }
    }

    func finishCall() {
        lock.lock()
        calls += 1
        lock.unlock()
    }

    /// Total seconds per op kind, largest first.
    public var byKind: [(kind: String, seconds: Double)] {
        lock.lock()
        defer { lock.unlock() }
        var totals: [String: Double] = [:]
        for (k, s) in zip(kindNames, nodeSeconds) { totals[k, default: 0] += s }
        return totals.sorted { $0.value > $1.value }.map { ($0.key, $0.value) }
    }

    /// Total seconds per node, largest first.
    public var byNode: [(node: String, seconds: Double)] {
        lock.lock()
        defer { lock.unlock() }
        return zip(nodeNames, nodeSeconds).sorted { $0.1 > $1.1 }.map { ($0.0, $0.1) }
    }

    public var description: String {
        let total = byKind.reduce(0) { $0 + $1.seconds }
        var lines = [
            String(
                format: "%d calls, %.3f s in nodes (%.1f µs per call)", calls, total,
                calls > 0 ? total / Double(calls) * 1e6 : 0)
        ]
        lines.append("by op kind:")
        for (k, s) in byKind.prefix(15) {
            lines.append(String(format: "  %6.2f %%  %9.4f s  %@", total > 0 ? 100 * s / total : 0, s, k))
        }
        lines.append("slowest nodes:")
        for (n, s) in byNode.prefix(15) {
            lines.append(String(format: "  %6.2f %%  %9.4f s  %@", total > 0 ? 100 * s / total : 0, s, n))
        }
        let moved = transfers
        if !moved.isEmpty {
            lines.append("host↔device transfers, over all calls:")
            for (n, t) in moved.prefix(15) {
                let up = "\(t.uploads) up (\(t.uploadedBytes) B)"
                lines.append("  \(up), \(t.downloads) down (\(t.downloadedBytes) B)  \(n)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
