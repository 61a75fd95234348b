#include "providers/dynamodb/dynamodb_client.h"

#include <utility>

#include "providers/aws/request_signer.h"
#include "providers/dynamodb/dynamodb_errors.h"

namespace cloudkit::dynamodb {

namespace {
constexpr char kTargetPrefix[] = "DynamoDB_20120810.";
constexpr char kContentType[] = "application/x-amz-json-1.0";
}  // namespace

DynamoClient::DynamoClient(std::string binding, DynamoLocation location, const remote::RemoteOptions& options,
                           const HostPorts& ports)
    : location_(std::move(location)),
      service_(std::move(binding), ports.http, ports.clock, ports.sleep, options),
      clock_(ports.clock),
      hash_(ports.hash) {}

Task<Result<Json>> DynamoClient::Call(int64_t deadline_ms, std::string operation, Json request, std::string what,
                                      Json* refusal) {
  std::string body = Dump(request);
  const std::string payload_sha256 = aws::PayloadSha256(*hash_, body);
  const std::string target = kTargetPrefix + operation;
  remote::HttpService::MakeRequest make = [this, &body, &payload_sha256, &target](uint32_t) -> Result<ports::HttpRequest> {
    ports::HttpRequest http;
    http.method = "POST";
    http.url = location_.url;
    http.headers.emplace_back("content-type", kContentType);
    http.headers.emplace_back("x-amz-target", target);
    http.body = body;
    Status signed_ok = aws::SignRequest(&http, payload_sha256, location_.credentials,
                                        aws::SigV4Scope{location_.region, "dynamodb", false}, *clock_, *hash_);
    if (!signed_ok.ok()) return signed_ok;
    return http;
  };
  const std::string table = location_.Describe();
  remote::HttpService::MapError map_error = [&what, &table, refusal](int status, const ports::HttpHeaders& headers,
                                                                      std::string_view error_body) {
    if (refusal != nullptr) {
      Json parsed = Json::parse(error_body.begin(), error_body.end(), nullptr, /*allow_exceptions=*/false);
      *refusal = parsed.is_object() ? std::move(parsed) : Json::object();
    }
    return MapDynamoError(status, headers, error_body, what, table);
  };
  Result<remote::HttpAnswer> answer = co_await service_.Fetch(deadline_ms, std::move(make), std::move(map_error));
  if (!answer.ok()) co_return answer.status();
  co_return ParseBody(answer->body, what);
}

}  // namespace cloudkit::dynamodb
