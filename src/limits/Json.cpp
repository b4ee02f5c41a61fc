#include "limits/Internal.h"

namespace ipctop::limits {

namespace {

using detail::key_hex;
using detail::octal;
using nlohmann::json;

// Integers go in as uint64_t/int64_t so nlohmann keeps them exact; never via double.
template <typename T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

std::string_view group_key(Group g) {
  switch (g) {
    case Group::SharedMemory:
      return "shared_memory";
    case Group::MessageQueues:
      return "message_queues";
    case Group::Semaphores:
      return "semaphores";
    case Group::PosixMessageQueues:
      return "posix_message_queues";
    case Group::Pipes:
      return "pipes";
    case Group::Files:
      return "files";
    case Group::Sockets:
      return "sockets";
  }
  return "other";
}

json process(const ProcessRef& p) { return json{{"pid", p.pid}, {"comm", opt(p.comm)}}; }

json processes(const std::vector<ProcessRef>& ps) {
  json out = json::array();
  for (const auto& p : ps) out.push_back(process(p));
  return out;
}

}  // namespace

json to_json(const Report& report) {
  json limits = json::array();
  for (const Limit& l : report.limits) {
    limits.push_back(json{
        {"name", l.name},
        {"group", group_key(l.group)},
        {"value", opt(l.value)},
        {"unit", l.unit},
        {"value_bytes", opt(l.value_bytes)},
        {"used", opt(l.used)},
        {"used_pct", opt(l.used_pct)},
        {"used_what", l.used_what.empty() ? json(nullptr) : json(l.used_what)},
        {"hard", opt(l.hard)},
        {"unlimited", l.unlimited},
        {"description", l.description},
        {"source", l.source},
        {"error", l.error.empty() ? json(nullptr) : json(l.error)},
    });
  }
  json warnings = json::array();
  for (const Warning& w : report.warnings) {
    warnings.push_back(json{
        {"limit", w.limit},
        {"severity", w.severity == Severity::Warning ? "warning" : "info"},
        {"message", w.message},
        {"fix", w.fix},
    });
  }
  const Objects& o = report.objects;
  json shm = json::array();
  for (const auto& s : o.sysv_shm) {
    shm.push_back(json{
        {"key", key_hex(s.key)},
        {"shmid", s.shmid},
        {"uid", s.uid},
        {"owner", s.owner},
        {"perms", octal(s.perms)},
        {"size", s.size},
        {"nattch", s.nattch},
        {"cpid", process(s.creator)},
        {"lpid", process(s.last_user)},
        {"dest", s.dest},
        {"locked", s.locked},
    });
  }
  json msg = json::array();
  for (const auto& m : o.sysv_msg) {
    msg.push_back(json{
        {"key", key_hex(m.key)},
        {"msqid", m.msqid},
        {"uid", m.uid},
        {"owner", m.owner},
        {"perms", octal(m.perms)},
        {"cbytes", m.cbytes},
        {"qnum", m.qnum},
        {"qbytes", opt(m.qbytes)},
        {"lspid", process(m.last_sender)},
        {"lrpid", process(m.last_receiver)},
    });
  }
  json sem = json::array();
  for (const auto& s : o.sysv_sem) {
    sem.push_back(json{
        {"key", key_hex(s.key)},
        {"semid", s.semid},
        {"uid", s.uid},
        {"owner", s.owner},
        {"perms", octal(s.perms)},
        {"nsems", s.nsems},
    });
  }
  json mq = json::array();
  for (const auto& q : o.posix_mq) {
    mq.push_back(json{
        {"name", q.name},
        {"uid", q.uid},
        {"owner", q.owner},
        {"perms", octal(q.perms)},
        {"qsize", opt(q.qsize)},
        {"notify_pid", opt(q.notify_pid)},
        {"open_by", processes(q.open_by)},
    });
  }
  json pshm = json::array();
  for (const auto& s : o.posix_shm) {
    pshm.push_back(json{
        {"name", s.name},
        {"uid", s.uid},
        {"owner", s.owner},
        {"perms", octal(s.perms)},
        {"size", s.size},
        {"semaphore", s.semaphore},
        {"open_by", processes(s.open_by)},
        {"mapped_by", processes(s.mapped_by)},
    });
  }
  json pipes = json::array();
  for (const auto& u : o.pipe_users) {
    pipes.push_back(json{
        {"uid", u.uid},
        {"owner", u.owner},
        {"pages", u.pages},
        {"pipes", u.pipes},
    });
  }
  return json{
      {"limits", std::move(limits)},
      {"warnings", std::move(warnings)},
      {"objects", json{{"sysv_shm", std::move(shm)},
                       {"sysv_msg", std::move(msg)},
                       {"sysv_sem", std::move(sem)},
                       {"posix_mq", std::move(mq)},
                       {"posix_shm", std::move(pshm)},
                       {"pipe_users", std::move(pipes)}}},
      {"errors", report.errors},
      {"unreadable_processes", report.unreadable_processes},
      {"unmeasured_pipe_processes", report.unmeasured_pipe_processes},
  };
}

}  // namespace ipctop::limits
