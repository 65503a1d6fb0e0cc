// UserKeys: a user's data key (DEK), unwrapped from the master key on use.
// Everything personal of a user is sealed or encrypted with it, so deleting
// the wrapped key makes every copy unreadable (crypto-shredding).
#pragma once

#include <string>

#include "common/status.h"
#include "domain/account_store.h"
#include "domain/key_ring.h"

namespace iv::domain {

// A fresh data key wrapped by the master key, bound to its user (a wrapped
// key moved to another user's row does not unwrap).
std::string WrapDataKey(const KeyRing& keys, const std::string& user_id, const infra::Key& dek);
Result<infra::Key> UnwrapDataKey(const KeyRing& keys, const UserRecord& user);

class UserKeys {
 public:
  UserKeys(AccountStore& store, const KeyRing& keys) : store_(store), keys_(keys) {}
  // kNotFound for an unknown user. The caller wipes the key after use.
  Result<infra::Key> DataKey(const std::string& user_id);

 private:
  AccountStore& store_;
  const KeyRing& keys_;
};

}  // namespace iv::domain
