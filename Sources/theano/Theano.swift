import ArgumentParser

/// The `theano` command: tutorials, demos and benchmarks.
@main
struct TheanoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "theano",
        abstract: "Theano for Swift: compile and run array expressions; train the classic tutorials.",
        subcommands: [
            LogReg.self, MLPCommand.self, LeNetCommand.self, LSTMCommand.self, DACommand.self, RBMCommand.self,
            SdACommand.self, DBNCommand.self, Predict.self, FetchMNIST.self, Demo.self, Cache.self,
            Bench.self, FuzzCommand.self, Devices.self, DeviceCheck.self
        ])
}
