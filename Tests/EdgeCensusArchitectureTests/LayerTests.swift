import Foundation
import Testing

/// The module graph against the layers of Architecture.md: what Package.swift
/// declares and what every source file imports. Read as text, with no toolchain,
/// so that it runs in the fast loop.
@Suite("Modules depend one way: on lower layers only")
struct LayerTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let article = root.appendingPathComponent("Sources/edgecensus/Documentation.docc/Articles/Architecture.md")

    /// The layer of each module, from the article's table (`| 2 | A, B | ... |`).
    static func layers() throws -> [String: Int] {
        var layers: [String: Int] = [:]
        for line in try String(contentsOf: article, encoding: .utf8).split(separator: "\n") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard cells.count > 3, let layer = Int(cells[1]) else { continue }
            for module in cells[2].split(separator: ",") { layers[module.trimmingCharacters(in: .whitespaces)] = layer }
        }
        return layers
    }

    /// The product's targets in Package.swift (not the tests' or their support's), each with the targets it names.
    static func targets() throws -> [String: Set<String>] {
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let starts = try Regex(#"\.(target|executableTarget|systemLibrary|testTarget)\("#)
        let openings = manifest.ranges(of: starts)
        var targets: [String: Set<String>] = [:]
        for (index, opening) in openings.enumerated() {
            let end = index + 1 < openings.count ? openings[index + 1].lowerBound : manifest.endIndex
            let block = String(manifest[opening.lowerBound..<end])
            guard !block.hasPrefix(".testTarget"), !block.contains("path: \"Tests/"),
                let name = block.firstMatch(of: #/name: "([^"]+)"/#)?.output.1
            else { continue }
            var dependencies = Set<String>()
            if let list = block.firstMatch(of: #/dependencies: \[([^\]]*)\]/#)?.output.1 {
                for match in list.matches(of: #/"([^"]+)"/#) { dependencies.insert(String(match.output.1)) }
            }
            targets[String(name)] = dependencies
        }
        return targets
    }

    /// The project's modules each source file under `Sources/<module>/` imports.
    static func imports(of module: String, among modules: Set<String>) throws -> [(file: String, imported: String)] {
        let folder = root.appendingPathComponent("Sources/" + module)
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var found: [(String, String)] = []
        for case let path as String in walker where path.hasSuffix(".swift") {
            let text = try String(contentsOfFile: folder.path + "/" + path, encoding: .utf8)
            for line in text.split(separator: "\n") {
                guard
                    let match = line.firstMatch(
                        of: #/^\s*(?:@\w+\s+)?(?:public |package |internal |private |fileprivate )?import (\w+)/#),
                    modules.contains(String(match.output.1))
                else { continue }
                found.append((module + "/" + path, String(match.output.1)))
            }
        }
        return found
    }

    @Test("the layer table places every module of Package.swift, and only those")
    func everyModulePlaced() throws {
        let layers = try Self.layers(), targets = try Self.targets()
        #expect(!targets.isEmpty && !layers.isEmpty, "read nothing from Package.swift or Architecture.md")
        #expect(
            Set(targets.keys).subtracting(layers.keys).isEmpty,
            "not in Architecture.md's table: \(Set(targets.keys).subtracting(layers.keys).sorted())")
        #expect(
            Set(layers.keys).subtracting(targets.keys).isEmpty,
            "in the table but not a target: \(Set(layers.keys).subtracting(targets.keys).sorted())")
    }

    @Test("every dependency Package.swift declares is on a lower layer")
    func declaredEdges() throws {
        let layers = try Self.layers(), targets = try Self.targets()
        var wrong: [String] = []
        for (module, dependencies) in targets {
            for dependency in dependencies where targets[dependency] != nil {
                if let from = layers[module], let to = layers[dependency], to >= from {
                    wrong.append("\(module) (layer \(from)) → \(dependency) (layer \(to))")
                }
            }
        }
        #expect(wrong.isEmpty, "against the layers:\n\(wrong.sorted().joined(separator: "\n"))")
    }

    @Test("every import of a project module is a declared dependency on a lower layer")
    func importedEdges() throws {
        let layers = try Self.layers(), targets = try Self.targets()
        var wrong: [String] = []
        for (module, dependencies) in targets {
            for (file, imported) in try Self.imports(of: module, among: Set(targets.keys)) where imported != module {
                if !dependencies.contains(imported) {
                    wrong.append("\(file) imports \(imported), which \(module) does not declare")
                }
                if let from = layers[module], let to = layers[imported], to >= from {
                    wrong.append("\(file) imports \(imported) (layer \(to)) from layer \(from)")
                }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.sorted().joined(separator: "\n"))")
    }

    @Test("the schema, the broker's side and the fleet tools never reach OpenCV")
    func openCVStaysBelowThePipeline() throws {
        let targets = try Self.targets()
        func reach(_ module: String) -> Set<String> {
            var seen = Set<String>(), next = [module]
            while let current = next.popLast() {
                for dependency in targets[current] ?? [] where seen.insert(dependency).inserted {
                    next.append(dependency)
                }
            }
            return seen
        }
        for module in [
            "EdgeCensusVisionTypes", "EdgeCensusCounting", "EdgeCensusTelemetry", "EdgeCensusConfiguration",
            "EdgeCensusRemoteConfiguration", "EdgeCensusFleet",
        ] {
            #expect(targets[module] != nil, "\(module) is not a target")
            #expect(!reach(module).contains("COpenCV"), "\(module) reaches OpenCV: \(reach(module).sorted())")
        }
        #expect(reach("EdgeCensusRuntime").contains("COpenCV"), "the reach was not followed")
    }

    @Test("the check itself sees an edge that runs upwards")
    func checkSeesUpwardEdge() throws {
        // Counting (layer 3) importing Runtime (layer 6) is what the check is for.
        let layers = try Self.layers()
        let from = try #require(layers["EdgeCensusCounting"]), to = try #require(layers["EdgeCensusRuntime"])
        #expect(to >= from)
        let targets = try Self.targets()
        #expect(
            targets["EdgeCensusCounting"]?.contains("EdgeCensusVisionTypes") == true,
            "the manifest's dependency lists were not read")
        #expect(
            try Self.imports(of: "EdgeCensusCounting", among: Set(targets.keys)).contains {
                $0.imported == "EdgeCensusVisionTypes"
            })
    }
}
