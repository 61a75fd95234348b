// cloudkit storage: bucket commands and the object commands that move no
// body (head, delete, copy, list, presign). put and get are in transfer_commands.cc.
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/formatting.h"

namespace cloudkit::cli {
namespace {

struct StorageArgs {
  std::string bucket;
  std::string key;
  std::vector<std::string> keys;
  std::string target_bucket;
  std::string target_key;
  std::string prefix;
  std::string delimiter;
  bool presign_put = false;
  uint32_t expires_seconds = 3600;
};

int CreateBucket(CliContext& context, const StorageArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::CreateBucketRequest request;
    request.set_bucket(args.bucket);
    auto created = client.storage().CreateBucket(request);
    if (!created.ok()) return context.Fail(created.status());
    if (context.json()) {
      context.PrintJson(BucketJson(created->bucket()));
    } else {
      std::printf("created bucket %s\n", args.bucket.c_str());
    }
    return kExitOk;
  });
}

int DeleteBucket(CliContext& context, const StorageArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::DeleteBucketRequest request;
    request.set_bucket(args.bucket);
    auto deleted = client.storage().DeleteBucket(request);
    if (!deleted.ok()) return context.Fail(deleted.status());
    if (context.json()) {
      context.PrintJson({{"deleted_bucket", args.bucket}});
    } else {
      std::printf("deleted bucket %s\n", args.bucket.c_str());
    }
    return kExitOk;
  });
}

int ListBuckets(CliContext& context) {
  return WithClient(context, [&](Client& client) {
    auto listed = client.storage().ListBuckets();
    if (!listed.ok()) return context.Fail(listed.status());
    if (context.json()) {
      nlohmann::ordered_json buckets = nlohmann::ordered_json::array();
      for (const auto& bucket : listed->buckets()) buckets.push_back(BucketJson(bucket));
      context.PrintJson({{"buckets", buckets}});
    } else {
      for (const auto& bucket : listed->buckets()) {
        std::printf("%s %s\n", ListingTime(bucket.created_ms()).c_str(), bucket.name().c_str());
      }
    }
    return kExitOk;
  });
}

int HeadObject(CliContext& context, const StorageArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::HeadObjectRequest request;
    request.set_bucket(args.bucket);
    request.set_key(args.key);
    auto head = client.storage().HeadObject(request);
    if (!head.ok()) return context.Fail(head.status());
    const v1::ObjectInfo& object = head->object();
    if (context.json()) {
      context.PrintJson(ObjectJson(object));
      return kExitOk;
    }
    std::printf("bucket: %s\nkey: %s\nsize: %llu\netag: %s\nlast-modified: %s\ncontent-type: %s\n",
                object.bucket().c_str(), Printable(object.key()).c_str(), (unsigned long long)object.size(),
                object.etag().c_str(), IsoTime(object.last_modified_ms()).c_str(),
                Printable(object.content_type()).c_str());
    // Sorted, so the output is stable (the map's order is not).
    std::map<std::string, std::string> metadata(object.metadata().begin(), object.metadata().end());
    for (const auto& [key, value] : metadata) {
      std::printf("metadata.%s: %s\n", Printable(key).c_str(), Printable(value).c_str());
    }
    return kExitOk;
  });
}

// One DeleteObjects call for all the keys. Per-key failures each get a line
// on stderr; the first decides the exit code.
int DeleteObjects(CliContext& context, const StorageArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::DeleteObjectsRequest request;
    request.set_bucket(args.bucket);
    for (const auto& key : args.keys) request.add_keys(key);
    auto deleted = client.storage().DeleteObjects(request);
    if (!deleted.ok()) return context.Fail(deleted.status());
    int exit_code = kExitOk;
    if (!deleted->errors().empty()) {
      exit_code = ExitCodeFor(deleted->errors(0).status().code());
    }
    if (context.json()) {
      nlohmann::ordered_json errors = nlohmann::ordered_json::array();
      for (const auto& error : deleted->errors()) {
        errors.push_back({{"key", error.key()},
                          {"code", Status::CodeName(error.status().code())},
                          {"message", error.status().message()}});
      }
      nlohmann::ordered_json keys = nlohmann::ordered_json::array();
      for (const auto& key : deleted->deleted()) keys.push_back(key);
      context.PrintJson({{"bucket", args.bucket}, {"deleted", keys}, {"errors", errors}});
      return exit_code;
    }
    for (const auto& key : deleted->deleted()) {
      std::printf("deleted %s/%s\n", args.bucket.c_str(), Printable(key).c_str());
    }
    for (const auto& error : deleted->errors()) std::fprintf(stderr, "cloudkit: %s\n", error.status().message().c_str());
    return exit_code;
  });
}

int CopyObject(CliContext& context, const StorageArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::CopyObjectRequest request;
    request.set_source_bucket(args.bucket);
    request.set_source_key(args.key);
    request.set_bucket(args.target_bucket);
    request.set_key(args.target_key);
    auto copied = client.storage().CopyObject(request);
    if (!copied.ok()) return context.Fail(copied.status());
    if (context.json()) {
      context.PrintJson(ObjectJson(copied->object()));
    } else {
      std::printf("copied %s/%s to %s/%s\n", args.bucket.c_str(), args.key.c_str(), args.target_bucket.c_str(),
                  args.target_key.c_str());
    }
    return kExitOk;
  });
}

// Pages through the whole listing. Text output streams page by page; --json
// collects the listing into one document.
int ListObjects(CliContext& context, const StorageArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::ListObjectsRequest request;
    request.set_bucket(args.bucket);
    request.set_prefix(args.prefix);
    request.set_delimiter(args.delimiter);
    nlohmann::ordered_json objects = nlohmann::ordered_json::array();
    nlohmann::ordered_json prefixes = nlohmann::ordered_json::array();
    do {
      auto page = client.storage().ListObjects(request);
      if (!page.ok()) return context.Fail(page.status());
      for (const auto& prefix : page->common_prefixes()) {
        if (context.json()) {
          prefixes.push_back(prefix);
        } else {
          std::printf("%30s %s\n", "PRE", Printable(prefix).c_str());
        }
      }
      for (const auto& object : page->objects()) {
        if (context.json()) {
          objects.push_back(ObjectJson(object));
        } else {
          std::printf("%s %10llu %s\n", ListingTime(object.last_modified_ms()).c_str(),
                      (unsigned long long)object.size(), Printable(object.key()).c_str());
        }
      }
      request.set_continuation_token(page->next_continuation_token());
    } while (!request.continuation_token().empty());
    if (context.json()) context.PrintJson({{"objects", objects}, {"common_prefixes", prefixes}});
    return kExitOk;
  });
}

int PresignObject(CliContext& context, const StorageArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::PresignObjectRequest request;
    request.set_bucket(args.bucket);
    request.set_key(args.key);
    request.set_method(args.presign_put ? "PUT" : "GET");
    request.set_expires_seconds(args.expires_seconds);
    auto presigned = client.storage().PresignObject(request);
    if (!presigned.ok()) return context.Fail(presigned.status());
    if (context.json()) {
      context.PrintJson({{"url", presigned->url()},
                         {"method", presigned->method()},
                         {"expires_ms", presigned->expires_ms()},
                         {"expires", IsoTime(presigned->expires_ms())}});
    } else {
      std::printf("%s\n", presigned->url().c_str());
    }
    return kExitOk;
  });
}

}  // namespace

void AddStorageCommands(CLI::App& storage, CliContext& context, Action* action) {
  auto args = std::make_shared<StorageArgs>();
  auto add = [&](const char* name, const char* help) {
    CLI::App* command = storage.add_subcommand(name, help);
    command->fallthrough();
    return command;
  };

  CLI::App* create = add("create-bucket", "Create a bucket");
  create->add_option("bucket", args->bucket, "Bucket name")->required();
  create->callback([&context, action, args] { *action = [&context, args] { return CreateBucket(context, *args); }; });

  CLI::App* remove = add("delete-bucket", "Delete an empty bucket");
  remove->add_option("bucket", args->bucket, "Bucket name")->required();
  remove->callback([&context, action, args] { *action = [&context, args] { return DeleteBucket(context, *args); }; });

  CLI::App* buckets = add("list-buckets", "List buckets");
  buckets->callback([&context, action] { *action = [&context] { return ListBuckets(context); }; });

  CLI::App* head = add("head", "Show an object's size, ETag, content type and metadata");
  head->add_option("bucket", args->bucket, "Bucket name")->required();
  head->add_option("key", args->key, "Object key")->required();
  head->callback([&context, action, args] { *action = [&context, args] { return HeadObject(context, *args); }; });

  CLI::App* del = add("delete", "Delete objects");
  del->add_option("bucket", args->bucket, "Bucket name")->required();
  del->add_option("keys", args->keys, "Object keys")->required();
  del->callback([&context, action, args] { *action = [&context, args] { return DeleteObjects(context, *args); }; });

  CLI::App* copy = add("copy", "Copy an object (within or across buckets)");
  copy->add_option("bucket", args->bucket, "Source bucket")->required();
  copy->add_option("key", args->key, "Source key")->required();
  copy->add_option("target_bucket", args->target_bucket, "Target bucket")->required();
  copy->add_option("target_key", args->target_key, "Target key")->required();
  copy->callback([&context, action, args] { *action = [&context, args] { return CopyObject(context, *args); }; });

  CLI::App* presign = add("presign", "Print a URL that lets anyone holding it GET (or PUT) one object directly");
  presign->add_option("bucket", args->bucket, "Bucket name")->required();
  presign->add_option("key", args->key, "Object key")->required();
  presign->add_flag("--put", args->presign_put, "A URL to upload the object instead of downloading it");
  presign->add_option("--expires", args->expires_seconds, "Seconds the URL stays valid (at most 604800)")
      ->check(CLI::Range(1u, 604800u));
  presign->callback([&context, action, args] { *action = [&context, args] { return PresignObject(context, *args); }; });

  CLI::App* list = add("list", "List objects (all pages)");
  list->add_option("bucket", args->bucket, "Bucket name")->required();
  list->add_option("--prefix", args->prefix, "Only keys starting with this");
  list->add_option("--delimiter", args->delimiter, "Group keys sharing a prefix up to this into common prefixes");
  list->callback([&context, action, args] { *action = [&context, args] { return ListObjects(context, *args); }; });
}

}  // namespace cloudkit::cli
