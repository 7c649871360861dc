import Foundation
import StylizeIO
import StylizeNN
import StylizeTensor

/// A training run's state as a safetensors file: every parameter ("param/NAME"), Adam's two
/// running averages per parameter ("adam.m/NAME", "adam.v/NAME"), and in the metadata the format
/// ("stylize-train-checkpoint 1"), the step, the seconds trained and the options as JSON. The
/// random state is the options' seed with the step: batches and crops are drawn from both, so a
/// resumed run continues exactly where the interrupted one would have.
extension StyleNetworkTrainer {
    public static let checkpointFormat = "stylize-train-checkpoint 1"

    /// The run's state now.
    public func checkpoint() -> SafeTensors {
        var tensors: [String: Tensor] = [:]
        for p in network.parameters {
            tensors["param/" + p.name] = p.value
            if let state = optimizer.states[p.name], let m = state.m, let v = state.v {
                tensors["adam.m/" + p.name] = m
                tensors["adam.v/" + p.name] = v
            }
        }
        let optionsJSON = (try? JSONEncoder.sorted.encode(options)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
        return SafeTensors(tensors: tensors, metadata: [
            "format": Self.checkpointFormat, "step": String(step), "elapsed_seconds": String(elapsedSeconds),
            "options": optionsJSON, "architecture": options.architecture.summary,
        ])
    }

    /// The options a checkpoint was trained with.
    public static func options(in checkpoint: SafeTensors, path: String) throws(TrainingError) -> TrainingOptions {
        guard checkpoint.metadata["format"] == checkpointFormat else {
            throw .checkpoint(path: path, reason: "not a Stylize training checkpoint (its format is '\(checkpoint.metadata["format"] ?? "none")', expected '\(checkpointFormat)')")
        }
        guard let json = checkpoint.metadata["options"]?.data(using: .utf8),
              let options = try? JSONDecoder().decode(TrainingOptions.self, from: withDefaults(json)) else {
            throw .checkpoint(path: path, reason: "its training options cannot be read")
        }
        return options
    }

    /// Options JSON with the fields that checkpoints from before a field existed lack filled
    /// in with today's defaults (which are what such runs used).
    private static func withDefaults(_ json: Data) -> Data {
        guard let saved = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any],
              let defaults = (try? JSONEncoder.sorted.encode(TrainingOptions()))
                  .flatMap({ try? JSONSerialization.jsonObject(with: $0) }) as? [String: Any] else { return json }
        return (try? JSONSerialization.data(withJSONObject: defaults.merging(saved) { _, mine in mine })) ?? json
    }

    /// Continues from `checkpoint`, which must come from a run with the same options (the step
    /// count and time budget may differ: a resumed run may be given more of both).
    public func restore(_ checkpoint: SafeTensors, path: String) throws(TrainingError) {
        let saved = try Self.options(in: checkpoint, path: path)
        guard saved.architecture == options.architecture else {
            throw .checkpoint(path: path, reason: "it is for a network of \(saved.architecture.summary); this run builds \(options.architecture.summary)")
        }
        var comparable = saved
        comparable.steps = options.steps
        comparable.minutes = options.minutes
        guard comparable == options else {
            throw .checkpoint(path: path, reason: "it was trained with other options (\(Self.differences(saved, options))); --resume continues a run with the options it started with")
        }
        guard let step = checkpoint.metadata["step"].flatMap(Int.init), step >= 0,
              let elapsed = checkpoint.metadata["elapsed_seconds"].flatMap(Double.init) else {
            throw .checkpoint(path: path, reason: "its step count is missing")
        }
        var values: [String: Tensor] = [:]
        for p in network.parameters { values[p.name] = checkpoint.tensors["param/" + p.name] }
        do { try network.load(values) } catch { throw .checkpoint(path: path, reason: "\(error)") }
        var optimizer = ParameterAdam(learningRate: options.learningRate)
        if step > 0 {
            for p in network.parameters {
                guard let m = checkpoint.tensors["adam.m/" + p.name], let v = checkpoint.tensors["adam.v/" + p.name],
                      m.shape == p.value.shape, v.shape == p.value.shape else {
                    throw .checkpoint(path: path, reason: "the optimizer state for \(p.name) is missing or misshapen")
                }
                optimizer.restore(p.name, m: m, v: v, iteration: step)
            }
        }
        self.optimizer = optimizer
        elapsedSeconds = elapsed
    }

    /// "style weight 10000 ≠ 5000, batch size 4 ≠ 2": what `a` and `b` disagree on.
    static func differences(_ a: TrainingOptions, _ b: TrainingOptions) -> String {
        let encoder = JSONEncoder.sorted
        guard let ja = try? encoder.encode(a), let jb = try? encoder.encode(b),
              let da = try? JSONSerialization.jsonObject(with: ja) as? [String: Any],
              let db = try? JSONSerialization.jsonObject(with: jb) as? [String: Any] else { return "?" }
        let keys = Set(da.keys).union(db.keys).filter { "\(da[$0] ?? "none")" != "\(db[$0] ?? "none")" }
        return keys.sorted().map { "\($0) \(da[$0].map { "\($0)" } ?? "none") → \(db[$0].map { "\($0)" } ?? "none")" }
            .joined(separator: ", ")
    }
}

extension JSONEncoder {
    /// Keys sorted, so the same options always give the same text.
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
