import Foundation
import StylizeIO
import Testing

struct ModelsCacheTests {
    @Test("the models folder follows STYLIZE_MODELS, then STYLIZE_CACHE and HOME, and says how to fetch")
    func paths() {
        let file = ModelsCache.Model.multistyle26.rawValue
        #expect(file == "multistyle26.onnx")
        #expect(ModelsCache.path(of: .multistyle26, environment: ["STYLIZE_MODELS": "/m", "STYLIZE_CACHE": "/c", "HOME": "/h"]) == "/m/\(file)")
        #expect(ModelsCache.path(of: .multistyle26, environment: ["STYLIZE_CACHE": "/c", "HOME": "/h"]) == "/c/models/\(file)")
        #expect(ModelsCache.path(of: .arbitraryPredict, environment: ["STYLIZE_MODELS": "", "HOME": "/h"]) == "/h/.cache/stylize/models/arbitrary_predict.onnx")
        let missing = ["STYLIZE_MODELS": "/nonexistent/stylize-models"]
        #expect(throws: ModelsCache.NotFound(path: "/nonexistent/stylize-models/arbitrary_transform.onnx")) {
            try ModelsCache.existingPath(of: .arbitraryTransform, environment: missing)
        }
        #expect(ModelsCache.NotFound(path: "/p").description.contains("bash scripts/fetch-models.sh"))
    }

    @Test("scripts/fetch-models.sh has cached every network (the test command runs it first)")
    func networksAreCached() throws {
        for model in ModelsCache.Model.allCases {
            let path = try ModelsCache.existingPath(of: model)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count > 100_000, "\(path) looks truncated")
        }
    }
}
