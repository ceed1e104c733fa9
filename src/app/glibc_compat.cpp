// Compiled only into the static Lambda build (GATEHOUSE_STATIC_LAMBDA).
//
// Debian's libcrypt.a (libxcrypt, built against glibc 2.36) calls
// arc4random_buf, which glibc only gained in 2.36 (symbol GLIBC_2.36).
// Amazon Linux 2023, where the artifact runs, has glibc 2.34, so linked
// against libc the binary would fail to load there. Defined here, in an
// object file of the executable itself, the linker resolves libcrypt's
// reference to these instead of libc's; they sit on getrandom(2)
// (glibc 2.25, Linux 3.17), the kernel CSPRNG that glibc's own versions
// use too. scripts/check-lambda-binary.sh fails the package if a newer
// symbol ever comes back.
#include <sys/random.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" {

void arc4random_buf(void* buffer, std::size_t size) noexcept {
  auto* out = static_cast<unsigned char*>(buffer);
  while (size > 0) {
    // getrandom returns at most 32 MiB per call and may be interrupted
    // by a signal before reading anything: loop until the buffer is full.
    const ssize_t got = ::getrandom(out, size, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      // Like glibc's: there is no way to report failure, and handing
      // back predictable bytes to a salt generator is worse than dying.
      std::abort();
    }
    out += got;
    size -= static_cast<std::size_t>(got);
  }
}

std::uint32_t arc4random() noexcept {
  std::uint32_t value = 0;
  arc4random_buf(&value, sizeof value);
  return value;
}

}  // extern "C"
