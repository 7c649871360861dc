import StylizeTensor
import StylizeNN

/// Gatys et al.'s style loss: (1/C²)·mean((G − Ĝ)²) between the picture's Gram matrix and the
/// blend Σ wᵢ·Gram(styleᵢ) (`Losses.style`, neural-style's normalisation).
public final class GramStyleTarget: StyleTarget {
    /// The blended Gram matrix, [C, C].
    public let gram: Tensor

    public init(_ styles: WeightedFeatures) {
        var g = Tensor(shape: [styles[0].features.shape[1], styles[0].features.shape[1]])
        for (features, weight) in styles { g.add(Gram.forward(features), scaledBy: weight) }
        gram = g
    }

    public func loss(replacing features: inout Tensor) -> Double {
        Losses.style(replacing: &features, targetGram: gram)
    }
}
