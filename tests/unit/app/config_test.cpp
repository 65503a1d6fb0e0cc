#include "app/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "support/test_support.h"

namespace iv::app {
namespace {

std::string Write(const test::TempDir& dir, const std::string& text) {
  std::string path = dir.file("imagevideo.toml");
  std::ofstream(path) << text;
  return path;
}

TEST(Config, DefaultsWithoutAFile) {
  auto c = LoadConfig("");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->listen_host, "127.0.0.1");
  EXPECT_EQ(c->listen_port, 8080);
  EXPECT_EQ(c->public_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c->database_url, "sqlite:data/imagevideo.db");
  EXPECT_EQ(c->master_key_file, "data/master.key");
}

TEST(Config, FileThenEnvironment) {
  test::TempDir dir;
  std::string path = Write(dir, "[server]\nport = 9000\n[storage]\ndata_dir = \"/srv/iv\"\n[workers]\ncount = 2\n");
  setenv("IMAGEVIDEO_SERVER_PORT", "9100", 1);
  auto c = LoadConfig(path);
  unsetenv("IMAGEVIDEO_SERVER_PORT");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->listen_port, 9100) << "the environment wins";
  EXPECT_EQ(c->data_dir, "/srv/iv");
  EXPECT_EQ(c->database_url, "sqlite:/srv/iv/imagevideo.db");
  EXPECT_EQ(c->worker_count, 2);
}

TEST(Config, MistakesAreNamed) {
  test::TempDir dir;
  auto unknown = LoadConfig(Write(dir, "[server]\nprot = 9000\n"));
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("server.prot"), std::string::npos) << unknown.status().message();
  auto type = LoadConfig(Write(dir, "[server]\nport = \"eighty\"\n"));
  EXPECT_NE(type.status().message().find("server.port"), std::string::npos) << type.status().message();
  auto range = LoadConfig(Write(dir, "[server]\nport = 70000\n"));
  EXPECT_EQ(range.status().code(), StatusCode::kInvalidArgument);
  auto syntax = LoadConfig(Write(dir, "[server\n"));
  EXPECT_EQ(syntax.status().code(), StatusCode::kInvalidArgument);
  setenv("IMAGEVIDEO_WORKERS_COUNT", "many", 1);
  auto env = LoadConfig("");
  unsetenv("IMAGEVIDEO_WORKERS_COUNT");
  EXPECT_NE(env.status().message().find("IMAGEVIDEO_WORKERS_COUNT"), std::string::npos) << env.status().message();
}

}  // namespace
}  // namespace iv::app
