// Sweeps of the embedded object storage: what a crash left behind. A put
// writes its blob before its record, and a replaced or deleted object's blob
// is removed after its record, so a crash can leave blobs no record names,
// and uploads never finished. A pass removes the unfinished uploads no writer
// uses, then judges the blobs in batches: a blob goes when no record names it
// and no commit of this provider may be about to name it.
//
// Why that is safe: a blob in a listing was committed (renamed into place)
// before the listing read it. If this provider committed it, its commit had
// started before the listing's answer reached the actor; the pass waits until
// every such commit has ended, so each such blob is known (unpublished_) or
// already named by its record. Then the records are scanned: a record written
// after the scan passed its key names a blob that was unpublished during the
// pass, which committed_while_sweeping_ keeps. Blobs written in the last ten
// minutes are left for a later pass besides: what this provider tracks says
// nothing of another store on the same directory.
#include <algorithm>

#include "providers/embedded/embedded_object_storage.h"
#include "providers/embedded/store_keys.h"

namespace cloudkit::embedded {
namespace {

constexpr size_t kRecordsPerScan = 512;

}  // namespace

uint64_t EmbeddedObjectStorage::CommitStarts() {
  const uint64_t commit = next_commit_++;
  committing_.insert(commit);
  return commit;
}

void EmbeddedObjectStorage::CommitEnded(uint64_t commit, const Result<std::string>& blob_id) {
  committing_.erase(commit);
  if (blob_id.ok()) {
    unpublished_.insert(blob_id.value());
    if (sweeping_) committed_while_sweeping_.insert(blob_id.value());
  }
  auto [waits_for, sweep] = sweep_waiting_;
  if (sweep && (committing_.empty() || *committing_.begin() >= waits_for)) {
    sweep_waiting_ = {0, nullptr};
    sweep.resume();
  }
}

void EmbeddedObjectStorage::ServedAfresh() {
  // The previous actor's operations (a pass, commits, publishing) never
  // resume: what they committed and never published is an orphan now.
  sweeping_ = false;
  committing_.clear();
  unpublished_.clear();
  committed_while_sweeping_.clear();
  sweep_waiting_ = {0, nullptr};
}

bool EmbeddedObjectStorage::ReportUpkeep(v1::StorageUpkeep* upkeep) const {
  if (!swept_.blobs_listed.load(std::memory_order_relaxed)) return false;
  upkeep->set_sweeps(swept_.passes.load(std::memory_order_relaxed));
  upkeep->set_orphan_blobs(swept_.orphan_blobs.load(std::memory_order_relaxed));
  upkeep->set_orphan_blob_bytes(swept_.orphan_blob_bytes.load(std::memory_order_relaxed));
  upkeep->set_partial_uploads(swept_.partial_uploads.load(std::memory_order_relaxed));
  upkeep->set_partial_upload_bytes(swept_.partial_upload_bytes.load(std::memory_order_relaxed));
  upkeep->set_last_sweep_ms(swept_.last_pass_ms.load(std::memory_order_relaxed));
  return true;
}

Task<void> EmbeddedObjectStorage::Sweep() {
  if (sweeping_) co_return;
  sweeping_ = true;
  committed_while_sweeping_ = unpublished_;
  Result<ports::SweptUploads> parts = co_await blobs_->SweepUnfinished();
  if (parts.ok()) {
    swept_.partial_uploads += parts->files;
    swept_.partial_upload_bytes += parts->bytes;
  }
  Status orphans = co_await SweepOrphans();
  sweeping_ = false;
  committed_while_sweeping_.clear();
  // A pass that failed (a disk error) is tried again at the next interval.
  if (orphans.ok() && swept_.blobs_listed) {
    swept_.passes++;
    swept_.last_pass_ms = static_cast<uint64_t>(std::max<int64_t>(0, clock_->NowMs()));
  }
}

bool EmbeddedObjectStorage::Protected(const std::string& blob_id) const {
  return unpublished_.count(blob_id) > 0 || committed_while_sweeping_.count(blob_id) > 0;
}

Task<Status> EmbeddedObjectStorage::SweepOrphans() {
  std::string after;
  bool listed_all = false;
  const int64_t written_before_ms = clock_->NowMs() - kOrphanAgeMs;
  while (!listed_all) {
    std::unordered_map<std::string, ports::ListedBlob> candidates;
    while (candidates.size() < kSweepBatch) {
      Result<std::vector<ports::ListedBlob>> listed = co_await blobs_->List(after, kSweepBatch - candidates.size());
      if (!listed.ok()) {
        // A store that lists no blobs has none a crash could leave.
        co_return listed.status().code() == v1::UNIMPLEMENTED ? Status::Ok() : listed.status();
      }
      swept_.blobs_listed = true;
      if (listed->empty()) {
        listed_all = true;
        break;
      }
      after = listed->back().id;
      for (ports::ListedBlob& blob : *listed) {
        if (blob.written_ms <= written_before_ms) candidates.emplace(blob.id, std::move(blob));
      }
    }
    if (candidates.empty()) break;
    // Every commit that may have put a listed blob in place has started by
    // now; once they have all ended, their blobs are in unpublished_.
    co_await CommitsBefore{this, next_commit_};
    CK_CO_RETURN_IF_ERROR(co_await DropNamed(&candidates));
    for (const auto& [blob_id, blob] : candidates) {
      if (Protected(blob_id)) continue;
      Status removed = co_await blobs_->Remove(blob_id);
      if (!removed.ok()) continue;  // tried again at the next pass
      swept_.orphan_blobs++;
      swept_.orphan_blob_bytes += blob.bytes;
    }
  }
  co_return Status::Ok();
}

Task<Status> EmbeddedObjectStorage::DropNamed(std::unordered_map<std::string, ports::ListedBlob>* candidates) {
  const std::string end = PrefixSuccessor(kObjectPrefix);
  std::string start(kObjectPrefix);
  while (true) {
    Result<ports::OrderedStore::Entries> page = co_await records_->Scan(start, end, kRecordsPerScan);
    if (!page.ok()) co_return page.status();
    for (const auto& [key, value] : *page) {
      store::v1::ObjectRecord record;
      // A record that does not parse names nothing we can tell: keep every
      // candidate rather than risk its content.
      if (!record.ParseFromString(value)) co_return Status::Internal("corrupt object record in a sweep");
      candidates->erase(record.blob_id());
    }
    if (page->size() < kRecordsPerScan) co_return Status::Ok();
    start = page->back().first + '\0';
  }
}

}  // namespace cloudkit::embedded
