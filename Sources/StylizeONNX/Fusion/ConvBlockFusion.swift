/// Finds the convolution blocks of feed-forward style networks among a graph's runtime steps and
/// replaces each by one `ConvBlockKernel` step:
///
///     [Resize/Upsample nearest ×k] → [Pad reflect|edge] → Conv →
///         (InstanceNormalization | ReduceMean, Sub, Pow 2, ReduceMean, Add ε, Sqrt, Div 1/·, Mul)
///         → [Mul γ → Add β] → [Relu | Sigmoid | Add residual]
///
/// A chain is fused only when its intermediate values have no reader outside it and are not graph
/// outputs, so the result is the same computation, rounded differently.
enum ConvBlockFusion {
    static func apply(_ steps: [Graph.Step], constants: [Int: Value], keep: Set<Int>) -> [Graph.Step] {
        let links = StepLinks(steps)
        let (producer, consumers) = (links.producer, links.consumers)
        var used = Set<Int>()
        var replacements: [Int: Graph.Step] = [:]  // at the index of a chain's last step

        /// The one step that reads `slot`, if it is the only reader and `slot` is not kept.
        func only(_ slot: Int) -> Int? { links.onlyReader(slot, keep: keep, used: used) }
        func constant(_ slot: Int?) -> [Float]? {
            guard let s = slot, let v = constants[s], v.count <= 16 else { return nil }
            return v.tensor.scalars
        }
        func input(_ k: Int, _ i: Int) -> Int? { i < steps[k].inputs.count ? steps[k].inputs[i] : nil }
        func binary(_ k: Int, _ op: BinaryKernel.Op) -> Bool { (steps[k].kernel as? BinaryKernel)?.op == op && steps[k].inputs.count == 2 }
        /// For a binary step reading `slot`, its other input.
        func other(_ k: Int, _ slot: Int) -> Int? {
            let ins = steps[k].inputs
            if ins[0] == slot, ins[1] != slot { return ins[1] }
            if ins[1] == slot, ins[0] != slot { return ins[0] }
            return nil
        }
        func spatialMean(_ k: Int, of slot: Int) -> Bool {
            guard let r = steps[k].kernel as? ReduceKernel, r.op == .mean, r.keepDims, input(k, 0) == slot else { return false }
            let axes = r.axesAttribute ?? constant(input(k, 1)).map { $0.map { Int($0) } }
            return axes == [2, 3] || axes == [-2, -1] || axes == [3, 2]
        }

        for ci in steps.indices {
            guard steps[ci].op == "Conv", let conv = steps[ci].kernel as? ConvKernel, conv.group == 1, conv.pads != nil,
                  steps[ci].outputs.count == 1, let x0 = input(ci, 0), let wSlot = input(ci, 1) else { continue }
            let y = steps[ci].outputs[0]
            var chain = [ci]
            var plan = ConvBlockKernel.Plan()
            var normOut: Int
            var gamma: Int? = nil, beta: Int? = nil

            // The normalisation.
            guard !keep.contains(y), let readers = consumers[y] else { continue }
            if readers.count == 1, let norm = steps[readers[0]].kernel as? InstanceNormKernel {
                let k = readers[0]
                guard input(k, 0) == y, let g = input(k, 1), let b = input(k, 2) else { continue }
                plan.epsilon = norm.epsilon
                gamma = g; beta = b
                normOut = steps[k].outputs[0]
                chain.append(k)
            } else if readers.count == 2 {
                guard let m1 = readers.first(where: { spatialMean($0, of: y) }), let sub = readers.first(where: { $0 != m1 }),
                      binary(sub, .sub), steps[sub].inputs == [y, steps[m1].outputs[0]], only(steps[m1].outputs[0]) == sub else { continue }
                let centred = steps[sub].outputs[0]
                guard !keep.contains(centred), let cr = consumers[centred], cr.count == 2,
                      let pw = cr.first(where: { binary($0, .pow) && input($0, 0) == centred && constant(input($0, 1)) == [2] }),
                      let mul = cr.first(where: { $0 != pw && binary($0, .mul) }),
                      let m2 = only(steps[pw].outputs[0]), spatialMean(m2, of: steps[pw].outputs[0]),
                      let add = only(steps[m2].outputs[0]), binary(add, .add),
                      let epsSlot = other(add, steps[m2].outputs[0]), let eps = constant(epsSlot), eps.count == 1,
                      let sq = only(steps[add].outputs[0]), (steps[sq].kernel as? UnaryKernel)?.op == .sqrt,
                      let div = only(steps[sq].outputs[0]), binary(div, .div), input(div, 1) == steps[sq].outputs[0],
                      constant(input(div, 0)) == [1],
                      only(steps[div].outputs[0]) == mul, other(mul, centred) == steps[div].outputs[0] else { continue }
                plan.epsilon = eps[0]
                chain += [m1, sub, pw, m2, add, sq, div, mul]
                normOut = steps[mul].outputs[0]
                // Conditional instance norm's per-style scale and shift.
                if let g = only(normOut), binary(g, .mul), let gs = other(g, normOut),
                   let b = only(steps[g].outputs[0]), binary(b, .add), let bs = other(b, steps[g].outputs[0]) {
                    gamma = gs; beta = bs
                    chain += [g, b]
                    normOut = steps[b].outputs[0]
                }
            } else {
                continue
            }

            // What follows.
            var residual: Int? = nil
            if let t = only(normOut) {
                if let u = steps[t].kernel as? UnaryKernel, u.op == .relu || u.op == .sigmoid {
                    plan.tail = u.op == .relu ? .relu : .sigmoid
                    chain.append(t); normOut = steps[t].outputs[0]
                } else if binary(t, .add), let r = other(t, normOut) {
                    plan.tail = .residual
                    residual = r
                    chain.append(t); normOut = steps[t].outputs[0]
                }
            }

            // What comes before: Pad, and a nearest upsampling before that.
            var x = x0, reader = ci
            if let p = producer[x], only(x) == ci, let pad = steps[p].kernel as? PadKernel, pad.mode != .constant,
               let pads = pad.attributePads ?? constant(input(p, 1)).map({ $0.map { Int($0) } }),
               input(p, 3) == nil, pads.count == 8, pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0, pads.allSatisfy({ $0 >= 0 }),
               let px = input(p, 0) {
                plan.padMode = pad.mode
                plan.pads = [pads[2], pads[3], pads[6], pads[7]]
                chain.append(p)
                x = px; reader = p
            }
            if let r = producer[x], only(x) == reader, let resize = steps[r].kernel as? ResizeKernel, resize.mode == .nearest,
               resize.coordinates == .asymmetric, let rx = input(r, 0) {
                let scales = resize.legacyUpsample ? (resize.attributeScales ?? constant(input(r, 1))) : constant(input(r, 2))
                let sizes = resize.legacyUpsample ? nil : input(r, 3)
                if let s = scales, s.count == 4, s[0] == 1, s[1] == 1, s[2] == s[3], s[2] >= 1, s[2] == s[2].rounded(),
                   sizes == nil || constants[sizes!]?.count == 0,
                   resize.nearest == .floor || (resize.nearest == .roundPreferFloor && s[2] == 2) {
                    plan.upsample = Int(s[2])
                    chain.append(r)
                    x = rx
                }
            }

            used.formUnion(chain)
            let step = Graph.Step(op: "ConvBlock", name: steps[ci].name,
                                  inputs: [x, wSlot, input(ci, 2), gamma, beta, residual], outputs: [normOut],
                                  kernel: ConvBlockKernel(plan: plan, conv: conv, node: steps[ci].name))
            replacements[chain.max()!] = step
        }
        return StepLinks.splice(steps, replacements, used: used)
    }
}
