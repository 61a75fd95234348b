#include "client/client.h"

#include "client/caller.h"
#include "client/curve_keys.h"
#include "client/transport.h"

namespace cloudkit {

Result<std::unique_ptr<Client>> Client::Connect(const std::string& endpoint, ClientOptions options) {
  if (options.chunk_bytes == 0 || options.chunk_bytes > (1 << 20)) {
    return Status::InvalidArgument("chunk_bytes must be between 1 and 1 MiB, not " +
                                   std::to_string(options.chunk_bytes));
  }
  client_internal::TransportOptions transport_options;
  transport_options.max_message_bytes = options.max_message_bytes;
  transport_options.connect_timeout = options.connect_timeout;
  if (options.key_file.empty() != options.server_key.empty()) {
    return Status::InvalidArgument("a CURVE client needs both its key file and the server's public key");
  }
  if (!options.key_file.empty()) {
    Result<CurveKeyPair> key = ReadKeyPairFile(options.key_file);
    if (!key.ok()) return key.status();
    Result<std::string> server_key = ReadPublicKey(options.server_key);
    if (!server_key.ok()) return server_key.status();
    transport_options.public_key = std::move(key->public_key);
    transport_options.secret_key = std::move(key->secret_key);
    transport_options.server_key = std::move(*server_key);
  }
  Result<std::unique_ptr<client_internal::Transport>> transport =
      client_internal::Transport::Open(endpoint, transport_options);
  if (!transport.ok()) return transport.status();
  auto caller = std::make_unique<client_internal::Caller>(std::move(*transport), std::move(options));
  return std::unique_ptr<Client>(new Client(std::move(caller)));
}

Client::Client(std::unique_ptr<client_internal::Caller> caller)
    : caller_(std::move(caller)),
      storage_(*caller_),
      kv_(*caller_),
      queue_(*caller_),
      pubsub_(*caller_),
      runtime_(*caller_),
      secrets_(*caller_) {}

Client::~Client() = default;

const std::string& Client::endpoint() const { return caller_->endpoint(); }
const ClientOptions& Client::options() const { return caller_->options(); }

}  // namespace cloudkit
