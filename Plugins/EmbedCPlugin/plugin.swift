import Foundation
import PackagePlugin

/// Embeds `Backend/Native/C` and `Backend/CUDA/C` of the target it is applied to as
/// `EmbeddedC.files`, rebuilt whenever one of their files changes.
@main
struct EmbedCPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        // The folder from a source file's URL: `directoryURL` needs tools version 6.1.
        guard let module = target.sourceModule,
            let file = module.sourceFiles.first(where: { $0.url.path.contains("/Backend/") })?.url,
            let range = file.path.range(of: "/Backend/")
        else { return [] }
        let backend = String(file.path[..<range.lowerBound]) + "/Backend/"
        let folders = ["Native/C", "CUDA/C"].map { URL(fileURLWithPath: backend + $0) }
            .filter { FileManager.default.fileExists(atPath: $0.path) }
        let inputs = try folders.flatMap { folder in
            try FileManager.default.contentsOfDirectory(atPath: folder.path)
                .filter { name in [".c", ".h", ".cu", ".cuh"].contains { name.hasSuffix($0) } }
                .map { folder.appending(path: $0) }
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedC.swift")
        return [
            .buildCommand(
                displayName: "Embedding the C kernels and preludes",
                executable: try context.tool(named: "EmbedC").url,
                arguments: [output.path] + folders.map(\.path),
                inputFiles: inputs,
                outputFiles: [output])
        ]
    }
}
