#include "core/key_locks.h"

#include <algorithm>
#include <utility>

#include "core/resume.h"

namespace cloudkit {

std::unique_ptr<KeyLocks::Ticket> KeyLocks::Acquire(std::vector<Key> keys) {
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) { return a.id < b.id; });
  std::vector<Key> merged;
  merged.reserve(keys.size());
  for (Key& key : keys) {
    if (!merged.empty() && merged.back().id == key.id) {
      merged.back().exclusive = merged.back().exclusive || key.exclusive;
    } else {
      merged.push_back(std::move(key));
    }
  }
  auto ticket = std::make_unique<Ticket>();
  ticket->locks_ = this;
  for (const Key& key : merged) {
    Queue& queue = queues_[key.id];
    // Granted at once when nothing waits ahead and nothing running conflicts.
    bool free = std::all_of(queue.begin(), queue.end(), [&](const Entry& e) {
      return e.granted && !e.exclusive && !key.exclusive;
    });
    queue.push_back({ticket.get(), key.exclusive, free});
    if (!free) ticket->waiting_++;
  }
  ticket->keys_ = std::move(merged);
  return ticket;
}

KeyLocks::Ticket::~Ticket() {
  if (locks_) locks_->Release(this);
}

void KeyLocks::GrantFront(Queue& queue, std::vector<Ticket*>* ready) {
  // Front entries are granted in order: one exclusive alone, or a run of shared.
  bool any_granted = false, exclusive_granted = false;
  for (Entry& entry : queue) {
    if (entry.granted) {
      any_granted = true;
      exclusive_granted = exclusive_granted || entry.exclusive;
      continue;
    }
    if (exclusive_granted || (entry.exclusive && any_granted)) return;
    entry.granted = true;
    any_granted = true;
    exclusive_granted = entry.exclusive;
    if (--entry.ticket->waiting_ == 0) ready->push_back(entry.ticket);
    if (entry.exclusive) return;
  }
}

void KeyLocks::Release(Ticket* ticket) {
  std::vector<Ticket*> ready;
  for (const Key& key : ticket->keys_) {
    auto it = queues_.find(key.id);
    if (it == queues_.end()) continue;
    Queue& queue = it->second;
    auto entry = std::find_if(queue.begin(), queue.end(), [&](const Entry& e) { return e.ticket == ticket; });
    if (entry != queue.end()) queue.erase(entry);
    if (queue.empty()) {
      queues_.erase(it);
    } else {
      GrantFront(queue, &ready);
    }
  }
  // Resumed after the bookkeeping: a resumed call may acquire or release more.
  for (Ticket* next : ready) {
    if (auto waiter = std::exchange(next->waiter_, nullptr)) Resume(waiter);
  }
}

}  // namespace cloudkit
