#include "cli/formatting.h"

#include <cstdio>
#include <ctime>

#include "core/base64.h"
#include "providers/names.h"

namespace cloudkit::cli {
namespace {

std::string FormatUtc(int64_t epoch_ms, const char* format) {
  std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, format, &utc);
  return buffer;
}

nlohmann::ordered_json Strings(const google::protobuf::RepeatedPtrField<std::string>& strings) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& s : strings) list.push_back(s);
  return list;
}

}  // namespace

std::string IsoTime(int64_t epoch_ms) {
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(epoch_ms % 1000));
  return FormatUtc(epoch_ms, "%Y-%m-%dT%H:%M:%S") + millis;
}

std::string ListingTime(int64_t epoch_ms) { return FormatUtc(epoch_ms, "%Y-%m-%d %H:%M:%S"); }

std::string Printable(std::string_view text) { return names::Escaped(text); }

std::string HumanBytes(double bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, kUnits[unit]);
  return buffer;
}

nlohmann::ordered_json BucketJson(const v1::Bucket& bucket) {
  return {{"name", bucket.name()}, {"created_ms", bucket.created_ms()}, {"created", IsoTime(bucket.created_ms())}};
}

nlohmann::ordered_json ObjectJson(const v1::ObjectInfo& object) {
  nlohmann::ordered_json metadata = nlohmann::ordered_json::object();
  for (const auto& [key, value] : object.metadata()) metadata[key] = value;
  return {{"bucket", object.bucket()},
          {"key", object.key()},
          {"size", object.size()},
          {"etag", object.etag()},
          {"last_modified_ms", object.last_modified_ms()},
          {"last_modified", IsoTime(object.last_modified_ms())},
          {"content_type", object.content_type()},
          {"metadata", metadata}};
}

nlohmann::ordered_json ItemJson(const v1::Item& item) {
  nlohmann::ordered_json json = {{"key", item.key()}, {"etag", item.etag()}, {"expires_at_ms", item.expires_at_ms()}};
  AddValueJson(item.value(), &json);
  return json;
}

void AddValueJson(const std::string& value, nlohmann::ordered_json* json) { AddBytesJson("value", value, json); }

void AddBytesJson(const std::string& name, const std::string& bytes, nlohmann::ordered_json* json) {
  if (IsValidUtf8(bytes)) {
    (*json)[name] = bytes;
  } else {
    (*json)[name + "_base64"] = Base64Encode(bytes);
  }
}

nlohmann::ordered_json StatusJson(const v1::StatusResponse& status) {
  nlohmann::ordered_json bindings = nlohmann::ordered_json::array();
  for (const auto& binding : status.bindings()) {
    bindings.push_back(
        {{"name", binding.name()}, {"provider", binding.provider()}, {"services", Strings(binding.services())},
         {"unsupported", Strings(binding.unsupported())},
         {"calls_in_flight", binding.calls_in_flight()},
         {"operations_open", binding.operations_open()},
         {"calls_parked", binding.calls_parked()},
         {"timers_armed", binding.timers_armed()}});
    if (binding.has_upkeep()) {
      const v1::StorageUpkeep& upkeep = binding.upkeep();
      bindings.back()["upkeep"] = {{"sweeps", upkeep.sweeps()},
                                   {"orphan_blobs", upkeep.orphan_blobs()},
                                   {"orphan_blob_bytes", upkeep.orphan_blob_bytes()},
                                   {"partial_uploads", upkeep.partial_uploads()},
                                   {"partial_upload_bytes", upkeep.partial_upload_bytes()},
                                   {"last_sweep_ms", upkeep.last_sweep_ms()}};
    }
  }
  nlohmann::ordered_json providers = nlohmann::ordered_json::array();
  for (const auto& provider : status.providers()) {
    providers.push_back({{"name", provider.name()},
                         {"services", Strings(provider.services())},
                         {"description", provider.description()}});
  }
  return {{"version", status.version()},
          {"uptime_ms", status.uptime_ms()},
          {"endpoints", Strings(status.endpoints())},
          {"bindings", bindings},
          {"providers", providers},
          {"requests_served", status.requests_served()},
          {"requests_in_flight", status.requests_in_flight()}};
}

}  // namespace cloudkit::cli
