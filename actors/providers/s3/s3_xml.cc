#include "providers/s3/s3_xml.h"

#include <charconv>
#include <sstream>

#include <pugixml.hpp>

#include "providers/remote/timestamps.h"

namespace cloudkit::s3 {
namespace {

bool Load(pugi::xml_document* doc, std::string_view body) {
  return !body.empty() && doc->load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
}

std::string Text(const pugi::xml_node& node, const char* child) { return node.child(child).text().as_string(); }

uint64_t Unsigned(const std::string& text) {
  uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

Status NotXml(const char* what) { return Status::Internal("the S3 service answered with something not " + std::string(what)); }

std::string Serialize(const pugi::xml_document& doc) {
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw);
  return out.str();
}

}  // namespace

S3Error ParseError(std::string_view body) {
  pugi::xml_document doc;
  if (!Load(&doc, body)) return {};
  pugi::xml_node error = doc.child("Error");
  return {Text(error, "Code"), Text(error, "Message")};
}

Result<ObjectListing> ParseListObjectsV2(std::string_view body) {
  pugi::xml_document doc;
  if (!Load(&doc, body)) return NotXml("a ListBucketResult");
  pugi::xml_node result = doc.child("ListBucketResult");
  if (!result) return NotXml("a ListBucketResult");
  ObjectListing listing;
  for (pugi::xml_node contents : result.children("Contents")) {
    ListedObject object;
    object.key = Text(contents, "Key");
    object.size = Unsigned(Text(contents, "Size"));
    object.etag = Text(contents, "ETag");
    object.last_modified_ms = remote::ParseIso8601(Text(contents, "LastModified")).value_or(0);
    listing.objects.push_back(std::move(object));
  }
  for (pugi::xml_node prefix : result.children("CommonPrefixes")) listing.common_prefixes.push_back(Text(prefix, "Prefix"));
  listing.truncated = Text(result, "IsTruncated") == "true";
  listing.next_continuation_token = Text(result, "NextContinuationToken");
  return listing;
}

Result<std::string> ParseUploadId(std::string_view body) {
  pugi::xml_document doc;
  std::string id;
  if (Load(&doc, body)) id = Text(doc.child("InitiateMultipartUploadResult"), "UploadId");
  if (id.empty()) return NotXml("an InitiateMultipartUploadResult");
  return id;
}

Result<std::string> ParseCompleteMultipartUpload(std::string_view body, S3Error* error) {
  pugi::xml_document doc;
  if (!Load(&doc, body)) return NotXml("a CompleteMultipartUploadResult");
  if (pugi::xml_node failed = doc.child("Error")) {
    *error = {Text(failed, "Code"), Text(failed, "Message")};
    return Status::Unavailable("completing a multipart upload failed: " + error->code);
  }
  std::string etag = Text(doc.child("CompleteMultipartUploadResult"), "ETag");
  if (etag.empty()) return NotXml("a CompleteMultipartUploadResult");
  return etag;
}

Result<CopyResult> ParseCopyObjectResult(std::string_view body, S3Error* error) {
  pugi::xml_document doc;
  if (!Load(&doc, body)) return NotXml("a CopyObjectResult");
  if (pugi::xml_node failed = doc.child("Error")) {
    *error = {Text(failed, "Code"), Text(failed, "Message")};
    return Status::Unavailable("copying failed: " + error->code);
  }
  pugi::xml_node result = doc.child("CopyObjectResult");
  if (!result) return NotXml("a CopyObjectResult");
  return CopyResult{Text(result, "ETag"), remote::ParseIso8601(Text(result, "LastModified")).value_or(0)};
}

Result<DeleteOutcome> ParseDeleteResult(std::string_view body) {
  pugi::xml_document doc;
  if (!Load(&doc, body)) return NotXml("a DeleteResult");
  pugi::xml_node result = doc.child("DeleteResult");
  if (!result) return NotXml("a DeleteResult");
  DeleteOutcome outcome;
  for (pugi::xml_node deleted : result.children("Deleted")) outcome.deleted.push_back(Text(deleted, "Key"));
  for (pugi::xml_node failed : result.children("Error")) {
    outcome.errors.emplace_back(Text(failed, "Key"), S3Error{Text(failed, "Code"), Text(failed, "Message")});
  }
  return outcome;
}

std::string DeleteObjectsBody(const std::vector<std::string>& keys) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("Delete");
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  for (const std::string& key : keys) root.append_child("Object").append_child("Key").text().set(key.c_str());
  root.append_child("Quiet").text().set("false");
  return Serialize(doc);
}

std::string CompleteMultipartUploadBody(const std::vector<std::string>& part_etags) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("CompleteMultipartUpload");
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  for (size_t i = 0; i < part_etags.size(); ++i) {
    pugi::xml_node part = root.append_child("Part");
    part.append_child("PartNumber").text().set(static_cast<unsigned long long>(i + 1));
    part.append_child("ETag").text().set(part_etags[i].c_str());
  }
  return Serialize(doc);
}

}  // namespace cloudkit::s3
