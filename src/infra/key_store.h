// Key store: where the master key comes from.
//
// The master key wraps every user's data key (crypto.h WrapKey), so whoever
// reads it can read every user's data, and losing it loses every user's data.
// It lives outside the database and outside the blob store, so a leaked
// database dump or blob backup alone decrypts nothing. Back it up separately.
//
// Two sources, in the order the service tries them:
//   - an environment variable holding 64 hex digits (MasterKeyFromHex), for
//     deployments that inject secrets;
//   - a key file (LoadOrCreateMasterKey), created on first start.
//
// Thread-safety: both functions are safe to call from any thread; two
// processes starting together on an empty path agree on one key (O_EXCL).
// The caller owns the returned key and wipes it (crypto.h Wipe) when done.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "infra/crypto.h"

namespace iv::infra {

// Reads the master key from `path`: 64 hex digits and an optional newline.
// When the file does not exist, creates it with a new random key: mode 0600,
// created exclusively, fsynced together with its directory (created 0700 when
// missing), so the key is on disk before anything is encrypted under it.
//
// Errors:
//   PermissionDenied  the file is accessible to group or others (mode & 077):
//                     a key anyone on the machine can read is refused, like
//                     ssh refuses such private keys; fix with chmod 600.
//   InvalidArgument   the file is not a regular file, or its content is not
//                     64 hex digits (or is all zeros, a placeholder).
//   Internal          the file or its directory cannot be read or written.
// Messages name the path and never contain key material.
Result<Key> LoadOrCreateMasterKey(const std::string& path);

// Parses 64 hex digits (either case; surrounding whitespace is ignored).
// InvalidArgument otherwise, and for the all-zero key.
Result<Key> MasterKeyFromHex(std::string_view hex);

}  // namespace iv::infra
