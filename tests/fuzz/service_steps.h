// The steps of a service actor fuzz script (service_actor_fuzzer.cc), shared
// with the seed corpus that writes them. Each step is one byte naming it,
// then its arguments:
//   kRequest       slot, method index, credits, flags, body
//   kData          slot, flags, body
//   kCredit        slot, credits
//   kCancel        slot
//   kAdvanceClock  16-bit count of 16 ms ticks (due timers then fire)
// A slot names one of a few calls the script may hold open at once; flags'
// bit 0 asks for an idempotency key (REQUEST) or ends the upload (DATA), bit
// 1 gives a REQUEST a deadline of a second.
#pragma once

#include <cstdint>

namespace cloudkit::fuzz {

enum ServiceStep : uint8_t { kRequest, kData, kCredit, kCancel, kAdvanceClock, kServiceStepCount };
inline constexpr int kCallSlots = 8;
inline constexpr uint8_t kFlagFirst = 1;   // idempotency key / end of stream
inline constexpr uint8_t kFlagDeadline = 2;

}  // namespace cloudkit::fuzz
