// KeyValueClient: typed calls of the cloudkit.v1.KeyValue service. Every rpc
// has a blocking form returning Result<Response> and an ...Async form
// returning std::future<Result<Response>>; the status is the daemon's (or
// UNAVAILABLE / DEADLINE_EXCEEDED naming the endpoint when it could not
// answer). Obtain one from Client::kv().
#pragma once

#include <future>

#include "cloudkit/v1/key_value.pb.h"
#include "client/client_options.h"

namespace cloudkit {

namespace client_internal {
class Caller;
}

class KeyValueClient {
 public:
  explicit KeyValueClient(client_internal::Caller& caller) : caller_(caller) {}

  using GetResult = Result<v1::GetResponse>;
  using PutResult = Result<v1::PutResponse>;
  using DeleteResult = Result<v1::DeleteResponse>;
  using ExistsResult = Result<v1::ExistsResponse>;
  using ListResult = Result<v1::ListResponse>;
  using BatchGetResult = Result<v1::BatchGetResponse>;
  using BatchPutResult = Result<v1::BatchPutResponse>;

  GetResult Get(const v1::GetRequest& request, const CallOptions& options = {});
  std::future<GetResult> GetAsync(const v1::GetRequest& request, const CallOptions& options = {});
  PutResult Put(const v1::PutRequest& request, const CallOptions& options = {});
  std::future<PutResult> PutAsync(const v1::PutRequest& request, const CallOptions& options = {});
  DeleteResult Delete(const v1::DeleteRequest& request, const CallOptions& options = {});
  std::future<DeleteResult> DeleteAsync(const v1::DeleteRequest& request, const CallOptions& options = {});
  ExistsResult Exists(const v1::ExistsRequest& request, const CallOptions& options = {});
  std::future<ExistsResult> ExistsAsync(const v1::ExistsRequest& request, const CallOptions& options = {});
  // One page; pass next_continuation_token back for the next.
  ListResult List(const v1::ListRequest& request, const CallOptions& options = {});
  std::future<ListResult> ListAsync(const v1::ListRequest& request, const CallOptions& options = {});
  BatchGetResult BatchGet(const v1::BatchGetRequest& request, const CallOptions& options = {});
  std::future<BatchGetResult> BatchGetAsync(const v1::BatchGetRequest& request, const CallOptions& options = {});
  BatchPutResult BatchPut(const v1::BatchPutRequest& request, const CallOptions& options = {});
  std::future<BatchPutResult> BatchPutAsync(const v1::BatchPutRequest& request, const CallOptions& options = {});

 private:
  client_internal::Caller& caller_;
};

}  // namespace cloudkit
