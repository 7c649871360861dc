import Foundation
import StylizeTensor

/// A validated, topologically ordered graph with its constant part folded at load.
///
/// Values live in numbered slots. Everything computable from initializers and Constant nodes alone
/// (PyTorch's pad arithmetic, the int8 weights' dequantization) is computed once at load, so a
/// run executes only the nodes that depend on the feeds, freeing each value after its last use.
final class Graph {
    struct Step {
        let op: String
        let name: String
        let inputs: [Int?]
        let outputs: [Int]
        let kernel: any Kernel
        /// Slots whose last reader is this step: released after it runs.
        var releases: [Int] = []
    }

    let slotNames: [String]
    let inputSlots: [(name: String, slot: Int)]
    let outputSlots: [(name: String, slot: Int)]
    private(set) var constants: [Int: Value] = [:]
    private(set) var steps: [Step] = []
    /// STYLIZE_ONNX_PROFILE=1: each run prints the time spent per operator to stderr.
    private var profile = false

    init(_ proto: Onnx_GraphProto, fusion: ONNXFusion = .all, context: ExecutionContext) throws(ONNXError) {
        var slotOf: [String: Int] = [:]
        var names: [String] = []
        func slot(_ name: String) -> Int {
            if let s = slotOf[name] { return s }
            slotOf[name] = names.count
            names.append(name)
            return names.count - 1
        }

        var constants: [Int: Value] = [:]
        for t in proto.initializer {
            guard !t.name.isEmpty else { throw .malformed("an initializer has no name") }
            constants[slot(t.name)] = try TensorDecoding.value(t, what: t.name)
        }
        var inputs: [(String, Int)] = []
        for i in proto.input where constants[slotOf[i.name] ?? -1] == nil {
            guard !i.name.isEmpty else { throw .malformed("a graph input has no name") }
            inputs.append((i.name, slot(i.name)))
        }
        let available = Set(inputs.map { $0.1 }).union(constants.keys)

        // Order nodes so that each comes after the producers of its inputs (the spec asks files to
        // be sorted already; sorting here also catches cycles and values nothing produces).
        let nodes = proto.node
        var producer: [String: Int] = [:]
        for (i, n) in nodes.enumerated() {
            for o in n.output where !o.isEmpty {
                guard producer[o] == nil, slotOf[o].map({ !available.contains($0) }) ?? true else {
                    throw .malformed("value '\(o)' is produced twice")
                }
                producer[o] = i
            }
        }
        var order: [Int] = []
        var state = [UInt8](repeating: 0, count: nodes.count)  // 0 new, 1 visiting, 2 done
        func visit(_ root: Int) throws(ONNXError) {
            // Iterative depth-first search: deep graphs must not overflow the stack.
            var stack: [(Int, Int)] = [(root, 0)]
            while let (n, k) = stack.last {
                if k == 0 {
                    if state[n] == 2 { stack.removeLast(); continue }
                    state[n] = 1
                }
                let ins = nodes[n].input
                if k < ins.count {
                    stack[stack.count - 1].1 = k + 1
                    let name = ins[k]
                    if name.isEmpty { continue }
                    if let s = slotOf[name], available.contains(s) { continue }
                    guard let p = producer[name] else {
                        let node = nodes[n].name.isEmpty ? nodes[n].opType : nodes[n].name
                        throw .malformed("node '\(node)' reads '\(name)', which no node, initializer or input provides")
                    }
                    if state[p] == 1 { throw .malformed("the graph has a cycle through '\(name)'") }
                    if state[p] == 0 { stack.append((p, 0)) }
                } else {
                    state[n] = 2
                    order.append(n)
                    stack.removeLast()
                }
            }
        }
        for i in nodes.indices where state[i] == 0 { try visit(i) }

        // Build kernels (which validates operators and attributes), folding constant nodes.
        var steps: [Step] = []
        var folded: [Int: Step] = [:]
        for i in order {
            let n = nodes[i]
            let attributes = try Attributes(n)
            let kernel = try Operators.make(n, attributes)
            try attributes.checkAllRead()
            let ins: [Int?] = n.input.map { $0.isEmpty ? nil : slot($0) }
            let outs = n.output.map { slot($0) }
            let step = Step(op: n.opType, name: attributes.node, inputs: ins, outputs: outs, kernel: kernel)
            if ins.allSatisfy({ $0.map { constants[$0] != nil } ?? true }) {
                let results = try Graph.execute(step, ins.map { $0.flatMap { constants[$0] } }, context)
                for (s, v) in zip(outs, results) { constants[s] = v }
                for s in outs { folded[s] = step }
            } else {
                steps.append(step)
            }
        }

        var outputs: [(String, Int)] = []
        for o in proto.output {
            guard let s = slotOf[o.name], producer[o.name] != nil || available.contains(s) else {
                throw .malformed("graph output '\(o.name)' is produced by no node")
            }
            outputs.append((o.name, s))
        }

        // Fuse quantized convolutions (exact integer sums, as onnxruntime's QLinearConv), then
        // convolution blocks, then chains of elementwise steps.
        if fusion != .none {
            steps = QuantizedConvFusion.apply(steps, constants: constants, folded: folded, keep: Set(outputs.map { $0.1 }))
        }
        if fusion == .all {
            steps = ConvBlockFusion.apply(steps, constants: constants, keep: Set(outputs.map { $0.1 }))
            steps = PointwiseFusion.apply(steps, constants: constants, keep: Set(outputs.map { $0.1 }))
        }
        profile = ProcessInfo.processInfo.environment["STYLIZE_ONNX_PROFILE"].map { $0 != "0" && !$0.isEmpty } ?? false

        // Constants no step reads any more (the float weights that fused quantized convolutions
        // replaced with their own int8 copies, folded intermediates) are dropped: for the int8
        // style predictor that is ~12 MB of peak memory.
        let read = Set(steps.flatMap { $0.inputs.compactMap { $0 } }).union(outputs.map { $0.1 })
        constants = constants.filter { read.contains($0.key) }

        // Free each runtime value after its last reader (outputs and constants are kept).
        var lastUse: [Int: Int] = [:]
        for (k, s) in steps.enumerated() { for case let i? in s.inputs { lastUse[i] = k } }
        let keep = Set(outputs.map { $0.1 }).union(constants.keys)
        for (slot, k) in lastUse where !keep.contains(slot) { steps[k].releases.append(slot) }

        self.slotNames = names
        self.inputSlots = inputs
        self.outputSlots = outputs
        self.constants = constants
        self.steps = steps
    }

    static func execute(_ step: Step, _ inputs: [Value?], _ context: ExecutionContext) throws(ONNXError) -> [Value] {
        let results = try step.kernel.run(KernelInputs(values: inputs, op: step.op, node: step.name), context)
        guard results.count >= step.outputs.count else {
            throw .malformed("node '\(step.name)' (\(step.op)) declares \(step.outputs.count) outputs, the operator gives \(results.count)")
        }
        return results
    }

    /// Runs the non-constant steps on the given feeds (by slot).
    func run(_ feeds: [Int: Value], _ context: ExecutionContext) throws(ONNXError) -> [Int: Value] {
        var values = [Value?](repeating: nil, count: slotNames.count)
        for (s, v) in constants { values[s] = v }
        for (s, v) in feeds { values[s] = v }
        let clock = ContinuousClock()
        var spent: [String: (Duration, Int)] = [:]
        for step in steps {
            let ins = step.inputs.map { $0.flatMap { values[$0] } }
            for (k, i) in step.inputs.enumerated() where i != nil && ins[k] == nil {
                throw .missingInput(slotNames[i!])
            }
            let start = profile ? clock.now : nil
            let results = try Graph.execute(step, ins, context)
            if let start {
                let (d, n) = spent[step.op] ?? (.zero, 0)
                spent[step.op] = (d + (clock.now - start), n + 1)
            }
            for s in step.releases { values[s] = nil }
            for (s, v) in zip(step.outputs, results) { values[s] = v }
        }
        if profile {
            var lines = spent.sorted { $0.value.0 > $1.value.0 }.map { "  \($0.key) ×\($0.value.1): \($0.value.0)" }
            lines.insert("STYLIZE_ONNX_PROFILE: time per operator", at: 0)
            FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        var out: [Int: Value] = [:]
        for (name, s) in outputSlots {
            guard let v = values[s] else { throw .missingInput(name) }
            out[s] = v
        }
        return out
    }
}
