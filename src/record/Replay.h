// Reads a recording (--record): NDJSON "ipctop/1" snapshots, plain or
// gzip-compressed (recognized by content, not by name), one at a time, so a
// replay of a long recording needs the memory of one interval.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "model/Snapshot.h"
#include "record/OutputFile.h"

namespace ipctop::record {

struct EndOfRecording {};

class Replay {
 public:
  // "-" reads standard input.
  static std::variant<std::unique_ptr<Replay>, FileError> open(const std::string& path);
  ~Replay();
  Replay(const Replay&) = delete;
  Replay& operator=(const Replay&) = delete;

  // The next snapshot, the end, or an error naming the file and line.
  std::variant<Snapshot, EndOfRecording, FileError> next();
  uint64_t line() const { return line_; }

 private:
  Replay(std::string path, void* gz) : path_(std::move(path)), gz_(gz) {}
  std::variant<std::string, EndOfRecording, FileError> read_line();
  std::string path_;
  void* gz_ = nullptr;  // gzFile: reads plain files as they are
  uint64_t line_ = 0;
  std::string pending_;  // read, not yet returned
  size_t scanned_ = 0;   // of pending_, the bytes known to hold no newline
  bool at_end_ = false;
};

}  // namespace ipctop::record
