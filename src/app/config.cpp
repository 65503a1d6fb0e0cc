#include "app/config.h"

#include <cpptoml.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

namespace iv::app {

namespace {

// One setting: its place in the file, and how to apply a text value (from
// the environment) or a TOML value.
struct Key {
  std::string section, name;
  std::function<Status(const std::string&)> from_text;
  std::function<Status(const cpptoml::base&)> from_toml;
};

template <typename T>
Key Setting(const std::string& section, const std::string& name, T* target);

template <>
Key Setting(const std::string& section, const std::string& name, std::string* target) {
  return {section, name,
          [=](const std::string& v) {
            *target = v;
            return Status::Ok();
          },
          [=](const cpptoml::base& v) {
            auto s = v.as<std::string>();
            if (!s) return Status::InvalidArgument(section + "." + name + " must be a string");
            *target = s->get();
            return Status::Ok();
          }};
}

// Whole numbers (int and int64 settings alike).
template <typename Int>
Key IntegerSetting(const std::string& section, const std::string& name, Int* target) {
  auto bad = [=] { return Status::InvalidArgument(section + "." + name + " must be a whole number"); };
  return {section, name,
          [=](const std::string& v) {
            char* end = nullptr;
            long long n = std::strtoll(v.c_str(), &end, 10);
            if (v.empty() || *end) return bad();
            *target = static_cast<Int>(n);
            return Status::Ok();
          },
          [=](const cpptoml::base& v) {
            auto n = v.as<std::int64_t>();
            if (!n) return bad();
            *target = static_cast<Int>(n->get());
            return Status::Ok();
          }};
}

template <>
Key Setting(const std::string& section, const std::string& name, int* target) {
  return IntegerSetting(section, name, target);
}

template <>
Key Setting(const std::string& section, const std::string& name, std::int64_t* target) {
  return IntegerSetting(section, name, target);
}

template <>
Key Setting(const std::string& section, const std::string& name, double* target) {
  return {section, name,
          [=](const std::string& v) {
            char* end = nullptr;
            double n = std::strtod(v.c_str(), &end);
            if (v.empty() || *end) return Status::InvalidArgument(section + "." + name + " must be a number");
            *target = n;
            return Status::Ok();
          },
          [=](const cpptoml::base& v) {
            if (auto d = v.as<double>()) {
              *target = d->get();
            } else if (auto n = v.as<std::int64_t>()) {
              *target = static_cast<double>(n->get());
            } else {
              return Status::InvalidArgument(section + "." + name + " must be a number");
            }
            return Status::Ok();
          }};
}

template <>
Key Setting(const std::string& section, const std::string& name, bool* target) {
  return {section, name,
          [=](const std::string& v) {
            if (v == "true" || v == "1") *target = true;
            else if (v == "false" || v == "0") *target = false;
            else return Status::InvalidArgument(section + "." + name + " must be true or false");
            return Status::Ok();
          },
          [=](const cpptoml::base& v) {
            auto b = v.as<bool>();
            if (!b) return Status::InvalidArgument(section + "." + name + " must be true or false");
            *target = b->get();
            return Status::Ok();
          }};
}

std::string EnvName(const Key& k) {
  std::string name = "IMAGEVIDEO_" + k.section + "_" + k.name;
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

Status Check(const Config& c) {
  if (c.listen_port < 0 || c.listen_port > 65535) return Status::InvalidArgument("server.port must be 0 to 65535");
  if (c.io_threads < 1 || c.io_threads > 64) return Status::InvalidArgument("server.io_threads must be 1 to 64");
  if (c.handler_threads < 1 || c.handler_threads > 256) {
    return Status::InvalidArgument("server.handler_threads must be 1 to 256");
  }
  if (c.upload_max_bytes < 1024) return Status::InvalidArgument("limits.upload_max_bytes is too small");
  if (!(c.upload_max_megapixels > 0)) return Status::InvalidArgument("limits.upload_max_megapixels must be positive");
  if (c.worker_count < 0 || c.worker_count > 64) return Status::InvalidArgument("workers.count must be 0 to 64");
  if (c.render_threads < 0 || c.render_threads > 256) {
    return Status::InvalidArgument("workers.render_threads must be 0 to 256");
  }
  if (c.lease_ms < 2000) return Status::InvalidArgument("workers.lease_ms must be at least 2000");
  if (c.retry_backoff_ms < 0) return Status::InvalidArgument("workers.retry_backoff_ms must not be negative");
  if (c.max_active_videos_per_user < 1) {
    return Status::InvalidArgument("workers.max_active_videos_per_user must be at least 1");
  }
  if (c.data_dir.empty()) return Status::InvalidArgument("storage.data_dir must not be empty");
  return Status::Ok();
}

}  // namespace

Result<Config> LoadConfig(const std::string& path) {
  Config c;
  std::vector<Key> keys = {
      Setting("server", "host", &c.listen_host),
      Setting("server", "port", &c.listen_port),
      Setting("server", "public_url", &c.public_url),
      Setting("server", "io_threads", &c.io_threads),
      Setting("server", "handler_threads", &c.handler_threads),
      Setting("server", "behind_tls", &c.behind_tls),
      Setting("storage", "data_dir", &c.data_dir),
      Setting("storage", "database_url", &c.database_url),
      Setting("storage", "master_key_file", &c.master_key_file),
      Setting("storage", "master_key", &c.master_key_hex),
      Setting("limits", "upload_max_bytes", &c.upload_max_bytes),
      Setting("limits", "upload_max_megapixels", &c.upload_max_megapixels),
      Setting("accounts", "policy_version", &c.policy_version),
      Setting("mail", "from", &c.mail_from),
      Setting("workers", "count", &c.worker_count),
      Setting("workers", "render_threads", &c.render_threads),
      Setting("workers", "max_active_videos_per_user", &c.max_active_videos_per_user),
      Setting("workers", "lease_ms", &c.lease_ms),
      Setting("workers", "retry_backoff_ms", &c.retry_backoff_ms),
  };

  if (!path.empty()) {
    std::shared_ptr<cpptoml::table> root;
    try {
      root = cpptoml::parse_file(path);
    } catch (const cpptoml::parse_exception& e) {
      return Status::InvalidArgument(std::string("config ") + path + ": " + e.what());
    }
    std::set<std::string> known;
    for (const auto& k : keys) known.insert(k.section + "." + k.name);
    for (const auto& [section, value] : *root) {
      auto table = value->as_table();
      if (!table) return Status::InvalidArgument("config " + path + ": '" + section + "' must be a [section]");
      for (const auto& [name, v] : *table) {
        if (!known.count(section + "." + name)) {
          return Status::InvalidArgument("config " + path + ": unknown key " + section + "." + name);
        }
        for (const auto& k : keys) {
          if (k.section == section && k.name == name) IV_RETURN_IF_ERROR(k.from_toml(*v).WithContext("config " + path));
        }
      }
    }
  }
  for (const auto& k : keys) {
    if (const char* v = std::getenv(EnvName(k).c_str())) IV_RETURN_IF_ERROR(k.from_text(v).WithContext(EnvName(k)));
  }
  IV_RETURN_IF_ERROR(Check(c));
  if (c.public_url.empty()) c.public_url = "http://" + c.listen_host + ":" + std::to_string(c.listen_port);
  if (c.database_url.empty()) {
    c.database_url = "sqlite:" + (std::filesystem::path(c.data_dir) / "imagevideo.db").string();
  }
  if (c.master_key_file.empty()) c.master_key_file = (std::filesystem::path(c.data_dir) / "master.key").string();
  return c;
}

}  // namespace iv::app
