// The one mixing function of pgchaos's seeded draws (SplitMix64): a transfer from (seed, op), a worker's generator
// from (seed, worker), an epoch's seed and scenario from the soak's. Changing it changes every replay.
#pragma once

#include <cstdint>

namespace pgchaos::common {

constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace pgchaos::common
