import Gateway

await LinkgateCommand.main()
