// The browser storage port (wasm/indexeddb_storage) with many calls in
// flight, as an actor's overlapping operations make them: writes asked for
// together commit in order (some share a transaction) and a read sees every
// write asked for before it, interleaved reads included; blobs written while
// other calls wait; every call answered, none left pending.
#include <emscripten.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "browser_ports.h"
#include "indexeddb_storage.h"
#include "js_port_call.h"
#include "support/run_task.h"
#include "support/store_expectations.h"

namespace cloudkit::web {
namespace {

using testing_util::Await;

std::string FreshLocation(const std::string& name) {
  static int instances = 0;
  return "port-test-" + std::to_string(BrowserClock().NowMs()) + "-" + std::to_string(++instances) + "/" + name;
}

TEST(IndexedDbStoragePortTest, OverlappingWritesCommitInOrderAndReadsSeeEarlierWrites) {
  IndexedDbStoragePort port;
  testing_util::TestTurn turn;
  auto store = port.OpenOrderedStore(FreshLocation("kv"));
  ASSERT_TRUE(store.ok());
  std::vector<Async<Status>> writes;
  std::vector<std::pair<int, Async<Result<std::string>>>> reads;  // (writes asked before, answer)
  for (int i = 0; i < 200; ++i) {
    ports::WriteBatch w;
    w.Put("k", std::to_string(i));
    w.Put("k" + std::to_string(i), "v");
    writes.push_back((*store)->Write(std::move(w)));
    if (i % 50 == 7) reads.emplace_back(i, (*store)->Get("k"));
  }
  auto last = (*store)->Get("k");
  auto scan = (*store)->Scan("k", "l", 1000);
  for (auto& write : writes) EXPECT_TRUE(Await(std::move(write)).ok());
  for (auto& [asked_after, read] : reads) {
    auto value = Await(std::move(read));
    ASSERT_TRUE(value.ok());
    EXPECT_GE(std::stoi(*value), asked_after) << "a read missed a write asked for before it";
  }
  EXPECT_EQ(*Await(std::move(last)), "199");
  auto all = Await(std::move(scan));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 201u);

  ports::WriteBatch remove;
  remove.Delete("k");
  auto removed = (*store)->Write(std::move(remove));
  auto gone = (*store)->Get("k");
  EXPECT_TRUE(Await(std::move(removed)).ok());
  EXPECT_EQ(Await(std::move(gone)).status().code(), v1::NOT_FOUND);
  EXPECT_EQ(PendingPortCalls(), 0u);
}

// Two connections to one database, as two tabs have.
TEST(IndexedDbStoragePortTest, ExpectationsHoldAcrossTwoStoresOnOneLocation) {
  IndexedDbStoragePort port;
  testing_util::TestTurn turn;
  const std::string location = FreshLocation("shared");
  auto a = port.OpenOrderedStore(location);
  auto b = port.OpenOrderedStore(location);
  ASSERT_TRUE(a.ok() && b.ok());
  testing_util::CheckExpectationsAcrossStores(**a, **b);
  EXPECT_EQ(PendingPortCalls(), 0u);
}

TEST(IndexedDbStoragePortTest, BlobsWrittenTogetherReadBackWhole) {
  IndexedDbStoragePort port;
  testing_util::TestTurn turn;
  auto blobs = port.OpenBlobStore(FreshLocation("objects"));
  ASSERT_TRUE(blobs.ok());
  constexpr int kBlobs = 4;
  const size_t size = (256 << 10) * 2 + 1000;  // two whole chunks and a tail
  std::vector<std::unique_ptr<ports::BlobWriter>> writers;
  for (int i = 0; i < kBlobs; ++i) {
    auto writer = Await((*blobs)->Create());
    ASSERT_TRUE(writer.ok());
    writers.push_back(std::move(*writer));
  }
  // One Append per writer in flight at a time, the writers side by side.
  for (size_t at = 0; at < size; at += 100 << 10) {
    std::vector<Async<Status>> appends;
    for (int i = 0; i < kBlobs; ++i) {
      appends.push_back(writers[i]->Append(std::string(std::min<size_t>(100 << 10, size - at), 'a' + i)));
    }
    for (auto& append : appends) ASSERT_TRUE(Await(std::move(append)).ok());
  }
  std::vector<Async<Result<std::string>>> commits;
  for (auto& writer : writers) commits.push_back(writer->Commit());
  for (int i = 0; i < kBlobs; ++i) {
    auto id = Await(std::move(commits[i]));
    ASSERT_TRUE(id.ok()) << id.status().message();
    auto reader = Await((*blobs)->Open(*id));
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ((*reader)->size(), size);
    std::string content;
    while (true) {
      auto chunk = Await((*reader)->Read(content.size(), 64 << 10));
      ASSERT_TRUE(chunk.ok());
      if (chunk->empty()) break;
      content += *chunk;
    }
    EXPECT_EQ(content, std::string(size, 'a' + i));
  }
  EXPECT_EQ(PendingPortCalls(), 0u);
}

TEST(IndexedDbStoragePortTest, OutsideAnActorTurnCallsFailInsteadOfLosingTheAnswer) {
  IndexedDbStoragePort port;
  auto store = port.OpenOrderedStore(FreshLocation("kv"));
  ASSERT_TRUE(store.ok());
  auto got = testing_util::ReadyValue((*store)->Get("k"));
  EXPECT_EQ(got.status().code(), v1::INTERNAL);
}

}  // namespace
}  // namespace cloudkit::web
