import CDNNL
import COpenBLAS
import Foundation

/// The instruction sets the kernels may use on this machine, as oneDNN sees them. oneDNN honours
/// `ONEDNN_MAX_CPU_ISA` (or `DNNL_MAX_CPU_ISA`), so `ONEDNN_MAX_CPU_ISA=AVX2` on an AVX-512 host
/// makes oneDNN and every check made through this type behave as on an AVX2-only CPU.
public struct CPUCapabilities: Sendable, Equatable {
    /// oneDNN's effective instruction set (a `dnnl_cpu_isa_t` bit mask).
    public let isa: UInt32

    public init() {
        isa = dnnl_get_effective_cpu_isa().rawValue
    }

    /// This process's view of the CPU.
    public static var current: CPUCapabilities { CPUCapabilities() }

    private func has(_ level: dnnl_cpu_isa_t) -> Bool { isa & level.rawValue == level.rawValue }

    /// AVX-512 (F, BW, VL, DQ): oneDNN's AVX-512 kernels, and bf16 by emulation.
    public var hasAVX512: Bool { has(dnnl_cpu_isa_avx512_core) }
    /// bf16 dot products in hardware (AVX512_BF16 or AMX).
    public var hasNativeBF16: Bool { has(dnnl_cpu_isa_avx512_core_bf16) }
    /// 8-bit dot products with exact 32-bit sums (AVX-512 VNNI, AMX or AVX-VNNI).
    public var hasVNNI: Bool { has(dnnl_cpu_isa_avx512_core_vnni) || has(dnnl_cpu_isa_avx2_vnni) }

    /// The effective instruction set by its usual name: "AVX2", "AVX-512 VNNI", "AVX512_BF16", ….
    public var isaName: String {
        if has(dnnl_cpu_isa_avx512_core_amx) { return "AMX" }
        if has(dnnl_cpu_isa_avx512_core_bf16) { return "AVX512_BF16" }
        if has(dnnl_cpu_isa_avx512_core_vnni) { return "AVX-512 VNNI" }
        if has(dnnl_cpu_isa_avx512_core) { return "AVX-512" }
        if has(dnnl_cpu_isa_avx2_vnni) { return "AVX2 with AVX-VNNI" }
        if has(dnnl_cpu_isa_avx2) { return "AVX2" }
        if has(dnnl_cpu_isa_avx) { return "AVX" }
        return "SSE4.1 or older"
    }

    /// The limit set by `ONEDNN_MAX_CPU_ISA` / `DNNL_MAX_CPU_ISA`, if any.
    public static var isaLimit: String? {
        let env = ProcessInfo.processInfo.environment
        return env["ONEDNN_MAX_CPU_ISA"] ?? env["DNNL_MAX_CPU_ISA"]
    }

    /// The CPU's model name and its vector-extension flags (avx2, fma, avx512*, amx*, avx_vnni)
    /// from /proc/cpuinfo: what the hardware has, whatever limit oneDNN is given.
    public static func hardware() -> (model: String, flags: [String]) {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return ("unknown", []) }
        func field(_ name: String) -> String? {
            text.split(separator: "\n").first { $0.hasPrefix(name) }
                .flatMap { $0.split(separator: ":", maxSplits: 1).last }
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let flags = (field("flags") ?? "").split(separator: " ").map(String.init).filter {
            $0 == "avx2" || $0 == "fma" || $0.hasPrefix("avx512") || $0.hasPrefix("amx") || $0 == "avx_vnni"
        }
        return (field("model name") ?? "unknown", flags.sorted())
    }

    /// The kernel family OpenBLAS picked for this CPU ("Haswell", "SkylakeX", …).
    public static var openBLASCore: String {
        openblas_get_corename().map { String(cString: $0) } ?? "?"
    }

    /// oneDNN's version, "2.6.3".
    public static var oneDNNVersion: String {
        guard let v = dnnl_version()?.pointee else { return "?" }
        return "\(v.major).\(v.minor).\(v.patch)"
    }
}
