#include "ports/curl_library.h"

#include <dlfcn.h>

#include <atomic>
#include <mutex>

#include "ports/shared_library.h"

namespace cloudkit::curl_http {
namespace {

std::atomic<const CurlLibrary*> loaded{nullptr};

}  // namespace

const CurlLibrary* LoadedCurl() { return loaded.load(std::memory_order_acquire); }

const CurlLibrary* LoadCurl(std::string* error) {
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    // The soname of the libcurl this was built against (libcurl4-openssl-dev: libcurl.so.4).
    void* handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      failure = std::string("cannot load libcurl.so.4: ") + (why ? why : "unknown error");
      return;
    }
    static CurlLibrary curl;
    std::string missing;
    bool bound = BindSymbol(handle, "curl_global_init", &curl.global_init, &missing) &&
                 BindSymbol(handle, "curl_easy_init", &curl.easy_init, &missing) &&
                 BindSymbol(handle, "curl_easy_cleanup", &curl.easy_cleanup, &missing) &&
                 BindSymbol(handle, "curl_easy_setopt", &curl.easy_setopt, &missing) &&
                 BindSymbol(handle, "curl_easy_getinfo", &curl.easy_getinfo, &missing) &&
                 BindSymbol(handle, "curl_easy_nextheader", &curl.easy_nextheader, &missing) &&
                 BindSymbol(handle, "curl_easy_pause", &curl.easy_pause, &missing) &&
                 BindSymbol(handle, "curl_easy_strerror", &curl.easy_strerror, &missing) &&
                 BindSymbol(handle, "curl_free", &curl.free, &missing) &&
                 BindSymbol(handle, "curl_multi_init", &curl.multi_init, &missing) &&
                 BindSymbol(handle, "curl_multi_cleanup", &curl.multi_cleanup, &missing) &&
                 BindSymbol(handle, "curl_multi_setopt", &curl.multi_setopt, &missing) &&
                 BindSymbol(handle, "curl_multi_add_handle", &curl.multi_add_handle, &missing) &&
                 BindSymbol(handle, "curl_multi_remove_handle", &curl.multi_remove_handle, &missing) &&
                 BindSymbol(handle, "curl_multi_perform", &curl.multi_perform, &missing) &&
                 BindSymbol(handle, "curl_multi_poll", &curl.multi_poll, &missing) &&
                 BindSymbol(handle, "curl_multi_wakeup", &curl.multi_wakeup, &missing) &&
                 BindSymbol(handle, "curl_multi_info_read", &curl.multi_info_read, &missing) &&
                 BindSymbol(handle, "curl_multi_strerror", &curl.multi_strerror, &missing) &&
                 BindSymbol(handle, "curl_slist_append", &curl.slist_append, &missing) &&
                 BindSymbol(handle, "curl_slist_free_all", &curl.slist_free_all, &missing) &&
                 BindSymbol(handle, "curl_url", &curl.url, &missing) &&
                 BindSymbol(handle, "curl_url_cleanup", &curl.url_cleanup, &missing) &&
                 BindSymbol(handle, "curl_url_set", &curl.url_set, &missing) &&
                 BindSymbol(handle, "curl_url_get", &curl.url_get, &missing);
    if (!bound) {
      failure = "libcurl.so.4 lacks " + missing + " (too old a libcurl)";
      return;
    }
    if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      failure = "curl_global_init failed";
      return;
    }
    loaded.store(&curl, std::memory_order_release);
  });
  if (LoadedCurl() == nullptr && error != nullptr) *error = failure;
  return LoadedCurl();
}

}  // namespace cloudkit::curl_http
