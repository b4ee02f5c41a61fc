#include "record/Replay.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "render/json/JsonParse.h"

namespace ipctop::record {

namespace {
// One interval with 10 000 threads is about 2 MiB; far beyond that is not a
// recording ipctop wrote.
constexpr size_t kMaxLine = 256u << 20;
}  // namespace

std::variant<std::unique_ptr<Replay>, FileError> Replay::open(const std::string& path) {
  int fd = path == "-" ? dup(STDIN_FILENO) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return FileError{fmt::format("cannot open the recording '{}': {}", path, strerror(errno))};
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return FileError{fmt::format("cannot read the recording '{}': it is a directory", path)};
  }
  gzFile gz = gzdopen(fd, "rb");
  if (!gz) {
    ::close(fd);
    return FileError{fmt::format("cannot read the recording '{}'", path)};
  }
  gzbuffer(gz, 128u << 10);
  return std::unique_ptr<Replay>(new Replay(path, gz));
}

Replay::~Replay() {
  if (gz_) gzclose(static_cast<gzFile>(gz_));
}

// gzread, not gzgets: a line with a NUL byte in it must reach the JSON
// parser whole (and be refused there), not be cut at the NUL.
std::variant<std::string, EndOfRecording, FileError> Replay::read_line() {
  auto* gz = static_cast<gzFile>(gz_);
  for (;;) {
    size_t eol = pending_.find('\n', scanned_);
    if (eol != std::string::npos) {
      std::string line = pending_.substr(0, eol);
      pending_.erase(0, eol + 1);
      scanned_ = 0;
      return line;
    }
    scanned_ = pending_.size();
    if (pending_.size() > kMaxLine)
      return FileError{fmt::format("{}:{}: a line longer than {} MiB is not a snapshot", path_,
                                   line_ + 1, kMaxLine >> 20)};
    if (at_end_) {
      if (pending_.empty()) return EndOfRecording{};
      pending_.clear();
      return FileError{
          fmt::format("{}:{}: the last line is incomplete (no newline: a recording "
                      "cut short?)",
                      path_, line_ + 1)};
    }
    char buf[64 * 1024];
    int n = gzread(gz, buf, sizeof(buf));
    if (n < 0) {
      int zerr = 0;
      const char* msg = gzerror(gz, &zerr);
      at_end_ = true;
      pending_.clear();
      return FileError{fmt::format("{}:{}: {} (a recording cut short?)", path_, line_ + 1,
                                   zerr == Z_ERRNO ? strerror(errno) : msg)};
    }
    if (n == 0) {
      // gzread reports a truncated gzip stream as an end with an error set.
      int zerr = 0;
      const char* msg = gzerror(gz, &zerr);
      at_end_ = true;
      if (zerr != Z_OK && zerr != Z_STREAM_END) {
        pending_.clear();
        return FileError{fmt::format("{}:{}: {} (a recording cut short?)", path_, line_ + 1,
                                     zerr == Z_ERRNO ? strerror(errno) : msg)};
      }
      continue;
    }
    pending_.append(buf, static_cast<size_t>(n));
  }
}

std::variant<Snapshot, EndOfRecording, FileError> Replay::next() {
  for (;;) {
    auto got = read_line();
    if (auto* end = std::get_if<EndOfRecording>(&got)) return *end;
    if (auto* err = std::get_if<FileError>(&got)) return *err;
    ++line_;
    const std::string& line = std::get<std::string>(got);
    if (line.empty()) continue;
    auto parsed = render::from_json_line(line);
    if (auto* err = std::get_if<render::ParseError>(&parsed))
      return FileError{
          fmt::format("{}:{}: not an ipctop/1 snapshot: {}", path_, line_, err->message)};
    return std::move(std::get<Snapshot>(parsed));
  }
}

}  // namespace ipctop::record
