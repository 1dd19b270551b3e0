/// A place in a configuration file: file path, 1-based line and 1-based byte column.
public struct SourceLocation: Hashable, Sendable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, as compilers print it.
    public var description: String { "\(file):\(line):\(column)" }
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
