// SecretsClient: typed calls of the cloudkit.v1.Secrets service. Every rpc
// has a blocking form returning Result<Response> and an ...Async form
// returning std::future<Result<Response>>; the status is the daemon's (or
// UNAVAILABLE / DEADLINE_EXCEEDED naming the endpoint when it could not
// answer). Obtain one from Client::secrets().
#pragma once

#include <future>

#include "cloudkit/v1/secrets.pb.h"
#include "client/client_options.h"

namespace cloudkit {

namespace client_internal {
class Caller;
}

class SecretsClient {
 public:
  explicit SecretsClient(client_internal::Caller& caller) : caller_(caller) {}

  using PutResult = Result<v1::PutSecretResponse>;
  using GetResult = Result<v1::GetSecretResponse>;
  using ListResult = Result<v1::ListSecretsResponse>;
  using ListVersionsResult = Result<v1::ListSecretVersionsResponse>;
  using DeleteResult = Result<v1::DeleteSecretResponse>;

  // A new version of the secret; its number is in the response.
  PutResult Put(const v1::PutSecretRequest& request, const CallOptions& options = {});
  std::future<PutResult> PutAsync(const v1::PutSecretRequest& request, const CallOptions& options = {});
  // The latest version, or the one the request names.
  GetResult Get(const v1::GetSecretRequest& request, const CallOptions& options = {});
  std::future<GetResult> GetAsync(const v1::GetSecretRequest& request, const CallOptions& options = {});
  // One page of names; pass next_continuation_token back for the next.
  ListResult List(const v1::ListSecretsRequest& request, const CallOptions& options = {});
  std::future<ListResult> ListAsync(const v1::ListSecretsRequest& request, const CallOptions& options = {});
  ListVersionsResult ListVersions(const v1::ListSecretVersionsRequest& request, const CallOptions& options = {});
  std::future<ListVersionsResult> ListVersionsAsync(const v1::ListSecretVersionsRequest& request,
                                                    const CallOptions& options = {});
  DeleteResult Delete(const v1::DeleteSecretRequest& request, const CallOptions& options = {});
  std::future<DeleteResult> DeleteAsync(const v1::DeleteSecretRequest& request, const CallOptions& options = {});

 private:
  client_internal::Caller& caller_;
};

}  // namespace cloudkit
