// The service's keys, all derived from the one master key, each for one
// purpose (a key used for two things can leak through either).
#pragma once

#include "infra/crypto.h"

namespace iv::domain {

struct KeyRing {
  infra::Key master;       // wraps users' data keys; never used directly on data
  infra::Key blind_index;  // HMAC key of the email lookup index
  infra::Key outbox;       // seals queued mail (recipient included)

  // Derives the purpose keys as HMAC-SHA256(master, label).
  static KeyRing FromMaster(const infra::Key& master);
};

}  // namespace iv::domain
