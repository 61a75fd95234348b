#include "services/service_descriptor.h"

#include <cstdlib>

#include "services/key_value_actor.h"
#include "services/object_storage_actor.h"
#include "services/operation_actor.h"

namespace cloudkit {

// Services whose actors have no header of their own (services/*_actor.cc).
ServiceDescriptor QueueService();
ServiceDescriptor SecretsService();
ServiceDescriptor PubSubService();

const MethodDescriptor* ServiceDescriptor::FindMethod(std::string_view method) const {
  for (const MethodDescriptor& candidate : methods) {
    if (candidate.name == method) return &candidate;
  }
  return nullptr;
}

Status ServiceRegistry::Register(ServiceDescriptor service) {
  for (const ServiceDescriptor& known : services_) {
    if (known.name == service.name || known.proto_service == service.proto_service) {
      return Status::AlreadyExists("service '" + service.name + "' (" + service.proto_service + ")");
    }
  }
  // Every service actor is an OperationActor: it honours idempotency keys
  // within the host's limits, whichever service it serves.
  service.make_actor = [make = std::move(service.make_actor)](ServiceProvider& provider,
                                                              const ActorContext& context) {
    std::unique_ptr<Actor> actor = make(provider, context);
    if (auto* operations = dynamic_cast<OperationActor*>(actor.get())) {
      operations->set_idempotency_limits(context.idempotency);
    }
    return actor;
  };
  // Hosts keep pointers into the table: it is filled once, at start-up.
  services_.push_back(std::move(service));
  return Status::Ok();
}

const ServiceDescriptor* ServiceRegistry::Find(std::string_view name) const {
  for (const ServiceDescriptor& service : services_) {
    if (service.name == name) return &service;
  }
  return nullptr;
}

std::pair<const ServiceDescriptor*, const MethodDescriptor*> ServiceRegistry::Route(
    std::string_view full_method) const {
  size_t slash = full_method.find('/');
  if (slash == std::string_view::npos) return {nullptr, nullptr};
  std::string_view proto_service = full_method.substr(0, slash);
  for (const ServiceDescriptor& service : services_) {
    if (service.proto_service == proto_service) return {&service, service.FindMethod(full_method.substr(slash + 1))};
  }
  return {nullptr, nullptr};
}

void RegisterBuiltinServices(ServiceRegistry* registry) {
  const ServiceDescriptor builtin[] = {
      ObjectStorageActor::Descriptor(),
      KeyValueActor::Descriptor(),
      QueueService(),
      SecretsService(),
      PubSubService(),
  };
  // Two built-in services with one name is a programming error, found by any test.
  for (const ServiceDescriptor& service : builtin) {
    if (!registry->Register(service).ok()) std::abort();
  }
}

}  // namespace cloudkit
