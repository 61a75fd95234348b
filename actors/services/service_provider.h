// ServiceProvider: the common base of what providers implement per service
// (ObjectStorageProvider, KeyValueProvider, ...). A binding holds its
// providers by service name (providers/registry.h); a service's descriptor
// (services/service_descriptor.h) knows which interface its actor needs.
#pragma once

#include <string>
#include <vector>

namespace cloudkit {

class ServiceProvider {
 public:
  virtual ~ServiceProvider() = default;
  // Promises of the service this provider cannot keep and answers with
  // UNIMPLEMENTED (shown by `status`), e.g. "conditional writes".
  virtual std::vector<std::string> Unsupported() const { return {}; }
};

}  // namespace cloudkit
