#include "providers/dynamodb/dynamodb_items.h"

#include <charconv>
#include <string>

#include "core/base64.h"
#include "providers/names.h"

namespace cloudkit::dynamodb {

Json StringValue(std::string_view text) { return Json{{"S", std::string(text)}}; }
Json NumberValue(int64_t number) { return Json{{"N", std::to_string(number)}}; }
Json BinaryValue(std::string_view bytes) { return Json{{"B", Base64Encode(bytes)}}; }

Json KeyOf(std::string_view table, std::string_view key) {
  Json out = Json::object();
  out[kTableAttr] = StringValue(table);
  out[kKeyAttr] = StringValue(key);
  return out;
}

Json AttributesOf(std::string_view table, const StoredItem& item) {
  Json out = KeyOf(table, item.key);
  out[kValueAttr] = BinaryValue(item.value);
  out[kEtagAttr] = StringValue(item.etag);
  if (item.expires_at_ms != 0) {
    out[kExpiresMsAttr] = NumberValue(item.expires_at_ms);
    // Rounded up, so that the TTL never removes an item before it expires.
    out[kTtlAttr] = NumberValue(item.expires_at_ms / 1000 + (item.expires_at_ms % 1000 != 0 ? 1 : 0));
  }
  return out;
}

const Json* Member(const Json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

std::optional<std::string> StringAttribute(const Json& attributes, const char* name) {
  if (!attributes.is_object()) return std::nullopt;
  auto it = attributes.find(name);
  if (it == attributes.end() || !it->is_object()) return std::nullopt;
  auto text = it->find("S");
  if (text == it->end() || !text->is_string()) return std::nullopt;
  return text->get<std::string>();
}

std::optional<int64_t> NumberAttribute(const Json& attributes, const char* name) {
  if (!attributes.is_object()) return std::nullopt;
  auto it = attributes.find(name);
  if (it == attributes.end() || !it->is_object()) return std::nullopt;
  auto number = it->find("N");
  if (number == it->end() || !number->is_string()) return std::nullopt;
  const std::string& text = number->get_ref<const std::string&>();
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

Result<StoredItem> ParseItem(const Json& attributes, const std::string& what) {
  StoredItem item;
  // Named by its key once known: an item another program wrote is then easy to find.
  auto corrupt = [&](const char* why) {
    const std::string whose = item.key.empty() ? what : "item " + names::Quote(item.key) + " (" + what + ")";
    return Status::Internal("DynamoDB's record of " + whose + " " + why + ", not as CloudKit writes it");
  };
  std::optional<std::string> key = StringAttribute(attributes, kKeyAttr);
  if (!key) return corrupt("has no key");
  item.key = std::move(*key);
  if (attributes.contains(kEtagAttr)) {
    std::optional<std::string> etag = StringAttribute(attributes, kEtagAttr);
    if (!etag || etag->empty()) return corrupt("has an ETag that is not a string");
    item.etag = std::move(*etag);
  } else {
    item.etag = kForeignEtag;
  }
  if (attributes.contains(kExpiresMsAttr)) {
    std::optional<int64_t> expires = NumberAttribute(attributes, kExpiresMsAttr);
    if (!expires) return corrupt("has a malformed expiry");
    item.expires_at_ms = *expires;
  }
  if (auto value = attributes.find(kValueAttr); value != attributes.end()) {
    auto binary = value->is_object() ? value->find("B") : value->end();
    auto text = value->is_object() ? value->find("S") : value->end();
    if (binary != value->end() && binary->is_string()) {
      std::optional<std::string> bytes = Base64Decode(binary->get_ref<const std::string&>());
      if (!bytes) return corrupt("has a value that is not base64");
      item.value = std::move(*bytes);
    } else if (text != value->end() && text->is_string()) {
      item.value = text->get<std::string>();
    } else {
      return corrupt("has a value that is neither binary nor a string");
    }
  }
  return item;
}

std::string Dump(const Json& json) { return json.dump(-1, ' ', false, Json::error_handler_t::replace); }

Result<Json> ParseBody(std::string_view body, const std::string& what) {
  Json parsed = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return Status::Internal("DynamoDB's answer for " + what + " is not a JSON object");
  }
  return parsed;
}

}  // namespace cloudkit::dynamodb
