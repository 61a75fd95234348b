// ServiceProvider: the common base of what providers implement per service
// (ObjectStorageProvider, KeyValueProvider, ...). A binding holds its
// providers by service name (providers/registry.h); a service's descriptor
// (services/service_descriptor.h) knows which interface its actor needs.
#pragma once

namespace cloudkit {

class ServiceProvider {
 public:
  virtual ~ServiceProvider() = default;
};

}  // namespace cloudkit
