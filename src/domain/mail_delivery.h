// Delivering the mail outbox: messages are queued (sealed) in the same
// transaction as what they announce, and handed to a transport afterwards,
// so a crash never sends mail about something that was not stored, nor
// loses mail about something that was.
#pragma once

#include <string>

#include "common/status.h"
#include "domain/account_store.h"
#include "domain/key_ring.h"
#include "infra/clock.h"

namespace iv::domain {

// Where messages go: .eml files (infra/file_mail_transport.h) or SMTP.
class MailTransport {
 public:
  virtual ~MailTransport() = default;
  // `message` is a complete RFC 5322 message with CRLF line ends; `id` is
  // unique per message (retries reuse it).
  virtual Status Send(const std::string& id, const std::string& message) = 0;
};

// Sends what is pending; returns how many messages went out. A message
// whose transport fails stays queued for the next round.
Result<int> DeliverPendingMail(AccountStore& store, const KeyRing& keys, MailTransport& transport,
                               const infra::Clock& clock);

}  // namespace iv::domain
