// Output files ipctop creates on request (--record, --dot): created without
// following a symlink, never clobbering an existing file unless forced,
// readable by the owner only (they hold process names and command lines),
// optionally gzip-compressed.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace ipctop::record {

struct FileError {
  std::string message;  // names the file, the errno text and what to do
};

struct CreateOptions {
  bool force = false;     // replace an existing regular file (never a symlink or a device)
  bool compress = false;  // gzip
};

// True when `path` asks for gzip by its name.
bool wants_gzip(std::string_view path);

class OutputFile {
 public:
  static std::variant<std::unique_ptr<OutputFile>, FileError> create(const std::string& path,
                                                                     CreateOptions opts);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Appends and pushes the bytes to the kernel (a gzip stream is flushed to a
  // byte boundary), so a reader or a crash sees every whole line written.
  std::optional<FileError> write(std::string_view bytes);
  // Ends the gzip stream and closes; the destructor does it too, silently.
  std::optional<FileError> close();
  const std::string& path() const { return path_; }

 private:
  OutputFile(std::string path, int fd, void* gz) : path_(std::move(path)), fd_(fd), gz_(gz) {}
  std::string path_;
  int fd_ = -1;
  void* gz_ = nullptr;  // gzFile when compressing
};

}  // namespace ipctop::record
