import ArgumentParser
import ConfigDSL

/// `kad keywords`: prints every keyword kad understands, by block, as Markdown.
struct Keywords: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every keepalived.conf keyword kad understands, by block (Markdown).")

    func run() {
        print(ConfigDecoder.keywordReference, terminator: "")
    }
}
