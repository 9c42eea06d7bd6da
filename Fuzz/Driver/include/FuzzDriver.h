// libFuzzer's driver, called from each harness's main (docs/testing.md, "Fuzzing").
#ifndef LINKGATE_FUZZ_DRIVER_H
#define LINKGATE_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/// Parses libFuzzer's flags from `argc`/`argv` and runs `callback` on every input
/// (libFuzzer's own interface, linked in by `-sanitize=fuzzer`).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
