// Decoders name protobuf's reason for refusing a message, and protobuf's
// own lines go where the host routed them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cloudkit/v1/key_value.pb.h"
#include "core/protobuf_log.h"
#include "services/call_frames.h"

namespace cloudkit {
namespace {

std::vector<std::string>* g_lines = nullptr;   // kBadInput lines
std::vector<std::string>* g_errors = nullptr;  // kError lines

void Collect(ProtobufLine kind, const std::string& line) {
  if (g_lines != nullptr && kind == ProtobufLine::kBadInput) g_lines->push_back(line);
  if (g_errors != nullptr && kind == ProtobufLine::kError) g_errors->push_back(line);
}

// A serialized PutRequest whose key is not UTF-8 (made after serializing:
// protobuf would complain while serializing too).
std::string PutWithInvalidUtf8Key() {
  v1::PutRequest put;
  put.set_table("t");
  put.set_key("@@");
  std::string bytes = put.SerializeAsString();
  bytes.replace(bytes.find("@@"), 2, "\xc3\x28");
  return bytes;
}

class ProtobufLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_lines = &lines_;
    g_errors = &errors_;
    RouteProtobufLog(&Collect);
  }
  void TearDown() override {
    RouteProtobufLog(nullptr);
    g_lines = nullptr;
    g_errors = nullptr;
  }
  std::vector<std::string> lines_;
  std::vector<std::string> errors_;
};

TEST_F(ProtobufLogTest, DecodeNamesInvalidUtf8AndRoutesProtobufsLine) {
  Inbound in;
  in.method = "cloudkit.v1.KeyValue/Put";
  in.body = PutWithInvalidUtf8Key();
  v1::PutRequest put;
  Status status = frames::Decode(in, &put);
  EXPECT_EQ(status.code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(status.message(),
            "invalid argument: request body of cloudkit.v1.KeyValue/Put is not a valid cloudkit.v1.PutRequest: "
            "a string field is not valid UTF-8");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find("invalid UTF-8"), std::string::npos) << lines_[0];
}

TEST_F(ProtobufLogTest, OtherFailuresSayNoMoreThanTheyKnow) {
  Inbound in;
  in.method = "cloudkit.v1.KeyValue/Put";
  in.body = PutWithInvalidUtf8Key();
  v1::PutRequest put;
  EXPECT_FALSE(frames::Decode(in, &put).ok());
  // A truncated message: protobuf says nothing, and neither does the error
  // (the complaint about the earlier message is not carried over).
  in.body = "\x0a\x05t";
  Status status = frames::Decode(in, &put);
  EXPECT_EQ(status.message(),
            "invalid argument: request body of cloudkit.v1.KeyValue/Put is not a valid cloudkit.v1.PutRequest");
}

// Serializing a bad string is the sender's own fault: an error line for its
// log, never rate-limited as a client's, and no reason for a later decode.
TEST_F(ProtobufLogTest, SerializingComplaintsAreTheSendersErrors) {
  v1::PutRequest put;
  put.set_key("\xc3\x28");
  ClearProtobufComplaint();
  (void)put.SerializeAsString();
  EXPECT_TRUE(lines_.empty());
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_NE(errors_[0].find("serializing"), std::string::npos) << errors_[0];
  EXPECT_EQ(ProtobufComplaint(), "");
}

TEST_F(ProtobufLogTest, ValidMessagesDecode) {
  v1::PutRequest sent;
  sent.set_table("t");
  sent.set_key("clé");
  Inbound in;
  in.body = sent.SerializeAsString();
  v1::PutRequest put;
  EXPECT_TRUE(frames::Decode(in, &put).ok());
  EXPECT_EQ(put.key(), "clé");
  EXPECT_TRUE(lines_.empty());
}

}  // namespace
}  // namespace cloudkit
