import Foundation
import NDArray
import Theano

/// A training run's state, written after each epoch so a run killed at any moment can go on
/// where its last epoch ended: the values of the shared variables that change (parameters,
/// update-rule state, random-stream states) and the loop's progress, in one `.npz` written
/// atomically (temporary file, fsync, rename), so a kill leaves the previous checkpoint whole.
///
/// ```swift
/// let checkpoint = Checkpoint(directory: URL(fileURLWithPath: "runs/mlp"), model: "mlp")
/// try checkpoint.save(state: ["W": W, "b": b], progress: progress)
/// let resumed: EarlyStopping.Progress? = try checkpoint.restore(state: ["W": W, "b": b])
/// ```
public struct Checkpoint: Sendable {
    public let directory: URL
    /// The tutorial it belongs to; restoring another's checkpoint is an error.
    public let model: String

    public init(directory: URL, model: String) {
        self.directory = directory
        self.model = model
    }

    /// `model.checkpoint.npz` in ``directory`` (several models can share a folder).
    public var file: URL { directory.appendingPathComponent("\(model).checkpoint.npz") }

    private static let progressKey = "__progress__", modelKey = "__model__"

    /// Saves the current values of `state` and `progress`, replacing the previous checkpoint.
    public func save<P: Encodable>(state: [String: SharedVariable], progress: P) throws {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            let why = error.localizedDescription
            throw TheanoError(.badInput, "cannot create the checkpoint folder \(directory.path): \(why)")
        }
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf",
            nan: "nan")
        var arrays = state.mapValues { $0.value }
        arrays[Self.progressKey] = Self.bytes(try encoder.encode(progress))
        arrays[Self.modelKey] = Self.bytes(Data(model.utf8))
        try NPZ.write(arrays, to: file)
    }

    /// The saved progress alone, without restoring anything; nil when there is no checkpoint.
    public func savedProgress<P: Decodable>(as: P.Type = P.self) throws -> P? {
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        return try decodeProgress(try contents(), as: P.self)
    }

    /// Restores `state` from the checkpoint and returns its progress; nil when there is none.
    /// Nothing is changed unless every value is there with the shape and dtype it replaces.
    public func restore<P: Decodable>(state: [String: SharedVariable], as: P.Type = P.self) throws -> P? {
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        let arrays = try contents()
        for (key, shared) in state.sorted(by: { $0.key < $1.key }) {
            guard let value = arrays[key] else { throw TheanoError(.badInput, "\(file.path) has no \(key)") }
            guard value.shape == shared.value.shape, value.dtype == shared.dtype else {
                throw TheanoError(
                    .badInput,
                    "\(file.path): \(key) is \(value.dtype)\(value.shape), "
                        + "the model's is \(shared.dtype)\(shared.value.shape) (other settings?)")
            }
        }
        let progress = try decodeProgress(arrays, as: P.self)
        for (key, shared) in state { if let value = arrays[key] { try shared.setValue(value) } }
        return progress
    }

    /// The checkpoint's arrays, after checking it is one and is this model's.
    private func contents() throws -> [String: NDArray] {
        let arrays = try NPZ.read(from: file)
        guard let tag = arrays[Self.modelKey], arrays[Self.progressKey] != nil else {
            let missing = "no \(Self.modelKey) or \(Self.progressKey)"
            throw TheanoError(.badInput, "\(file.path) is not a checkpoint (\(missing))")
        }
        let owner = String(decoding: Self.data(tag), as: UTF8.self)
        guard owner == model else {
            throw TheanoError(.badInput, "\(file.path) is a checkpoint of \(owner), not of \(model)")
        }
        return arrays
    }

    private func decodeProgress<P: Decodable>(_ arrays: [String: NDArray], as: P.Type) throws -> P {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let saved = arrays[Self.progressKey] ?? NDArray(vector: [UInt8]())
        do { return try decoder.decode(P.self, from: Self.data(saved)) } catch {
            throw TheanoError(.badInput, "\(file.path): its progress record cannot be read (\(error))")
        }
    }

    private static func bytes(_ data: Data) -> NDArray {
        (try? NDArray([UInt8](data), shape: [data.count])) ?? NDArray(vector: [UInt8]())
    }

    private static func data(_ array: NDArray) -> Data { Data(array.scalars(as: UInt8.self)) }
}
