#include "providers/azure/azure_client.h"

#include <utility>

namespace cloudkit::azure {

remote::HttpService::MakeRequest AzureClient::Request(std::string method, std::string url, ports::HttpHeaders headers,
                                                      std::string body) const {
  return [this, method = std::move(method), url = std::move(url), headers = std::move(headers),
          body = std::move(body)](uint32_t) -> Result<ports::HttpRequest> {
    ports::HttpRequest request;
    request.method = method;
    request.url = url;
    request.headers = headers;
    request.body = body;
    CK_RETURN_IF_ERROR(SignRequest(&request, key, signed_service, clock->NowMs(), *hash));
    return request;
  };
}

}  // namespace cloudkit::azure
