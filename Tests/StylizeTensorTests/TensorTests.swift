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
