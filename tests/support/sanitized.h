// Whether this build runs under AddressSanitizer or ThreadSanitizer
// (scripts/build-sanitize.sh). Their shadow memory and quarantine make a
// process's resident set say nothing of what the code holds, so tests check
// memory bounds (RSS) in the plain build only; everything else they check
// holds under the sanitizers too.
#pragma once

namespace cloudkit::testing_util {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kRssBoundsHold = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kRssBoundsHold = false;
#else
inline constexpr bool kRssBoundsHold = true;
#endif
#else
inline constexpr bool kRssBoundsHold = true;
#endif

}  // namespace cloudkit::testing_util
