// SharedOrderedStore: one provider's handle on a MemoryOrderedStore that the
// test (or a second provider, as a second browser tab would) keeps using
// too. It can make another call land between a read and the write that
// relies on it: told to, it answers the next read of one key as the store
// holds it, then runs `meanwhile` before handing the answer back.
#pragma once

#include <functional>
#include <string>
#include <utility>

#include "ports/memory_storage.h"

namespace cloudkit::testing_util {

class SharedOrderedStore : public ports::OrderedStore {
 public:
  explicit SharedOrderedStore(ports::MemoryOrderedStore* target) : target_(target) {}
  Async<Result<std::string>> Get(const std::string& key) override {
    Async<Result<std::string>> answer = target_->Get(key);
    if (meanwhile_ && key == interleave_key_) std::exchange(meanwhile_, nullptr)();
    return answer;
  }
  Async<Result<Entries>> Scan(const std::string& start, const std::string& end, size_t limit) override {
    return target_->Scan(start, end, limit);
  }
  Async<Status> Write(ports::WriteBatch batch) override { return target_->Write(std::move(batch)); }

  void AfterReading(std::string key, std::function<void()> meanwhile) {
    interleave_key_ = std::move(key);
    meanwhile_ = std::move(meanwhile);
  }
  bool interleaved() const { return meanwhile_ == nullptr; }

 private:
  ports::MemoryOrderedStore* target_;
  std::string interleave_key_;
  std::function<void()> meanwhile_;
};

}  // namespace cloudkit::testing_util
