import ArgumentParser
import Foundation
import StylizeNN
import StylizeONNX
import StylizeTensor

/// `stylize info` (or `doctor`): which instruction sets and kernels this machine runs, so a user
/// can tell why a run is as fast or slow as it is.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the CPU's instruction sets and the kernels Stylize uses on it.",
        aliases: ["doctor"]
    )

    func run() {
        let cpu = CPUCapabilities.current
        let hardware = CPUCapabilities.hardware()
        let limit = CPUCapabilities.isaLimit.map { " (limited by ONEDNN_MAX_CPU_ISA=\($0))" } ?? ""
        let env = ProcessInfo.processInfo.environment
        let threads = env["OMP_NUM_THREADS"].map { "\($0) (OMP_NUM_THREADS)" } ?? "\(ProcessInfo.processInfo.activeProcessorCount) (all cores)"
        var lines: [(String, String)] = [
            ("CPU", "\(hardware.model); \(hardware.flags.isEmpty ? "no AVX2" : hardware.flags.joined(separator: " "))"),
            ("oneDNN \(CPUCapabilities.oneDNNVersion)", "instruction set \(cpu.isaName)\(limit)"),
            ("threads", threads),
        ]
        for precision in Precision.allCases {
            let kernel: String
            if !precision.isAvailable {
                kernel = "unavailable: bf16 needs AVX512_BF16 or AMX (or AVX-512 to emulate it)"
            } else {
                do throws(DNNLError) {
                    kernel = try ConvReLU.kernelName(precision: precision)
                        + (precision == .bf16 && !cpu.hasNativeBF16 ? " (emulated: slower than fp32)" : "")
                        + (precision == .fp32 && ConvolutionAlgorithm.automatic == .winograd
                            ? "; Winograd F(2×2, 3×3) on oneDNN matmul for layers of \(ConvolutionAlgorithm.winogradChannels)+ channels" : "")
                } catch {
                    kernel = "unavailable: \(error)"
                }
            }
            lines.append(("VGG-19 \(precision.rawValue)", kernel))
        }
        lines.append(("--precision auto", "\(Precision.automatic.rawValue)"
            + (cpu.hasNativeBF16 ? " (native bf16 arithmetic)" : " (no native bf16 on this CPU)")))
        lines.append(("stylize fast int8", ONNXModel.quantizedConvolutionPath))
        lines.append(("OpenBLAS", "\(CPUCapabilities.openBLASCore) kernels"))
        let width = lines.map(\.0.count).max() ?? 0
        for (name, value) in lines { print(name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + value) }
    }
}
