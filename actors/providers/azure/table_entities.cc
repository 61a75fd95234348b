#include "providers/azure/table_entities.h"

#include <charconv>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "providers/names.h"

namespace cloudkit::azure {
namespace {

using nlohmann::json;

Status NotAnEntity(const std::string& why) {
  return Status::Internal("the Azure table service answered with an entity this provider cannot read (" +
                          why + ")");
}

std::string String(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<StoredEntity> FromJson(const json& object) {
  if (!object.is_object()) return NotAnEntity("not an object");
  StoredEntity entity;
  entity.partition_key = String(object, "PartitionKey");
  entity.row_key = String(object, "RowKey");
  entity.etag = String(object, "odata.etag");
  // Int64 travels as a string in JSON; accept a number too.
  if (auto e = object.find("e"); e != object.end()) {
    if (e->is_string()) {
      const std::string text = e->get<std::string>();
      std::from_chars(text.data(), text.data() + text.size(), entity.expires_at_ms);
    } else if (e->is_number_integer()) {
      entity.expires_at_ms = e->get<int64_t>();
    }
  }
  for (size_t piece = 0;; ++piece) {
    auto v = object.find("v" + std::to_string(piece));
    if (v == object.end()) break;
    // Named by its RowKey: an entity another program wrote is then easy to find.
    const std::string which = "entity with RowKey " + names::Quote(entity.row_key) + ": ";
    if (!v->is_string()) return NotAnEntity(which + "a value piece is not base64");
    std::optional<std::string> bytes = Base64Decode(v->get<std::string>());
    if (!bytes) return NotAnEntity(which + "a value piece is not base64");
    entity.value += *bytes;
  }
  return entity;
}

}  // namespace

std::string EntityJson(std::string_view partition_key, std::string_view row_key, std::string_view value,
                       int64_t expires_at_ms) {
  json entity = json::object();
  entity["PartitionKey"] = std::string(partition_key);
  entity["RowKey"] = std::string(row_key);
  // At least one piece, so that an empty value is still a value.
  size_t piece = 0;
  do {
    const std::string name = "v" + std::to_string(piece);
    entity[name] = Base64Encode(value.substr(0, kValuePieceBytes));
    entity[name + "@odata.type"] = "Edm.Binary";
    value.remove_prefix(std::min(value.size(), kValuePieceBytes));
    ++piece;
  } while (!value.empty());
  entity["e"] = std::to_string(expires_at_ms);
  entity["e@odata.type"] = "Edm.Int64";
  return entity.dump();
}

std::string CreateTableJson(std::string_view table) {
  json body = json::object();
  body["TableName"] = std::string(table);
  return body.dump();
}

Result<StoredEntity> ParseEntity(std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) return NotAnEntity("not JSON");
  return FromJson(doc);
}

Result<std::vector<StoredEntity>> ParseEntities(std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return NotAnEntity("not a JSON object");
  auto value = doc.find("value");
  if (value == doc.end() || !value->is_array()) return NotAnEntity("no value array");
  std::vector<StoredEntity> entities;
  for (const json& object : *value) {
    Result<StoredEntity> entity = FromJson(object);
    if (!entity.ok()) return entity.status();
    entities.push_back(std::move(*entity));
  }
  return entities;
}

}  // namespace cloudkit::azure
