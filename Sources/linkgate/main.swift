import Gateway

// `serve` runs Swift concurrency on NIO's event loops; this must come before any task starts.
EventLoopRuntime.prepare()
await LinkgateCommand.runFromCommandLine()
