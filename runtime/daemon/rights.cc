#include "daemon/rights.h"

#include <unordered_map>

namespace cloudkit {
namespace {

// Reading and writing data are apart; what creates or removes a whole
// container (and a purge, which empties one) is admin. A call that both reads
// and changes (a Subscribe stream acks what it delivers; a copy reads its
// source; a presigned URL may be either) needs both.
const std::unordered_map<std::string_view, Rights>& Table() {
  static const std::unordered_map<std::string_view, Rights> table = {
      {"cloudkit.v1.ObjectStorage/CreateBucket", kAdmin},
      {"cloudkit.v1.ObjectStorage/DeleteBucket", kAdmin},
      {"cloudkit.v1.ObjectStorage/ListBuckets", kRead},
      {"cloudkit.v1.ObjectStorage/BucketExists", kRead},
      {"cloudkit.v1.ObjectStorage/PutObject", kWrite},
      {"cloudkit.v1.ObjectStorage/GetObject", kRead},
      {"cloudkit.v1.ObjectStorage/HeadObject", kRead},
      {"cloudkit.v1.ObjectStorage/DeleteObject", kWrite},
      {"cloudkit.v1.ObjectStorage/DeleteObjects", kWrite},
      {"cloudkit.v1.ObjectStorage/CopyObject", kRead | kWrite},
      {"cloudkit.v1.ObjectStorage/ListObjects", kRead},
      {"cloudkit.v1.ObjectStorage/PresignObject", kRead | kWrite},
      {"cloudkit.v1.KeyValue/Get", kRead},
      {"cloudkit.v1.KeyValue/Put", kWrite},
      {"cloudkit.v1.KeyValue/Delete", kWrite},
      {"cloudkit.v1.KeyValue/Exists", kRead},
      {"cloudkit.v1.KeyValue/List", kRead},
      {"cloudkit.v1.KeyValue/BatchGet", kRead},
      {"cloudkit.v1.KeyValue/BatchPut", kWrite},
      {"cloudkit.v1.Queue/CreateQueue", kAdmin},
      {"cloudkit.v1.Queue/DeleteQueue", kAdmin},
      {"cloudkit.v1.Queue/ListQueues", kRead},
      {"cloudkit.v1.Queue/Send", kWrite},
      {"cloudkit.v1.Queue/SendBatch", kWrite},
      {"cloudkit.v1.Queue/Receive", kRead},
      {"cloudkit.v1.Queue/Ack", kWrite},
      {"cloudkit.v1.Queue/ChangeVisibility", kWrite},
      {"cloudkit.v1.Queue/Depth", kRead},
      {"cloudkit.v1.Queue/Purge", kAdmin},
      {"cloudkit.v1.PubSub/CreateTopic", kAdmin},
      {"cloudkit.v1.PubSub/DeleteTopic", kAdmin},
      {"cloudkit.v1.PubSub/ListTopics", kRead},
      {"cloudkit.v1.PubSub/CreateSubscription", kAdmin},
      {"cloudkit.v1.PubSub/DeleteSubscription", kAdmin},
      {"cloudkit.v1.PubSub/ListSubscriptions", kRead},
      {"cloudkit.v1.PubSub/Publish", kWrite},
      {"cloudkit.v1.PubSub/PublishBatch", kWrite},
      {"cloudkit.v1.PubSub/Subscribe", kRead | kWrite},
      {"cloudkit.v1.PubSub/Ack", kWrite},
      {"cloudkit.v1.PubSub/Nack", kWrite},
      {"cloudkit.v1.Secrets/Put", kWrite},
      {"cloudkit.v1.Secrets/Get", kRead},
      {"cloudkit.v1.Secrets/List", kRead},
      {"cloudkit.v1.Secrets/ListVersions", kRead},
      {"cloudkit.v1.Secrets/Delete", kWrite},
  };
  return table;
}

}  // namespace

std::optional<Right> ParseRight(std::string_view name) {
  if (name == "read") return kRead;
  if (name == "write") return kWrite;
  if (name == "admin") return kAdmin;
  return std::nullopt;
}

const char* RightName(Right right) {
  switch (right) {
    case kRead: return "read";
    case kWrite: return "write";
    case kAdmin: return "admin";
  }
  return "?";
}

std::string RightsNames(Rights rights) {
  std::string names;
  for (Right right : {kRead, kWrite, kAdmin}) {
    if (rights & right) names += (names.empty() ? "" : ", ") + std::string(RightName(right));
  }
  return names.empty() ? "none" : names;
}

std::optional<Rights> RightsNeededBy(std::string_view method) {
  auto it = Table().find(method);
  if (it == Table().end()) return std::nullopt;
  return it->second;
}

Right FirstMissing(Rights held, Rights needed) {
  for (Right right : {kRead, kWrite, kAdmin}) {
    if ((needed & right) && !(held & right)) return right;
  }
  return kAdmin;
}

}  // namespace cloudkit
