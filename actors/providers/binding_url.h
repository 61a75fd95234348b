// Bindings as URLs, as the Go CDK opens buckets: one string names a provider
// and its options. `mem://` (memory), `file:///var/lib/docs` (local, at that
// path), `s3://bucket?region=eu-west-1&endpoint=http://127.0.0.1:4569`,
// `azblob://container`, `dynamodb://table`, `redis://host:6379/0`. Query
// parameters become provider options (`services=a,b` picks services).
// Credentials never go in a URL: one with a user or password is refused.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "providers/registry.h"

namespace cloudkit {

// The binding `name` that `url` describes. INVALID_ARGUMENT naming the URL
// (without its query) for an unknown scheme, credentials in it, or a part the
// scheme does not take. The provider's options are checked later, when the
// registry creates the binding.
Result<BindingConfig> ParseBindingUrl(std::string name, std::string_view url);

}  // namespace cloudkit
