// What a provider implements to serve the KeyValue service. The service actor
// (services/key_value_actor) decodes requests and calls these; the provider
// enforces the semantics documented in proto/cloudkit/v1/key_value.proto.
//
// REQUIRES: called by one actor at a time.
#pragma once

#include <vector>

#include "cloudkit/v1/key_value.pb.h"
#include "core/status.h"

namespace cloudkit {

class KeyValueProvider {
 public:
  virtual ~KeyValueProvider() = default;
  virtual Result<v1::GetResponse> Get(const v1::GetRequest& req) = 0;
  virtual Result<v1::PutResponse> Put(const v1::PutRequest& req) = 0;
  virtual Result<v1::DeleteResponse> Delete(const v1::DeleteRequest& req) = 0;
  virtual Result<v1::ExistsResponse> Exists(const v1::ExistsRequest& req) = 0;
  virtual Result<v1::ListResponse> List(const v1::ListRequest& req) = 0;
  virtual Result<v1::BatchGetResponse> BatchGet(const v1::BatchGetRequest& req) = 0;
  virtual Result<v1::BatchPutResponse> BatchPut(const v1::BatchPutRequest& req) = 0;

  // Group commit: the outcome of each of `requests` (independent Puts from
  // different calls, applied in order), as if Put were called for each in
  // turn. A durable provider may commit them all in one write; every OK
  // result is durable when this returns. This default calls Put for each.
  virtual std::vector<Result<v1::PutResponse>> PutGroup(const std::vector<const v1::PutRequest*>& requests) {
    std::vector<Result<v1::PutResponse>> results;
    results.reserve(requests.size());
    for (const v1::PutRequest* req : requests) results.push_back(Put(*req));
    return results;
  }
};

}  // namespace cloudkit
