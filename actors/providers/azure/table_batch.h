// Azure Table's entity group transaction (POST $batch): up to 100 writes to
// entities of one partition, applied all or none. The request is a
// multipart/mixed batch holding one changeset of HTTP requests; the answer
// is a multipart/mixed batch of their answers, or, when one failed, of that
// one's error alone.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cloudkit::azure {

inline constexpr size_t kMaxBatchWrites = 100;

// One Insert Or Replace Entity of the changeset.
struct BatchUpsert {
  std::string entity_url;   // the entity's full URL
  std::string entity_json;  // table_entities' EntityJson
};

// The Content-Type of the request, and its body, for boundary id `id`
// (unique per request: [A-Za-z0-9-]).
std::string BatchContentType(std::string_view id);
std::string BatchBody(std::string_view id, const std::vector<BatchUpsert>& upserts);

// The answer of each operation, in order.
struct BatchAnswer {
  int status = 0;
  std::string etag;
  std::string body;  // an error's JSON
};
// The operations' answers from the batch's answer body. INTERNAL when it is
// not a multipart batch answer.
Result<std::vector<BatchAnswer>> ParseBatchAnswers(std::string_view body);

}  // namespace cloudkit::azure
