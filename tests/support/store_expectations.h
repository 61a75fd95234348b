// The checks every OrderedStore makes of a batch's expectations
// (ports/ordered_store.h), run on two stores open on one location, as two
// browser tabs or two processes have them: a write whose expectation another
// store's write broke writes nothing and answers ABORTED; of writes asked for
// together that expect the same key absent, exactly one lands. Shared by the
// native port's tests and the browser port's (wasm) tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ports/ordered_store.h"
#include "support/run_task.h"

namespace cloudkit::testing_util {

inline Status WriteExpecting(ports::OrderedStore& store, const std::string& key, std::optional<std::string> expected,
                             const std::string& value) {
  ports::WriteBatch batch;
  batch.Expect(key, std::move(expected));
  batch.Put(key, value);
  return Await(store.Write(std::move(batch)));
}

inline void CheckExpectationsAcrossStores(ports::OrderedStore& a, ports::OrderedStore& b) {
  EXPECT_TRUE(WriteExpecting(a, "k", std::nullopt, "a").ok());
  EXPECT_EQ(WriteExpecting(b, "k", std::nullopt, "b").code(), v1::ABORTED) << "k is no longer absent";
  EXPECT_TRUE(WriteExpecting(b, "k", "a", "b").ok());
  EXPECT_EQ(WriteExpecting(a, "k", "a", "c").code(), v1::ABORTED) << "b changed k since a read it";
  EXPECT_EQ(*Await(a.Get("k")), "b");

  ports::WriteBatch first_in_range;
  first_in_range.ExpectEmpty("r/", "r0");
  first_in_range.Put("r/1", "x");
  EXPECT_TRUE(Await(a.Write(std::move(first_in_range))).ok());
  ports::WriteBatch second_in_range;
  second_in_range.ExpectEmpty("r/", "r0");
  second_in_range.Put("r/2", "y");
  EXPECT_EQ(Await(b.Write(std::move(second_in_range))).code(), v1::ABORTED);
  EXPECT_EQ(Await(b.Get("r/2")).status().code(), v1::NOT_FOUND) << "an aborted batch wrote nothing";

  // Asked for together, on both stores: each store may group its own into
  // one transaction, and each batch is checked after those before it.
  std::vector<Async<Status>> racing;
  for (int i = 0; i < 20; ++i) {
    ports::WriteBatch batch;
    batch.Expect("race", std::nullopt);
    batch.Put("race", std::to_string(i));
    batch.Put("race/" + std::to_string(i), "written");
    racing.push_back((i % 2 == 0 ? a : b).Write(std::move(batch)));
  }
  int landed = 0;
  for (auto& write : racing) {
    Status status = Await(std::move(write));
    if (status.ok()) ++landed;
    else EXPECT_EQ(status.code(), v1::ABORTED);
  }
  EXPECT_EQ(landed, 1);
  auto written = Await(a.Scan("race/", "race0", 100));
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(written->size(), 1u) << "only the batch that landed wrote its other keys";
}

}  // namespace cloudkit::testing_util
