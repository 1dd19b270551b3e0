import Synchronization

/// Where each block of a decoded configuration came from, so that checks made after decoding
/// can still point at a file, line and column.
///
/// Blocks are named by a path such as `vrrp_instance VI_1` or `virtual_server #2/real_server #1`.
/// Recording is an append into flat arrays (keywords are small interned ids); the path index is
/// built on the first lookup, so a configuration without problems never pays for it.
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
    private var blockLocations: [SourceLocation] = []
    private var blockRanges: [Range<Int>] = []
    private var entries: [(KeywordID, SourceLocation)] = []
    private let index = LazyIndex()

    public init() {}

    /// Records a finished block and the keywords seen in it.
    mutating func record(block path: String, at location: SourceLocation, keywords: ArraySlice<(KeywordID, SourceLocation)>) {
        paths.append(path)
        blockLocations.append(location)
        let start = entries.count
        entries.append(contentsOf: keywords)
        blockRanges.append(start..<entries.count)
    }

    private func block(at i: Int) -> Block {
        Block(location: blockLocations[i], keywords: entries[blockRanges[i]].map { (KeywordID.name(of: $0.0), $0.1) })
    }

    /// Every block recorded under `path` (a block given twice, such as two global_defs, has two).
    public func blocks(_ path: String) -> [Block] {
        index.lookup(path, paths: paths).map(block(at:))
    }

    /// The location of `keyword` inside the block at `path`, else of the block itself, else of
    /// the nearest enclosing block that is known.
    public func location(_ path: String, _ keyword: String? = nil) -> SourceLocation? {
        let found = index.lookup(path, paths: paths)
        guard let first = found.first else {
            guard let slash = path.lastIndex(of: "/") else { return nil }
            return location(String(path[..<slash]))
        }
        if let keyword, let id = KeywordID.existing(keyword) {
            for i in found {
                if let entry = entries[blockRanges[i]].first(where: { $0.0 == id }) { return entry.1 }
            }
        }
        return blockLocations[first]
    }

    /// The locations of the top-level blocks whose path starts with `prefix`, in the order they
    /// were recorded (one pass, no index built).
    func topLevelLocations(prefix: String) -> [(path: String, location: SourceLocation)] {
        var out: [(path: String, location: SourceLocation)] = []
        let head = Array(prefix.utf8)
        for (i, p) in paths.enumerated() {
            // Bytes, not characters: paths are ASCII, and this runs over every block of a file.
            var utf8 = p.utf8.makeIterator()
            guard head.allSatisfy({ utf8.next() == $0 }) else { continue }
            var nested = false
            while let c = utf8.next() { if c == 0x2F { nested = true; break } }
            if !nested { out.append((p, blockLocations[i])) }
        }
        return out
    }

    /// Whether `keyword` was seen in the block at `path`.
    public func contains(_ path: String, keyword: String) -> Bool {
        guard let id = KeywordID.existing(keyword) else { return false }
        return index.lookup(path, paths: paths).contains { i in entries[blockRanges[i]].contains { $0.0 == id } }
    }
}

/// A keyword (or list-entry name) interned in a process-wide table, so the source map keeps 4
/// bytes per entry instead of a string. Keyword rules intern their names once, when their schema
/// is built.
struct KeywordID: Hashable, Sendable {
    let raw: UInt32

    private struct Table: ~Copyable {
        var names: [String] = []
        var ids: [String: UInt32] = [:]
    }

    private static let table = Mutex(Table())

    init(_ name: String) {
        raw = Self.table.withLock { t in
            if let id = t.ids[name] { return id }
            let id = UInt32(t.names.count)
            t.names.append(name)
            t.ids[name] = id
            return id
        }
    }

    /// The id of `name` if it was ever interned.
    static func existing(_ name: String) -> KeywordID? {
        table.withLock { t in t.ids[name].map { KeywordID(raw: $0) } }
    }

    private init(raw: UInt32) { self.raw = raw }

    static func name(of id: KeywordID) -> String {
        table.withLock { t in Int(id.raw) < t.names.count ? t.names[Int(id.raw)] : "?" }
    }
}

/// The path → blocks index of a ``SourceMap``, built when first needed (and rebuilt if the map
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
