// A coarse, human-readable description of a User-Agent header ("Firefox on
// Linux"): enough to recognise one's own sessions and to count device types,
// without keeping the full header (which is close to a fingerprint).
#pragma once

#include <string>
#include <string_view>

namespace iv::domain {

struct DeviceInfo {
  std::string browser;  // "Firefox", "Chrome", "Edge", "Safari", "curl", "other"
  std::string os;       // "Windows", "macOS", "iOS", "Android", "Linux", "other"
  std::string type;     // "desktop", "mobile", "tablet", "bot", "other"
  std::string Summary() const { return browser + " on " + os; }
};

DeviceInfo ParseUserAgent(std::string_view user_agent);

}  // namespace iv::domain
