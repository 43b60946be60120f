import Foundation
import PackagePlugin

/// Embeds `Backend/Native/C` of the target it is applied to as `EmbeddedC.files`, rebuilt
/// whenever a C file changes.
@main
struct EmbedCPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        // The folder from a source file's URL: `directoryURL` needs tools version 6.1.
        guard let module = target.sourceModule,
            let file = module.sourceFiles.first(where: { $0.url.path.contains("/Backend/") })?.url,
            let range = file.path.range(of: "/Backend/")
        else { return [] }
        let folder = URL(fileURLWithPath: String(file.path[..<range.lowerBound]) + "/Backend/Native/C")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".c") || $0.hasSuffix(".h") }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedC.swift")
        return [
            .buildCommand(
                displayName: "Embedding the fixed C kernels",
                executable: try context.tool(named: "EmbedC").url,
                arguments: [folder.path, output.path],
                inputFiles: names.map { folder.appending(path: $0) },
                outputFiles: [output])
        ]
    }
}
