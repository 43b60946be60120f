import NDArray

/// Update chains run in their shared variable's memory (``Schedule``): validated together, then
/// each written under the variable's lock.
extension Program {
    /// Checks every in-place update from `start` on (shapes and dtypes), so that once the first
    /// writes its shared variable, none of the rest can fail.
    func validateInPlaceUpdates(from start: Int, _ slots: [NDArray?]) throws {
        for step in steps[start...] {
            guard let shared = step.updatesInPlace, let op = step.node.op as? any AccumulatingOp else { continue }
            let args = step.inputSlots.map { slots[$0] ?? shared.value }
            do { try op.validate(args) } catch { throw TheanoError(at: step.node, args, error) }
        }
    }

    /// Runs a link of an update chain in the shared variable's own memory when its accumulator
    /// is that memory (the variable itself, or an earlier link made in place) and nothing but
    /// the variable holds it (under the variable's lock, so no reader sees it half-written);
    /// nil otherwise, with the accumulator left in its slot.
    func updateInPlace(_ step: Step, _ shared: SharedVariable, _ slots: inout [NDArray?]) throws -> NDArray? {
        let c = step.inputSlots[0]
        // This call's own reference to the accumulator goes first; other inputs are read as usual.
        let others = step.inputSlots.dropFirst().map { slots[$0] }
        guard !others.contains(where: { $0 == nil }), !step.inputSlots.dropFirst().contains(c) else { return nil }
        var accumulator = slots[c]
        slots[c] = nil
        let memory = accumulator.map { (ObjectIdentifier($0.storage), $0.offset, $0.shape) }
        let result = try shared.withStoredValue { stored -> NDArray? in
            guard let memory, ObjectIdentifier(stored.storage) == memory.0, stored.offset == memory.1,
                stored.shape == memory.2
            else { return nil }
            accumulator = nil
            guard stored.hasUniqueStorage(), stored.isContiguous else { return nil }
            let args = [stored] + others.compactMap { $0 }
            let result: NDArray
            do {
                // A device kernel updates the device's copy; anything else the host's.
                if let kernel = step.kernel, kernel.runsOnDevice {
                    result = try kernel.run(args, into: [stored])[0]
                } else {
                    result = try step.node.op.perform(args, reusing: [stored])[0]
                }
            } catch {
                throw TheanoError(at: step.node, args, error)
            }
            return result.sharesStorage(with: stored) ? result : nil
        }
        // Not in place: the accumulator goes back (when it was the variable's memory, the
        // variable's value is the same array).
        if result == nil { slots[c] = accumulator ?? shared.value }
        return result
    }
}
