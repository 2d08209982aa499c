/// A problem with a file the user gave or asked for: it names the file and what is wrong.
public struct FileError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String

    public init(_ path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
