// The one place that names the C++ coroutine library. g++ 12 ships
// <coroutine>; the clang 14 of Debian's Emscripten has only
// <experimental/coroutine>. Everything else says cloudkit::coro::.
//
// CLOUDKIT_CORO_SYMMETRIC_TRANSFER: whether await_suspend may return the
// handle to resume next. Clang lowers that to a tail call, which WebAssembly
// without the tail-call feature (Emscripten's clang 14) cannot compile; there
// a finishing task resumes its awaiter by a plain call instead.
#pragma once

#if defined(__EMSCRIPTEN__)
#define CLOUDKIT_CORO_SYMMETRIC_TRANSFER 0
#else
#define CLOUDKIT_CORO_SYMMETRIC_TRANSFER 1
#endif

#if __has_include(<coroutine>)
#include <coroutine>
namespace cloudkit::coro {
using std::coroutine_handle;
using std::noop_coroutine;
using std::suspend_always;
using std::suspend_never;
}  // namespace cloudkit::coro
#else
#include <experimental/coroutine>
namespace cloudkit::coro {
using std::experimental::coroutine_handle;
using std::experimental::noop_coroutine;
using std::experimental::suspend_always;
using std::experimental::suspend_never;
}  // namespace cloudkit::coro
#endif
