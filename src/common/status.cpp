#include "common/status.h"

namespace iv {

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
