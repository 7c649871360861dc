import Testing
import StylizeTensor

@Suite struct TensorTests {
    @Test func copiesShareStorageUntilWritten() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        var b = a
        b.scale(by: 2)
        #expect(a.scalars == [1, 2, 3, 4, 5, 6])
        #expect(b.scalars == [2, 4, 6, 8, 10, 12])
    }

    @Test func blasArithmetic() {
        var a = Tensor(shape: [4], scalars: [1, -2, 3, -4])
        let b = Tensor(shape: [4], scalars: [0.5, 0.5, 0.5, 0.5])
        #expect(a.dot(b) == -1)
        #expect(a.squaredNorm == 30)
        #expect(a.maxAbs == 4)
        a.add(b, scaledBy: 2)
        #expect(a.scalars == [2, -1, 4, -3])
    }

    @Test func reshapeKeepsValues() {
        let a = Tensor(shape: [1, 2, 2, 1], scalars: [1, 2, 3, 4])
        let r = a.reshaped([4])
        #expect(r.shape == [4])
        #expect(r.scalars == a.scalars)
    }
}

/// The spatial helpers of feature visualization and DeepDream, against their definitions.
@Suite struct TensorWindowTests {
    /// [2, 1, 3, 4] with value 100·plane + 10·row + column.
    let t: Tensor = {
        var values: [Float] = []
        for p in 0..<2 { for r in 0..<3 { for c in 0..<4 { values.append(Self.value(p, r, c)) } } }
        return Tensor(shape: [2, 1, 3, 4], scalars: values)
    }()

    static func value(_ p: Int, _ r: Int, _ c: Int) -> Float { Float(100 * p + 10 * r + c) }

    @Test func rollMovesEveryValueCircularly() {
        for (dy, dx) in [(1, 0), (0, 3), (-1, -2), (5, 9), (0, 0)] {
            let r = t.rolled(dy: dy, dx: dx).scalars
            for p in 0..<2 { for i in 0..<3 { for j in 0..<4 {
                let ti: Int = ((i + dy) % 3 + 3) % 3
                let tj: Int = ((j + dx) % 4 + 4) % 4
                let index: Int = (p * 3 + ti) * 4 + tj
                #expect(r[index] == Self.value(p, i, j), "roll (\(dy), \(dx)) at \(p),\(i),\(j)")
            } } }
            #expect(t.rolled(dy: dy, dx: dx).rolled(dy: -dy, dx: -dx).scalars == t.scalars)
        }
    }

    @Test func windowsCopyOutAndBackIn() {
        let w = t.window(y: 1, x: 1, height: 2, width: 2)
        #expect(w.shape == [2, 1, 2, 2])
        #expect(w.scalars == [11, 12, 21, 22, 111, 112, 121, 122])
        var blank = Tensor(shape: t.shape)
        blank.setWindow(w, y: 0, x: 2)
        #expect(blank.window(y: 0, x: 2, height: 2, width: 2).scalars == w.scalars)
        #expect(blank.scalars.filter { $0 != 0 }.count == 8)
        #expect(Tensor(shape: [4], scalars: [1, -2, 3, -6]).meanAbs == 3)
    }

    @Test func matrixProductMatchesTheSum() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3, 2], scalars: [7, 8, 9, 10, 11, 12])
        #expect(Tensor.matrixProduct(a, b).scalars == [58, 64, 139, 154])
        // aᵀ·aᵀᵀ = aᵀ·a, [3, 3]
        let ata = Tensor.matrixProduct(a, transposingFirst: true, a)
        #expect(ata.shape == [3, 3] && ata.scalars == [17, 22, 27, 22, 29, 36, 27, 36, 45])
        #expect(Tensor.matrixProduct(a, a, transposingSecond: true).scalars == [14, 32, 32, 77])
    }
}
