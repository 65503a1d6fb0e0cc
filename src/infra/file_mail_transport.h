// A MailTransport that writes each message as <dir>/<id>.eml (mode 0600):
// the default on a single machine, and what tests read. Any mail client
// opens .eml files; an operator can forward them or configure SMTP.
#pragma once

#include <string>

#include "domain/mail_delivery.h"

namespace iv::infra {

class FileMailTransport final : public domain::MailTransport {
 public:
  explicit FileMailTransport(std::string dir) : dir_(std::move(dir)) {}
  Status Send(const std::string& id, const std::string& message) override;

 private:
  std::string dir_;
};

}  // namespace iv::infra
