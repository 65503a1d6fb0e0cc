#include "http/router.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace iv::http {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

// Splits "/a/b/c" into {"a","b","c"}; "/" gives {""}.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 1;
  while (true) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      out.push_back(path.substr(start));
      break;
    }
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      auto key = PercentDecode(pair.substr(0, eq), true);
      auto value = PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
      if (key && value && !key->empty()) out.emplace_back(std::move(*key), std::move(*value));
    }
    start = end + 1;
  }
  return out;
}

Router& Router::Add(std::string_view method, std::string_view pattern, Handler handler, RouteOptions options) {
  if (method.empty()) throw std::invalid_argument("route method is empty");
  if (pattern.empty() || pattern.front() != '/')
    throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
  Route route;
  route.info.method = Upper(method);
  route.info.pattern = std::string(pattern);
  route.info.options = std::move(options);
  route.handler = std::move(handler);
  std::set<std::string> names;
  const auto parts = SplitPath(pattern);
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    if (p.size() >= 2 && p.front() == '{' && p.back() == '}') {
      std::string_view name = p.substr(1, p.size() - 2);
      Segment::Kind kind = Segment::kParam;
      if (name.size() > 3 && name.substr(name.size() - 3) == "...") {
        if (i + 1 != parts.size())
          throw std::invalid_argument("rest parameter must be the last segment: " + std::string(pattern));
        name.remove_suffix(3);
        kind = Segment::kRest;
      }
      if (name.empty() || name.find_first_of("{}/") != std::string_view::npos)
        throw std::invalid_argument("bad parameter name in route pattern: " + std::string(pattern));
      if (!names.insert(std::string(name)).second)
        throw std::invalid_argument("duplicate parameter name in route pattern: " + std::string(pattern));
      route.segments.push_back({kind, std::string(name)});
    } else {
      if (p.find_first_of("{}") != std::string_view::npos)
        throw std::invalid_argument("braces must enclose a whole segment: " + std::string(pattern));
      route.segments.push_back({Segment::kLiteral, std::string(p)});
    }
  }
  for (const auto& r : routes_)
    if (r.info.method == route.info.method && r.info.pattern == route.info.pattern)
      throw std::invalid_argument("duplicate route: " + route.info.method + " " + route.info.pattern);
  routes_.push_back(std::move(route));
  return *this;
}

bool Router::MatchSegments(const Route& route, const std::vector<std::string>& segments,
                           std::map<std::string, std::string, std::less<>>* params) {
  const auto& pattern = route.segments;
  size_t i = 0;
  for (; i < pattern.size(); ++i) {
    const Segment& seg = pattern[i];
    if (seg.kind == Segment::kRest) {
      if (i >= segments.size()) return false;
      std::string rest;
      for (size_t j = i; j < segments.size(); ++j) {
        if (j > i) rest += '/';
        rest += segments[j];
      }
      if (rest.empty()) return false;
      if (params) (*params)[seg.text] = std::move(rest);
      return true;
    }
    if (i >= segments.size()) return false;
    if (seg.kind == Segment::kLiteral) {
      if (segments[i] != seg.text) return false;
    } else {
      if (segments[i].empty()) return false;
      if (params) (*params)[seg.text] = segments[i];
    }
  }
  return i == segments.size();
}

Router::Match Router::Find(std::string_view method, std::string_view raw_path) const {
  Match match;
  if (raw_path.empty() || raw_path.front() != '/') {
    match.outcome = Outcome::kBadPath;
    return match;
  }
  std::vector<std::string> segments;
  for (std::string_view raw : SplitPath(raw_path)) {
    auto decoded = PercentDecode(raw);
    if (!decoded || decoded->find('\0') != std::string::npos) {
      match.outcome = Outcome::kBadPath;
      return match;
    }
    segments.push_back(std::move(*decoded));
  }

  const std::string wanted = Upper(method);
  // Specificity: per segment, literal (0) < param (1) < rest (2); the
  // lexicographically smallest kind sequence is the most specific.
  auto more_specific = [](const Route& a, const Route& b) {
    size_t n = std::min(a.segments.size(), b.segments.size());
    for (size_t i = 0; i < n; ++i)
      if (a.segments[i].kind != b.segments[i].kind) return a.segments[i].kind < b.segments[i].kind;
    return a.segments.size() > b.segments.size();
  };
  const Route* best = nullptr;
  const Route* best_get = nullptr;  // for HEAD
  std::set<std::string> allowed;
  for (const auto& route : routes_) {
    if (!MatchSegments(route, segments, nullptr)) continue;
    allowed.insert(route.info.method);
    if (route.info.method == wanted) {
      if (!best || more_specific(route, *best)) best = &route;
    } else if (wanted == "HEAD" && route.info.method == "GET") {
      if (!best_get || more_specific(route, *best_get)) best_get = &route;
    }
  }
  if (!best) best = best_get;
  if (best) {
    match.outcome = Outcome::kFound;
    match.route = &best->info;
    match.handler = &best->handler;
    MatchSegments(*best, segments, &match.params);
    return match;
  }
  if (!allowed.empty()) {
    if (allowed.count("GET")) allowed.insert("HEAD");
    match.outcome = Outcome::kMethodNotAllowed;
    match.allowed.assign(allowed.begin(), allowed.end());
    return match;
  }
  match.outcome = Outcome::kNotFound;
  return match;
}

std::vector<RouteInfo> Router::Routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.push_back(r.info);
  return out;
}

}  // namespace iv::http
