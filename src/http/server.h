// Server: the HTTP/1.1 server of imagevideo (RESTinio 0.6 on standalone Asio,
// hidden behind this header).
//
// Threads. `io_threads` run the event loop (accept, parse, write); nothing
// that may block runs there. Each complete request is handed to a pool of
// `worker_threads`, which runs middleware and the handler and completes the
// response from there (RESTinio marshals response writes onto the
// connection's strand, so that is safe). Streamed bodies and SSE events are
// also produced on workers. A request that cannot be queued (more than
// `max_queued_requests` waiting) is answered 503 at once.
//
// Per request, in order (on a worker):
//  1. request id: X-Request-Id from the client if it is 1-64 chars of
//     [A-Za-z0-9._-], else 128 random bits in hex; echoed in the response;
//  2. limits: a body over the route's limit -> 413 (see Limits);
//  3. routing (router.h), then every Middleware::before in order; one that
//     returns a Response ends the chain. req.route is null when nothing
//     matched; then 404, or 405 with Allow, follows unless a hook answered;
//  4. the route's body mode (multipart parsing to temp files, ...), then
//     the handler. An exception from a hook or handler becomes a 500
//     problem (the message is logged, not sent);
//  5. every Middleware::after, in reverse order, for every response
//     (404/405/413/500 and short-circuits included);
//  6. X-Request-Id and the security headers, when the response has not set
//     its own: Content-Security-Policy "default-src 'self'; frame-ancestors
//     'none'; base-uri 'none'; object-src 'none'", X-Content-Type-Options
//     nosniff, Referrer-Policy no-referrer, Cross-Origin-Opener-Policy
//     same-origin, Cache-Control no-store, and Strict-Transport-Security
//     only with `behind_tls`;
//  7. the Request (and its temp files) is destroyed, then the response is
//     written. HEAD gets the headers of the GET answer without a body.
//
// Limits (what a slow, idle or hostile client can hold):
//  - Header: `max_header_bytes` for the request line and fields together
//    (enforced by http_parser, whose limit is process-wide: the last Server
//    started sets it), `max_header_fields` fields. Over it: the connection
//    is closed without a response.
//  - Body: the route's max_body_bytes (default `max_body_bytes`). A
//    Content-Length over it is answered 413 with Connection: close as soon
//    as the headers are in, without reading the body. A chunked body is
//    received up to the largest limit of any route and then checked.
//    RESTinio 0.6 keeps the whole body in memory until the request is
//    complete, so memory per connection is bounded by its route's limit and
//    in total by max_connections x the largest limit; size the limits, or
//    max_connections, accordingly.
//  - `read_timeout`: from connection open, or the end of the previous
//    response, until a request has been received completely, body
//    included. This single RESTinio timer is the keep-alive idle timeout,
//    the slowloris cut-off and the slowest upload allowed (25 MB in 60 s
//    needs ~420 kB/s). The connection is closed when it passes.
//  - `handle_timeout`: longest gap in which a started response produces no
//    output (the handler's run time, and the gap between chunks of a
//    streamed body or SSE stream); then the connection is closed.
//  - `write_timeout`: longest time for one write to the socket.
//  - `max_connections`: while that many are open, new connections are
//    accepted and closed at once. Clamped to the process's open-file limit
//    minus a reserve, because RESTinio 0.6 stops accepting for good after an
//    accept error such as EMFILE.
//  - RESTinio does not answer "Expect: 100-continue": clients that wait
//    for it (curl for large bodies) send the body after their own timeout
//    (1 s for curl); a too-large Content-Length is answered 413 at once.
//
// Thread-safety: Start and Stop are called from one controlling thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"

namespace iv::http {

struct ServerOptions {
  // Address to listen on (IPv4 or IPv6 literal, or "localhost").
  std::string host = "127.0.0.1";
  // 0 picks a free port; see Server::port().
  uint16_t port = 0;
  // Event-loop threads. One is plenty for hundreds of connections.
  size_t io_threads = 1;
  // Threads that run middleware and handlers; bounds concurrent handlers.
  size_t worker_threads = 8;
  // Requests waiting for a worker beyond which new ones get 503.
  size_t max_queued_requests = 1024;
  // Open connections; beyond it new ones are closed at once.
  size_t max_connections = 4096;
  // Request line plus header fields, in bytes.
  size_t max_header_bytes = 16 * 1024;
  size_t max_header_fields = 100;
  // Default body limit of a route (1 MiB suits JSON).
  uint64_t max_body_bytes = 1 << 20;
  // Size of each connection's read buffer.
  size_t io_buffer_bytes = 16 * 1024;
  std::chrono::milliseconds read_timeout{60'000};
  std::chrono::milliseconds handle_timeout{60'000};
  std::chrono::milliseconds write_timeout{30'000};
  // Interval of SSE keep-alive comments; must be below handle_timeout. 15 s
  // stays under the 30-60 s idle timeouts common in reverse proxies.
  std::chrono::milliseconds sse_keepalive{15'000};
  // How long Stop() waits for requests in flight.
  std::chrono::milliseconds stop_grace{10'000};
  // Where upload temp files go; empty = std::filesystem::temp_directory_path().
  std::filesystem::path temp_dir;
  // Adds Strict-Transport-Security (only meaningful when clients reach the
  // server over HTTPS, e.g. behind a TLS-terminating proxy).
  bool behind_tls = false;
  std::string hsts_value = "max-age=31536000; includeSubDomains";
  // Receives one line per server-side error (handler exceptions, internal
  // problem notes with request ids, stream failures); default: stderr.
  std::function<void(std::string_view line)> error_log;
};

// A cross-cutting step around every request (auth, CSRF, rate limits, usage
// logging). Either function may be empty. Both run on worker threads and may
// block briefly (e.g. a database lookup).
struct Middleware {
  std::string name;  // for logs
  // Runs after routing, before the handler (see Server, step 3). Returns a
  // Response to answer the request itself, or nullopt to continue. May add
  // to req.context for later steps.
  std::function<std::optional<Response>(Request& req)> before;
  // Runs for every response, in reverse registration order; may change it.
  std::function<void(const Request& req, Response& resp)> after;
};

class Server {
 public:
  // `router` must outlive the server and not change once Start() is called.
  Server(ServerOptions options, const Router& router, std::vector<Middleware> middleware = {});
  ~Server();  // Stop()s
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving. kConflict when the address is in use,
  // kPermissionDenied when binding is not allowed, kInvalidArgument for a bad
  // host or options, kInternal otherwise. Call at most once.
  Status Start();
  // The bound port (the real one when options.port was 0); 0 before Start.
  uint16_t port() const;
  // Graceful stop: stops accepting, ends SSE streams, waits up to
  // stop_grace for requests in flight (their responses are completed and
  // sent with Connection: close), then closes every connection and joins
  // all threads. Waits for handlers still running past the grace period
  // to return. Idempotent.
  void Stop();

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace iv::http
