// How the azure providers send their requests: each try is signed with the
// account's Shared Key when it is built (the signature carries the time),
// and goes through the binding's HttpService (concurrency limit, circuit
// breaker, retries within the call's deadline: providers/remote). Shared, by
// pointer, between a provider and the uploads it starts.
//
// REQUIRES: used from the turns of one actor.
#pragma once

#include <string>

#include "ports/clock.h"
#include "ports/hash.h"
#include "ports/http.h"
#include "providers/azure/shared_key.h"
#include "providers/remote/http_service.h"

namespace cloudkit::azure {

struct AzureClient {
  AzureClient(std::string binding, SharedKey key, SignedService service, const remote::RemoteOptions& options,
              ports::HttpClient* http, ports::Clock* clock, ports::SleepPort* sleep, ports::HashPort* hash)
      : key(std::move(key)),
        signed_service(service),
        http(std::move(binding), http, clock, sleep, options),
        clock(clock),
        hash(hash) {}

  // The request of one try, built and signed at the time of that try.
  remote::HttpService::MakeRequest Request(std::string method, std::string url, ports::HttpHeaders headers = {},
                                           std::string body = {}) const;

  SharedKey key;
  SignedService signed_service;
  remote::HttpService http;
  ports::Clock* clock;
  ports::HashPort* hash;
};

}  // namespace cloudkit::azure
