// The target's header declares libFuzzer's driver; there is nothing to compile here.
#include "FuzzDriver.h"
