// libcurl, loaded (dlopen) when the first HTTP client is made rather than when
// the process starts: libcurl pulls in a TLS stack, LDAP, SSH and more, which
// cost a daemon that serves only local bindings about 3.5 MB of resident
// memory for nothing. The functions the HTTP port uses are reached through
// this table.
#pragma once

#include <curl/curl.h>

#include <string>

namespace cloudkit::curl_http {

struct CurlLibrary {
  decltype(&::curl_global_init) global_init;
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_easy_setopt) easy_setopt;
  decltype(&::curl_easy_getinfo) easy_getinfo;
  decltype(&::curl_easy_nextheader) easy_nextheader;
  decltype(&::curl_easy_pause) easy_pause;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_free) free;
  decltype(&::curl_multi_init) multi_init;
  decltype(&::curl_multi_cleanup) multi_cleanup;
  decltype(&::curl_multi_setopt) multi_setopt;
  decltype(&::curl_multi_add_handle) multi_add_handle;
  decltype(&::curl_multi_remove_handle) multi_remove_handle;
  decltype(&::curl_multi_perform) multi_perform;
  decltype(&::curl_multi_poll) multi_poll;
  decltype(&::curl_multi_wakeup) multi_wakeup;
  decltype(&::curl_multi_info_read) multi_info_read;
  decltype(&::curl_multi_strerror) multi_strerror;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
  decltype(&::curl_url) url;
  decltype(&::curl_url_cleanup) url_cleanup;
  decltype(&::curl_url_set) url_set;
  decltype(&::curl_url_get) url_get;
};

// Loads libcurl once (thread-safe) and runs curl_global_init. Null when it
// cannot be loaded; *error then says why.
const CurlLibrary* LoadCurl(std::string* error);
// The library once LoadCurl succeeded; null before.
const CurlLibrary* LoadedCurl();

}  // namespace cloudkit::curl_http
