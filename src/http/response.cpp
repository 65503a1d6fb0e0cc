#include "http/response.h"

#include <nlohmann/json.hpp>

namespace iv::http {

Response Response::Json(int status, const nlohmann::json& value) {
  Response r;
  r.status = status;
  r.body = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.headers.Set("Content-Type", "application/json");
  return r;
}

Response Response::Text(int status, std::string text, std::string content_type) {
  Response r;
  r.status = status;
  r.body = std::move(text);
  r.headers.Set("Content-Type", std::move(content_type));
  return r;
}

Response Response::NoContent() {
  Response r;
  r.status = 204;
  return r;
}

Response Response::Stream(int status, std::string content_type, std::optional<uint64_t> content_length,
                          BodyReader reader) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", std::move(content_type));
  r.content_length = content_length;
  r.reader = std::move(reader);
  return r;
}

std::pair<Response, std::shared_ptr<SseStream>> Response::EventStream() {
  Response r;
  r.status = 200;
  r.headers.Set("Content-Type", "text/event-stream");
  r.headers.Set("Cache-Control", "no-store");
  // Tells nginx-style reverse proxies not to buffer the stream.
  r.headers.Set("X-Accel-Buffering", "no");
  auto stream = std::make_shared<SseStream>();
  r.sse = stream;
  return {std::move(r), std::move(stream)};
}

namespace {

void AppendSanitizedLine(std::string& out, std::string_view value) {
  for (char c : value)
    if (c != '\r' && c != '\n') out.push_back(c);
}

}  // namespace

SseStream::~SseStream() {
  if (sink_ && !final_sent_) sink_->Write(std::string(), true, [](bool) {});
}

bool SseStream::Send(std::string_view event, std::string_view data, std::string_view id) {
  std::string frame;
  frame.reserve(event.size() + data.size() + id.size() + 32);
  if (!event.empty()) {
    frame += "event: ";
    AppendSanitizedLine(frame, event);
    frame += '\n';
  }
  if (!id.empty()) {
    frame += "id: ";
    AppendSanitizedLine(frame, id);
    frame += '\n';
  }
  // Each line of `data` is its own data: field; a CR, LF or CRLF ends a line
  // (WHATWG HTML "Interpreting an event stream").
  size_t start = 0;
  while (true) {
    size_t end = data.find_first_of("\r\n", start);
    frame += "data: ";
    frame.append(data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    frame += '\n';
    if (end == std::string_view::npos) break;
    start = end + 1;
    if (data[end] == '\r' && start < data.size() && data[start] == '\n') ++start;
  }
  frame += '\n';
  return Write(std::move(frame), false);
}

bool SseStream::SendComment(std::string_view text) {
  std::string frame = ": ";
  AppendSanitizedLine(frame, text);
  frame += "\n\n";
  return Write(std::move(frame), false);
}

void SseStream::Close() { Write(std::string(), true); }

bool SseStream::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

void SseStream::OnClose(std::function<void()> callback) {
  std::unique_lock lock(mu_);
  if (closed_) {
    lock.unlock();
    callback();
    return;
  }
  on_close_.push_back(std::move(callback));
}

bool SseStream::WaitClosed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return closed_cv_.wait_for(lock, timeout, [&] { return closed_ && callbacks_done_; });
}

bool SseStream::Write(std::string bytes, bool final) {
  std::lock_guard write_lock(write_mu_);
  std::unique_lock lock(mu_);
  if (closed_) return false;
  std::shared_ptr<SseSink> sink = sink_;
  if (!sink) {
    // Not attached yet: buffer; Attach flushes (and ends, when closed).
    if (pending_.size() + bytes.size() > max_buffered_bytes_) {
      MarkClosedAndNotify(lock);
      return false;
    }
    pending_ += bytes;
    if (final) MarkClosedAndNotify(lock);
    return true;
  }
  if (in_flight_bytes_ + bytes.size() > max_buffered_bytes_) {
    // The client reads more slowly than we produce: give up on it rather
    // than buffer without bound.
    final_sent_ = true;
    lock.unlock();
    sink->Write(std::string(), true, [](bool) {});
    lock.lock();
    sink_.reset();
    MarkClosedAndNotify(lock);
    return false;
  }
  const size_t n = bytes.size();
  in_flight_bytes_ += n;
  if (final) {
    final_sent_ = true;
    sink_.reset();
  }
  lock.unlock();
  std::weak_ptr<SseStream> weak = weak_from_this();
  sink->Write(std::move(bytes), final, [weak, n](bool ok) {
    if (auto self = weak.lock()) self->OnWritten(n, ok);
  });
  if (final) {
    lock.lock();
    MarkClosedAndNotify(lock);
  }
  return true;
}

void SseStream::OnWritten(size_t bytes, bool ok) {
  std::unique_lock lock(mu_);
  in_flight_bytes_ -= std::min(bytes, in_flight_bytes_);
  if (!ok && !closed_) {
    final_sent_ = true;  // the connection is gone; nothing more can be sent
    sink_.reset();
    MarkClosedAndNotify(lock);
  }
}

void SseStream::Attach(std::unique_ptr<SseSink> sink) {
  std::lock_guard write_lock(write_mu_);
  std::unique_lock lock(mu_);
  if (final_sent_) return;
  std::shared_ptr<SseSink> shared(std::move(sink));
  std::string bytes = std::move(pending_);
  pending_.clear();
  const bool final = closed_;
  if (final) {
    final_sent_ = true;
  } else {
    sink_ = shared;
  }
  const size_t n = bytes.size();
  in_flight_bytes_ += n;
  lock.unlock();
  // Even with nothing buffered this write sends the status line and headers,
  // so the client sees the stream open at once.
  std::weak_ptr<SseStream> weak = weak_from_this();
  shared->Write(std::move(bytes), final, [weak, n](bool ok) {
    if (auto self = weak.lock()) self->OnWritten(n, ok);
  });
}

void SseStream::Detach() {
  std::lock_guard write_lock(write_mu_);
  std::unique_lock lock(mu_);
  std::shared_ptr<SseSink> sink = std::move(sink_);
  sink_.reset();
  const bool send_final = sink && !final_sent_;
  final_sent_ = true;
  lock.unlock();
  if (send_final) sink->Write(std::string(), true, [](bool) {});
  sink.reset();
  lock.lock();
  if (!closed_) MarkClosedAndNotify(lock);
}

void SseStream::MarkClosedAndNotify(std::unique_lock<std::mutex>& lock) {
  if (closed_) return;
  closed_ = true;
  std::vector<std::function<void()>> callbacks = std::move(on_close_);
  on_close_.clear();
  lock.unlock();
  for (auto& cb : callbacks) cb();
  lock.lock();
  callbacks_done_ = true;
  closed_cv_.notify_all();
}

}  // namespace iv::http
