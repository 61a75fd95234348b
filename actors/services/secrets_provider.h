// What a provider implements to serve the Secrets service. The service actor
// (services/secrets_actor) decodes requests and calls these; the provider
// enforces the semantics documented in proto/cloudkit/v1/secrets.proto. Every
// method is a coroutine (core/task.h); calls may overlap, started by the
// actor in the order their names allow (docs/protocol.md, "Ordering").
// No method may put a secret's value in a Status message or a log.
//
// REQUIRES: called from the turns of one actor.
#pragma once

#include "cloudkit/v1/secrets.pb.h"
#include "core/status.h"
#include "core/task.h"
#include "services/service_provider.h"

namespace cloudkit {

// The service's name in configuration, status and BindingInstance::providers.
inline constexpr char kSecretsService[] = "secrets";

class SecretsProvider : public ServiceProvider {
 public:
  virtual Task<Result<v1::PutSecretResponse>> Put(const v1::PutSecretRequest& req) = 0;
  virtual Task<Result<v1::GetSecretResponse>> Get(const v1::GetSecretRequest& req) = 0;
  virtual Task<Result<v1::ListSecretsResponse>> List(const v1::ListSecretsRequest& req) = 0;
  virtual Task<Result<v1::ListSecretVersionsResponse>> ListVersions(const v1::ListSecretVersionsRequest& req) = 0;
  virtual Task<Result<v1::DeleteSecretResponse>> Delete(const v1::DeleteSecretRequest& req) = 0;
};

}  // namespace cloudkit
