/// NumPy-style (multidirectional) broadcasting of two shapes, reduced to a few loops.
///
/// Dimensions are merged wherever neither operand changes its broadcast pattern, so the common
/// cases become one flat loop: equal shapes, a scalar, or a per-channel [1, C, 1, 1] operand
/// against [1, C, H, W] (an outer loop over channels with a constant inner operand).
struct Broadcast {
    let shape: [Int]
    /// Merged dimensions, outermost first, and each operand's stride in them (0 = repeated).
    let dims: [Int]
    let stridesA: [Int]
    let stridesB: [Int]

    init(_ a: [Int], _ b: [Int], what: @autoclosure () -> String) throws(ONNXError) {
        let rank = max(a.count, b.count)
        let pa = Array(repeating: 1, count: rank - a.count) + a
        let pb = Array(repeating: 1, count: rank - b.count) + b
        var out = [Int]()
        for (x, y) in zip(pa, pb) {
            guard x == y || x == 1 || y == 1 else {
                throw .shapeMismatch("\(what()): shapes \(a) and \(b) do not broadcast")
            }
            out.append(x == 1 ? y : x)
        }
        shape = out
        // Row-major strides with 0 for broadcast dimensions, then merge neighbours whose kind
        // (both present, only A, only B) is the same.
        var dims = [Int](), sa = [Int](), sb = [Int]()
        var kinds = [Int]()
        for i in 0..<rank where out[i] != 1 {
            let kind = (pa[i] == 1 ? 0 : 1) | (pb[i] == 1 ? 0 : 2)
            if let last = kinds.last, last == kind {
                dims[dims.count - 1] *= out[i]
            } else {
                dims.append(out[i]); kinds.append(kind)
            }
        }
        // Strides of merged dims, innermost first.
        var strideA = 1, strideB = 1
        sa = Array(repeating: 0, count: dims.count)
        sb = Array(repeating: 0, count: dims.count)
        for i in stride(from: dims.count - 1, through: 0, by: -1) {
            if kinds[i] & 1 != 0 { sa[i] = strideA; strideA *= dims[i] }
            if kinds[i] & 2 != 0 { sb[i] = strideB; strideB *= dims[i] }
        }
        if dims.isEmpty { dims = [1]; sa = [0]; sb = [0] }
        self.dims = dims
        stridesA = sa
        stridesB = sb
    }

    var count: Int { shape.reduce(1, *) }

    /// Calls `body(offsetA, offsetB, offsetOut, n, innerStrideA, innerStrideB)` for each run of the
    /// innermost merged dimension.
    @inline(__always)
    func forEachRow(_ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let r = dims.count
        let n = dims[r - 1], ia = stridesA[r - 1], ib = stridesB[r - 1]
        if r == 1 { body(0, 0, 0, n, ia, ib); return }
        var index = [Int](repeating: 0, count: r - 1)
        var offA = 0, offB = 0, offOut = 0
        while true {
            body(offA, offB, offOut, n, ia, ib)
            offOut += n
            var k = r - 2
            while k >= 0 {
                index[k] += 1
                offA += stridesA[k]
                offB += stridesB[k]
                if index[k] < dims[k] { break }
                offA -= stridesA[k] * dims[k]
                offB -= stridesB[k] * dims[k]
                index[k] = 0
                k -= 1
            }
            if k < 0 { return }
        }
    }
}
