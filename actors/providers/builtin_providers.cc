#include "providers/builtin_providers.h"

#include "providers/azure/azure_provider.h"
#include "providers/dynamodb/dynamodb_key_value.h"
#include "providers/embedded/embedded_providers.h"
#include "providers/redis/redis_binding.h"
#include "providers/s3/s3_object_storage.h"

namespace cloudkit {

void RegisterBuiltinProviders(ProviderRegistry* registry) {
  embedded::RegisterMemoryProvider(registry);
  embedded::RegisterLocalProvider(registry);
  redis::RegisterRedisProvider(registry);
  s3::RegisterS3Provider(registry);
  dynamodb::RegisterDynamoDbProvider(registry);
  azure::RegisterAzureProvider(registry);
}

}  // namespace cloudkit
