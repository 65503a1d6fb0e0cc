// Response: what a handler returns. Three shapes:
//  - a whole body in memory (`body`), the usual JSON answer;
//  - a streamed body (`reader`), pulled chunk by chunk on worker threads,
//    each chunk only after the previous one reached the socket, for large
//    downloads (decrypted blobs) and byte ranges (range.h);
//  - a Server-Sent Events stream (`sse`), kept open while application code
//    pushes events to it from any thread through an SseStream handle.
//
// The server adds the security headers, X-Request-Id, Date and Connection
// itself (server.h); handlers set only what is specific to their answer.
//
// Thread-safety: Response is a plain value. SseStream is thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Full header (not json_fwd): handlers build bodies with brace lists,
// Response::Json(200, {{"id", id}}), which needs the complete type.
#include <nlohmann/json.hpp>

#include "common/status.h"
#include "http/request.h"

namespace iv::http {

// Yields the next chunk of a streamed body; an empty string ends the body.
// Called on worker threads, never concurrently with itself. An error ends
// the response abruptly (the connection is closed, so the client sees a
// truncated body rather than a wrong one) and is logged.
using BodyReader = std::function<Result<std::string>()>;

class SseStream;

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Streamed body; when set, `body` is ignored. With `content_length` the
  // response carries Content-Length and the reader must yield exactly that
  // many bytes; without it the body is sent chunked. On a 304 (no body),
  // `content_length` is the size of the representation, sent as the
  // Content-Length (RFC 9110 §8.6); otherwise a body-less answer says 0.
  BodyReader reader;
  std::optional<uint64_t> content_length;
  // Server-Sent Events; when set, body and reader are ignored.
  std::shared_ptr<SseStream> sse;
  // Never sent: logged by the server with the request id (e.g. the real
  // message behind a generic 500).
  std::string internal_note;

  // `value` serialised with Content-Type application/json.
  static Response Json(int status, const nlohmann::json& value);
  static Response Text(int status, std::string text, std::string content_type = "text/plain; charset=utf-8");
  static Response NoContent();  // 204
  static Response Stream(int status, std::string content_type, std::optional<uint64_t> content_length,
                         BodyReader reader);
  // A 200 text/event-stream response and the handle to push events into
  // it. Events sent before the server has attached the stream to the
  // connection are buffered (up to the stream's buffer limit).
  static std::pair<Response, std::shared_ptr<SseStream>> EventStream();

  bool streamed() const { return static_cast<bool>(reader); }
};

// Where an SseStream writes: implemented by the server; application code
// never uses it.
class SseSink {
 public:
  virtual ~SseSink() = default;
  // Queues `bytes` for the client; `final` ends the response. `written` is
  // called exactly once, with false when the bytes could not be delivered
  // (client gone, write timeout, server stopping), never from inside
  // Write() and never on an I/O thread while a Write() is in progress.
  virtual void Write(std::string bytes, bool final, std::function<void(bool ok)> written) = 0;
};

// The producer side of a Server-Sent Events response.
//
// Closing: the stream closes when Close() is called, when a write fails
// (the client went away: noticed at the latest on the second keep-alive
// comment after it left, i.e. within 2 x ServerOptions::sse_keepalive), when
// the client reads too slowly (more than `max_buffered_bytes` queued), or
// when the server stops. From then on Send() returns false and the OnClose
// callbacks run (once), so producers can stop.
//
// Thread-safety: all methods may be called from any thread.
class SseStream : public std::enable_shared_from_this<SseStream> {
 public:
  explicit SseStream(size_t max_buffered_bytes = 1 << 20) : max_buffered_bytes_(max_buffered_bytes) {}
  // Ends the response if it is still attached (a stream dropped by every
  // producer is closed, not left hanging).
  ~SseStream();
  SseStream(const SseStream&) = delete;
  SseStream& operator=(const SseStream&) = delete;

  // Sends one event: "event: <event>\n[id: <id>\n]data: <line>\n...\n".
  // `data` may hold newlines (each line becomes a data: line). CR and LF in
  // `event` and `id` are dropped. Returns false when the stream is closed.
  bool Send(std::string_view event, std::string_view data, std::string_view id = {});
  // Sends a comment line (": text"), ignored by clients; used as keep-alive.
  bool SendComment(std::string_view text);
  // Ends the response. Idempotent.
  void Close();
  bool closed() const;
  // Registers `callback` to run once when the stream closes for any reason;
  // runs at once (on the calling thread) when already closed. Callbacks run
  // on the thread that noticed the close (the closer's, or a server worker
  // thread) and must not block for long.
  void OnClose(std::function<void()> callback);
  // Waits until the stream is closed and its OnClose callbacks have run, or
  // `timeout` passes; returns whether that happened.
  bool WaitClosed(std::chrono::milliseconds timeout);

  // --- For the server only. ---
  // Connects the stream to its response and flushes what was buffered.
  void Attach(std::unique_ptr<SseSink> sink);
  // Ends the response (if still open) and releases the sink; later Sends
  // return false. Used on server stop.
  void Detach();

 private:
  bool Write(std::string bytes, bool final);
  void OnWritten(size_t bytes, bool ok);
  void MarkClosedAndNotify(std::unique_lock<std::mutex>& lock);

  const size_t max_buffered_bytes_;
  // Serialises calls into the sink so events keep their order. Recursive
  // because a close noticed inside a write may run OnClose callbacks that
  // call Send/Close again on the same thread (they return at once).
  std::recursive_mutex write_mu_;
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable closed_cv_;
  bool closed_ = false;
  bool callbacks_done_ = false;  // the OnClose callbacks of the close have run
  bool final_sent_ = false;
  std::string pending_;  // before Attach
  size_t in_flight_bytes_ = 0;
  std::shared_ptr<SseSink> sink_;
  std::vector<std::function<void()>> on_close_;
};

}  // namespace iv::http
