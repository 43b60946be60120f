import ArgumentParser

/// The `theano` command: tutorials, demos and benchmarks.
@main
struct TheanoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "theano",
        abstract: "Theano for Swift: compile and run array expressions; train the classic tutorials.",
        subcommands: [Demo.self, FetchMNIST.self])
}
