#include "domain/user_keys.h"

namespace iv::domain {

namespace {
std::string Context(const std::string& user_id) { return "user-dek:" + user_id; }
}  // namespace

std::string WrapDataKey(const KeyRing& keys, const std::string& user_id, const infra::Key& dek) {
  return infra::Base64(infra::WrapKey(keys.master, dek, Context(user_id)));
}

Result<infra::Key> UnwrapDataKey(const KeyRing& keys, const UserRecord& user) {
  IV_ASSIGN_OR_RETURN(std::string wrapped, infra::FromBase64(user.dek_wrapped));
  return infra::UnwrapKey(keys.master, wrapped, Context(user.id));
}

Result<infra::Key> UserKeys::DataKey(const std::string& user_id) {
  IV_ASSIGN_OR_RETURN(auto user, store_.FindUser(user_id));
  if (!user) return Status::NotFound("no such user");
  return UnwrapDataKey(keys_, *user);
}

}  // namespace iv::domain
