// How deeply a configuration file may nest, checked on the text before Yams parses it.
//
// Yams builds its node tree (and Codable decodes it) by recursion, one stack frame or more per
// level, so a document nested a few thousand levels deep ("[[[[…" or "- - - - …") overflows the
// stack: a crash, not an error. SplatKit's configs nest three or four levels, so the limit is
// generous, and the scan is deliberately conservative (it may overestimate, never underestimate):
//   - block nesting: the open indentation levels (a stack of indents, as YAML's own rule), plus
//     the "- " entry markers at the start of a line ("- - x" is a list in a list);
//   - flow nesting: unclosed "[" and "{" outside quotes and comments, across lines.
// Their sum, at the deepest line, is the depth.

/// The deepest nesting a YAML configuration may have.
public let maximumYAMLNesting = 64

/// The nesting depth of `yaml` as estimated above, and the (1-based) line where it is deepest,
/// or, past `maximumYAMLNesting`, the first line past it (the depth is then not the deepest).
func yamlNestingDepth(_ yaml: String) -> (depth: Int, line: Int) {
    var indents: [Int] = []
    var flowDepth = 0
    var deepest = (depth: 0, line: 0)
    for (index, line) in yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let characters = Array(line)
        var position = characters.prefix { $0 == " " }.count
        let indent = position
        let content = characters[position...].drop { $0 == " " || $0 == "\t" || $0 == "\r" }
        if flowDepth == 0, let first = content.first, first != "#" {
            while let last = indents.last, last > indent { indents.removeLast() }
            if indents.last != indent { indents.append(indent) }
        }
        var markers = 0
        while position + 1 < characters.count, characters[position] == "-", characters[position + 1] == " " {
            markers += 1
            position += 2
            while position < characters.count, characters[position] == " " { position += 1 }
        }
        var quote: Character?
        var lineFlowPeak = flowDepth
        scan: for offset in position..<characters.count {
            let character = characters[offset]
            if let open = quote {
                if character == open { quote = nil }
                continue
            }
            switch character {
            case "\"", "'": quote = character
            case "#" where offset == 0 || characters[offset - 1] == " ": break scan  // a comment
            case "[", "{":
                flowDepth += 1
                lineFlowPeak = max(lineFlowPeak, flowDepth)
            case "]", "}": flowDepth = max(flowDepth - 1, 0)
            default: continue
            }
        }
        let depth = indents.count + markers + lineFlowPeak
        // The first line past the limit is the one to report; below it, the deepest.
        if depth > deepest.depth && deepest.depth <= maximumYAMLNesting { deepest = (depth, index + 1) }
    }
    return deepest
}
