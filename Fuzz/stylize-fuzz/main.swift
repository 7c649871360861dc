import Foundation
@testable import StylizeIO
import StylizeONNX

/// One libFuzzer entry point for Stylize's parsers; `STYLIZE_FUZZ_TARGET` picks the parser:
/// torch (zip and legacy torch.save files), pickle (the restricted unpickler alone), onnx (the
/// protobuf reader and graph builder), image (PNG and JPEG through ImageIO.decode) or exif (the
/// orientation reader on an APP1 payload). Every input must end in a value or a typed error;
/// a crash, a sanitizer report or a timeout is a finding.
let target = ProcessInfo.processInfo.environment["STYLIZE_FUZZ_TARGET"] ?? ""

/// libFuzzer's driver (from `-sanitize=fuzzer`), called from this executable's own `main`: SwiftPM
/// names executables' entry points itself, so libFuzzer's `main` is not the one that runs.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch target {
    case "torch":
        _ = try? TorchFile.load(bytes: bytes, name: "fuzz")
    case "pickle":
        var unpickler = Unpickler(bytes: bytes, file: "fuzz")
        var position = 0
        _ = try? unpickler.load(from: &position, storage: nil)
    case "onnx":
        _ = try? ONNXModel(serialized: Data(bytes))
        _ = try? ONNXModel(serialized: Data(bytes), anyPictureSize: true)
    case "image":
        _ = try? ImageIO.decode(bytes, name: "fuzz", maxPixels: 4_000_000)
    case "exif":
        _ = EXIFOrientation.read(app1: bytes[...])
    default:
        fatalError("set STYLIZE_FUZZ_TARGET to torch, pickle, onnx, image or exif")
    }
    return 0
}

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runFuzzerDriver(&argc, &argv) { data, size in fuzzOne(data, size) })
