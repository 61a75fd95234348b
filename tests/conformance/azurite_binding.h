// The `azure` binding the conformance suite opens on Azurite, natively
// (cloud_targets.cc) and in the browser (web-worker/tests/conformance_targets.cc)
// alike: Blob and Table of one Azurite, a fresh blob prefix and a fresh table
// per case so that cases never see each other's data, and small blocks so
// that uploads of a few MiB go in several. The caller adds how to reach it
// and the credentials (a connection string natively; in the browser, the
// endpoints and account_name/account_key).
#pragma once

#include <string>

#include "providers/registry.h"

namespace cloudkit::conformance {

// Azurite's one account and its documented key (tests/emulators/README.md).
inline constexpr char kAzuriteAccount[] = "devstoreaccount1";
inline constexpr char kAzuriteKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

// `prefix` for the case's blobs; `table` made of letters and digits, as
// Azure wants table names.
inline BindingConfig AzuriteBinding(const std::string& prefix, const std::string& table) {
  BindingConfig config{"conformance", "azure", {}, {}, {}};
  config.options = {{"container", "conformance"},
                    {"prefix", prefix},
                    {"create_container", "true"},
                    {"block_size_mb", "1"},
                    {"table", table},
                    {"create_table", "true"}};
  return config;
}

// Why Azurite cannot run a case relying on `feature`, or empty.
inline std::string AzuriteCannot(const std::string& feature) {
  if (feature == "manual clock") {
    return "Azure Table keeps no expiry of its own: the provider stamps and checks expiry with the host's clock "
           "(the real one here), which the case's manual clock cannot move";
  }
  return {};
}

}  // namespace cloudkit::conformance
