import Foundation
import XCTest

// The module graph as built and as documented agree: docs/ARCHITECTURE.md's table (between the
// `module-graph` markers) is the contract, and this test reads the `import` lines of every
// source file and the target dependencies in Package.swift against it.

/// Names in Package.swift's dependency lists that are not project modules.
private let externalModules: Set<String> = ["ArgumentParser", "Yams", "swift-argument-parser"]

private let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The documented graph: module → the project modules it imports.
private func documentedGraph() throws -> [String: Set<String>] {
    let text = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/ARCHITECTURE.md"), encoding: .utf8)
    guard let start = text.range(of: "<!-- module-graph -->"), let end = text.range(of: "<!-- /module-graph -->") else {
        throw NSError(domain: "ModuleGraphTests", code: 1,
                      userInfo: [NSLocalizedDescriptionKey: "docs/ARCHITECTURE.md has no module-graph markers"])
    }
    var graph: [String: Set<String>] = [:]
    for line in text[start.upperBound..<end.lowerBound].split(separator: "\n") {
        let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard cells.count >= 4, !cells[1].isEmpty, cells[1] != "module", !cells[1].hasPrefix("-") else { continue }
        graph[cells[1]] = Set(cells[2].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }
    return graph
}

/// The project modules (`projectModules`) imported by the Swift files under `folder`
/// (recursively): lines that begin with `import` or `@testable import` (a Python `import` inside
/// a test's script string names no project module).
private func importedModules(under folder: URL, projectModules: Set<String>) throws -> [String: Set<String>] {
    var imports: [String: Set<String>] = [:]  // file → modules
    let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?
        .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" } ?? []
    for file in files {
        let text = try String(contentsOf: file, encoding: .utf8)
        for line in text.split(separator: "\n") {
            var words = line.split(separator: " ").map(String.init)
            if words.first == "@testable" || words.first == "@_implementationOnly" { words.removeFirst() }
            guard words.count >= 2, words[0] == "import", projectModules.contains(words[1]) else { continue }
            imports[file.lastPathComponent, default: []].insert(words[1])
        }
    }
    return imports
}

/// Package.swift's targets: name → the dependencies named in it (products by their name).
private func packageTargets() throws -> [String: Set<String>] {
    let text = try String(contentsOf: repositoryRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
    let pattern = try NSRegularExpression(
        pattern: #"\.(?:target|executableTarget|testTarget|systemLibrary)\(\s*name:\s*"(\w+)"(?:,\s*dependencies:\s*\[(.*?)\])?"#,
        options: [.dotMatchesLineSeparators])
    var targets: [String: Set<String>] = [:]
    for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
        let name = String(text[Range(match.range(at: 1), in: text)!])
        var dependencies: Set<String> = []
        if let range = Range(match.range(at: 2), in: text) {
            let quoted = try NSRegularExpression(pattern: #""(\w+)""#)
            let list = String(text[range])
            for dependency in quoted.matches(in: list, range: NSRange(list.startIndex..., in: list)) {
                dependencies.insert(String(list[Range(dependency.range(at: 1), in: list)!]))
            }
        }
        targets[name] = dependencies.subtracting(externalModules)
    }
    return targets
}

final class ModuleGraphTests: XCTestCase {
    func testEverySourceModuleImportsExactlyWhatTheArchitectureDocumentSays() throws {
        let documented = try documentedGraph()
        let sources = repositoryRoot.appendingPathComponent("Sources")
        let folders = try FileManager.default.contentsOfDirectory(atPath: sources.path).sorted()
        XCTAssertEqual(Set(folders), Set(documented.keys), "Sources/ folders vs docs/ARCHITECTURE.md's module table")
        for module in folders {
            let imports = try importedModules(under: sources.appendingPathComponent(module), projectModules: Set(documented.keys)).values.reduce(into: Set<String>()) { $0.formUnion($1) }
            XCTAssertEqual(imports, documented[module] ?? [], "\(module)'s import lines vs its row in docs/ARCHITECTURE.md")
        }
    }

    func testPackageDependenciesMatchTheDocument() throws {
        let documented = try documentedGraph(), targets = try packageTargets()
        for (module, dependencies) in documented {
            XCTAssertEqual(targets[module], dependencies, "Package.swift's dependencies of \(module) vs docs/ARCHITECTURE.md")
        }
    }

    func testTheGraphIsAcyclic() throws {
        let graph = try documentedGraph()
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        func visit(_ module: String, _ path: [String]) {
            if state[module] == 2 { return }
            if state[module] == 1 { return XCTFail("import cycle: \((path + [module]).joined(separator: " → "))") }
            state[module] = 1
            for dependency in graph[module] ?? [] { visit(dependency, path + [module]) }
            state[module] = 2
        }
        for module in graph.keys.sorted() { visit(module, []) }
    }

    func testEachCShimIsImportedByExactlyOneSwiftModule() throws {
        let graph = try documentedGraph()
        for shim in graph.keys where shim.hasPrefix("C") && graph[shim]!.isEmpty {
            let importers = graph.filter { $0.value.contains(shim) }.map(\.key).sorted()
            XCTAssertEqual(importers.count, 1, "\(shim) is imported by \(importers)")
        }
    }

    func testVAEAndInpaintingAreIndependent() throws {
        let graph = try documentedGraph()
        XCTAssertFalse(graph["GaussianVAE"]?.contains("Inpainting") ?? true)
        XCTAssertFalse(graph["Inpainting"]?.contains("GaussianVAE") ?? true)
    }

    func testTestTargetsDeclareWhatTheyImport() throws {
        let targets = try packageTargets()
        let projectModules = Set(try documentedGraph().keys).union(["TestSupport"])
        let tests = repositoryRoot.appendingPathComponent("Tests")
        for folder in try FileManager.default.contentsOfDirectory(atPath: tests.path).sorted() {
            guard let declared = targets[folder] else { XCTFail("Tests/\(folder) is no target of Package.swift"); continue }
            for (file, imports) in try importedModules(under: tests.appendingPathComponent(folder), projectModules: projectModules) {
                let undeclared = imports.subtracting(declared).subtracting([folder])
                XCTAssertTrue(undeclared.isEmpty, "Tests/\(folder)/\(file) imports \(undeclared.sorted()) that \(folder) does not declare")
            }
        }
    }
}
