// A Server with its Router for tests, on 127.0.0.1 and a free port.
#pragma once

// Tests configure options with designated initializers; GCC 12 warns about
// the members they leave at their defaults, which is the point.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/server.h"
#include "http_test_util.h"

namespace iv::http::test {

// Collects the server's error log lines.
class LogCapture {
 public:
  std::function<void(std::string_view)> Sink() {
    return [this](std::string_view line) {
      std::lock_guard lock(mu_);
      lines_.emplace_back(line);
    };
  }
  bool Contains(const std::string& needle) const {
    std::lock_guard lock(mu_);
    for (const auto& l : lines_)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

class TestServer {
 public:
  TestServer(ServerOptions options, const std::function<void(Router&)>& routes,
             std::vector<Middleware> middleware = {}) {
    routes(router_);
    if (!options.error_log) options.error_log = log_.Sink();
    server_ = std::make_unique<Server>(std::move(options), router_, std::move(middleware));
    Status s = server_->Start();
    EXPECT_TRUE(s.ok()) << s.message();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }
  uint16_t port() const { return server_->port(); }
  Server& server() { return *server_; }
  LogCapture& log() { return log_; }

 private:
  LogCapture log_;
  Router router_;  // outlives server_
  std::unique_ptr<Server> server_;
};

}  // namespace iv::http::test
