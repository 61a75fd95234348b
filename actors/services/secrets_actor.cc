// The actor serving the Secrets service of one binding. Each call is an
// operation of its own (services/operation_actor): it takes its place in its
// client's order on the secret it names (reads share it, puts and deletes
// hold it), runs the provider's coroutine and replies. All calls are unary.
#include <memory>
#include <string>
#include <vector>

#include "services/operation_actor.h"
#include "services/secrets_provider.h"
#include "services/service_descriptor.h"

namespace cloudkit {
namespace {

using Keys = std::vector<KeyLocks::Key>;

template <typename Req>
Keys ReadsName(const Req& req) { return {{req.name(), false}}; }
template <typename Req>
Keys WritesName(const Req& req) { return {{req.name(), true}}; }
Keys NoKeys(const v1::ListSecretsRequest&) { return {}; }

class SecretsActor : public OperationActor {
 public:
  SecretsActor(SecretsProvider* provider, ports::Clock* clock, Outbox* outbox)
      : OperationActor(clock, outbox), provider_(provider) {}
  ~SecretsActor() override { EndOperations(); }

  using Handler = Task<void> (SecretsActor::*)(Call&, Inbound&);
  struct Method {
    const char* name;
    Handler handler;
  };
  // Every method, in proto order: the one table Start and the descriptor read.
  static const std::vector<Method>& Methods();
  static constexpr char kServicePrefix[] = "cloudkit.v1.Secrets/";

 protected:
  Task<void> Start(Call& call, Inbound& in) override { return Dispatch(this, Methods(), kServicePrefix, call, in); }

 private:
  template <typename Req, typename Resp, Task<Result<Resp>> (SecretsProvider::*Method)(const Req&),
            Keys (*KeysOf)(const Req&)>
  Task<void> Unary(Call& call, Inbound& in) {
    return RunUnary<Req>(call, in, KeysOf, [this](const Req& req) { return (provider_->*Method)(req); });
  }

  SecretsProvider* provider_;
};

const std::vector<SecretsActor::Method>& SecretsActor::Methods() {
  using P = SecretsProvider;
  using A = SecretsActor;
  static const std::vector<Method> methods = {
      {"Put", &A::Unary<v1::PutSecretRequest, v1::PutSecretResponse, &P::Put, &WritesName<v1::PutSecretRequest>>},
      {"Get", &A::Unary<v1::GetSecretRequest, v1::GetSecretResponse, &P::Get, &ReadsName<v1::GetSecretRequest>>},
      {"List", &A::Unary<v1::ListSecretsRequest, v1::ListSecretsResponse, &P::List, &NoKeys>},
      {"ListVersions", &A::Unary<v1::ListSecretVersionsRequest, v1::ListSecretVersionsResponse, &P::ListVersions,
                                 &ReadsName<v1::ListSecretVersionsRequest>>},
      {"Delete",
       &A::Unary<v1::DeleteSecretRequest, v1::DeleteSecretResponse, &P::Delete, &WritesName<v1::DeleteSecretRequest>>},
  };
  return methods;
}

}  // namespace

// The Secrets service: "secrets", cloudkit.v1.Secrets, the actor above.
ServiceDescriptor SecretsService() {
  ServiceDescriptor service;
  service.name = kSecretsService;
  service.proto_service = "cloudkit.v1.Secrets";
  for (const SecretsActor::Method& method : SecretsActor::Methods()) {
    service.methods.push_back({method.name, /*streams=*/false});
  }
  // Every call is a few reads and one write of small records.
  service.runs_inline_over_memory = true;
  service.make_actor = [](ServiceProvider& provider, const ActorContext& context) -> std::unique_ptr<Actor> {
    auto* secrets = dynamic_cast<SecretsProvider*>(&provider);
    if (!secrets) return nullptr;
    return std::make_unique<SecretsActor>(secrets, context.clock, context.outbox);
  };
  return service;
}

}  // namespace cloudkit
