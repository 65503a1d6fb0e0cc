#include "domain/key_ring.h"

#include <cstring>

namespace iv::domain {

namespace {

infra::Key Derive(const infra::Key& master, const char* label) {
  std::string mac = infra::HmacSha256(master, label);
  infra::Key key{};
  std::memcpy(key.data(), mac.data(), key.size());
  infra::Wipe(mac);
  return key;
}

}  // namespace

KeyRing KeyRing::FromMaster(const infra::Key& master) {
  KeyRing ring;
  ring.master = master;
  ring.blind_index = Derive(master, "imagevideo/blind-index/v1");
  ring.outbox = Derive(master, "imagevideo/outbox/v1");
  return ring;
}

}  // namespace iv::domain
