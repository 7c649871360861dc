import Foundation

/// Style networks trained by Stylize itself (`stylize train`) and shipped in the repository's
/// `networks/` folder, each with the command that made it in `networks/README.md`; `stylize fast
/// --style NAME` runs them by name.
public enum BundledNetworks {
    /// The folder: `$STYLIZE_NETWORKS`, else `networks/` of the package the running executable was
    /// built in (`.build/release/stylize` → `networks/`), else `./networks`.
    public static func folder(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let folder = environment["STYLIZE_NETWORKS"], !folder.isEmpty { return folder }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("networks")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("README.md").path) { return candidate.path }
            dir = dir.deletingLastPathComponent()
        }
        return "networks"
    }

    /// The names of the networks there ("starry" for starry.onnx), sorted.
    public static func names(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder(environment: environment))) ?? []
        return files.filter { $0.hasSuffix(".onnx") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// The network called `name`, or nil.
    public static func path(named name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard names(environment: environment).contains(name) else { return nil }
        return folder(environment: environment) + "/" + name + ".onnx"
    }
}
