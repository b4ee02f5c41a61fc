// Fuzz input -> a small file tree, for parsers that read files (/proc,
// /proc/sys, /dev/mqueue). The input is a sequence of chunks, each a 16-bit
// little-endian length and that many bytes; chunk i becomes the content of
// paths[i], and a path without a chunk is left absent (the "file missing"
// case). The tree lives in one private temporary directory per process.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

inline std::vector<std::string_view> chunks(const uint8_t* data, size_t size, size_t max) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos + 2 <= size && out.size() < max) {
    size_t len = data[pos] | (size_t{data[pos + 1]} << 8);
    pos += 2;
    if (len > size - pos) len = size - pos;
    out.emplace_back(reinterpret_cast<const char*>(data + pos), len);
    pos += len;
  }
  return out;
}

class Tree {
 public:
  Tree() {
    char tmpl[] = "/tmp/ipctop-fuzz-XXXXXX";
    if (!mkdtemp(tmpl)) std::abort();
    root_ = tmpl;
  }
  ~Tree() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  const std::string& root() const { return root_; }

  // Writes each chunk to its path (relative to the root), removes the rest.
  void fill(const std::vector<std::string>& paths, const std::vector<std::string_view>& content) {
    for (size_t i = 0; i < paths.size(); ++i) {
      std::filesystem::path p = root_ + "/" + paths[i];
      std::error_code ec;
      if (i >= content.size()) {
        std::filesystem::remove(p, ec);
        continue;
      }
      std::filesystem::create_directories(p.parent_path(), ec);
      int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd < 0) continue;
      const char* at = content[i].data();
      size_t left = content[i].size();
      while (left) {
        ssize_t n = write(fd, at, left);
        if (n <= 0) break;
        at += n;
        left -= static_cast<size_t>(n);
      }
      close(fd);
    }
  }

 private:
  std::string root_;
};

}  // namespace fuzz
