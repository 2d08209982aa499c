import Foundation
import SplatIO

// A static HTML page builder: a title, sections with headings, paragraphs, tables, inline SVG
// figures, and PNG images embedded as `data:image/png;base64,…` URIs, with a little inline CSS
// and a footer naming the command that made the page. The page needs no server, network,
// script or font: it opens from disk in any browser.
//
// The markup is also well-formed XML (every element closed, attributes quoted, only the five
// XML entities and numeric references), so tests can check a page with an XML parser. All
// caller text is escaped with `xmlEscaped`; SVG figures are trusted (they come from SVGChart).

/// One image of an image grid.
public struct ReportImage {
    public var image: RGBImage
    public var caption: String
    /// Show small images enlarged with sharp pixels (nearest neighbour) instead of smoothed.
    public var pixelated: Bool

    public init(_ image: RGBImage, caption: String, pixelated: Bool = true) {
        self.image = image
        self.caption = caption
        self.pixelated = pixelated
    }
}

/// An HTML report being built; `write(toFolder:)` saves it as `index.html`.
public struct HTMLReport {
    public var title: String
    /// The command that made the report, shown in the footer.
    public var command: String?
    /// The page body so far (HTML).
    public private(set) var body = ""
    /// Section headings with their anchors, for the table of contents.
    private var sections: [(id: String, heading: String)] = []

    public init(title: String, command: String? = nil) {
        self.title = title
        self.command = command
    }

    /// Starts a section: an `<h2>` with an anchor, listed in the contents at the top.
    public mutating func section(_ heading: String) {
        var id = "section-" + String(sections.count + 1)
        let slug = heading.lowercased().unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? String($0) : "-" }.joined()
        let trimmed = slug.split(separator: "-").joined(separator: "-")
        if !trimmed.isEmpty { id += "-" + trimmed }
        sections.append((id, heading))
        body += "<h2 id=\"\(id)\">\(xmlEscaped(heading))</h2>\n"
    }

    /// A smaller heading inside a section.
    public mutating func subsection(_ heading: String) {
        body += "<h3>\(xmlEscaped(heading))</h3>\n"
    }

    /// A paragraph of plain text.
    public mutating func paragraph(_ text: String) {
        body += "<p>\(xmlEscaped(text))</p>\n"
    }

    /// A table; every cell is escaped. Rows shorter than the header are padded with empty cells.
    public mutating func table(header: [String], rows: [[String]], caption: String? = nil) {
        var html = "<table>"
        if let caption { html += "<caption>\(xmlEscaped(caption))</caption>" }
        if !header.isEmpty {
            html += "<thead><tr>" + header.map { "<th>\(xmlEscaped($0))</th>" }.joined() + "</tr></thead>"
        }
        html += "<tbody>"
        for row in rows {
            let padded = row + [String](repeating: "", count: Swift.max(0, header.count - row.count))
            html += "<tr>" + padded.map { "<td>\(xmlEscaped($0))</td>" }.joined() + "</tr>"
        }
        body += html + "</tbody></table>\n"
    }

    /// One inline SVG figure with an optional caption.
    public mutating func figure(svg: String, caption: String? = nil) {
        body += "<figure class=\"wide\">\(svg)\(figureCaption(caption))</figure>\n"
    }

    /// Several SVG figures side by side (wrapping on narrow screens), each with its caption,
    /// and an optional caption for the row.
    public mutating func figureRow(_ figures: [(svg: String, caption: String?)], columns: Int? = nil, caption: String? = nil) {
        body += "<div class=\"row\" style=\"--columns: \(Swift.max(1, columns ?? figures.count))\">"
        for figure in figures { body += "<figure>\(figure.svg)\(figureCaption(figure.caption))</figure>" }
        body += "</div>" + (caption.map { "<p class=\"caption\">\(xmlEscaped($0))</p>" } ?? "") + "\n"
    }

    /// A grid of PNG images (embedded as data URIs), `columns` per row, each with its caption.
    public mutating func imageGrid(_ images: [ReportImage], columns: Int, displaySize: Int = 192, caption: String? = nil) throws {
        body += "<div class=\"grid\" style=\"--columns: \(Swift.max(1, columns)); --size: \(displaySize)px\">"
        for item in images {
            let alt = xmlEscaped(item.caption)
            body += "<figure><img src=\"\(try Self.dataURI(item.image))\" alt=\"\(alt)\" width=\"\(item.image.width)\" "
                + "height=\"\(item.image.height)\"\(item.pixelated ? " class=\"pixelated\"" : "")/>"
                + figureCaption(item.caption) + "</figure>"
        }
        body += "</div>" + (caption.map { "<p class=\"caption\">\(xmlEscaped($0))</p>" } ?? "") + "\n"
    }

    /// Raw HTML appended as is: the caller guarantees it is well-formed and escaped.
    public mutating func appendHTML(_ html: String) {
        body += html
    }

    /// `image` as a `data:image/png;base64,…` URI.
    public static func dataURI(_ image: RGBImage) throws -> String {
        "data:image/png;base64," + Data(try image.pngData()).base64EncodedString()
    }

    /// The complete page.
    public func html(generated date: Date = Date()) -> String {
        var page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
        page += "<title>\(xmlEscaped(title))</title>\n<style>\(Self.css)</style>\n</head>\n<body>\n"
        page += "<h1>\(xmlEscaped(title))</h1>\n"
        if sections.count > 1 {
            page += "<nav><ul>" + sections.map { "<li><a href=\"#\($0.id)\">\(xmlEscaped($0.heading))</a></li>" }.joined() + "</ul></nav>\n"
        }
        page += body
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        page += "<footer>Made by SplatKit"
        if let command { page += " with <code>\(xmlEscaped(command))</code>" }
        page += " on \(xmlEscaped(formatter.string(from: date))).</footer>\n</body>\n</html>\n"
        return page
    }

    /// Writes the page as `folder/index.html` (creating the folder), atomically; returns its path.
    @discardableResult
    public func write(toFolder folder: String) throws -> String {
        try createReportFolder(folder)
        let path = (folder as NSString).appendingPathComponent("index.html")
        let bytes = Data(html().utf8)
        try writeAtomically(to: path) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: bytes) else {
                throw FileError(path, "cannot write the report page")
            }
        }
        return path
    }

    private func figureCaption(_ caption: String?) -> String {
        guard let caption, !caption.isEmpty else { return "" }
        return "<figcaption>\(xmlEscaped(caption))</figcaption>"
    }

    /// The page's whole style sheet (no `<` or `&`, so it is also valid XML text).
    static let css = """

    body { font-family: Helvetica, Arial, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }
    h1 { font-size: 1.6em; border-bottom: 2px solid #ddd; padding-bottom: 0.3em; }
    h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #eee; }
    h3 { font-size: 1.05em; }
    nav ul { padding-left: 1.2em; }
    table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
    caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
    th, td { border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: left; }
    th { background: #f4f4f4; }
    td { font-variant-numeric: tabular-nums; }
    figure { margin: 0; }
    figure.wide { margin: 1em 0; max-width: 760px; }
    figcaption, p.caption { font-size: 0.88em; color: #555; margin-top: 0.3em; }
    svg.chart { width: 100%; height: auto; display: block; }
    .row { display: grid; grid-template-columns: repeat(var(--columns), minmax(0, 1fr)); gap: 1em; margin: 1em 0; }
    .grid { display: grid; grid-template-columns: repeat(var(--columns), var(--size)); gap: 1em; margin: 1em 0; }
    .grid img { width: var(--size); height: auto; display: block; border: 1px solid #ddd; }
    img.pixelated { image-rendering: pixelated; }
    code { background: #f4f4f4; padding: 0.1em 0.3em; }
    footer { margin-top: 3em; padding-top: 0.8em; border-top: 1px solid #ddd; font-size: 0.85em; color: #666; }
    @media (max-width: 800px) { .row { grid-template-columns: minmax(0, 1fr); } }

    """
}

/// Creates `folder` (and its parents) unless it exists; a file in the way is an error.
func createReportFolder(_ folder: String) throws {
    try createOutputFolder(folder, purpose: "report folder")
}
