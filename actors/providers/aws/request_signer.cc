#include "providers/aws/request_signer.h"

namespace cloudkit::aws {

std::string PayloadSha256(ports::HashPort& hash, std::string_view payload) {
  auto hasher = hash.NewSha256();
  hasher->Update(payload);
  return hasher->FinishHex();
}

Status SignRequest(ports::HttpRequest* request, std::string_view payload_sha256, const Credentials& credentials,
                   const SigV4Scope& scope, ports::Clock& clock, ports::HashPort& hash) {
  const std::string& url = request->url;
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return Status::InvalidArgument("URL without a scheme");
  const size_t host_at = scheme_end + 3;
  const size_t path_at = url.find('/', host_at);
  const std::string host = url.substr(host_at, path_at == std::string::npos ? std::string::npos : path_at - host_at);
  if (host.empty()) return Status::InvalidArgument("URL without a host");
  std::string path = path_at == std::string::npos ? "/" : url.substr(path_at);
  std::string query;
  if (const size_t q = path.find('?'); q != std::string::npos) {
    query = path.substr(q + 1);
    path.resize(q);
  }
  request->headers.emplace_back("host", host);
  request->headers.emplace_back("x-amz-date", AmzDate(clock.NowMs()));
  if (scope.service == "s3") request->headers.emplace_back("x-amz-content-sha256", std::string(payload_sha256));
  if (!credentials.session_token.empty()) {
    request->headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  SignedParts parts{request->method, path, query, request->headers, std::string(payload_sha256)};
  Result<std::string> authorization = Authorization(parts, credentials, scope, hash);
  if (!authorization.ok()) return authorization.status();
  request->headers.emplace_back("authorization", std::move(*authorization));
  return Status::Ok();
}

}  // namespace cloudkit::aws
