import Testing
import Stylize

/// Expects `options.validate()` to refuse the options with a one-line message containing `mention`.
func expectRefused(_ options: StyleTransferOptions, mentioning mention: String,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        try options.validate()
        Issue.record("accepted; expected an error mentioning \(mention)", sourceLocation: sourceLocation)
    } catch {
        let text = "\(error)"
        #expect(text.contains(mention), "\(text)", sourceLocation: sourceLocation)
        #expect(!text.contains("\n"), sourceLocation: sourceLocation)
    }
}
