import CDNNL
import StylizeTensor

/// The arithmetic of the network's kernels.
public enum Precision: String, Sendable, CaseIterable, Codable {
    /// float32 throughout.
    case fp32
    /// bfloat16 weights, activations and gradients with float32 accumulation inside every kernel;
    /// taps, losses and the image's gradient stay float32. About twice as fast where the CPU has
    /// AVX512_BF16, and half the activation memory.
    case bf16

    /// bf16 where the CPU computes it natively (AVX512_BF16 or AMX), fp32 elsewhere.
    public static var automatic: Precision { bf16IsNative ? .bf16 : .fp32 }

    /// Whether oneDNN found native bf16 arithmetic on this CPU.
    public static var bf16IsNative: Bool { CPUCapabilities.current.hasNativeBF16 }

    /// Whether this precision runs here at all: fp32 everywhere; bf16 natively with AVX512_BF16
    /// or AMX and emulated (slowly) with AVX-512, but not with AVX2, where oneDNN has no bf16
    /// convolutions.
    public var isAvailable: Bool { self == .fp32 || CPUCapabilities.current.hasAVX512 }

    package var dnnlType: dnnl_data_type_t { self == .fp32 ? dnnl_f32 : dnnl_bf16 }
}
