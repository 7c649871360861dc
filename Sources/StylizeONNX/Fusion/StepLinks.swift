/// Which step produces and which steps read each value among a graph's runtime steps, and the
/// splicing of fused steps into the list: what the fusion passes share.
struct StepLinks {
    private(set) var producer: [Int: Int] = [:]
    private(set) var consumers: [Int: [Int]] = [:]

    init(_ steps: [Graph.Step]) {
        for (k, s) in steps.enumerated() {
            for o in s.outputs { producer[o] = k }
            for case let i? in s.inputs { consumers[i, default: []].append(k) }
        }
    }

    /// The one step that reads `slot`, if it is the only reader, not already fused (`used`), and
    /// `slot` is not kept (a graph output).
    func onlyReader(_ slot: Int, keep: Set<Int>, used: Set<Int>) -> Int? {
        guard !keep.contains(slot), let c = consumers[slot], c.count == 1, !used.contains(c[0]) else { return nil }
        return c[0]
    }

    /// `steps` with each replacement at its index (a fused chain's last step) and the other
    /// `used` steps left out.
    static func splice(_ steps: [Graph.Step], _ replacements: [Int: Graph.Step], used: Set<Int>) -> [Graph.Step] {
        if replacements.isEmpty { return steps }
        var result: [Graph.Step] = []
        for k in steps.indices {
            if let r = replacements[k] { result.append(r) } else if !used.contains(k) { result.append(steps[k]) }
        }
        return result
    }
}
