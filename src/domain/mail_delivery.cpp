#include "domain/mail_delivery.h"

#include "infra/crypto.h"

namespace iv::domain {

Result<int> DeliverPendingMail(AccountStore& store, const KeyRing& keys, MailTransport& transport,
                               const infra::Clock& clock) {
  IV_ASSIGN_OR_RETURN(auto pending, store.PendingMail(50));
  int sent = 0;
  for (const auto& mail : pending) {
    IV_ASSIGN_OR_RETURN(std::string sealed, infra::FromBase64(mail.sealed));
    IV_ASSIGN_OR_RETURN(std::string message, infra::Open(keys.outbox, sealed, "outbox:" + mail.id));
    Status s = transport.Send(mail.id, message);
    infra::Wipe(message);
    if (!s.ok()) continue;  // stays queued
    IV_RETURN_IF_ERROR(store.MarkMailSent(mail.id, infra::ToUnixMillis(clock.Now())));
    ++sent;
  }
  return sent;
}

}  // namespace iv::domain
