import NDArray
import Synchronization

/// A variable with a value that persists between calls of compiled functions, shared by every
/// function that uses it and changed by their `updates` (model parameters, datasets).
///
/// ```swift
/// let W = shared(try NDArray.zeros([784, 10], dtype: .float32), name: "W")
/// W.value                     // the current value
/// try W.setValue(newW)        // checked against W's dtype and rank
/// ```
public final class SharedVariable: Variable {
    /// Locked, so functions called from several threads read and commit whole values.
    private let stored: Mutex<NDArray>

    /// The update every compiled function that uses this variable applies unless told
    /// otherwise (Theano's `default_update`): how a random stream's state advances on each call.
    /// An explicit update in `function(updates:)` takes precedence;
    /// `function(…, noDefaultUpdates: true)` applies none.
    public internal(set) var defaultUpdate: Variable? {
        get { updateNode.map { $0.outputs[updateIndex] } ?? updateValue }
        set {
            // The update reads this variable, so holding it strongly would make a cycle (state →
            // update → its node → state) and keep every random graph alive: hold its node weakly.
            // A node is alive while any graph that draws from it is, and then so is the update.
            updateNode = newValue?.owner
            updateIndex = newValue?.index ?? 0
            updateValue = newValue?.owner == nil ? newValue : nil
        }
    }
    private weak var updateNode: Apply?
    private var updateIndex = 0
    private var updateValue: Variable?

    init(_ value: NDArray, name: String?, location: SourceLocation) {
        stored = Mutex(value)
        super.init(
            type: TensorType(value.dtype, shape: Array(repeating: nil, count: value.ndim)),
            name: name, owner: nil, index: 0, location: location)
    }

    /// The current value. Arrays are values: changing the returned array never changes the
    /// shared variable, and later updates never change an array already returned.
    public var value: NDArray { stored.withLock { $0 } }

    /// Replaces the value. It must have the variable's rank, and a dtype that converts without
    /// loss (float32 into a float64 variable is fine, float64 into float32 is an error). With
    /// `borrow: false` (the default) the storage is copied, so the caller's array and the
    /// variable never share memory.
    public func setValue(_ newValue: NDArray, borrow: Bool = false) throws {
        guard newValue.ndim == ndim else {
            throw TheanoError(
                .badInput, "shared variable \(label) needs a \(ndim)-d value, got shape \(newValue.shape)",
                location: location)
        }
        guard newValue.dtype.canCastSafely(to: dtype) else {
            throw TheanoError(
                .badInput,
                "shared variable \(label) cannot hold \(newValue.dtype) values without losing precision; cast to "
                    + "\(dtype) first",
                location: location)
        }
        let converted =
            newValue.dtype != dtype
            ? newValue.cast(to: dtype) : (borrow ? newValue : newValue.contiguous(forceCopy: true))
        stored.withLock { $0 = converted }
    }

    /// Runs `body` on the stored value itself, under the variable's lock (in-place updates).
    func withStoredValue<R>(_ body: (inout NDArray) throws -> R) rethrows -> R {
        try stored.withLock { try body(&$0) }
    }

    /// Commits an update computed by a function (already checked).
    func commit(_ newValue: NDArray) { stored.withLock { $0 = newValue } }
}

/// A shared variable holding `value` (copied unless `borrow`).
///
/// ```swift
/// let trainX = shared(data.train.images, name: "trainX")
/// ```
public func shared(_ value: NDArray, name: String? = nil, borrow: Bool = false) -> SharedVariable {
    SharedVariable(borrow ? value : value.contiguous(forceCopy: true), name: name, location: .capture())
}

/// A 0-d shared variable (default dtype floatX), e.g. a learning rate.
public func shared(_ value: Double, dtype: DType? = nil, name: String? = nil) -> SharedVariable {
    SharedVariable(NDArray(scalar: value, dtype: dtype ?? Config.current.floatX), name: name, location: .capture())
}
