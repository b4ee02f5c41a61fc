#include "record/OutputFile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace ipctop::record {

namespace {

constexpr mode_t kMode = 0600;

FileError errno_error(const std::string& path, const char* what, int err) {
  std::string hint;
  struct stat st {};
  if (err == EEXIST && lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    hint = "; it is a symbolic link, and ipctop does not write through one";
  else if (err == EEXIST)
    hint = "; choose another name or pass --force to replace it";
  if (err == ELOOP) hint = "; ipctop does not write through symbolic links";
  if (err == EACCES || err == EPERM) hint = "; check the directory's permissions";
  if (err == ENOENT) hint = "; the directory does not exist";
  return {fmt::format("{} '{}': {}{}", what, path, strerror(err), hint)};
}

// --force: replace only a regular file. Opening with O_NONBLOCK first and
// checking the type keeps a FIFO from blocking the open and a device from
// being truncated.
int open_forced(const std::string& path, FileError& error) {
  struct stat before {};
  if (lstat(path.c_str(), &before) == 0 && !S_ISREG(before.st_mode) && !S_ISLNK(before.st_mode)) {
    error = {fmt::format("cannot create '{}': it exists and is not a regular file", path)};
    return -1;
  }
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, kMode);
  if (fd < 0) {
    error = errno_error(path, "cannot create", errno);
    return -1;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    error = {fmt::format("cannot create '{}': it exists and is not a regular file", path)};
    return -1;
  }
  int flags = fcntl(fd, F_GETFL);
  if (ftruncate(fd, 0) != 0 || fchmod(fd, kMode) != 0 || flags < 0 ||
      fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    error = errno_error(path, "cannot replace", errno);
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

bool wants_gzip(std::string_view path) {
  return path.size() > 3 && path.substr(path.size() - 3) == ".gz";
}

std::variant<std::unique_ptr<OutputFile>, FileError> OutputFile::create(const std::string& path,
                                                                        CreateOptions opts) {
  FileError error;
  int fd = -1;
  if (opts.force) {
    fd = open_forced(path, error);
  } else {
    fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, kMode);
    if (fd < 0) error = errno_error(path, "cannot create", errno);
  }
  if (fd < 0) return error;
  // The umask can only take bits away; make the mode exactly 0600 anyway.
  if (fchmod(fd, kMode) != 0) {
    error = errno_error(path, "cannot set the mode of", errno);
    ::close(fd);
    return error;
  }
  void* gz = nullptr;
  if (opts.compress) {
    gz = gzdopen(fd, "wb6");
    if (!gz) {
      ::close(fd);
      return FileError{fmt::format("cannot start a gzip stream in '{}'", path)};
    }
  }
  return std::unique_ptr<OutputFile>(new OutputFile(path, fd, gz));
}

std::optional<FileError> OutputFile::write(std::string_view bytes) {
  if (fd_ < 0) return FileError{fmt::format("'{}' is closed", path_)};
  if (gz_) {
    auto* gz = static_cast<gzFile>(gz_);
    while (!bytes.empty()) {
      unsigned chunk = static_cast<unsigned>(std::min<size_t>(bytes.size(), 1u << 30));
      int n = gzwrite(gz, bytes.data(), chunk);
      if (n <= 0) {
        int zerr = 0;
        const char* msg = gzerror(gz, &zerr);
        return FileError{
            fmt::format("writing '{}' failed: {}", path_, zerr == Z_ERRNO ? strerror(errno) : msg)};
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    // A sync flush per interval costs a few bytes of ratio and makes every
    // whole line readable even if ipctop is killed.
    if (gzflush(gz, Z_SYNC_FLUSH) != Z_OK)
      return FileError{fmt::format("writing '{}' failed: {}", path_, strerror(errno))};
    return std::nullopt;
  }
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return FileError{fmt::format("writing '{}' failed: {}", path_, strerror(errno))};
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return std::nullopt;
}

std::optional<FileError> OutputFile::close() {
  if (fd_ < 0) return std::nullopt;
  int rc = 0;
  if (gz_) {
    rc = gzclose(static_cast<gzFile>(gz_));  // closes fd_ too
    gz_ = nullptr;
  } else {
    rc = ::close(fd_);
  }
  fd_ = -1;
  if (rc != 0) return FileError{fmt::format("closing '{}' failed: {}", path_, strerror(errno))};
  return std::nullopt;
}

OutputFile::~OutputFile() { close(); }

}  // namespace ipctop::record
