import Gateway

await LinkgateCommand.runFromCommandLine()
