#include "providers/azure/blob_xml.h"

#include <charconv>
#include <sstream>

#include <pugixml.hpp>

#include "core/hex.h"
#include "providers/remote/timestamps.h"

namespace cloudkit::azure {
namespace {

std::string Text(const pugi::xml_node& node, const char* child) { return node.child(child).text().as_string(); }

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexDigit(text[i + 1]) >= 0 && HexDigit(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(text[i + 1]) * 16 + HexDigit(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string Name(const pugi::xml_node& parent) {
  pugi::xml_node name = parent.child("Name");
  std::string text = name.text().as_string();
  return name.attribute("Encoded").as_bool() ? PercentDecode(text) : text;
}

}  // namespace

Result<BlobListing> ParseBlobListing(std::string_view body) {
  pugi::xml_document doc;
  if (body.empty() || !doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8)) {
    return Status::Internal("the Azure blob service answered a listing with something not XML");
  }
  pugi::xml_node results = doc.child("EnumerationResults");
  if (!results) return Status::Internal("the Azure blob service answered a listing without EnumerationResults");
  BlobListing listing;
  pugi::xml_node blobs = results.child("Blobs");
  for (pugi::xml_node blob : blobs.children("Blob")) {
    ListedBlob listed;
    listed.name = Name(blob);
    pugi::xml_node properties = blob.child("Properties");
    const std::string length = Text(properties, "Content-Length");
    std::from_chars(length.data(), length.data() + length.size(), listed.size);
    listed.content_md5 = Text(properties, "Content-MD5");
    listed.etag = Text(properties, "Etag");
    listed.content_type = Text(properties, "Content-Type");
    listed.last_modified_ms = remote::ParseHttpDate(Text(properties, "Last-Modified")).value_or(0);
    listing.blobs.push_back(std::move(listed));
  }
  for (pugi::xml_node prefix : blobs.children("BlobPrefix")) listing.prefixes.push_back(Name(prefix));
  listing.next_marker = Text(results, "NextMarker");
  return listing;
}

std::string BlockListBody(const std::vector<std::string>& block_ids) {
  pugi::xml_document doc;
  pugi::xml_node declaration = doc.append_child(pugi::node_declaration);
  declaration.append_attribute("version") = "1.0";
  declaration.append_attribute("encoding") = "utf-8";
  pugi::xml_node root = doc.append_child("BlockList");
  for (const std::string& id : block_ids) root.append_child("Latest").text().set(id.c_str());
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw);
  return out.str();
}

}  // namespace cloudkit::azure
