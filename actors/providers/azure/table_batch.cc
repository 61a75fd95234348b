#include "providers/azure/table_batch.h"

#include <charconv>

#include "providers/azure/table_entities.h"

namespace cloudkit::azure {
namespace {

constexpr char kCrlf[] = "\r\n";

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

// One embedded HTTP answer: "HTTP/1.1 204 No Content", headers, blank line, body.
BatchAnswer ParseAnswer(std::string_view part) {
  BatchAnswer answer;
  const size_t status_at = part.find("HTTP/1.1 ");
  if (status_at == std::string_view::npos) return answer;
  std::string_view rest = part.substr(status_at + 9);
  std::from_chars(rest.data(), rest.data() + std::min<size_t>(rest.size(), 3), answer.status);
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (Trim(line).empty()) break;  // the headers end
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos && Lower(Trim(line.substr(0, colon))) == "etag") {
      answer.etag = std::string(Trim(line.substr(colon + 1)));
    }
  }
  answer.body = std::string(Trim(rest));
  return answer;
}

}  // namespace

std::string BatchContentType(std::string_view id) { return "multipart/mixed; boundary=batch_" + std::string(id); }

std::string BatchBody(std::string_view id, const std::vector<BatchUpsert>& upserts) {
  const std::string batch = "batch_" + std::string(id);
  const std::string changeset = "changeset_" + std::string(id);
  std::string body = "--" + batch + kCrlf + "Content-Type: multipart/mixed; boundary=" + changeset + kCrlf + kCrlf;
  for (const BatchUpsert& upsert : upserts) {
    body += "--" + changeset + kCrlf;
    body += std::string("Content-Type: application/http") + kCrlf + "Content-Transfer-Encoding: binary" + kCrlf + kCrlf;
    body += "PUT " + upsert.entity_url + " HTTP/1.1" + kCrlf;
    body += std::string("Content-Type: application/json") + kCrlf;
    body += std::string("Accept: ") + kTableAccept + kCrlf;
    body += std::string("Prefer: return-no-content") + kCrlf;
    body += std::string("DataServiceVersion: 3.0;") + kCrlf + kCrlf;
    body += upsert.entity_json + kCrlf;
  }
  body += "--" + changeset + "--" + kCrlf + "--" + batch + "--" + kCrlf;
  return body;
}

Result<std::vector<BatchAnswer>> ParseBatchAnswers(std::string_view body) {
  // The changeset's parts each start with its boundary, "--changesetresponse_...".
  constexpr std::string_view kPart = "--changesetresponse_";
  std::vector<BatchAnswer> answers;
  size_t at = body.find(kPart);
  if (at == std::string_view::npos) {
    // A batch refused as a whole answers one plain HTTP answer inside the batch.
    if (body.find("HTTP/1.1 ") == std::string_view::npos) {
      return Status::Internal("the Azure table service answered a batch with something not a batch answer");
    }
    answers.push_back(ParseAnswer(body));
    return answers;
  }
  while (at != std::string_view::npos) {
    const size_t next = body.find(kPart, at + kPart.size());
    std::string_view part = body.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at);
    // The closing boundary ("--changesetresponse_x--") holds no answer.
    if (part.find("HTTP/1.1 ") != std::string_view::npos) answers.push_back(ParseAnswer(part));
    at = next;
  }
  return answers;
}

}  // namespace cloudkit::azure
