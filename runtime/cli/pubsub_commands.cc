// cloudkit pubsub: create / delete / list topics; subscribe (create a
// subscription) / unsubscribe / list subscriptions; publish; listen (stream a
// subscription's messages, acking each once printed). Times on the command
// line are in seconds.
#include <csignal>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/number_checks.h"
#include "cli/formatting.h"
#include "cli/message_args.h"

namespace cloudkit::cli {
namespace {

struct PubSubArgs {
  std::string topic;
  std::string subscription;
  std::string message;  // or "-": stdin
  std::string prefix;
  std::vector<std::string> attributes;  // KEY=VALUE
  std::vector<std::string> filter;      // KEY=VALUE
  double ack_deadline_s = 0;
  std::string dead_letter;
  uint32_t max_deliveries = 0;
  uint64_t max_messages = 0;  // listen: 0 = until a signal
};

nlohmann::ordered_json SubscriptionJson(const v1::SubscriptionInfo& subscription) {
  nlohmann::ordered_json filter = nlohmann::ordered_json::object();
  for (const auto& [name, value] : subscription.options().filter()) filter[name] = value;
  nlohmann::ordered_json json = {{"name", subscription.name()},
                                 {"topic", subscription.topic()},
                                 {"filter", filter},
                                 {"ack_deadline_ms", subscription.options().ack_deadline_ms()},
                                 {"created_ms", subscription.created_ms()},
                                 {"created", IsoTime(subscription.created_ms())}};
  if (!subscription.options().dead_letter_subscription().empty()) {
    json["dead_letter_subscription"] = subscription.options().dead_letter_subscription();
    json["max_deliveries"] = subscription.options().max_deliveries();
  }
  return json;
}

// Bodies that are not UTF-8 text appear as "body_base64" instead of "body".
nlohmann::ordered_json DeliveryJson(const std::string& subscription, const v1::Delivery& delivery) {
  nlohmann::ordered_json attributes = nlohmann::ordered_json::object();
  for (const auto& [name, value] : delivery.attributes()) attributes[name] = value;
  nlohmann::ordered_json json = {{"subscription", subscription},
                                 {"message_id", delivery.message_id()},
                                 {"ack_id", delivery.ack_id()},
                                 {"delivery_count", delivery.delivery_count()},
                                 {"publish_time_ms", delivery.publish_time_ms()},
                                 {"attributes", attributes}};
  AddBytesJson("body", delivery.body(), &json);
  return json;
}

int CreateTopic(CliContext& context, const PubSubArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::CreateTopicRequest request;
    request.set_topic(args.topic);
    auto created = client.pubsub().CreateTopic(request);
    if (!created.ok()) return context.Fail(created.status());
    if (context.json()) {
      context.PrintJson({{"name", created->topic().name()},
                         {"created_ms", created->topic().created_ms()},
                         {"created", IsoTime(created->topic().created_ms())}});
    } else {
      std::printf("created topic %s\n", args.topic.c_str());
    }
    return kExitOk;
  });
}

int DeleteTopic(CliContext& context, const PubSubArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::DeleteTopicRequest request;
    request.set_topic(args.topic);
    auto deleted = client.pubsub().DeleteTopic(request);
    if (!deleted.ok()) return context.Fail(deleted.status());
    if (context.json()) {
      context.PrintJson({{"deleted_topic", args.topic}});
    } else {
      std::printf("deleted topic %s\n", args.topic.c_str());
    }
    return kExitOk;
  });
}

// Pages through every topic. Text: one name per line.
int ListTopics(CliContext& context, const PubSubArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::ListTopicsRequest request;
    request.set_prefix(args.prefix);
    nlohmann::ordered_json topics = nlohmann::ordered_json::array();
    do {
      auto page = client.pubsub().ListTopics(request);
      if (!page.ok()) return context.Fail(page.status());
      for (const auto& topic : page->topics()) {
        if (context.json()) {
          topics.push_back({{"name", topic.name()}, {"created_ms", topic.created_ms()}});
        } else {
          std::printf("%s\n", topic.name().c_str());
        }
      }
      request.set_continuation_token(page->next_continuation_token());
    } while (!request.continuation_token().empty());
    if (context.json()) context.PrintJson({{"topics", topics}});
    return kExitOk;
  });
}

int Subscribe(CliContext& context, const PubSubArgs& args) {
  if (args.dead_letter.empty() != (args.max_deliveries == 0)) {
    return context.FailUsage("--dead-letter and --max-deliveries go together");
  }
  v1::CreateSubscriptionRequest request;
  request.set_topic(args.topic);
  request.set_subscription(args.subscription);
  v1::SubscriptionOptions* options = request.mutable_options();
  if (std::string bad = PairsInto(args.filter, options->mutable_filter()); !bad.empty()) {
    return context.FailUsage("--filter expects KEY=VALUE, not '" + bad + "'");
  }
  options->set_ack_deadline_ms(static_cast<uint32_t>(std::llround(args.ack_deadline_s * 1000)));
  options->set_dead_letter_subscription(args.dead_letter);
  options->set_max_deliveries(args.max_deliveries);
  return WithClient(context, [&](Client& client) {
    auto created = client.pubsub().CreateSubscription(request);
    if (!created.ok()) return context.Fail(created.status());
    if (context.json()) {
      context.PrintJson(SubscriptionJson(created->subscription()));
    } else {
      std::printf("subscribed %s to topic %s\n", args.subscription.c_str(), args.topic.c_str());
    }
    return kExitOk;
  });
}

int Unsubscribe(CliContext& context, const PubSubArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::DeleteSubscriptionRequest request;
    request.set_subscription(args.subscription);
    auto deleted = client.pubsub().DeleteSubscription(request);
    if (!deleted.ok()) return context.Fail(deleted.status());
    if (context.json()) {
      context.PrintJson({{"deleted_subscription", args.subscription}});
    } else {
      std::printf("deleted subscription %s\n", args.subscription.c_str());
    }
    return kExitOk;
  });
}

// Pages through the topic's subscriptions. Text: NAME[<TAB>KEY=VALUE,...] per line.
int ListSubscriptions(CliContext& context, const PubSubArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::ListSubscriptionsRequest request;
    request.set_topic(args.topic);
    nlohmann::ordered_json subscriptions = nlohmann::ordered_json::array();
    do {
      auto page = client.pubsub().ListSubscriptions(request);
      if (!page.ok()) return context.Fail(page.status());
      for (const auto& subscription : page->subscriptions()) {
        if (context.json()) {
          subscriptions.push_back(SubscriptionJson(subscription));
          continue;
        }
        std::string filter;
        for (const auto& [name, value] : subscription.options().filter()) {
          filter += (filter.empty() ? "\t" : ",") + name + "=" + value;
        }
        std::printf("%s%s\n", subscription.name().c_str(), filter.c_str());
      }
      request.set_continuation_token(page->next_continuation_token());
    } while (!request.continuation_token().empty());
    if (context.json()) context.PrintJson({{"topic", args.topic}, {"subscriptions", subscriptions}});
    return kExitOk;
  });
}

int Publish(CliContext& context, const PubSubArgs& args) {
  v1::PublishRequest request;
  request.set_topic(args.topic);
  std::string unread;
  std::optional<std::string> body = MessageFrom(args.message, &unread);
  if (!body) return context.FailLocal(unread);
  request.set_body(std::move(*body));
  if (std::string bad = PairsInto(args.attributes, request.mutable_attributes()); !bad.empty()) {
    return context.FailUsage("--attr expects KEY=VALUE, not '" + bad + "'");
  }
  return WithClient(context, [&](Client& client) {
    auto published = client.pubsub().Publish(request);
    if (!published.ok()) return context.Fail(published.status());
    if (context.json()) {
      context.PrintJson({{"topic", args.topic},
                         {"message_id", published->message_id()},
                         {"subscriptions", published->subscriptions()}});
    } else {
      std::printf("%s\t%u subscription(s)\n", published->message_id().c_str(), published->subscriptions());
    }
    return kExitOk;
  });
}

// Set by SIGINT and SIGTERM: `listen` ends after the message in hand.
volatile std::sig_atomic_t stop_listening = 0;
extern "C" void OnStopSignal(int) { stop_listening = 1; }

// Streams the subscription's messages until a signal or --max of them, each
// printed (text: MESSAGE_ID<TAB>BODY; --json: one object per line) and then
// acked. A message printed but not acked (the daemon went away) comes back.
int Listen(CliContext& context, const PubSubArgs& args) {
  struct sigaction action = {};
  action.sa_handler = &OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  return WithClient(context, [&](Client& client) {
    auto stream = client.pubsub().Subscribe(args.subscription);
    if (!stream.ok()) return context.Fail(stream.status());
    uint64_t taken = 0;
    while (!stop_listening && (args.max_messages == 0 || taken < args.max_messages)) {
      // Short waits: a signal is seen within one.
      auto next = (*stream)->Next(std::chrono::milliseconds(200));
      if (!next.ok()) return context.Fail(next.status());
      if (!*next) continue;
      const v1::Delivery& delivery = **next;
      if (context.json()) {
        std::string line = DeliveryJson(args.subscription, delivery)
                               .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
        std::printf("%s\n", line.c_str());
      } else {
        std::printf("%s\t", delivery.message_id().c_str());
        std::fwrite(delivery.body().data(), 1, delivery.body().size(), stdout);
        std::fputc('\n', stdout);
      }
      std::fflush(stdout);
      auto acked = client.pubsub().Ack(args.subscription, {delivery.ack_id()});
      if (!acked.ok()) return context.Fail(acked.status());
      taken++;
    }
    (*stream)->Cancel();
    return kExitOk;
  });
}

}  // namespace

void AddPubSubCommands(CLI::App& pubsub, CliContext& context, Action* action) {
  auto args = std::make_shared<PubSubArgs>();
  auto add = [&](const char* name, const char* help, int (*run)(CliContext&, const PubSubArgs&)) {
    CLI::App* command = pubsub.add_subcommand(name, help);
    command->fallthrough();
    command->callback([&context, action, args, run] { *action = [&context, args, run] { return run(context, *args); }; });
    return command;
  };
  auto topic = [&](CLI::App* command) { command->add_option("topic", args->topic, "Topic name")->required(); };
  auto subscription = [&](CLI::App* command) {
    command->add_option("subscription", args->subscription, "Subscription name")->required();
  };

  topic(add("create-topic", "Create a topic", &CreateTopic));
  topic(add("delete-topic", "Delete a topic (it must have no subscriptions)", &DeleteTopic));
  add("list-topics", "List topics (all pages)", &ListTopics)
      ->add_option("--prefix", args->prefix, "Only names starting with this");

  CLI::App* subscribe = add("subscribe", "Create a subscription of a topic", &Subscribe);
  topic(subscribe);
  subscription(subscribe);
  subscribe->add_option("--filter", args->filter, "Only messages with attribute KEY=VALUE (repeatable: all must match)")
      ->take_all();
  subscribe->add_option("--ack-deadline", args->ack_deadline_s, "Seconds a delivered message waits for its ack (default 30)")
      ->check(Seconds(600, kMinDefaultedSeconds));
  subscribe->add_option("--dead-letter", args->dead_letter, "Subscription that takes messages delivered too often");
  subscribe->add_option("--max-deliveries", args->max_deliveries, "Deliveries before a message moves to --dead-letter")
      ->check(CLI::Range(1, 1000));
  subscription(add("unsubscribe", "Delete a subscription and its messages", &Unsubscribe));
  topic(add("list-subscriptions", "List a topic's subscriptions (all pages)", &ListSubscriptions));

  CLI::App* publish = add("publish", "Publish a message to a topic", &Publish);
  topic(publish);
  publish->add_option("message", args->message, "The message, or - for stdin")->required();
  publish->add_option("--attr", args->attributes, "Attribute KEY=VALUE (repeatable)")->take_all();

  CLI::App* listen = add("listen", "Print a subscription's messages as they arrive, acking each", &Listen);
  subscription(listen);
  listen->add_option("--max", args->max_messages, "End after this many messages (default: at SIGINT or SIGTERM)")
      ->check(WholeNumber(1, UINT32_MAX));
}

}  // namespace cloudkit::cli
