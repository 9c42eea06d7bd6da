// libFuzzer's driver, running `fuzzHTTPHeads` on every input (docs/testing.md, "Fuzzing").
import FuzzDriver

#if canImport(Glibc)
import Glibc
#endif

var count = CommandLine.argc
var values: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&count, &values) { data, size in data.map { fuzzHTTPHeads($0, size) } ?? 0 })
