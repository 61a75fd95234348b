#include "ports/curl_http_client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/task.h"
#include "ports/curl_library.h"

namespace cloudkit {

using ports::HttpBodyReader;
using ports::HttpBodySource;
using ports::HttpHeaders;
using ports::HttpRequest;
using ports::HttpResponse;

namespace curl_http {

// Only called once LoadCurl succeeded (the I/O actor starts no transfer otherwise).
const CurlLibrary& Curl() { return *LoadedCurl(); }

struct Transfer;

// The I/O actor's mailbox. Transfers keep it (readers and body-source jobs
// post to it), so it outlives the client; once closed, Post refuses.
class Mailbox {
 public:
  struct Command {
    enum Kind { kStart, kResume, kChunk, kAbort } kind;
    std::shared_ptr<Transfer> transfer;
    std::optional<Result<std::string>> chunk;  // kChunk: the body source's next piece
  };

  explicit Mailbox(CURLM* multi) : multi_(multi) {}

  // Thread-safe. False when the client has shut down.
  bool Post(Command command) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    queue_.push_back(std::move(command));
    // Wake the I/O thread when the queue turns non-empty; a non-empty queue
    // has a wake-up pending already. Under the lock: multi_ lives until Close.
    if (queue_.size() == 1) Curl().multi_wakeup(multi_);
    return true;
  }

  void RequestStop() {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    Curl().multi_wakeup(multi_);
  }

  // The commands queued so far, and whether the client is stopping.
  std::deque<Command> Take(bool* stop) {
    std::lock_guard<std::mutex> lock(mutex_);
    *stop = stop_;
    return std::exchange(queue_, {});
  }

  // Later posts fail; returns what was still queued.
  std::deque<Command> Close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    return std::exchange(queue_, {});
  }

 private:
  std::mutex mutex_;
  CURLM* multi_;
  bool closed_ = false;
  bool stop_ = false;
  std::deque<Command> queue_;
};

// One request and its response. Fields are grouped by who may touch them.
struct Transfer : std::enable_shared_from_this<Transfer> {
  // Set by Send, read-only afterwards.
  std::shared_ptr<Mailbox> mailbox;
  std::shared_ptr<Executor> executor;  // the requesting actor's
  std::string what;                    // "METHOD url-without-query", for messages
  std::string method;
  std::string url;
  HttpHeaders headers;
  std::string body;
  bool has_body = false;
  bool streamed = false;
  int64_t content_length = -1;
  long timeout_ms = 0;
  size_t max_buffered = 0;
  size_t upload_chunk = 0;

  // The requesting actor's turns only.
  std::unique_ptr<HttpBodySource> source;
  bool next_in_flight = false;

  // Set by the I/O thread when the transfer is over; read by actor-side jobs.
  std::atomic<bool> over{false};

  // The I/O thread only.
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  Completion<Result<HttpResponse>> sent;
  bool responded = false;  // Send's Async completed (or failed)
  // A small response (known length within max_buffered, or a HEAD) is
  // answered when it is complete: the requester then reads its whole body
  // without waiting again, one message instead of three.
  bool respond_when_done = false;
  bool active = false;     // in the multi handle
  bool send_paused = false;
  std::string upload;      // the source's current piece
  size_t upload_pos = 0;
  int64_t uploaded = 0;    // bytes the source gave so far
  bool upload_eof = false;
  bool fetching = false;   // a Next is on its way
  std::optional<Status> upload_error;

  // Shared by the I/O thread and the reader.
  std::mutex mutex;
  std::string buffer;  // response bytes received, not yet read, from read_pos
  size_t read_pos = 0;
  bool recv_paused = false;
  bool resume_posted = false;
  bool finished = false;
  Status final_status;
  std::optional<Completion<Result<std::string>>> pending_read;
  size_t pending_max = 0;
  std::shared_ptr<Executor> read_executor;
  bool reader_gone = false;

  size_t Buffered() const { return buffer.size() - read_pos; }

  // Up to max_bytes from the front of the buffer. REQUIRES: mutex held.
  std::string TakeBuffered(size_t max_bytes) {
    size_t take = std::min(max_bytes, Buffered());
    std::string piece;
    if (read_pos == 0 && take == buffer.size()) {
      piece = std::move(buffer);
      buffer.clear();
      return piece;
    }
    piece.assign(buffer, read_pos, take);
    read_pos += take;
    if (read_pos == buffer.size()) {
      buffer.clear();
      read_pos = 0;
    } else if (read_pos >= buffer.size() / 2) {
      buffer.erase(0, read_pos);
      read_pos = 0;
    }
    return piece;
  }
};

namespace {

using Command = Mailbox::Command;

// The URL as messages may show it: no query string, fragment or credentials.
std::string RedactedUrl(const std::string& url) {
  if (LoadedCurl() == nullptr) return url.substr(0, url.find_first_of("?#"));
  CURLU* parsed = Curl().url();
  if (!parsed) return "(URL not shown)";
  std::string shown = "(a URL curl cannot parse)";
  if (Curl().url_set(parsed, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
    for (CURLUPart part : {CURLUPART_QUERY, CURLUPART_FRAGMENT, CURLUPART_USER, CURLUPART_PASSWORD,
                           CURLUPART_OPTIONS}) {
      Curl().url_set(parsed, part, nullptr, 0);
    }
    char* text = nullptr;
    if (Curl().url_get(parsed, CURLUPART_URL, &text, 0) == CURLUE_OK) {
      shown = text;
      Curl().free(text);
    }
  }
  Curl().url_cleanup(parsed);
  return shown;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool HasHeader(const HttpHeaders& headers, const char* lower_name) {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return Lower(h.first) == lower_name; });
}

Status ErrorStatus(const Transfer& t, CURLcode code) {
  if (t.upload_error) {
    const Status& cause = *t.upload_error;
    return Status(cause.code(), t.what + ": request body: " + cause.message(), cause.retryable());
  }
  std::string detail = t.error[0] ? t.error : Curl().easy_strerror(code);
  std::string message = t.what + ": " + detail;
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return Status::DeadlineExceeded(message);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Status::InvalidArgument(message);
    case CURLE_OUT_OF_MEMORY:
      return Status::ResourceExhausted(message);
    default:
      return Status::Unavailable(message);
  }
}

// ---- the reader, on the requesting actor's turns ---------------------------

class CurlBodyReader : public HttpBodyReader {
 public:
  explicit CurlBodyReader(std::shared_ptr<Transfer> transfer) : t_(std::move(transfer)) {}

  ~CurlBodyReader() override {
    bool abort = false;
    {
      std::lock_guard<std::mutex> lock(t_->mutex);
      t_->reader_gone = true;
      t_->pending_read.reset();  // nothing can await it any more
      t_->buffer.clear();
      t_->read_pos = 0;
      abort = !t_->finished;
    }
    if (abort) t_->mailbox->Post({Command::kAbort, t_, std::nullopt});
  }

  Async<Result<std::string>> Read(size_t max_bytes) override {
    using Reply = Async<Result<std::string>>;
    if (max_bytes == 0) return Reply::Ready(Status::InvalidArgument(t_->what + ": response body read of 0 bytes"));
    std::optional<Reply> reply;
    bool resume = false;
    {
      std::lock_guard<std::mutex> lock(t_->mutex);
      if (t_->pending_read) {
        return Reply::Ready(Status::FailedPrecondition(t_->what + ": a response body read is already pending"));
      }
      if (t_->Buffered() > 0) {
        reply.emplace(Reply::Ready(t_->TakeBuffered(max_bytes)));
      } else if (t_->finished) {
        if (t_->final_status.ok()) return Reply::Ready(std::string());
        return Reply::Ready(t_->final_status);
      } else {
        const std::shared_ptr<Executor>& executor = CurrentExecutor();
        if (!executor) {
          return Reply::Ready(Status::FailedPrecondition(t_->what + ": response body read outside an actor's turn"));
        }
        Completion<Result<std::string>> completion;
        t_->pending_read = completion;
        t_->pending_max = max_bytes;
        t_->read_executor = executor;
        reply.emplace(completion.async());
      }
      // Let the transfer go on once the buffer is half drained.
      if (t_->recv_paused && !t_->resume_posted && t_->Buffered() < std::max<size_t>(t_->max_buffered / 2, 1)) {
        t_->resume_posted = true;
        resume = true;
      }
    }
    if (resume) t_->mailbox->Post({Command::kResume, t_, std::nullopt});
    return std::move(*reply);
  }

 private:
  std::shared_ptr<Transfer> t_;
};

// ---- the body source, on the requesting actor's turns -----------------------

Task<void> PullChunk(std::shared_ptr<Transfer> t) {
  t->next_in_flight = true;
  Result<std::string> piece = co_await t->source->Next(t->upload_chunk);
  t->next_in_flight = false;
  if (t->over) {
    t->source.reset();
    co_return;
  }
  t->mailbox->Post({Command::kChunk, t, std::move(piece)});
}

// I/O thread: asks the requesting actor for the source's next piece.
void RequestChunk(Transfer& t) {
  t.fetching = true;
  t.executor->Post([t = t.shared_from_this()]() {
    if (t->over) {
      if (!t->next_in_flight) t->source.reset();
      return;
    }
    Detach(PullChunk(t));
  });
}

// I/O thread: the source is released on its actor's turn (it may belong to
// that actor's ports), unless a Next is still running: then PullChunk does it.
void ReleaseSource(Transfer& t) {
  t.over = true;
  if (!t.streamed) return;
  t.executor->Post([t = t.shared_from_this()]() {
    if (!t->next_in_flight) t->source.reset();
  });
}

// ---- curl callbacks, on the I/O thread --------------------------------------

void Respond(Transfer& t) {
  t.responded = true;
  long code = 0;
  Curl().easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &code);
  HttpResponse response;
  response.status = static_cast<int>(code);
  curl_header* header = nullptr;
  while ((header = Curl().easy_nextheader(t.easy, CURLH_HEADER, -1, header))) {
    std::string value = header->value;
    // curl 7.88 leaves the line's CR on an empty value.
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    response.headers.emplace_back(Lower(header->name), std::move(value));
  }
  response.body = std::make_unique<CurlBodyReader>(t.shared_from_this());
  t.sent.PostTo(*t.executor, Result<HttpResponse>(std::move(response)));
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  size_t length = size * count;
  if (t.responded) return length;  // trailers
  bool end_of_headers = (length == 2 && data[0] == '\r' && data[1] == '\n') || (length == 1 && data[0] == '\n');
  if (!end_of_headers) return length;
  long code = 0;
  Curl().easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &code);
  if (code < 200) return length;  // a 1xx is followed by the real response
  curl_off_t content_length = -1;
  Curl().easy_getinfo(t.easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &content_length);
  if (t.method == "HEAD" || (content_length >= 0 && static_cast<size_t>(content_length) <= t.max_buffered)) {
    t.respond_when_done = true;
  } else {
    Respond(t);
  }
  return length;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  size_t length = size * count;
  if (!t.responded && !t.respond_when_done) Respond(t);
  std::optional<Completion<Result<std::string>>> deliver;
  std::shared_ptr<Executor> executor;
  std::string piece;
  {
    std::lock_guard<std::mutex> lock(t.mutex);
    if (t.reader_gone) return length;  // the abort is on its way
    if (t.pending_read) {
      size_t take = std::min(length, t.pending_max);
      piece.assign(data, take);
      t.buffer.append(data + take, length - take);
      deliver = std::move(t.pending_read);
      t.pending_read.reset();
      executor = std::move(t.read_executor);
    } else if (t.Buffered() >= t.max_buffered) {
      t.recv_paused = true;  // curl keeps these bytes and gives them again on resume
      return CURL_WRITEFUNC_PAUSE;
    } else {
      t.buffer.append(data, length);
    }
  }
  if (deliver) deliver->PostTo(*executor, Result<std::string>(std::move(piece)));
  return length;
}

size_t OnUpload(char* out, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  size_t room = size * count;
  if (t.upload_error) return CURL_READFUNC_ABORT;
  if (t.upload_pos < t.upload.size()) {
    size_t n = std::min(room, t.upload.size() - t.upload_pos);
    std::memcpy(out, t.upload.data() + t.upload_pos, n);
    t.upload_pos += n;
    if (t.upload_pos == t.upload.size()) {
      t.upload.clear();
      t.upload_pos = 0;
      if (!t.upload_eof && !t.fetching) RequestChunk(t);  // the next piece comes while this one is sent
    }
    return n;
  }
  if (t.upload_eof) return 0;
  if (!t.fetching) RequestChunk(t);
  t.send_paused = true;
  return CURL_READFUNC_PAUSE;
}

}  // namespace

// ---- the I/O actor -------------------------------------------------------------

class IoActor {
 public:
  explicit IoActor(const CurlHttpClientOptions& options) {
    if (LoadCurl(&load_error_) == nullptr) return;
    multi_ = Curl().multi_init();
    if (multi_) {
      if (options.max_connections_per_host > 0) {
        Curl().multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, options.max_connections_per_host);
      }
      mailbox_ = std::make_shared<Mailbox>(multi_);
      thread_ = std::thread([this] { Run(); });
    }
  }

  ~IoActor() {
    if (!multi_) return;
    mailbox_->RequestStop();
    thread_.join();
  }

  // Null when curl could not start (load_error() says why).
  const std::shared_ptr<Mailbox>& mailbox() const { return mailbox_; }
  const std::string& load_error() const { return load_error_; }

 private:
  void Run() {
    // Writes to a closed socket must not kill the process; SIGPIPE is sent to
    // the writing thread, so blocking it here is enough.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    while (true) {
      bool stop = false;
      for (Command& command : mailbox_->Take(&stop)) Handle(command);
      if (stop) break;
      int running = 0;
      Curl().multi_perform(multi_, &running);
      int left = 0;
      while (CURLMsg* message = Curl().multi_info_read(multi_, &left)) {
        if (message->msg != CURLMSG_DONE) continue;
        CURL* easy = message->easy_handle;
        CURLcode result = message->data.result;
        Transfer* raw = nullptr;
        Curl().easy_getinfo(easy, CURLINFO_PRIVATE, &raw);
        auto found = active_.find(raw);
        if (found == active_.end()) continue;
        std::shared_ptr<Transfer> t = found->second;
        Finish(*t, result == CURLE_OK ? Status::Ok() : ErrorStatus(*t, result));
      }
      Curl().multi_poll(multi_, nullptr, 0, 1000, nullptr);
    }
    Shutdown();
  }

  void Handle(Command& command) {
    Transfer& t = *command.transfer;
    switch (command.kind) {
      case Command::kStart:
        Start(command.transfer);
        break;
      case Command::kResume: {
        if (!t.active) break;
        {
          std::lock_guard<std::mutex> lock(t.mutex);
          t.resume_posted = false;
          if (!t.recv_paused) break;
          t.recv_paused = false;
        }
        Curl().easy_pause(t.easy, t.send_paused ? CURLPAUSE_SEND : CURLPAUSE_CONT);
        break;
      }
      case Command::kChunk: {
        if (!t.active) break;
        t.fetching = false;
        Result<std::string>& piece = *command.chunk;
        if (!piece.ok()) {
          t.upload_error = piece.status();
        } else if (piece->empty()) {
          t.upload_eof = true;
          if (t.content_length >= 0 && t.uploaded != t.content_length) {
            t.upload_error = Status::InvalidArgument("the body source gave " + std::to_string(t.uploaded) +
                                                     " bytes, content_length is " +
                                                     std::to_string(t.content_length));
          }
        } else {
          t.uploaded += static_cast<int64_t>(piece->size());
          if (t.content_length >= 0 && t.uploaded > t.content_length) {
            t.upload_error = Status::InvalidArgument("the body source gave more than content_length (" +
                                                     std::to_string(t.content_length) + ") bytes");
          }
          t.upload = std::move(*piece);
          t.upload_pos = 0;
        }
        if (t.send_paused) {
          t.send_paused = false;
          bool recv_paused;
          {
            std::lock_guard<std::mutex> lock(t.mutex);
            recv_paused = t.recv_paused;
          }
          Curl().easy_pause(t.easy, recv_paused ? CURLPAUSE_RECV : CURLPAUSE_CONT);
        }
        break;
      }
      case Command::kAbort:
        if (t.active) Finish(t, Status::Aborted(t.what + ": response body abandoned"));
        break;
    }
  }

  void Start(const std::shared_ptr<Transfer>& shared) {
    Transfer& t = *shared;
    CURL* easy = Curl().easy_init();
    if (!easy) {
      Fail(t, Status::ResourceExhausted(t.what + ": curl_easy_init failed"));
      return;
    }
    t.easy = easy;
    Curl().easy_setopt(easy, CURLOPT_URL, t.url.c_str());
    Curl().easy_setopt(easy, CURLOPT_PRIVATE, &t);
    Curl().easy_setopt(easy, CURLOPT_ERRORBUFFER, t.error);
    Curl().easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    Curl().easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    Curl().easy_setopt(easy, CURLOPT_TIMEOUT_MS, t.timeout_ms);
    Curl().easy_setopt(easy, CURLOPT_BUFFERSIZE, 64L * 1024);
    Curl().easy_setopt(easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    Curl().easy_setopt(easy, CURLOPT_HEADERFUNCTION, OnHeader);
    Curl().easy_setopt(easy, CURLOPT_HEADERDATA, &t);
    Curl().easy_setopt(easy, CURLOPT_WRITEFUNCTION, OnBody);
    Curl().easy_setopt(easy, CURLOPT_WRITEDATA, &t);

    curl_slist* list = nullptr;
    for (const auto& [name, value] : t.headers) {
      // "Name;" sends a header with an empty value; "Name:" would remove it.
      std::string line = value.empty() ? name + ";" : name + ": " + value;
      list = Curl().slist_append(list, line.c_str());
    }
    // No 100-continue round trip unless asked for.
    if (!HasHeader(t.headers, "expect")) list = Curl().slist_append(list, "Expect:");

    if (t.method == "HEAD") {
      Curl().easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else if (t.has_body) {
      Curl().easy_setopt(easy, CURLOPT_POST, 1L);
      // curl would label a POST body as a form otherwise.
      if (!HasHeader(t.headers, "content-type")) list = Curl().slist_append(list, "Content-Type:");
      if (t.streamed) {
        Curl().easy_setopt(easy, CURLOPT_READFUNCTION, OnUpload);
        Curl().easy_setopt(easy, CURLOPT_READDATA, &t);
        Curl().easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.content_length));
        if (t.content_length < 0 && !HasHeader(t.headers, "transfer-encoding")) {
          list = Curl().slist_append(list, "Transfer-Encoding: chunked");
        }
      } else {
        Curl().easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.body.size()));
        Curl().easy_setopt(easy, CURLOPT_POSTFIELDS, t.body.data());
      }
      if (t.method != "POST") Curl().easy_setopt(easy, CURLOPT_CUSTOMREQUEST, t.method.c_str());
    } else if (t.method != "GET") {
      Curl().easy_setopt(easy, CURLOPT_CUSTOMREQUEST, t.method.c_str());
    }
    t.header_list = list;
    Curl().easy_setopt(easy, CURLOPT_HTTPHEADER, list);

    CURLMcode added = Curl().multi_add_handle(multi_, easy);
    if (added != CURLM_OK) {
      Fail(t, Status::ResourceExhausted(t.what + ": " + Curl().multi_strerror(added)));
      return;
    }
    t.active = true;
    active_.emplace(&t, shared);
  }

  // Ends the transfer with `status`: Send fails if it has not answered yet,
  // else the reader gets the status (or the end of the body) once it has
  // read what is buffered.
  void Finish(Transfer& t, Status status) {
    std::shared_ptr<Transfer> keep = t.shared_from_this();
    if (t.active) {  // the easy handle stays valid until Release
      Curl().multi_remove_handle(multi_, t.easy);
      active_.erase(&t);
      t.active = false;
    }
    std::optional<Completion<Result<std::string>>> deliver;
    std::shared_ptr<Executor> executor;
    {
      std::lock_guard<std::mutex> lock(t.mutex);
      t.finished = true;
      t.final_status = status;
      if (t.pending_read) {  // its buffer is empty, or it would not wait
        deliver = std::move(t.pending_read);
        t.pending_read.reset();
        executor = std::move(t.read_executor);
      }
    }
    // Finished first: a response answered now has its whole body to read.
    if (!t.responded) {
      if (status.ok()) Respond(t);  // a small one, or one without a blank line after its headers
      else Fail(t, status);
    }
    if (deliver) {
      deliver->PostTo(*executor, status.ok() ? Result<std::string>(std::string()) : Result<std::string>(status));
    }
    Release(t);
  }

  // Fails a transfer that has not answered Send.
  void Fail(Transfer& t, const Status& status) {
    t.responded = true;
    t.sent.PostTo(*t.executor, Result<HttpResponse>(status));
    Release(t);
  }

  void Release(Transfer& t) {
    if (t.easy) {
      Curl().easy_cleanup(t.easy);
      t.easy = nullptr;
    }
    if (t.header_list) {
      Curl().slist_free_all(t.header_list);
      t.header_list = nullptr;
    }
    if (!t.over) ReleaseSource(t);
  }

  void Shutdown() {
    for (Command& command : mailbox_->Close()) {
      if (command.kind == Command::kStart) {
        Fail(*command.transfer, Status::Unavailable(command.transfer->what + ": the HTTP client shut down"));
      }
    }
    std::vector<std::shared_ptr<Transfer>> outstanding;
    for (auto& [raw, t] : active_) outstanding.push_back(t);
    for (auto& t : outstanding) Finish(*t, Status::Unavailable(t->what + ": the HTTP client shut down"));
    Curl().multi_cleanup(multi_);
    multi_ = nullptr;
  }

  CURLM* multi_ = nullptr;
  std::string load_error_;
  std::shared_ptr<Mailbox> mailbox_;
  std::unordered_map<Transfer*, std::shared_ptr<Transfer>> active_;
  std::thread thread_;
};

}  // namespace curl_http

class CurlHttpClient::IoActor : public curl_http::IoActor {
 public:
  using curl_http::IoActor::IoActor;
};

CurlHttpClient::CurlHttpClient(CurlHttpClientOptions options)
    : options_(options), io_(std::make_unique<IoActor>(options_)) {}

CurlHttpClient::~CurlHttpClient() = default;

Async<Result<ports::HttpResponse>> CurlHttpClient::Send(ports::HttpRequest request) {
  using Reply = Async<Result<HttpResponse>>;
  std::string what = (request.method.empty() ? "(no method)" : request.method) + " " + curl_http::RedactedUrl(request.url);
  if (request.method.empty()) return Reply::Ready(Status::InvalidArgument(what + ": no HTTP method"));
  if (request.body_source && !request.body.empty()) {
    return Reply::Ready(Status::InvalidArgument(what + ": both body and body_source are set"));
  }
  const std::shared_ptr<Executor>& executor = CurrentExecutor();
  if (!executor) return Reply::Ready(Status::FailedPrecondition(what + ": sent outside an actor's turn"));
  if (!io_->mailbox()) {
    return Reply::Ready(Status::Unavailable(what + ": libcurl could not start" +
                                            (io_->load_error().empty() ? "" : ": " + io_->load_error())));
  }

  auto t = std::make_shared<curl_http::Transfer>();
  t->mailbox = io_->mailbox();
  t->executor = executor;
  t->what = std::move(what);
  t->method = std::move(request.method);
  t->url = std::move(request.url);
  t->headers = std::move(request.headers);
  t->streamed = request.body_source != nullptr;
  t->has_body = t->streamed || !request.body.empty() || t->method == "POST" || t->method == "PUT" ||
                t->method == "PATCH";
  t->body = std::move(request.body);
  t->source = std::move(request.body_source);
  t->content_length = request.content_length;
  t->timeout_ms = static_cast<long>(request.timeout_ms ? request.timeout_ms : options_.default_timeout_ms);
  t->max_buffered = std::max<size_t>(options_.max_buffered_bytes, 1);
  t->upload_chunk = std::max<size_t>(options_.upload_chunk_bytes, 1);
  Async<Result<HttpResponse>> answer = t->sent.async();
  if (!t->mailbox->Post({curl_http::Mailbox::Command::kStart, t, std::nullopt})) {
    return Reply::Ready(Status::Unavailable(t->what + ": the HTTP client shut down"));
  }
  return answer;
}

}  // namespace cloudkit
