// cloudkit queue: create / delete / list queues; send / receive / ack
// messages; depth / purge. Times on the command line are in seconds.
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

struct QueueArgs {
  std::string queue;
  std::string message;  // or "-": stdin
  std::string receipt;
  std::string prefix;
  bool fifo = false;
  std::string dead_letter;
  uint32_t max_receives = 0;
  double delay_s = 0;
  double visibility_s = 0;
  double wait_s = 0;
  uint32_t max_messages = 1;
  std::vector<std::string> attributes;  // KEY=VALUE
  std::string dedup_id;
};

uint32_t Milliseconds(double seconds) { return static_cast<uint32_t>(std::llround(seconds * 1000)); }

nlohmann::ordered_json QueueJson(const v1::QueueInfo& queue) {
  nlohmann::ordered_json json = {{"name", queue.name()},
                                 {"fifo", queue.options().fifo()},
                                 {"visibility_timeout_ms", queue.options().visibility_timeout_ms()},
                                 {"created_ms", queue.created_ms()},
                                 {"created", IsoTime(queue.created_ms())}};
  if (!queue.options().dead_letter_queue().empty()) {
    json["dead_letter_queue"] = queue.options().dead_letter_queue();
    json["max_receives"] = queue.options().max_receives();
  }
  return json;
}

// Bodies that are not UTF-8 text appear as "body_base64" instead of "body".
nlohmann::ordered_json MessageJson(const v1::ReceivedMessage& message) {
  nlohmann::ordered_json attributes = nlohmann::ordered_json::object();
  for (const auto& [name, value] : message.attributes()) attributes[name] = value;
  nlohmann::ordered_json json = {{"message_id", message.message_id()},
                                 {"receipt_handle", message.receipt_handle()},
                                 {"receive_count", message.receive_count()},
                                 {"sent_ms", message.sent_ms()},
                                 {"invisible_until_ms", message.invisible_until_ms()},
                                 {"attributes", attributes}};
  AddBytesJson("body", message.body(), &json);
  return json;
}

int Create(CliContext& context, const QueueArgs& args) {
  if (args.dead_letter.empty() != (args.max_receives == 0)) {
    return context.FailUsage("--dead-letter and --max-receives go together");
  }
  return WithClient(context, [&](Client& client) {
    v1::CreateQueueRequest request;
    request.set_queue(args.queue);
    request.mutable_options()->set_fifo(args.fifo);
    request.mutable_options()->set_visibility_timeout_ms(Milliseconds(args.visibility_s));
    request.mutable_options()->set_dead_letter_queue(args.dead_letter);
    request.mutable_options()->set_max_receives(args.max_receives);
    auto created = client.queue().CreateQueue(request);
    if (!created.ok()) return context.Fail(created.status());
    if (context.json()) {
      context.PrintJson(QueueJson(created->queue()));
    } else {
      std::printf("created %squeue %s\n", args.fifo ? "FIFO " : "", args.queue.c_str());
    }
    return kExitOk;
  });
}

int Delete(CliContext& context, const QueueArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::DeleteQueueRequest request;
    request.set_queue(args.queue);
    auto deleted = client.queue().DeleteQueue(request);
    if (!deleted.ok()) return context.Fail(deleted.status());
    if (context.json()) {
      context.PrintJson({{"deleted_queue", args.queue}});
    } else {
      std::printf("deleted queue %s\n", args.queue.c_str());
    }
    return kExitOk;
  });
}

// Pages through every queue. Text: NAME<TAB>fifo|standard[<TAB>dead letters to DLQ after N].
int List(CliContext& context, const QueueArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::ListQueuesRequest request;
    request.set_prefix(args.prefix);
    nlohmann::ordered_json queues = nlohmann::ordered_json::array();
    do {
      auto page = client.queue().ListQueues(request);
      if (!page.ok()) return context.Fail(page.status());
      for (const auto& queue : page->queues()) {
        if (context.json()) {
          queues.push_back(QueueJson(queue));
          continue;
        }
        std::printf("%s\t%s", queue.name().c_str(), queue.options().fifo() ? "fifo" : "standard");
        if (!queue.options().dead_letter_queue().empty()) {
          std::printf("\tdead letters to %s after %u receives", queue.options().dead_letter_queue().c_str(),
                      queue.options().max_receives());
        }
        std::printf("\n");
      }
      request.set_continuation_token(page->next_continuation_token());
    } while (!request.continuation_token().empty());
    if (context.json()) context.PrintJson({{"queues", queues}});
    return kExitOk;
  });
}

int Send(CliContext& context, const QueueArgs& args) {
  v1::SendRequest request;
  request.set_queue(args.queue);
  std::string unread;
  std::optional<std::string> body = MessageFrom(args.message, &unread);
  if (!body) return context.FailLocal(unread);
  request.set_body(std::move(*body));
  if (std::string bad = PairsInto(args.attributes, request.mutable_attributes()); !bad.empty()) {
    return context.FailUsage("--attr expects KEY=VALUE, not '" + bad + "'");
  }
  request.set_delay_ms(Milliseconds(args.delay_s));
  request.set_deduplication_id(args.dedup_id);
  return WithClient(context, [&](Client& client) {
    auto sent = client.queue().Send(request);
    if (!sent.ok()) return context.Fail(sent.status());
    if (context.json()) {
      context.PrintJson({{"queue", args.queue}, {"message_id", sent->message_id()}, {"duplicate", sent->duplicate()}});
    } else {
      std::printf("%s%s\n", sent->message_id().c_str(), sent->duplicate() ? " (duplicate: not enqueued again)" : "");
    }
    return kExitOk;
  });
}

// Text: RECEIPT<TAB>BODY per message (nothing when none came).
int Receive(CliContext& context, const QueueArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::ReceiveRequest request;
    request.set_queue(args.queue);
    request.set_max_messages(args.max_messages);
    request.set_visibility_timeout_ms(Milliseconds(args.visibility_s));
    request.set_wait_ms(Milliseconds(args.wait_s));
    // The client lengthens the call's deadline past a long wait (queue_client.h).
    auto received = client.queue().Receive(request);
    if (!received.ok()) return context.Fail(received.status());
    if (context.json()) {
      nlohmann::ordered_json messages = nlohmann::ordered_json::array();
      for (const auto& message : received->messages()) messages.push_back(MessageJson(message));
      context.PrintJson({{"queue", args.queue}, {"messages", messages}});
      return kExitOk;
    }
    for (const auto& message : received->messages()) {
      std::printf("%s\t", message.receipt_handle().c_str());
      std::fwrite(message.body().data(), 1, message.body().size(), stdout);
      std::fputc('\n', stdout);
    }
    return kExitOk;
  });
}

int Ack(CliContext& context, const QueueArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::AckRequest request;
    request.set_queue(args.queue);
    request.set_receipt_handle(args.receipt);
    auto acked = client.queue().Ack(request);
    if (!acked.ok()) return context.Fail(acked.status());
    if (context.json()) {
      context.PrintJson({{"queue", args.queue}, {"acked", true}});
    } else {
      std::printf("acked\n");
    }
    return kExitOk;
  });
}

int Depth(CliContext& context, const QueueArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::DepthRequest request;
    request.set_queue(args.queue);
    auto depth = client.queue().Depth(request);
    if (!depth.ok()) return context.Fail(depth.status());
    if (context.json()) {
      context.PrintJson({{"queue", args.queue}, {"visible", depth->visible()}, {"in_flight", depth->in_flight()},
                         {"delayed", depth->delayed()}});
    } else {
      std::printf("visible %llu, in flight %llu, delayed %llu\n", static_cast<unsigned long long>(depth->visible()),
                  static_cast<unsigned long long>(depth->in_flight()),
                  static_cast<unsigned long long>(depth->delayed()));
    }
    return kExitOk;
  });
}

int Purge(CliContext& context, const QueueArgs& args) {
  return WithClient(context, [&](Client& client) {
    v1::PurgeRequest request;
    request.set_queue(args.queue);
    auto purged = client.queue().Purge(request);
    if (!purged.ok()) return context.Fail(purged.status());
    if (context.json()) {
      context.PrintJson({{"queue", args.queue}, {"purged", purged->purged()}});
    } else {
      std::printf("purged %llu messages from %s\n", static_cast<unsigned long long>(purged->purged()),
                  args.queue.c_str());
    }
    return kExitOk;
  });
}

}  // namespace

void AddQueueCommands(CLI::App& queue, CliContext& context, Action* action) {
  auto args = std::make_shared<QueueArgs>();
  auto add = [&](const char* name, const char* help, int (*run)(CliContext&, const QueueArgs&), bool names_queue = true) {
    CLI::App* command = queue.add_subcommand(name, help);
    command->fallthrough();
    if (names_queue) command->add_option("queue", args->queue, "Queue name")->required();
    command->callback([&context, action, args, run] { *action = [&context, args, run] { return run(context, *args); }; });
    return command;
  };

  CLI::App* create = add("create", "Create a queue", &Create);
  create->add_flag("--fifo", args->fifo, "Deliver in send order, one message group");
  create->add_option("--dead-letter", args->dead_letter, "Queue that takes messages received too often");
  create->add_option("--max-receives", args->max_receives, "Receives before a message moves to --dead-letter")
      ->check(CLI::Range(1, 1000));
  create->add_option("--visibility", args->visibility_s, "Default visibility timeout in seconds (default 30)")
      ->check(Seconds(kMaxSecondsInMs32, kMinDefaultedSeconds));

  add("delete", "Delete a queue and its messages", &Delete);
  CLI::App* list = add("list", "List queues (all pages)", &List, /*names_queue=*/false);
  list->add_option("--prefix", args->prefix, "Only names starting with this");

  CLI::App* send = add("send", "Send a message", &Send);
  send->add_option("message", args->message, "The message, or - for stdin")->required();
  send->add_option("--delay", args->delay_s, "Invisible this many seconds first")->check(Seconds(kMaxSecondsInMs32));
  send->add_option("--attr", args->attributes, "Attribute KEY=VALUE (repeatable)")->take_all();
  send->add_option("--dedup", args->dedup_id, "Deduplication id: a resend within 5 minutes is not enqueued");

  CLI::App* receive = add("receive", "Receive messages: RECEIPT<TAB>BODY per line", &Receive);
  receive->add_option("--max", args->max_messages, "At most this many messages (default 1)")->check(CLI::Range(1, 100));
  receive->add_option("--wait", args->wait_s, "Wait up to this many seconds for one (at most 20)")
      ->check(Seconds(20));
  receive->add_option("--visibility", args->visibility_s, "Invisible this many seconds (default: the queue's)")
      ->check(Seconds(kMaxSecondsInMs32, kMinDefaultedSeconds));

  CLI::App* ack = add("ack", "Delete a received message", &Ack);
  ack->add_option("receipt", args->receipt, "The receipt handle receive printed")->required();

  add("depth", "Count visible, in-flight and delayed messages", &Depth);
  add("purge", "Delete every message of a queue", &Purge);
}

}  // namespace cloudkit::cli
