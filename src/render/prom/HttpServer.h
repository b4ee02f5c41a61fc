// A minimal HTTP/1.x server for /metrics: one thread, one connection at a
// time, every read and write bounded in time and size, so a slow or hostile
// client delays a scrape by at most a few seconds and cannot crash ipctop.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <variant>

namespace ipctop::render::prom {

struct HttpResponse {
  int status = 200;
  std::string reason = "OK";
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  bool head = false;          // HEAD: the headers of GET, no body
  std::string extra_headers;  // "Name: value\r\n" lines
};

inline constexpr size_t kMaxRequestHead = 8192;

// What to answer to a request head (the bytes up to the blank line, or all
// that came when there is none). Pure, for tests: `metrics` renders the body.
HttpResponse respond(std::string_view request_head, const std::function<std::string()>& metrics);

// The bytes on the wire.
std::string serialize(const HttpResponse& r);

class HttpServer {
 public:
  // host: a numeric IPv4 or IPv6 address (no brackets); port 0 picks a free one.
  // Binds and listens (a port below 1024 needs privileges); serve() starts
  // the thread that answers, which ipctop does once it dropped them (a
  // thread keeps the capabilities it was created with).
  static std::variant<std::unique_ptr<HttpServer>, std::string> listen(
      const std::string& host, uint16_t port, std::function<std::string()> metrics);
  // listen(), then serve().
  static std::variant<std::unique_ptr<HttpServer>, std::string> start(
      const std::string& host, uint16_t port, std::function<std::string()> metrics);
  void serve();  // starts the server thread; once
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const;  // http://HOST:PORT/metrics
  uint64_t requests() const { return requests_.load(); }

 private:
  HttpServer(int listen_fd, int wake_fd, std::string host, uint16_t port,
             std::function<std::string()> metrics);
  void run();
  void handle(int conn);

  int listen_fd_ = -1;
  int wake_fd_ = -1;  // an eventfd: tells the thread to end
  std::string host_;
  uint16_t port_ = 0;
  std::function<std::string()> metrics_;
  std::atomic<uint64_t> requests_{0};
  std::thread thread_;
};

}  // namespace ipctop::render::prom
