// ServiceProvider: the common base of what providers implement per service
// (ObjectStorageProvider, KeyValueProvider, ...). A binding holds its
// providers by service name (providers/registry.h); a service's descriptor
// (services/service_descriptor.h) knows which interface its actor needs.
#pragma once

#include <string>
#include <vector>

#include "cloudkit/v1/runtime.pb.h"

namespace cloudkit {

class ServiceProvider {
 public:
  virtual ~ServiceProvider() = default;
  // Promises of the service this provider cannot keep and answers with
  // UNIMPLEMENTED (shown by `status`), e.g. "conditional writes".
  virtual std::vector<std::string> Unsupported() const { return {}; }
  // What upkeep of the provider's storage removed (shown by `status`); false
  // when the provider keeps nothing a crash can leave behind. May be called
  // from any thread.
  virtual bool ReportUpkeep(v1::StorageUpkeep* upkeep) const { return false; }
};

}  // namespace cloudkit
