// libFuzzer's driver, running `fuzzJWS` on every input (docs/testing.md, "Fuzzing").
import FuzzDriver

#if canImport(Glibc)
import Glibc
#endif

setUpJWS()
var count = CommandLine.argc
var values: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&count, &values) { data, size in data.map { fuzzJWS($0, size) } ?? 0 })
