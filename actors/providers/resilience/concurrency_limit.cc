#include "providers/resilience/concurrency_limit.h"

#include <algorithm>
#include <utility>

#include "core/resume.h"

namespace cloudkit::resilience {

using cloudkit::Resume;

std::unique_ptr<ConcurrencyLimit::Permit> ConcurrencyLimit::Acquire() {
  std::unique_ptr<Permit> permit(new Permit(this));
  if (available_ > 0 && waiting_.empty()) {
    --available_;
    permit->granted_ = true;
  } else {
    waiting_.push_back(permit.get());
  }
  return permit;
}

ConcurrencyLimit::Permit::~Permit() { limit_->Release(this); }

void ConcurrencyLimit::Release(Permit* permit) {
  if (!permit->granted_) {  // gave up while waiting
    waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), permit), waiting_.end());
    return;
  }
  if (waiting_.empty()) {
    ++available_;
    return;
  }
  Permit* next = waiting_.front();  // the slot passes straight to the oldest waiter
  waiting_.pop_front();
  next->granted_ = true;
  if (auto waiter = std::exchange(next->waiter_, nullptr)) Resume(waiter);
}

}  // namespace cloudkit::resilience
