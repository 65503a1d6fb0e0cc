#include "domain/user_agent.h"

namespace iv::domain {

namespace {

bool Has(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

}  // namespace

DeviceInfo ParseUserAgent(std::string_view ua) {
  DeviceInfo d{"other", "other", "other"};
  // Order matters: Edge and Chrome both say "Chrome", Chrome says "Safari".
  if (Has(ua, "Edg/")) d.browser = "Edge";
  else if (Has(ua, "Firefox/")) d.browser = "Firefox";
  else if (Has(ua, "Chrome/") || Has(ua, "Chromium/")) d.browser = "Chrome";
  else if (Has(ua, "Safari/")) d.browser = "Safari";
  else if (Has(ua, "curl/")) d.browser = "curl";

  if (Has(ua, "Android")) d.os = "Android";
  else if (Has(ua, "iPhone") || Has(ua, "iPad")) d.os = "iOS";
  else if (Has(ua, "Windows")) d.os = "Windows";
  else if (Has(ua, "Mac OS X") || Has(ua, "Macintosh")) d.os = "macOS";
  else if (Has(ua, "Linux") || Has(ua, "X11")) d.os = "Linux";

  if (Has(ua, "bot") || Has(ua, "Bot") || Has(ua, "Spider") || Has(ua, "curl/")) d.type = "bot";
  else if (Has(ua, "iPad") || Has(ua, "Tablet")) d.type = "tablet";
  else if (Has(ua, "Mobile") || Has(ua, "Android")) d.type = "mobile";
  else if (d.os != "other") d.type = "desktop";
  return d;
}

}  // namespace iv::domain
