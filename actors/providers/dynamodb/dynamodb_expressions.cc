#include "providers/dynamodb/dynamodb_expressions.h"

namespace cloudkit::dynamodb {

std::string Expressions::Name(const char* attribute) {
  std::string placeholder = std::string("#") + attribute;
  names_[placeholder] = attribute;
  return placeholder;
}

std::string Expressions::Value(const char* label, Json value) {
  std::string placeholder = std::string(":") + label;
  values_[placeholder] = std::move(value);
  return placeholder;
}

void Expressions::AddTo(Json* request) const {
  if (!names_.empty()) (*request)["ExpressionAttributeNames"] = names_;
  if (!values_.empty()) (*request)["ExpressionAttributeValues"] = values_;
}

std::string Live(Expressions& e, int64_t now_ms) {
  const std::string expires = e.Name(kExpiresMsAttr);
  return "(attribute_not_exists(" + expires + ") OR " + expires + " > " + e.Value("now", NumberValue(now_ms)) + ")";
}

std::string AbsentOrExpired(Expressions& e, int64_t now_ms) {
  return "(attribute_not_exists(" + e.Name(kTableAttr) + ") OR " + e.Name(kExpiresMsAttr) + " <= " +
         e.Value("now", NumberValue(now_ms)) + ")";
}

std::string HasEtag(Expressions& e, std::string_view etag, int64_t now_ms) {
  if (etag == kForeignEtag) {
    return "(attribute_exists(" + e.Name(kTableAttr) + ") AND attribute_not_exists(" + e.Name(kEtagAttr) +
           ") AND " + Live(e, now_ms) + ")";
  }
  return "(" + e.Name(kEtagAttr) + " = " + e.Value("etag", StringValue(etag)) + " AND " + Live(e, now_ms) + ")";
}

std::string InTableWithPrefix(Expressions& e, std::string_view table, std::string_view prefix) {
  std::string condition = e.Name(kTableAttr) + " = " + e.Value("table", StringValue(table));
  if (!prefix.empty()) {
    condition += " AND begins_with(" + e.Name(kKeyAttr) + ", " + e.Value("prefix", StringValue(prefix)) + ")";
  }
  return condition;
}

std::string WithoutValue(Expressions& e) {
  return e.Name(kKeyAttr) + ", " + e.Name(kEtagAttr) + ", " + e.Name(kExpiresMsAttr);
}

}  // namespace cloudkit::dynamodb
