// Bindings as URLs (providers/binding_url): each scheme's provider and
// options, services picked in the query, and refusals that name the URL
// without echoing its query.
#include "providers/binding_url.h"

#include <gtest/gtest.h>

namespace cloudkit {
namespace {

TEST(BindingUrlTest, EachSchemeNamesItsProviderAndOptions) {
  auto mem = ParseBindingUrl("scratch", "mem://");
  ASSERT_TRUE(mem.ok()) << mem.status().message();
  EXPECT_EQ(mem->name, "scratch");
  EXPECT_EQ(mem->provider, "memory");
  EXPECT_TRUE(mem->options.empty());

  auto file = ParseBindingUrl("docs", "file:///var/lib/cloud%20kit/docs");
  ASSERT_TRUE(file.ok()) << file.status().message();
  EXPECT_EQ(file->provider, "local");
  EXPECT_EQ(file->options.at("path"), "/var/lib/cloud kit/docs");

  auto s3 = ParseBindingUrl("b", "s3://my-bucket?region=eu-west-1&endpoint=http%3A%2F%2F127.0.0.1%3A4569");
  ASSERT_TRUE(s3.ok()) << s3.status().message();
  EXPECT_EQ(s3->provider, "s3");
  EXPECT_EQ(s3->options.at("bucket"), "my-bucket");
  EXPECT_EQ(s3->options.at("region"), "eu-west-1");
  EXPECT_EQ(s3->options.at("endpoint"), "http://127.0.0.1:4569");

  auto redis = ParseBindingUrl("cache", "redis://127.0.0.1:6379/2");
  ASSERT_TRUE(redis.ok()) << redis.status().message();
  EXPECT_EQ(redis->provider, "redis");
  EXPECT_EQ(redis->options.at("address"), "127.0.0.1:6379");
  EXPECT_EQ(redis->options.at("db"), "2");

  auto table = ParseBindingUrl("t", "dynamodb://items");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->options.at("table"), "items");
}

TEST(BindingUrlTest, ServicesArePickedInTheQuery) {
  auto mem = ParseBindingUrl("kv", "mem://?services=key_value");
  ASSERT_TRUE(mem.ok()) << mem.status().message();
  EXPECT_EQ(mem->services, std::vector<std::string>{"key_value"});
  EXPECT_TRUE(mem->options.empty());
}

TEST(BindingUrlTest, RefusalsNameTheUrlButNotItsQuery) {
  auto credentials = ParseBindingUrl("b", "s3://AKID:secret@bucket?token=hush");
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.status().code(), v1::INVALID_ARGUMENT);
  EXPECT_NE(credentials.status().message().find("credentials never go in a binding URL"), std::string::npos);
  EXPECT_EQ(credentials.status().message().find("hush"), std::string::npos) << credentials.status().message();
  EXPECT_EQ(credentials.status().message().find("secret"), std::string::npos) << credentials.status().message();
  auto no_scheme = ParseBindingUrl("b", "AKID:secret@bucket");
  EXPECT_EQ(no_scheme.status().message().find("secret"), std::string::npos) << no_scheme.status().message();

  EXPECT_NE(ParseBindingUrl("x", "ftp://host").status().message().find("unknown scheme 'ftp'"), std::string::npos);
  EXPECT_EQ(ParseBindingUrl("x", "mem").status().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(ParseBindingUrl("x", "mem://host").status().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(ParseBindingUrl("x", "s3://").status().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(ParseBindingUrl("x", "dynamodb://t/extra").status().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(ParseBindingUrl("x", "mem://?a=%zz").status().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(ParseBindingUrl("x", "s3://b?region=a&region=b").status().code(), v1::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace cloudkit
