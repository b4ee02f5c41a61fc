#include "render/prom/HttpServer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "render/prom/Metrics.h"

namespace ipctop::render::prom {

namespace {

using Clock = std::chrono::steady_clock;

// Prometheus' own scrape timeout defaults to 10 s: a client that has not
// sent its request in 3 s is not a scraper.
constexpr auto kReadTimeout = std::chrono::seconds(3);
constexpr auto kWriteTimeout = std::chrono::seconds(5);
constexpr auto kDrainTimeout = std::chrono::milliseconds(200);

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

HttpResponse status(int code, std::string reason, std::string body) {
  HttpResponse r;
  r.status = code;
  r.reason = std::move(reason);
  r.body = std::move(body);
  return r;
}

std::vector<std::string_view> split_spaces(std::string_view line) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= line.size()) {
    size_t sp = line.find(' ', pos);
    if (sp == std::string_view::npos) sp = line.size();
    parts.push_back(line.substr(pos, sp - pos));
    pos = sp + 1;
  }
  return parts;
}

bool is_token(std::string_view s) {
  if (s.empty() || s.size() > 16) return false;
  for (char c : s)
    if (c < 'A' || c > 'Z') return false;
  return true;
}

}  // namespace

HttpResponse respond(std::string_view head, const std::function<std::string()>& metrics) {
  size_t eol = head.find('\n');
  if (eol == std::string_view::npos) return status(400, "Bad Request", "no request line\n");
  std::string_view line = head.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  auto parts = split_spaces(line);
  if (parts.size() != 3 || !is_token(parts[0]) || parts[1].empty())
    return status(400, "Bad Request", "malformed request line\n");
  if (parts[2] != "HTTP/1.1" && parts[2] != "HTTP/1.0")
    return status(505, "HTTP Version Not Supported", "HTTP/1.0 or HTTP/1.1 only\n");
  const bool head_only = parts[0] == "HEAD";
  if (parts[0] != "GET" && !head_only) {
    HttpResponse r = status(405, "Method Not Allowed", "GET or HEAD only\n");
    r.extra_headers = "Allow: GET, HEAD\r\n";
    return r;
  }
  std::string_view path = parts[1].substr(0, parts[1].find('?'));
  HttpResponse r;
  if (path == "/metrics") {
    r = status(200, "OK", metrics());
    r.content_type = kContentType;
  } else if (path == "/") {
    r = status(200, "OK", "ipctop Prometheus exporter: the metrics are at /metrics\n");
  } else {
    r = status(404, "Not Found", "not found: the metrics are at /metrics\n");
  }
  r.head = head_only;
  return r;
}

std::string serialize(const HttpResponse& r) {
  std::string out = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n",
      r.status, r.reason, r.content_type, r.body.size(), r.extra_headers);
  if (!r.head) out += r.body;
  return out;
}

std::variant<std::unique_ptr<HttpServer>, std::string> HttpServer::listen(
    const std::string& host, uint16_t port, std::function<std::string()> metrics) {
  const bool v6 = host.find(':') != std::string::npos;
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    if (inet_pton(AF_INET6, host.c_str(), &a->sin6_addr) != 1)
      return fmt::format("'{}' is not an IPv6 address", host);
    len = sizeof(*a);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1)
      return fmt::format("'{}' is not an IPv4 address", host);
    len = sizeof(*a);
  }
  const std::string shown =
      v6 ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fmt::format("cannot create a socket for {}: {}", shown, strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  // [::] means IPv6 only; 0.0.0.0 is the way to ask for IPv4.
  if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 16) != 0) {
    std::string msg = fmt::format("cannot listen on {}: {}", shown, strerror(errno));
    if (errno == EADDRINUSE) msg += " (choose another port)";
    if (errno == EADDRNOTAVAIL) msg += " (no interface has this address)";
    close(fd);
    return msg;
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  uint16_t actual = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                             : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    close(fd);
    return fmt::format("cannot create an eventfd: {}", strerror(errno));
  }
  return std::unique_ptr<HttpServer>(new HttpServer(fd, wake, host, actual, std::move(metrics)));
}

HttpServer::HttpServer(int listen_fd, int wake_fd, std::string host, uint16_t port,
                       std::function<std::string()> metrics)
    : listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      host_(std::move(host)),
      port_(port),
      metrics_(std::move(metrics)) {}

std::variant<std::unique_ptr<HttpServer>, std::string> HttpServer::start(
    const std::string& host, uint16_t port, std::function<std::string()> metrics) {
  auto made = listen(host, port, std::move(metrics));
  if (auto* server = std::get_if<std::unique_ptr<HttpServer>>(&made)) (*server)->serve();
  return made;
}

void HttpServer::serve() {
  if (thread_.joinable()) return;
  // Signals go to the main thread, whose poll they must interrupt: the
  // server thread starts with every signal blocked.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  thread_ = std::thread([this] { run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

HttpServer::~HttpServer() {
  uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof(one)) < 0) { /* the thread is gone already */
  }
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
  close(wake_fd_);
}

std::string HttpServer::url() const {
  bool v6 = host_.find(':') != std::string::npos;
  return v6 ? fmt::format("http://[{}]:{}/metrics", host_, port_)
            : fmt::format("http://{}:{}/metrics", host_, port_);
}

void HttpServer::run() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    int conn = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (conn < 0) {
      // Out of descriptors or memory: back off instead of spinning.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        pollfd wake{wake_fd_, POLLIN, 0};
        if (poll(&wake, 1, 100) > 0) return;
      }
      continue;
    }
    handle(conn);
    close(conn);
  }
}

void HttpServer::handle(int conn) {
  ++requests_;
  std::string head;
  auto deadline = Clock::now() + kReadTimeout;
  HttpResponse response;
  bool answered = false;
  for (;;) {
    if (head.find("\r\n\r\n") != std::string::npos || head.find("\n\n") != std::string::npos) {
      response = respond(head, metrics_);
      answered = true;
      break;
    }
    if (head.size() > kMaxRequestHead) {
      response = status(431, "Request Header Fields Too Large", "request head over 8 KiB\n");
      answered = true;
      break;
    }
    pollfd p{conn, POLLIN, 0};
    int ready = poll(&p, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      response = status(408, "Request Timeout", "the request took too long\n");
      answered = true;
      break;
    }
    char buf[4096];
    ssize_t n = recv(conn, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;  // the client went away, or reset
    head.append(buf, static_cast<size_t>(n));
  }
  if (!answered) return;
  const std::string bytes = serialize(response);
  size_t sent = 0;
  deadline = Clock::now() + kWriteTimeout;
  while (sent < bytes.size()) {
    ssize_t n = send(conn, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return;
    pollfd p{conn, POLLOUT, 0};
    if (poll(&p, 1, remaining_ms(deadline)) <= 0) return;  // a client that does not read
  }
  // Read what the client still sends (a body, a pipelined request) before
  // closing, so the close does not reset the connection under the response.
  shutdown(conn, SHUT_WR);
  deadline = Clock::now() + kDrainTimeout;
  for (size_t drained = 0; drained < (64u << 10);) {
    pollfd p{conn, POLLIN, 0};
    if (poll(&p, 1, remaining_ms(deadline)) <= 0) break;
    char buf[4096];
    ssize_t n = recv(conn, buf, sizeof(buf), 0);
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
}

}  // namespace ipctop::render::prom
