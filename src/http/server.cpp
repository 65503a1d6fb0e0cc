// The only translation unit that includes RESTinio (it is heavy to compile).
//
// RESTinio 0.6 facts this file relies on (checked in its 0.6.16 headers):
//  - Completing a response from another thread is safe: response builders
//    call connection_t::write_response_parts, which asio::dispatch()es onto
//    the connection's strand (impl/connection.hpp). A builder itself is not
//    thread-safe, so each one is used by one thread at a time here.
//  - The request handler runs only after the whole body has been read into
//    one std::string (http_parser_ctx_t::m_body; the Content-Length is even
//    reserve()d up front). There is no hook between "headers complete" and
//    "body read", so this file installs one: it specialises
//    restinio::impl::create_parser_settings for its own methods-mapper type
//    and wraps http_parser's on_headers_complete (see OnHeadersComplete).
//  - Its own limits (incoming_http_msg_limits_t, header size) close the
//    connection without a response when exceeded.
//  - Timeouts: read_next_http_message_timelimit runs from connection open /
//    end of the previous response until a request is completely read;
//    handle_request_timeout runs whenever a response is incomplete and no
//    write is in progress (so it also bounds gaps in streamed output);
//    write_http_response_timelimit bounds each write.
//  - A connection whose request and response builder are dropped without a
//    final response, and that has no I/O pending, is destroyed and its
//    socket closed: that is how a failed stream is cut off here.
//  - Its max_parallel_connections limiter is not used: it dangles when the
//    server is destroyed with connections open (see CountingTimerManager).
#include "http/server.h"

#include <sys/resource.h>

#include <atomic>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include <http_parser.h>
#include <restinio/all.hpp>

#include "http/multipart.h"
#include "http/problem.h"

namespace iv::http {
namespace {

// Only a distinct type to specialise create_parser_settings for.
struct IvHttpMethods : restinio::default_http_methods_t {};

// What the parser hook needs from the server (the hook is a plain C
// callback; each io thread points this at its server).
class BodyLimiter {
 public:
  virtual ~BodyLimiter() = default;
  virtual uint64_t BodyLimitFor(std::string_view method, std::string_view target) const = 0;
};
thread_local const BodyLimiter* tl_limiter = nullptr;

// A header field name http_parser can never produce (':' ends a name on the
// wire), so clients cannot forge it.
constexpr char kTooLargeField[] = ":iv-body-too-large";

// on_headers_complete: when the Content-Length exceeds the route's limit,
// mark the request and tell http_parser the message has no body (return 1,
// http_parser.h "on_headers_complete ... returning 1 ... no body"). The
// request then reaches the handler at once and is answered 413 with
// Connection: close; the unread body is never buffered.
int OnHeadersComplete(http_parser* parser) {
  auto* ctx = static_cast<restinio::impl::http_parser_ctx_t*>(parser->data);
  const BodyLimiter* limiter = tl_limiter;
  if (limiter && parser->content_length != ULLONG_MAX && parser->content_length > 0) {
    try {
      const char* method = http_method_str(static_cast<http_method>(parser->method));
      const uint64_t limit = limiter->BodyLimitFor(method, ctx->m_header.request_target());
      if (parser->content_length > limit) {
        ctx->m_leading_headers_completed = true;
        ctx->m_header.set_field(std::string(kTooLargeField), std::to_string(parser->content_length));
        return 1;
      }
    } catch (const std::exception&) {
      return -1;
    }
  }
  return restinio::impl::restinio_headers_complete_cb(parser);
}

}  // namespace
}  // namespace iv::http

namespace restinio::impl {
// Used by http_server_t<Traits> with Traits::http_methods_mapper_t =
// IvHttpMethods; declared before that template is instantiated below.
template <>
inline http_parser_settings create_parser_settings<iv::http::IvHttpMethods>() noexcept {
  http_parser_settings settings = create_parser_settings<restinio::default_http_methods_t>();
  settings.on_headers_complete = [](http_parser* parser) -> int { return iv::http::OnHeadersComplete(parser); };
  return settings;
}
}  // namespace restinio::impl

namespace iv::http {
namespace {

using LiveCounter = std::shared_ptr<std::atomic<size_t>>;

// RESTinio's asio_timer_manager_t, plus an exact count of live connections:
// RESTinio makes one timer guard per connection, in the connection's
// constructor, and destroys it with the connection.
//
// Why not RESTinio's own max_parallel_connections: its limiter lives in the
// acceptor, which http_server_t destroys before its io_context; connections
// still open at that point (idle keep-alive ones) are destroyed with the
// io_context and then touch the freed limiter (found by ThreadSanitizer).
class CountingTimerManager {
 public:
  using Duration = std::chrono::steady_clock::duration;

  CountingTimerManager(restinio::asio_ns::io_context& io, Duration period, LiveCounter live)
      : io_(io), period_(period), live_(std::move(live)) {}

  class timer_guard_t {
   public:
    timer_guard_t(restinio::asio_ns::io_context& io, Duration period, LiveCounter live)
        : timer_(io), period_(period), live_(std::move(live)) {
      live_->fetch_add(1);
    }
    timer_guard_t(timer_guard_t&& other) noexcept
        : timer_(std::move(other.timer_)), period_(other.period_), live_(std::move(other.live_)) {}
    timer_guard_t& operator=(timer_guard_t&&) = delete;
    ~timer_guard_t() {
      if (live_) live_->fetch_sub(1);
    }

    // As asio_timer_manager_t::timer_guard_t::schedule.
    void schedule(restinio::tcp_connection_ctx_weak_handle_t weak_handle) {
      timer_.expires_after(period_);
      timer_.async_wait([weak_handle = std::move(weak_handle)](const auto& ec) {
        if (!ec)
          if (auto h = weak_handle.lock()) h->check_timeout(h);
      });
    }
    void cancel() noexcept {
      try {
        timer_.cancel();
      } catch (...) {
      }
    }

   private:
    restinio::asio_ns::steady_timer timer_;
    Duration period_;
    LiveCounter live_;
  };

  timer_guard_t create_timer_guard() const { return timer_guard_t{io_, period_, live_}; }
  void start() const noexcept {}
  void stop() const noexcept {}

  struct factory_t {
    factory_t(Duration period, LiveCounter live) : period(period), live(std::move(live)) {}
    std::shared_ptr<CountingTimerManager> create(restinio::asio_ns::io_context& io) const {
      return std::make_shared<CountingTimerManager>(io, period, live);
    }
    Duration period;
    LiveCounter live;
  };

 private:
  restinio::asio_ns::io_context& io_;
  Duration period_;
  LiveCounter live_;
};

// Closes new connections at once while `max` are open (RESTinio's IP-blocker
// hook runs for every accepted connection, before it is set up).
class ConnectionGate {
 public:
  ConnectionGate(LiveCounter live, size_t max) : live_(std::move(live)), max_(max) {}
  restinio::ip_blocker::inspection_result_t inspect(const restinio::ip_blocker::incoming_info_t&) const noexcept {
    return live_->load() >= max_ ? restinio::ip_blocker::deny() : restinio::ip_blocker::allow();
  }

 private:
  LiveCounter live_;
  size_t max_;
};

struct IvTraits : public restinio::traits_t<CountingTimerManager, restinio::null_logger_t> {
  using http_methods_mapper_t = IvHttpMethods;
  using ip_blocker_t = ConnectionGate;
};
using RestinioServer = restinio::http_server_t<IvTraits>;
using AsioError = restinio::asio_ns::error_code;

// ------------------------------------------------------------ worker pool

// Request tasks are bounded (TrySubmit); continuations of responses already
// in progress (Post) are not, and run first so streams keep moving.
class WorkerPool {
 public:
  void Start(size_t threads) {
    for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
  }
  bool TrySubmit(std::function<void()> task, size_t max_queued) {
    std::lock_guard lock(mu_);
    if (stopped_ || requests_.size() >= max_queued) return false;
    requests_.push_back(std::move(task));
    cv_.notify_one();
    return true;
  }
  bool Post(std::function<void()> task) {
    std::lock_guard lock(mu_);
    if (stopped_) return false;
    continuations_.push_back(std::move(task));
    cv_.notify_one();
    return true;
  }
  // Drops queued tasks (destroying them releases their requests) and waits
  // for running ones.
  void Shutdown() {
    std::deque<std::function<void()>> dropped_requests, dropped_continuations;
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
      dropped_requests.swap(requests_);
      dropped_continuations.swap(continuations_);
      cv_.notify_all();
    }
    dropped_requests.clear();
    dropped_continuations.clear();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
  }

 private:
  void Run() {
    while (true) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopped_ || !requests_.empty() || !continuations_.empty(); });
        if (stopped_) return;
        auto& queue = continuations_.empty() ? requests_ : continuations_;
        task = std::move(queue.front());
        queue.pop_front();
      }
      task();  // tasks catch their own exceptions
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> requests_;
  std::deque<std::function<void()>> continuations_;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

// A response being produced over time (streamed body); Stop aborts those
// still running so their connections can be freed.
class ActiveStream {
 public:
  virtual ~ActiveStream() = default;
  virtual void Abort() = 0;
};

bool IsTokenChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// No CR, LF or NUL (response splitting) and a token name.
bool IsSafeHeader(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name)
    if (!IsTokenChar(c)) return false;
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
          c == '-'))
      return false;
  return true;
}

std::string NewRequestId() {
  // Request ids only correlate logs; they need to be unique, not secret.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

std::string_view PathOf(std::string_view target) {
  size_t end = target.find_first_of("?#");
  return target.substr(0, end);
}

}  // namespace

// ================================================================ Impl

class Server::Impl : public BodyLimiter {
 public:
  Impl(ServerOptions options, const Router& router, std::vector<Middleware> middleware)
      : options_(std::move(options)), router_(router), middleware_(std::move(middleware)) {
    if (!options_.error_log)
      options_.error_log = [](std::string_view line) {
        std::fprintf(stderr, "imagevideo http: %.*s\n", static_cast<int>(line.size()), line.data());
      };
  }
  ~Impl() override { Stop(); }

  Status Start();
  void Stop();
  uint16_t port() const { return port_.load(); }

  uint64_t BodyLimitFor(std::string_view method, std::string_view target) const override {
    Router::Match m = router_.Find(method, PathOf(target));
    if (m.outcome == Router::Outcome::kFound && m.route->options.max_body_bytes)
      return *m.route->options.max_body_bytes;
    return options_.max_body_bytes;
  }

  void Log(const std::string& line) const {
    try {
      options_.error_log(line);
    } catch (...) {
    }
  }
  // Runs `fn` on a worker, or here when the pool has stopped.
  void Defer(std::function<void()> fn) {
    if (!pool_.Post(fn)) fn();
  }
  bool PostToPool(std::function<void()> fn) { return pool_.Post(std::move(fn)); }

 private:
  // Counts a request from acceptance until its response is written (or
  // abandoned); Stop waits for the count to drop to zero.
  struct InFlight {
    explicit InFlight(Impl* impl) : impl(impl) {
      std::lock_guard lock(impl->in_flight_mu_);
      ++impl->in_flight_;
    }
    ~InFlight() {
      std::lock_guard lock(impl->in_flight_mu_);
      --impl->in_flight_;
      impl->in_flight_cv_.notify_all();
    }
    Impl* impl;
  };
  using InFlightToken = std::shared_ptr<InFlight>;

  template <typename Output>
  class Pump;
  class SseSinkImpl;

  restinio::request_handling_status_t OnRequest(restinio::request_handle_t req);
  void Process(const restinio::request_handle_t& req, std::chrono::steady_clock::time_point received_at,
               InFlightToken token);
  Response Handle(Request& request, bool too_large, uint64_t declared);
  Response PrepareBodyAndRun(Request& request, const Router::Match& match);
  void Finalize(const Request& request, Response& resp) const;
  void Send(const restinio::request_handle_t& req, Response resp, bool head, bool close, InFlightToken token);
  template <typename Builder>
  void ApplyHeaders(Builder& builder, const Response& resp, bool close) const;

  bool RegisterSse(const std::shared_ptr<SseStream>& stream);
  void RegisterStream(const std::shared_ptr<ActiveStream>& stream);
  void TickerLoop();

  ServerOptions options_;
  const Router& router_;
  std::vector<Middleware> middleware_;
  std::filesystem::path temp_dir_;

  std::unique_ptr<RestinioServer> server_;
  std::vector<std::thread> io_threads_;
  WorkerPool pool_;
  std::atomic<uint16_t> port_{0};
  std::atomic<bool> stopping_{false};
  std::mutex lifecycle_mu_;
  bool started_ = false;
  bool stopped_ = false;

  // Open connections (see CountingTimerManager).
  LiveCounter live_connections_ = std::make_shared<std::atomic<size_t>>(0);

  std::mutex in_flight_mu_;
  std::condition_variable in_flight_cv_;
  size_t in_flight_ = 0;

  std::mutex sse_mu_;
  bool sse_closed_ = false;
  std::vector<std::weak_ptr<SseStream>> sse_streams_;

  std::mutex streams_mu_;
  std::vector<std::weak_ptr<ActiveStream>> streams_;

  std::thread ticker_;
  std::mutex ticker_mu_;
  std::condition_variable ticker_cv_;
  bool ticker_stop_ = false;
};

// ------------------------------------------------------------ streamed body

// Pulls chunks from a BodyReader on workers, one chunk in flight at a time:
// the next chunk is read only after the previous one reached the socket.
template <typename Output>
class Server::Impl::Pump : public ActiveStream, public std::enable_shared_from_this<Pump<Output>> {
 public:
  Pump(Impl* impl, restinio::response_builder_t<Output> builder, BodyReader reader,
       std::optional<uint64_t> remaining, InFlightToken token)
      : impl_(impl),
        builder_(std::move(builder)),
        reader_(std::move(reader)),
        remaining_(remaining),
        token_(std::move(token)) {}

  void Step() {
    Result<std::string> chunk = Status::Internal("unset");
    try {
      chunk = reader_();
    } catch (const std::exception& e) {
      chunk = Status::Internal(std::string("body reader threw: ") + e.what());
    }
    std::lock_guard lock(mu_);
    if (!builder_) return;
    if (!chunk.ok()) {
      impl_->Log("streamed response aborted: " + chunk.status().message());
      builder_.reset();
      return;
    }
    std::string bytes = std::move(chunk).value();
    if (bytes.empty()) {
      if (remaining_ && *remaining_ != 0) {
        impl_->Log("streamed response aborted: body ended " + std::to_string(*remaining_) +
                   " bytes before its Content-Length");
        builder_.reset();
        return;
      }
      Finish();
      return;
    }
    if (remaining_) {
      if (bytes.size() > *remaining_) {
        impl_->Log("streamed response aborted: body longer than its Content-Length");
        builder_.reset();
        return;
      }
      *remaining_ -= bytes.size();
    }
    if constexpr (std::is_same_v<Output, restinio::chunked_output_t>) {
      builder_->append_chunk(std::move(bytes));
    } else {
      builder_->append_body(std::move(bytes));
    }
    if (remaining_ && *remaining_ == 0) {
      Finish();
      return;
    }
    auto self = this->shared_from_this();
    builder_->flush([self](const AsioError& ec) {
      if (ec || !self->impl_->PostToPool([self] { self->Step(); })) self->Abort();
    });
  }

  void Abort() override {
    std::lock_guard lock(mu_);
    builder_.reset();
  }

 private:
  void Finish() {  // mu_ held
    InFlightToken token = std::move(token_);
    builder_->done([token](const AsioError&) {});
    builder_.reset();
  }

  Impl* impl_;
  std::mutex mu_;
  std::optional<restinio::response_builder_t<Output>> builder_;
  BodyReader reader_;
  std::optional<uint64_t> remaining_;
  InFlightToken token_;
};

// ------------------------------------------------------------ SSE sink

class Server::Impl::SseSinkImpl : public SseSink {
 public:
  SseSinkImpl(Impl* impl, restinio::response_builder_t<restinio::chunked_output_t> builder, InFlightToken token)
      : impl_(impl), builder_(std::move(builder)), token_(std::move(token)) {}

  void Write(std::string bytes, bool final, std::function<void(bool ok)> written) override {
    // Calls into this sink are serialised by SseStream.
    if (!builder_) {
      impl_->Defer([written = std::move(written)] { written(false); });
      return;
    }
    if (!bytes.empty()) builder_->append_chunk(std::move(bytes));
    auto note = std::make_shared<Note>(impl_, std::move(written));
    if (final) {
      InFlightToken token = std::move(token_);
      builder_->done([note, token](const AsioError& ec) { note->Fire(!ec); });
      builder_.reset();
    } else {
      builder_->flush([note](const AsioError& ec) { note->Fire(!ec); });
    }
  }

 private:
  // Reports a write's outcome exactly once, on a worker: false also when
  // RESTinio drops the write without calling back (connection closed).
  struct Note {
    Note(Impl* impl, std::function<void(bool)> fn) : impl(impl), fn(std::move(fn)) {}
    ~Note() { Fire(false); }
    void Fire(bool ok) {
      if (fired.exchange(true)) return;
      impl->Defer([fn = std::move(fn), ok] { fn(ok); });
    }
    Impl* impl;
    std::function<void(bool)> fn;
    std::atomic<bool> fired{false};
  };

  Impl* impl_;
  std::optional<restinio::response_builder_t<restinio::chunked_output_t>> builder_;
  InFlightToken token_;
};

// ------------------------------------------------------------ lifecycle

Status Server::Impl::Start() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (started_) return Status::InvalidArgument("Server::Start called twice");
  if (options_.io_threads == 0 || options_.worker_threads == 0)
    return Status::InvalidArgument("io_threads and worker_threads must be at least 1");
  if (options_.sse_keepalive >= options_.handle_timeout)
    return Status::InvalidArgument("sse_keepalive must be shorter than handle_timeout");
  if (options_.read_timeout.count() <= 0 || options_.write_timeout.count() <= 0 ||
      options_.handle_timeout.count() <= 0 || options_.sse_keepalive.count() <= 0)
    return Status::InvalidArgument("timeouts must be positive");
  std::error_code ec;
  temp_dir_ = options_.temp_dir.empty() ? std::filesystem::temp_directory_path(ec) : options_.temp_dir;
  if (ec || !std::filesystem::is_directory(temp_dir_, ec))
    return Status::InvalidArgument("temp dir is not a directory: " + temp_dir_.string());

  // RESTinio stops accepting for good after an accept error (0.6.16
  // acceptor_t::call_accept_now ignores failures), so never let it run into
  // EMFILE: keep a reserve of descriptors for files, temp files, logs and the
  // brief accept of a connection the gate then refuses.
  size_t max_connections = options_.max_connections;
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) {
    const rlim_t reserve = nofile.rlim_cur > 256 ? 128 : nofile.rlim_cur / 2;
    max_connections = std::min<size_t>(max_connections, static_cast<size_t>(nofile.rlim_cur - reserve));
  }
  if (max_connections == 0) max_connections = 1;

  uint64_t largest_body = options_.max_body_bytes;
  for (const auto& route : router_.Routes())
    if (route.options.max_body_bytes) largest_body = std::max(largest_body, *route.options.max_body_bytes);

  // Timeouts are checked by a per-connection timer every check period.
  auto shortest = std::min({options_.read_timeout, options_.write_timeout, options_.handle_timeout});
  auto check_period = std::clamp<std::chrono::milliseconds>(shortest / 4, std::chrono::milliseconds(10),
                                                            std::chrono::milliseconds(1000));

  http_parser_set_max_header_size(static_cast<uint32_t>(options_.max_header_bytes));

  restinio::server_settings_t<IvTraits> settings;
  const bool v6 = options_.host.find(':') != std::string::npos || options_.host == "ip6-localhost";
  settings.port(options_.port)
      .protocol(v6 ? restinio::asio_ns::ip::tcp::v6() : restinio::asio_ns::ip::tcp::v4())
      .address(options_.host)
      .buffer_size(options_.io_buffer_bytes)
      .read_next_http_message_timelimit(options_.read_timeout)
      .write_http_response_timelimit(options_.write_timeout)
      .handle_request_timeout(options_.handle_timeout)
      .max_pipelined_requests(1)
      .ip_blocker(std::make_shared<ConnectionGate>(live_connections_, max_connections))
      .incoming_http_msg_limits(restinio::incoming_http_msg_limits_t{}
                                    .max_url_size(options_.max_header_bytes)
                                    .max_field_name_size(options_.max_header_bytes)
                                    .max_field_value_size(options_.max_header_bytes)
                                    .max_field_count(options_.max_header_fields)
                                    .max_body_size(largest_body))
      .timer_manager(std::chrono::duration_cast<std::chrono::steady_clock::duration>(check_period),
                     live_connections_)
      .acceptor_post_bind_hook([this](restinio::asio_ns::ip::tcp::acceptor& acceptor) {
        port_.store(acceptor.local_endpoint().port());
      })
      .request_handler([this](restinio::request_handle_t req) { return OnRequest(std::move(req)); });

  try {
    server_ = std::make_unique<RestinioServer>(restinio::own_io_context(), std::move(settings));
    server_->open_sync();
  } catch (const std::system_error& e) {
    server_.reset();
    port_.store(0);
    const std::string where = "cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": ";
    const int code = e.code().value();
    if (code == EADDRINUSE) return Status::Conflict(where + "address already in use");
    if (code == EACCES || code == EPERM) return Status::PermissionDenied(where + e.code().message());
    if (code == EADDRNOTAVAIL || code == EINVAL || code == EAFNOSUPPORT)
      return Status::InvalidArgument(where + e.code().message());
    return Status::Internal(where + e.what());
  } catch (const std::exception& e) {
    server_.reset();
    port_.store(0);
    return Status::InvalidArgument("cannot listen on " + options_.host + ": " + e.what());
  }

  pool_.Start(options_.worker_threads);
  auto& io = server_->io_context();
  for (size_t i = 0; i < options_.io_threads; ++i) {
    io_threads_.emplace_back([this, &io] {
      tl_limiter = this;
      auto work = restinio::asio_ns::make_work_guard(io);
      io.run();
      tl_limiter = nullptr;
    });
  }
  ticker_ = std::thread([this] { TickerLoop(); });
  started_ = true;
  return Status::Ok();
}

void Server::Impl::Stop() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (!started_ || stopped_) return;
  stopped_ = true;
  stopping_.store(true);
  const auto deadline = std::chrono::steady_clock::now() + options_.stop_grace;

  // 1. Stop accepting (on the io context, where the acceptor lives).
  {
    auto done = std::make_shared<std::promise<void>>();
    auto fut = done->get_future();
    server_->close_async([done] { done->set_value(); }, [done](std::exception_ptr) { done->set_value(); });
    fut.wait_until(deadline);
  }
  // 2. End SSE streams; their final chunks are written like any response.
  std::vector<std::weak_ptr<SseStream>> sse;
  {
    std::lock_guard lock(sse_mu_);
    sse_closed_ = true;
    sse.swap(sse_streams_);
  }
  for (auto& weak : sse)
    if (auto s = weak.lock()) s->Detach();
  // 3. Let requests in flight finish.
  {
    std::unique_lock lock(in_flight_mu_);
    in_flight_cv_.wait_until(lock, deadline, [&] { return in_flight_ == 0; });
    if (in_flight_ != 0) Log("stop: " + std::to_string(in_flight_) + " request(s) still in flight after the grace period");
  }
  // 4. Background threads and workers (waits for running handlers).
  {
    std::lock_guard lock(ticker_mu_);
    ticker_stop_ = true;
    ticker_cv_.notify_all();
  }
  if (ticker_.joinable()) ticker_.join();
  pool_.Shutdown();
  {
    std::lock_guard lock(streams_mu_);
    for (auto& weak : streams_)
      if (auto s = weak.lock()) s->Abort();
    streams_.clear();
  }
  // 5. Close every connection and the event loop.
  server_->io_context().stop();
  for (auto& t : io_threads_)
    if (t.joinable()) t.join();
  io_threads_.clear();
  server_.reset();
}

void Server::Impl::TickerLoop() {
  std::unique_lock lock(ticker_mu_);
  while (!ticker_stop_) {
    ticker_cv_.wait_for(lock, options_.sse_keepalive, [&] { return ticker_stop_; });
    if (ticker_stop_) break;
    lock.unlock();
    std::vector<std::shared_ptr<SseStream>> live;
    {
      std::lock_guard sse_lock(sse_mu_);
      std::erase_if(sse_streams_, [](const std::weak_ptr<SseStream>& w) {
        auto s = w.lock();
        return !s || s->closed();
      });
      for (auto& w : sse_streams_)
        if (auto s = w.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live) s->SendComment("keep-alive");
    live.clear();
    lock.lock();
  }
}

bool Server::Impl::RegisterSse(const std::shared_ptr<SseStream>& stream) {
  std::lock_guard lock(sse_mu_);
  if (sse_closed_) return false;
  sse_streams_.push_back(stream);
  return true;
}

void Server::Impl::RegisterStream(const std::shared_ptr<ActiveStream>& stream) {
  std::lock_guard lock(streams_mu_);
  std::erase_if(streams_, [](const std::weak_ptr<ActiveStream>& w) { return w.expired(); });
  streams_.push_back(stream);
}

// ------------------------------------------------------------ requests

restinio::request_handling_status_t Server::Impl::OnRequest(restinio::request_handle_t req) {
  // I/O thread: only hand the request over.
  auto token = std::make_shared<InFlight>(this);
  const auto received_at = std::chrono::steady_clock::now();
  const bool queued = pool_.TrySubmit(
      [this, req, received_at, token]() mutable { Process(req, received_at, std::move(token)); },
      options_.max_queued_requests);
  if (!queued) {
    Request request;
    request.request_id = NewRequestId();
    Response resp = Problem(503, "unavailable", "Service unavailable",
                            stopping_.load() ? "The server is shutting down." : "The server is busy; retry shortly.");
    resp.headers.Set("Retry-After", "1");
    Finalize(request, resp);
    Send(req, std::move(resp), false, true, std::move(token));
  }
  return restinio::request_accepted();
}

void Server::Impl::Process(const restinio::request_handle_t& req, std::chrono::steady_clock::time_point received_at,
                           InFlightToken token) {
  auto request = std::make_unique<Request>();
  request->received_at = received_at;
  request->request_id = NewRequestId();  // replaced by a valid client id below
  bool too_large = false;
  uint64_t declared = 0;
  bool head = false;
  Response resp;
  try {
    const auto& header = req->header();
    request->method = header.method().c_str();
    head = request->method == "HEAD";
    request->target = header.request_target();
    const std::string_view raw_path = PathOf(request->target);
    request->path = PercentDecode(raw_path).value_or(std::string(raw_path));
    const size_t q = request->target.find('?');
    if (q != std::string::npos) {
      std::string_view query = std::string_view(request->target).substr(q + 1);
      query = query.substr(0, query.find('#'));
      request->query = ParseQuery(query);
    }
    header.for_each_field([&](const restinio::http_header_field_t& f) {
      if (f.name() == kTooLargeField) {
        too_large = true;
        declared = std::strtoull(f.value().c_str(), nullptr, 10);
        return;
      }
      request->headers.Add(f.name(), f.value());
    });
    auto client_id = request->headers.Get("X-Request-Id");
    request->request_id = client_id && IsValidRequestId(*client_id) ? *client_id : NewRequestId();
    request->remote_ip = req->remote_endpoint().address().to_string();
    // RESTinio hands the body over as a const std::string that nothing else
    // reads afterwards; take it instead of copying up to the body limit.
    request->body = std::move(const_cast<std::string&>(req->body()));
    resp = Handle(*request, too_large, declared);
  } catch (const std::exception& e) {
    resp = ProblemFor(Status::Internal(std::string("request setup failed: ") + e.what()));
  }
  Finalize(*request, resp);
  // The unread body of a too-large request would be taken for the next
  // request on this connection: close it after the answer.
  const bool close = too_large || stopping_.load();
  request.reset();  // removes temp files before the client sees the answer
  Send(req, std::move(resp), head, close, std::move(token));
}

Response Server::Impl::Handle(Request& request, bool too_large, uint64_t declared) {
  Response resp;
  bool answered = false;
  Router::Match match;
  if (too_large) {
    resp = ProblemFor(Status::TooLarge("The request body (" + std::to_string(declared) +
                                       " bytes) is larger than this endpoint accepts (" +
                                       std::to_string(BodyLimitFor(request.method, request.target)) + " bytes)."));
    answered = true;
  } else {
    match = router_.Find(request.method, PathOf(request.target));
    if (match.outcome == Router::Outcome::kBadPath) {
      resp = ProblemFor(Status::InvalidArgument("The request path is malformed."));
      answered = true;
    } else if (match.outcome == Router::Outcome::kFound) {
      request.route = match.route;
      request.path_params = match.params;
    }
  }

  try {
    if (!answered) {
      for (const auto& mw : middleware_) {
        if (!mw.before) continue;
        std::optional<Response> r = mw.before(request);
        if (r) {
          resp = std::move(*r);
          answered = true;
          break;
        }
      }
    }
    if (!answered) {
      switch (match.outcome) {
        case Router::Outcome::kNotFound:
          resp = Problem(404, "not-found", "Not found", "No resource at this path.");
          break;
        case Router::Outcome::kMethodNotAllowed: {
          std::string allow;
          for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
          resp = Problem(405, "method-not-allowed", "Method not allowed",
                         "This resource does not support " + request.method + ".");
          resp.headers.Set("Allow", allow);
          break;
        }
        case Router::Outcome::kFound:
          resp = PrepareBodyAndRun(request, match);
          break;
        case Router::Outcome::kBadPath:
          break;  // answered above
      }
    }
  } catch (const std::exception& e) {
    resp = ProblemFor(Status::Internal(std::string("unhandled exception: ") + e.what()));
  } catch (...) {
    resp = ProblemFor(Status::Internal("unhandled non-standard exception"));
  }

  for (auto it = middleware_.rbegin(); it != middleware_.rend(); ++it) {
    if (!it->after) continue;
    try {
      it->after(request, resp);
    } catch (const std::exception& e) {
      Log("after-hook '" + it->name + "' threw: " + e.what());
    }
  }
  return resp;
}

Response Server::Impl::PrepareBodyAndRun(Request& request, const Router::Match& match) {
  const RouteOptions& options = match.route->options;
  const uint64_t limit = options.max_body_bytes.value_or(options_.max_body_bytes);
  if (request.body.size() > limit)  // a chunked body: no Content-Length to check earlier
    return ProblemFor(Status::TooLarge("The request body is larger than this endpoint accepts (" +
                                       std::to_string(limit) + " bytes)."));
  switch (options.body_mode) {
    case BodyMode::kInMemory:
      break;
    case BodyMode::kTempFile: {
      Result<std::shared_ptr<TempFile>> file = TempFile::Create(temp_dir_, "iv-body-");
      if (!file.ok()) return ProblemFor(file.status());
      if (Status s = (*file)->Append(request.body); !s.ok()) return ProblemFor(s);
      if (Status s = (*file)->Finish(); !s.ok()) return ProblemFor(s);
      request.body_file = std::move(file).value();
      std::string().swap(request.body);
      break;
    }
    case BodyMode::kMultipart: {
      Result<MultipartForm> form =
          ParseMultipartToFiles(request.body, request.headers.GetOr("Content-Type", ""), temp_dir_);
      if (!form.ok()) return ProblemFor(form.status());
      request.form = std::move(form->fields);
      request.files = std::move(form->files);
      std::string().swap(request.body);
      break;
    }
  }
  return (*match.handler)(request);
}

void Server::Impl::Finalize(const Request& request, Response& resp) const {
  if (!resp.internal_note.empty())
    Log("[" + request.request_id + "] " + request.method + " " + request.target + " -> " +
        std::to_string(resp.status) + ": " + resp.internal_note);
  resp.headers.Set("X-Request-Id", request.request_id);
  resp.headers.SetDefault("Content-Security-Policy",
                          "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'");
  resp.headers.SetDefault("X-Content-Type-Options", "nosniff");
  resp.headers.SetDefault("Referrer-Policy", "no-referrer");
  resp.headers.SetDefault("Cross-Origin-Opener-Policy", "same-origin");
  resp.headers.SetDefault("Cache-Control", "no-store");
  if (options_.behind_tls) resp.headers.SetDefault("Strict-Transport-Security", options_.hsts_value);
}

template <typename Builder>
void Server::Impl::ApplyHeaders(Builder& builder, const Response& resp, bool close) const {
  for (const auto& [name, value] : resp.headers.entries()) {
    // RESTinio writes these itself from the response shape.
    if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
        EqualsIgnoreCase(name, "Connection"))
      continue;
    if (!IsSafeHeader(name, value)) {
      Log("dropped unsafe response header '" + name + "'");
      continue;
    }
    builder.append_header(name, value);
  }
  builder.append_header_date_field();
  if (close) builder.connection_close();
}

void Server::Impl::Send(const restinio::request_handle_t& req, Response resp, bool head, bool close,
                        InFlightToken token) {
  restinio::http_status_line_t status_line{restinio::http_status_code_t{static_cast<std::uint16_t>(resp.status)},
                                           std::string(ReasonPhrase(resp.status))};
  if (resp.sse && !head) {
    auto builder = req->create_response<restinio::chunked_output_t>(std::move(status_line));
    ApplyHeaders(builder, resp, close);
    std::shared_ptr<SseStream> stream = resp.sse;
    stream->Attach(std::make_unique<SseSinkImpl>(this, std::move(builder), std::move(token)));
    if (!RegisterSse(stream)) stream->Detach();
    return;
  }
  if (resp.sse) resp.sse->Close();  // HEAD of an event stream: headers only
  if (resp.reader && !head) {
    if (resp.content_length) {
      auto builder = req->create_response<restinio::user_controlled_output_t>(std::move(status_line));
      ApplyHeaders(builder, resp, close);
      builder.set_content_length(static_cast<std::size_t>(*resp.content_length));
      if (*resp.content_length == 0) {
        builder.done([token](const AsioError&) {});
        return;
      }
      auto pump = std::make_shared<Pump<restinio::user_controlled_output_t>>(
          this, std::move(builder), std::move(resp.reader), resp.content_length, std::move(token));
      RegisterStream(pump);
      pump->Step();
    } else {
      auto builder = req->create_response<restinio::chunked_output_t>(std::move(status_line));
      ApplyHeaders(builder, resp, close);
      auto pump = std::make_shared<Pump<restinio::chunked_output_t>>(this, std::move(builder), std::move(resp.reader),
                                                                    std::nullopt, std::move(token));
      RegisterStream(pump);
      pump->Step();
    }
    return;
  }
  if (head || (resp.status == 304 && resp.content_length)) {
    auto builder = req->create_response<restinio::user_controlled_output_t>(std::move(status_line));
    ApplyHeaders(builder, resp, close);
    const uint64_t length =
        resp.reader || resp.status == 304 ? resp.content_length.value_or(0) : resp.body.size();
    builder.set_content_length(static_cast<std::size_t>(length));
    builder.done([token](const AsioError&) {});
    return;
  }
  auto builder = req->create_response<restinio::restinio_controlled_output_t>(std::move(status_line));
  ApplyHeaders(builder, resp, close);
  builder.set_body(std::move(resp.body));
  builder.done([token](const AsioError&) {});
}

// ================================================================ Server

Server::Server(ServerOptions options, const Router& router, std::vector<Middleware> middleware)
    : impl_(std::make_shared<Impl>(std::move(options), router, std::move(middleware))) {}

Server::~Server() { impl_->Stop(); }

Status Server::Start() { return impl_->Start(); }

uint16_t Server::port() const { return impl_->port(); }

void Server::Stop() { impl_->Stop(); }

}  // namespace iv::http
