// How an item is an Azure Table entity, in JSON (nlohmann): the value as
// binary properties v0, v1, ... of at most 64 KiB each (Azure's limit per
// property; 15 of them keep an entity under its 1 MiB), and the expiry in
// Unix milliseconds as the Int64 property e (0 = never). Azure Table has no
// TTL: an expired entity stays until the sweep deletes it, and reads treat
// it as absent (table_key_value.h). The item's ETag is the entity's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cloudkit::azure {

inline constexpr size_t kValuePieceBytes = 64 * 1024;
inline constexpr size_t kMaxValueBytes = 15 * kValuePieceBytes;

// The Accept header of every request: JSON with the ETags and types in it.
inline constexpr char kTableAccept[] = "application/json;odata=minimalmetadata";

struct StoredEntity {
  std::string partition_key;
  std::string row_key;
  std::string value;  // empty when the properties were not selected
  int64_t expires_at_ms = 0;
  std::string etag;
};

// The JSON of an entity to write.
std::string EntityJson(std::string_view partition_key, std::string_view row_key, std::string_view value,
                       int64_t expires_at_ms);
// The JSON of Create Table.
std::string CreateTableJson(std::string_view table);

// One entity (a Get Entity answer; the ETag is then also its header's).
// INTERNAL when the body is not one of this provider's entities.
Result<StoredEntity> ParseEntity(std::string_view body);
// A Query Entities answer: {"value": [entities]}.
Result<std::vector<StoredEntity>> ParseEntities(std::string_view body);

}  // namespace cloudkit::azure
