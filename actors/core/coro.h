// The one place that names the C++ coroutine library. g++ 12 ships
// <coroutine>; the clang 14 of Debian's Emscripten has only
// <experimental/coroutine>. Everything else says cloudkit::coro::.
#pragma once

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
