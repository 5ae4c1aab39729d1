// A Remote that records what it is asked to run and answers exit 0: for unit tests of the fault catalog.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "faults/faults.h"

namespace pgchaos::testing {

struct SentCommand {
  std::string node;
  faults::Command command;
};

class FakeRemote : public faults::Remote {
 public:
  FakeRemote(std::string node, std::shared_ptr<std::vector<SentCommand>> log) : node_(std::move(node)), log_(std::move(log)) {}
  faults::CommandResult execute(const faults::Command& command, std::chrono::seconds) override {
    log_->push_back({node_, command});
    return {0, "", ""};
  }

 private:
  std::string node_;
  std::shared_ptr<std::vector<SentCommand>> log_;
};

}  // namespace pgchaos::testing
