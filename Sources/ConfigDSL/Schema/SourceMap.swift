/// Where each block of a decoded configuration came from, so that checks made after decoding
/// can still point at a file, line and column.
///
/// Blocks are named by a path such as `vrrp_instance VI_1` or `virtual_server #2/real_server #1`.
public struct SourceMap: Sendable {
    public struct Block: Sendable {
        public var location: SourceLocation
        /// The first location of each keyword (or list entry) inside the block.
        public var keywords: [String: SourceLocation]
    }

    public private(set) var blocks: [String: Block] = [:]

    public init() {}

    /// Records a whole block; a block recorded before under the same path keeps its first locations.
    mutating func record(block path: String, _ block: Block) {
        if let existing = blocks[path] {
            blocks[path]!.keywords = existing.keywords.merging(block.keywords) { first, _ in first }
        } else {
            blocks[path] = block
        }
    }

    /// The location of `keyword` inside the block at `path`, else of the block itself.
    public func location(_ path: String, _ keyword: String? = nil) -> SourceLocation? {
        guard let block = blocks[path] else {
            // Fall back to the enclosing block.
            guard let slash = path.lastIndex(of: "/") else { return nil }
            return location(String(path[..<slash]))
        }
        if let keyword, let location = block.keywords[keyword] { return location }
        return block.location
    }
}
