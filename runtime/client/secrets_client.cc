#include "client/secrets_client.h"

#include "client/caller.h"

namespace cloudkit {

#define CLOUDKIT_SECRETS_CALL(Rpc, Request, Response)                                                   \
  std::future<SecretsClient::Rpc##Result> SecretsClient::Rpc##Async(const v1::Request& request,         \
                                                                    const CallOptions& options) {       \
    return caller_.Unary<v1::Response>("cloudkit.v1.Secrets/" #Rpc, request, options);                 \
  }                                                                                                     \
  SecretsClient::Rpc##Result SecretsClient::Rpc(const v1::Request& request, const CallOptions& options) { \
    return caller_.Call<v1::Response>("cloudkit.v1.Secrets/" #Rpc, request, options);                  \
  }

CLOUDKIT_SECRETS_CALL(Put, PutSecretRequest, PutSecretResponse)
CLOUDKIT_SECRETS_CALL(Get, GetSecretRequest, GetSecretResponse)
CLOUDKIT_SECRETS_CALL(List, ListSecretsRequest, ListSecretsResponse)
CLOUDKIT_SECRETS_CALL(ListVersions, ListSecretVersionsRequest, ListSecretVersionsResponse)
CLOUDKIT_SECRETS_CALL(Delete, DeleteSecretRequest, DeleteSecretResponse)

#undef CLOUDKIT_SECRETS_CALL

}  // namespace cloudkit
