#include "infra/file_mail_transport.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace iv::infra {

Status FileMailTransport::Send(const std::string& id, const std::string& message) {
  ::mkdir(dir_.c_str(), 0700);
  // Written under a temporary name and renamed, so a reader never sees half
  // a message.
  std::string final_path = dir_ + "/" + id + ".eml";
  std::string temp_path = dir_ + "/." + id + ".tmp";
  int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("cannot write mail to " + dir_ + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < message.size()) {
    ssize_t n = ::write(fd, message.data() + done, message.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(temp_path.c_str());
      return Status::Internal("cannot write mail to " + dir_ + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(temp_path.c_str(), final_path.c_str()) != 0) {
    ::unlink(temp_path.c_str());
    return Status::Internal("cannot write mail to " + dir_ + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace iv::infra
