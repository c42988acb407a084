// chaperone-proxy's one native function: madvise(MADV_DONTNEED) over a range of its own address space.
// runtime/startup-pages.ts calls it, once start-up is over, on the read-only file mappings that hold
// no private copy of a page (the node binary's code and read-only data, the shared libraries'):
// their pages come back from the page cache on the next touch, as after the kernel reclaimed them.
// Node has no binding for madvise, and one system call does not need an FFI engine in the sidecar.
// Built by hack/build-native.ts against the Node-API headers (ABI-stable across Node versions).
#define NAPI_VERSION 8
#include <errno.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

// dontNeed(start: bigint, length: bigint): number: 0, or the errno madvise failed with.
static napi_value DontNeed(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint64_t start = 0, length = 0;
  bool exact_start = false, exact_length = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      napi_get_value_bigint_uint64(env, argv[0], &start, &exact_start) != napi_ok ||
      napi_get_value_bigint_uint64(env, argv[1], &length, &exact_length) != napi_ok ||
      !exact_start || !exact_length) {
    napi_throw_type_error(env, NULL, "dontNeed(start: bigint, length: bigint)");
    return NULL;
  }
  int result = madvise((void *)(uintptr_t)start, (size_t)length, MADV_DONTNEED) == 0 ? 0 : errno;
  napi_value out;
  napi_create_int32(env, result, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "dontNeed", NAPI_AUTO_LENGTH, DontNeed, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "dontNeed", fn) != napi_ok)
    return NULL;
  return exports;
}
