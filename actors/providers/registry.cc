#include "providers/registry.h"

#include <algorithm>
#include <set>

#include "providers/names.h"

namespace cloudkit {

Status ProviderRegistry::Register(ProviderFactory factory) {
  if (factories_.count(factory.name)) return Status::AlreadyExists("provider " + names::Quote(factory.name));
  std::string name = factory.name;
  factories_.emplace(std::move(name), std::move(factory));
  return Status::Ok();
}

const ProviderFactory* ProviderRegistry::Find(const std::string& name) const {
  auto it = factories_.find(name);
  return it == factories_.end() ? nullptr : &it->second;
}

std::vector<const ProviderFactory*> ProviderRegistry::All() const {
  std::vector<const ProviderFactory*> all;
  for (const auto& [name, factory] : factories_) all.push_back(&factory);
  return all;
}

Result<BindingInstance> ProviderRegistry::Create(const BindingConfig& config, const HostPorts& ports) const {
  CK_RETURN_IF_ERROR(names::CheckContainerName("binding", config.name));
  const ProviderFactory* factory = Find(config.provider);
  if (factory == nullptr) {
    std::string known;
    for (const auto& [name, unused] : factories_) known += (known.empty() ? "" : ", ") + name;
    return Status::InvalidArgument("binding " + names::Quote(config.name) + ": unknown provider " +
                                   names::Quote(config.provider) + " (known: " + known + ")");
  }
  std::set<std::string> seen;
  for (const std::string& service : config.services) {
    if (std::find(factory->services.begin(), factory->services.end(), service) == factory->services.end()) {
      return Status::InvalidArgument("binding " + names::Quote(config.name) + ": provider " +
                                     names::Quote(config.provider) + " does not serve " + names::Quote(service));
    }
    if (!seen.insert(service).second) {
      return Status::InvalidArgument("binding " + names::Quote(config.name) + ": service " +
                                     names::Quote(service) + " listed twice");
    }
  }
  for (const auto& entry : config.options) {
    const std::string& option = entry.first;  // a plain name: lambdas cannot capture bindings in C++20
    bool known = std::any_of(factory->options.begin(), factory->options.end(),
                             [&](const OptionDoc& doc) { return doc.name == option; });
    if (!known) {
      return Status::InvalidArgument("binding " + names::Quote(config.name) + ": provider " +
                                     names::Quote(config.provider) + " has no option " + names::Quote(option));
    }
  }
  for (const auto& entry : config.credentials) {
    const std::string& credential = entry.first;
    bool known = std::any_of(factory->credentials.begin(), factory->credentials.end(),
                             [&](const CredentialDoc& doc) { return doc.name == credential; });
    if (!known) {
      return Status::InvalidArgument("binding " + names::Quote(config.name) + ": provider " +
                                     names::Quote(config.provider) + " takes no credential " +
                                     names::Quote(credential));
    }
  }
  // What the configuration leaves out, the host's environment may give.
  BindingConfig resolved = config;
  if (ports.environment) {
    for (const OptionDoc& doc : factory->options) {
      if (doc.environment.empty() || resolved.options.count(doc.name)) continue;
      if (auto value = ports.environment(doc.environment); value && !value->empty()) resolved.options[doc.name] = *value;
    }
    for (const CredentialDoc& doc : factory->credentials) {
      if (doc.environment.empty() || resolved.credentials.count(doc.name)) continue;
      if (auto value = ports.environment(doc.environment); value && !value->empty()) {
        resolved.credentials[doc.name] = *value;
      }
    }
  }
  Result<BindingInstance> instance = factory->create(resolved, ports);
  if (!instance.ok()) {
    return Status(instance.status().code(), "binding " + names::Quote(config.name) + ": " +
                                                instance.status().message());
  }
  return instance;
}

}  // namespace cloudkit
