import StylizeTensor

extension Tensor {
    /// Image `index` of a batch, as a batch of one.
    func image(_ index: Int) -> Tensor {
        let size = count / shape[0]
        var out = Tensor(shape: [1] + shape.dropFirst())
        withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: src.baseAddress! + index * size, count: size) }
        }
        return out
    }

    /// Batches of one ([1, …], all the same shape) as one batch [N, …].
    init(stacking images: [Tensor]) {
        let size = images[0].count
        self.init(shape: [images.count] + images[0].shape.dropFirst())
        withUnsafeMutableBufferPointer { dst in
            for (n, image) in images.enumerated() {
                precondition(image.shape == images[0].shape, "stacking tensors of different shapes")
                image.withUnsafeBufferPointer { (dst.baseAddress! + n * size).update(from: $0.baseAddress!, count: size) }
            }
        }
    }
}
