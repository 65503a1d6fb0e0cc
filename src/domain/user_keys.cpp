#include "domain/user_keys.h"

namespace iv::domain {

Result<infra::Key> UserKeys::DataKey(const std::string& user_id) {
  IV_ASSIGN_OR_RETURN(auto user, store_.FindUser(user_id));
  if (!user) return Status::NotFound("no such user");
  IV_ASSIGN_OR_RETURN(std::string wrapped, infra::FromBase64(user->dek_wrapped));
  return infra::UnwrapKey(keys_.master, wrapped, "user-dek:" + user->id);
}

}  // namespace iv::domain
