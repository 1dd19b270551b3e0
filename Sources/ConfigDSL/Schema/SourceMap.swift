import Synchronization

/// Where each block of a decoded configuration came from, so that checks made after decoding
/// can still point at a file, line and column.
///
/// Blocks are named by a path such as `vrrp_instance VI_1` or `virtual_server #2/real_server #1`.
/// Recording is an append; the path index is built on the first lookup, so a configuration
/// without problems never pays for it.
public struct SourceMap: Sendable {
    public struct Block: Sendable {
        public var location: SourceLocation
        /// Keywords (and list entries such as `virtual_ipaddress/192.0.2.1/24`) in the order seen.
        public var keywords: [(String, SourceLocation)]

        /// The first location of `keyword` in the block.
        public func location(of keyword: String) -> SourceLocation? {
            keywords.first { $0.0 == keyword }?.1
        }
    }

    private var paths: [String] = []
    private var entries: [Block] = []
    private let index = LazyIndex()

    public init() {}

    mutating func record(block path: String, _ block: Block) {
        paths.append(path)
        entries.append(block)
    }

    /// Every block recorded under `path` (a block given twice, such as two global_defs, has two).
    public func blocks(_ path: String) -> [Block] {
        index.lookup(path, paths: paths).map { entries[$0] }
    }

    /// The location of `keyword` inside the block at `path`, else of the block itself, else of
    /// the nearest enclosing block that is known.
    public func location(_ path: String, _ keyword: String? = nil) -> SourceLocation? {
        let found = blocks(path)
        guard let first = found.first else {
            guard let slash = path.lastIndex(of: "/") else { return nil }
            return location(String(path[..<slash]))
        }
        if let keyword {
            for block in found {
                if let l = block.location(of: keyword) { return l }
            }
        }
        return first.location
    }

    /// Whether `keyword` was seen in the block at `path`.
    public func contains(_ path: String, keyword: String) -> Bool {
        blocks(path).contains { $0.location(of: keyword) != nil }
    }
}

/// The path → entries index of a ``SourceMap``, built when first needed (and rebuilt if the map
/// has grown since).
final class LazyIndex: Sendable {
    private struct State {
        var built = 0
        var positions: [String: [Int]] = [:]
    }

    private let state = Mutex(State())

    func lookup(_ path: String, paths: [String]) -> [Int] {
        state.withLock { s in
            if s.built != paths.count {
                s.positions = [:]
                s.positions.reserveCapacity(paths.count)
                for (i, p) in paths.enumerated() { s.positions[p, default: []].append(i) }
                s.built = paths.count
            }
            return s.positions[path] ?? []
        }
    }
}
