#include "core/executor.h"

namespace cloudkit {
namespace {
thread_local std::shared_ptr<Executor> current_executor;
}  // namespace

const std::shared_ptr<Executor>& CurrentExecutor() { return current_executor; }

ExecutorScope::ExecutorScope(std::shared_ptr<Executor> executor)
    : previous_(std::exchange(current_executor, std::move(executor))) {}

ExecutorScope::~ExecutorScope() { current_executor = std::move(previous_); }

}  // namespace cloudkit
