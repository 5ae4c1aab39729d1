// Internal to app/: Boost.Program_options, once, for every subcommand.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace pgchaos::app {

/// Parses `args` against `flags` (positional names as given); a Boost error becomes a UsageError naming the flag.
boost::program_options::variables_map parse_flags(const std::vector<std::string>& args,
                                                  const boost::program_options::options_description& flags,
                                                  const boost::program_options::positional_options_description& positional);

}  // namespace pgchaos::app
