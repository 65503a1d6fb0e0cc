#include "common/status.h"

namespace iv {

Status Status::Validation(std::vector<FieldError> errors) {
  std::string message;
  for (const auto& e : errors) {
    if (!message.empty()) message += "; ";
    message += e.field + ": " + e.message;
  }
  Status s(StatusCode::kInvalidArgument, message);
  s.field_errors_ = std::move(errors);
  return s;
}

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return 0;
    case StatusCode::kInternal:
      return 1;
    case StatusCode::kCanceled:
      return 130;  // conventional for SIGINT-terminated commands
    default:
      return 2;
  }
}

}  // namespace iv
