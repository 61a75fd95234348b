#include "browser_providers.h"

#include "providers/azure/azure_provider.h"
#include "providers/embedded/embedded_providers.h"
#include "providers/s3/s3_object_storage.h"

namespace cloudkit::web {

void RegisterBrowserProviders(ProviderRegistry* registry) {
  embedded::RegisterMemoryProvider(registry);
  embedded::RegisterLocalProvider(registry);
  s3::RegisterS3Provider(registry);
  azure::RegisterAzureProvider(registry);
}

}  // namespace cloudkit::web
