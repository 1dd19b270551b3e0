import Synchronization

/// A place in a configuration file: file path, 1-based line and 1-based byte column.
///
/// A location is 12 bytes with no reference counting (the path lives in a process-wide table of
/// file names), because every token and statement of a large configuration carries one.
public struct SourceLocation: Hashable, Sendable, Codable, CustomStringConvertible {
    let fileID: UInt32
    let line32: Int32
    let column32: Int32

    public init(file: String, line: Int, column: Int) {
        self.init(fileID: SourceFiles.id(of: file), line: line, column: column)
    }

    init(fileID: UInt32, line: Int, column: Int) {
        self.fileID = fileID
        self.line32 = Int32(clamping: line)
        self.column32 = Int32(clamping: column)
    }

    public var file: String { SourceFiles.path(of: fileID) }
    public var line: Int { Int(line32) }
    public var column: Int { Int(column32) }

    /// The same file and line at another column.
    public func atColumn(_ column: Int) -> SourceLocation {
        SourceLocation(fileID: fileID, line: line, column: column)
    }

    /// `file:line:column`, as compilers print it.
    public var description: String { "\(file):\(line):\(column)" }

    private enum CodingKeys: String, CodingKey { case file, line, column }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(file: try c.decode(String.self, forKey: .file), line: try c.decode(Int.self, forKey: .line),
                  column: try c.decode(Int.self, forKey: .column))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(file, forKey: .file)
        try c.encode(line, forKey: .line)
        try c.encode(column, forKey: .column)
    }
}

/// The process-wide table of file names behind ``SourceLocation``: one id per distinct path.
enum SourceFiles {
    private struct Table: ~Copyable {
        var paths: [String] = []
        var ids: [String: UInt32] = [:]
    }

    private static let table = Mutex(Table())

    static func id(of path: String) -> UInt32 {
        table.withLock { t in
            if let id = t.ids[path] { return id }
            let id = UInt32(t.paths.count)
            t.paths.append(path)
            t.ids[path] = id
            return id
        }
    }

    static func path(of id: UInt32) -> String {
        table.withLock { t in Int(id) < t.paths.count ? t.paths[Int(id)] : "?" }
    }
}

/// How bad a diagnostic is.
public enum Severity: String, Sendable, Codable, Comparable {
    case note, warning, error

    private var rank: Int {
        switch self {
        case .note: 0
        case .warning: 1
        case .error: 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// Which of keepalived's `-t` exit statuses an error leads to.
public enum DiagnosticCategory: String, Sendable, Codable {
    /// The configuration cannot be read at all (missing file, unreadable include): exit 4.
    case fatal
    /// Any other configuration problem: exit 5.
    case configuration
    /// A script-security problem: exit 6.
    case scriptSecurity
}

/// One problem found in a configuration, with where it is and what to do about it.
///
/// ```swift
/// let result = ConfigLoader().load(path: "/etc/keepalived/keepalived.conf")
/// for d in result.diagnostics { print(d) }   // keepalived.conf:12:5: error: ...
/// ```
public struct Diagnostic: Sendable, Codable, Hashable, CustomStringConvertible {
    public var severity: Severity
    public var category: DiagnosticCategory
    /// A stable identifier for the kind of problem, such as `unknown-keyword`.
    public var code: String
    public var location: SourceLocation?
    public var message: String
    /// What to do about it, when there is something useful to say.
    public var hint: String?

    public init(
        _ severity: Severity, _ code: String, _ message: String, at location: SourceLocation?,
        hint: String? = nil, category: DiagnosticCategory = .configuration
    ) {
        self.severity = severity
        self.code = code
        self.message = message
        self.location = location
        self.hint = hint
        self.category = category
    }

    /// `file:line:col: error: message` followed by an indented hint line, like a compiler.
    public var description: String {
        var text = ""
        if let location { text += "\(location): " }
        text += "\(severity.rawValue): \(message)"
        if let hint { text += "\n    hint: \(hint)" }
        return text
    }
}

/// Collects diagnostics in the order they are found.
public struct Diagnostics: Sendable {
    public private(set) var all: [Diagnostic] = []

    public init() {}

    public mutating func append(_ diagnostic: Diagnostic) { all.append(diagnostic) }

    public mutating func error(
        _ code: String, _ message: String, at location: SourceLocation?, hint: String? = nil,
        category: DiagnosticCategory = .configuration
    ) {
        all.append(Diagnostic(.error, code, message, at: location, hint: hint, category: category))
    }

    public mutating func warning(_ code: String, _ message: String, at location: SourceLocation?, hint: String? = nil) {
        all.append(Diagnostic(.warning, code, message, at: location, hint: hint))
    }

    public mutating func append(contentsOf other: [Diagnostic]) { all.append(contentsOf: other) }

    public var hasErrors: Bool { all.contains { $0.severity == .error } }
}
