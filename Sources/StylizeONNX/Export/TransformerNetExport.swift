import Foundation
import StylizeTensor
import StylizeNN
import StylizeModels

/// Writes a trained `TransformerNetArchitecture` network as an ONNX model that runs in Stylize's
/// executor (`stylize fast --model`, `MultiStyleNetwork`) and in onnxruntime.
///
/// The file imports operator set 17 (IR version 8), the newest both executors run, and uses
/// Pad (reflect, pads as an input), Resize (×2; nearest: asymmetric coordinates, floor, which is
/// PyTorch's `interpolate(mode="nearest")`; bilinear: linear, half-pixel, PyTorch's
/// `interpolate(mode="bilinear", align_corners=False)`), Conv, InstanceNormalization (ε 1e-5), Relu and Add;
/// with several styles also MatMul and Mul. Batch, height and width are symbolic (`N`, `H`, `W`),
/// so one file runs at any picture size of at least 5 × 5 pixels; the output is 4·⌈H/4⌉ ×
/// 4·⌈W/4⌉ (two stride-2 convolutions, two ×2 upsamplings), the input's size when both are
/// multiples of 4.
///
/// - One style: input `input` [N, 3, H, W], RGB from 0 to 255, to `output`, also 0–255, as
///   Johnson et al.'s and PyTorch examples' networks (`stylize fast --model`, pixel scale 255).
/// - Several styles: `input` [N, 3, H, W] in [0, 1] and `style_weights` [styles] to `output` in
///   [0, 1], as `multistyle26.onnx` (`MultiStyleNetwork`). The graph scales the picture to 0–255
///   for the trained weights and back; each normalisation's scale and shift are the style weights
///   times the parameter rows (MatMul [styles] × [styles, C] → [C]).
///
/// - Texture networks (`texture: true`, Ulyanov et al. 2016) have the one-style interface, but
///   their input is noise: each value uniform in 0–255, independently (`TextureNoise`).
///
/// The file's metadata (`architecture`, `channels`, `residual_blocks`, `styles`, `upsampling`, `pixel_range`,
/// `input`: `photo` or `noise`) and doc string describe the network for a reader without the
/// checkpoint.
public enum TransformerNetExport {
    /// The ONNX operator set the files import.
    public static let opset = 17
    /// The ONNX IR version that goes with `opset`.
    public static let irVersion = 8

    /// The ONNX file's bytes for `parameters` (named and shaped as `architecture.parameterShapes`).
    ///
    /// - Throws: `.invalidArchitecture`; `.missingParameter`, `.wrongShape` (with the expected and
    ///   the actual shape), `.nonFiniteParameter` for the first parameter in the architecture's
    ///   order that is absent, misshapen or not finite; `.unexpectedParameter` for a name the
    ///   architecture does not have.
    public static func model(architecture: TransformerNetArchitecture, parameters: [String: Tensor],
                             texture: Bool = false) throws(ExportError) -> Data {
        try check(architecture, parameters)
        if texture && architecture.styles > 1 { throw .invalidArchitecture("a texture network learns one texture, not \(architecture.styles)") }
        var w = Writer(builder: ONNXGraphBuilder(name: "transformer_net"), parameters: parameters, styles: architecture.styles,
                       upsampling: architecture.upsampling)
        let several = architecture.styles > 1
        w.builder.addInput("input", [.symbolic("N"), .fixed(3), .symbolic("H"), .symbolic("W")])
        var x = "input"
        if several {
            w.builder.addInput("style_weights", [.fixed(architecture.styles)])
            // The weights were trained on 0–255 pixels (Johnson et al.'s convention).
            w.builder.addInitializer("pixels_to_255", Tensor(shape: [], scalars: [255]))
            x = w.builder.node("Mul", [x, "pixels_to_255"], output: "input_255")
        }
        x = w.block("conv1", "in1", x, kernel: 9, stride: 1)
        x = w.block("conv2", "in2", x, kernel: 3, stride: 2)
        x = w.block("conv3", "in3", x, kernel: 3, stride: 2)
        for i in stride(from: 1, through: architecture.residualBlocks, by: 1) {
            var y = w.block("res\(i).conv1", "res\(i).in1", x, kernel: 3, stride: 1)
            y = w.block("res\(i).conv2", "res\(i).in2", y, kernel: 3, stride: 1, relu: false)
            x = w.builder.node("Add", [x, y], output: "res\(i)")
        }
        x = w.block("deconv1", "in4", x, kernel: 3, stride: 1, upsample: true)
        x = w.block("deconv2", "in5", x, kernel: 3, stride: 1, upsample: true)
        x = w.convolution("deconv3", x, kernel: 9, stride: 1, output: several ? "deconv3" : "output")
        if several {
            w.builder.addInitializer("pixels_from_255", Tensor(shape: [], scalars: [1 / 255]))
            w.builder.node("Mul", [x, "pixels_from_255"], output: "output")
        }
        w.builder.addOutput("output", [.symbolic("N"), .fixed(3), .symbolic("H_out"), .symbolic("W_out")])

        let a = architecture
        let channels = a.channels.map(String.init).joined(separator: ",")
        let range = several ? "0-1" : "0-255"
        let doc = texture
            ? "TransformerNet texture network (Ulyanov et al. 2016): channels \(channels), \(a.residualBlocks) residual blocks; "
                + "input 'input' [N,3,H,W] of noise, each value uniform in 0-255 and independent; output 'output' "
                + "[N,3,4*ceil(H/4),4*ceil(W/4)], RGB 0-255. Another seed gives another picture of the texture."
            : "TransformerNet (Johnson et al. 2016) style network: channels \(channels), \(a.residualBlocks) residual blocks, "
            + (several ? "\(a.styles) styles (conditional instance norm); inputs 'input' [N,3,H,W] RGB in [0,1] and 'style_weights' [\(a.styles)]"
                       : "1 style; input 'input' [N,3,H,W] RGB 0-255")
            + ", output 'output' [N,3,4*ceil(H/4),4*ceil(W/4)] in the input's range."
        do {
            return try w.builder.serialized(opset: opset, irVersion: irVersion, docString: doc, metadata: [
                "architecture": "TransformerNet", "channels": channels, "residual_blocks": String(a.residualBlocks),
                "styles": String(a.styles), "upsampling": a.upsampling.rawValue, "pixel_range": range, "input": texture ? "noise" : "photo",
            ])
        } catch {
            throw .serialization("\(error)")
        }
    }

    private static func check(_ architecture: TransformerNetArchitecture, _ parameters: [String: Tensor]) throws(ExportError) {
        if let problem = architecture.problem { throw .invalidArchitecture(problem) }
        let expected = architecture.parameterShapes
        for (name, shape) in expected {
            guard let t = parameters[name] else { throw .missingParameter(name) }
            guard t.shape == shape else { throw .wrongShape(parameter: name, expected: shape, actual: t.shape) }
            guard t.withUnsafeBufferPointer({ $0.allSatisfy(\.isFinite) }) else { throw .nonFiniteParameter(name) }
        }
        let names = Set(expected.map(\.name))
        if let extra = parameters.keys.sorted().first(where: { !names.contains($0) }) { throw .unexpectedParameter(extra) }
    }
}

/// The graph's recurring pieces over a builder, reading the checked parameters.
private struct Writer {
    var builder: ONNXGraphBuilder
    let parameters: [String: Tensor]
    let styles: Int
    let upsampling: UpsamplingMode

    /// [Upsample ×2] → reflection pad → convolution → instance norm → [ReLU]: one layer of the
    /// network, as transformer_net.py's ConvLayer / UpsampleConvLayer with their norms.
    mutating func block(_ conv: String, _ norm: String, _ x: String, kernel: Int, stride: Int,
                        upsample: Bool = false, relu: Bool = true) -> String {
        var y = convolution(conv, x, kernel: kernel, stride: stride, upsample: upsample)
        y = builder.node("InstanceNormalization", [y, normalization(norm, "weight"), normalization(norm, "bias")],
                         output: norm, attributes: ["epsilon": .float(1e-5)])
        return relu ? builder.node("Relu", [y], output: "\(norm).relu") : y
    }

    /// Padding by reflection to keep the size (less the stride), as transformer_net.py does,
    /// rather than Conv's zero padding, which darkens the borders.
    mutating func convolution(_ name: String, _ x: String, kernel: Int, stride: Int, upsample: Bool = false,
                              output: String? = nil) -> String {
        var y = x
        if upsample {
            if !builder.hasInitializer("upsample_scales") {
                builder.addInitializer("upsample_scales", Tensor(shape: [4], scalars: [1, 1, 2, 2]))
            }
            switch upsampling {
            case .nearest:
                y = builder.node("Resize", [y, "", "upsample_scales"], output: "\(name).upsample", attributes: [
                    "mode": .string("nearest"), "coordinate_transformation_mode": .string("asymmetric"),
                    "nearest_mode": .string("floor"),
                ])
            case .bilinear:
                y = builder.node("Resize", [y, "", "upsample_scales"], output: "\(name).upsample", attributes: [
                    "mode": .string("linear"), "coordinate_transformation_mode": .string("half_pixel"),
                ])
            }
        }
        let p = kernel / 2, pads = "reflect_pads_\(p)"
        if !builder.hasInitializer(pads) { builder.addInitializer(pads, int64s: [0, 0, p, p, 0, 0, p, p], shape: [8]) }
        y = builder.node("Pad", [y, pads], output: "\(name).pad", attributes: ["mode": .string("reflect")])
        for part in ["weight", "bias"] { builder.addInitializer("\(name).\(part)", parameters["\(name).\(part)"]!) }
        return builder.node("Conv", [y, "\(name).weight", "\(name).bias"], output: output ?? name, attributes: [
            "kernel_shape": .ints([kernel, kernel]), "strides": .ints([stride, stride]), "pads": .ints([0, 0, 0, 0]),
        ])
    }

    /// A normalisation's scale or shift as the [C] vector InstanceNormalization takes: the one
    /// row of a single-style network, the style weights' mix of the rows otherwise.
    mutating func normalization(_ norm: String, _ part: String) -> String {
        let name = "\(norm).\(part)", rows = parameters[name]!
        if styles == 1 {
            builder.addInitializer(name, rows.reshaped([rows.shape[1]]))
            return name
        }
        builder.addInitializer(name, rows)
        return builder.node("MatMul", ["style_weights", name], output: "\(norm).\(part == "weight" ? "scale" : "shift")")
    }
}
