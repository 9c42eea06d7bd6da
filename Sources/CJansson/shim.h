#ifndef LINKGATE_CJANSSON_SHIM_H
#define LINKGATE_CJANSSON_SHIM_H

#include <jansson.h>

// jansson's reference counting and type tests are macros or inline functions
// that take the struct by pointer; these wrappers give Swift plain functions.
static inline void linkgate_json_decref(json_t *json) { json_decref(json); }
static inline int linkgate_json_typeof(const json_t *json) { return (int)json_typeof(json); }
static inline int linkgate_json_error_code(const json_error_t *error) { return (int)json_error_code(error); }

#endif
