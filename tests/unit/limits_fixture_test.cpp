#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "limits/Limits.h"
#include "model/Text.h"

namespace ipctop::limits {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kDefaultShm = 18446744073692774399u;
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kMiB = uint64_t{1} << 20;

const fs::path kFixtures = fs::path(IPCTOP_FIXTURES) / "limits";
const fs::path kGolden = fs::path(IPCTOP_FIXTURES).parent_path() / "golden" / "limits";

Roots roots_at(const fs::path& dir) {
  return Roots{(dir / "proc").string(), (dir / "dev_shm").string(), (dir / "dev_mqueue").string()};
}

// Everything that would otherwise come from the machine running the tests.
Host test_host(FsUsage dev_shm = {kGiB, 4 * kMiB, true}) {
  Host h;
  h.page_size = 4096;
  h.rlimit_msgqueue = RLimit{819200, 819200};
  h.rlimit_memlock = RLimit{8 * kMiB, 8 * kMiB};
  h.fs_usage = [dev_shm](const std::string&) { return std::optional<FsUsage>(dev_shm); };
  h.user_name = [](uint32_t uid) -> std::optional<std::string> {
    if (uid == 0) return "root";
    if (uid == 1000) return "alice";
    return std::nullopt;
  };
  return h;
}

Host host_for(const std::string& name) {
  if (name == "nearly_full") return test_host({64 * kMiB, 61 * kMiB, true});
  return test_host();
}

// git keeps neither the owner nor the mode of the files standing in for POSIX objects.
void normalise_posix_objects(Report& r) {
  for (auto& q : r.objects.posix_mq) {
    q.uid = 0;
    q.owner = "root";
    q.perms = 0600;
  }
  for (auto& s : r.objects.posix_shm) {
    s.uid = 0;
    s.owner = "root";
    s.perms = 0600;
  }
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size()))
    s.replace(i, from.size(), to);
  return s;
}

// Goldens must not depend on where the tree was checked out (line wrapping included).
void normalise_paths(Report& r, const fs::path& root) {
  const auto fix = [&](std::string& s) { s = replace_all(s, root.string(), "<root>"); };
  for (auto& e : r.errors) fix(e);
  for (auto& l : r.limits) {
    fix(l.error);
    fix(l.source);
  }
  for (auto& w : r.warnings) {
    fix(w.message);
    fix(w.fix);
  }
}

Report load(const std::string& name) {
  Report r = collect(roots_at(kFixtures / name), host_for(name));
  normalise_posix_objects(r);
  normalise_paths(r, kFixtures / name);
  return r;
}

const Limit& limit(const Report& r, std::string_view name) {
  const Limit* l = find_limit(r, name);
  if (l == nullptr) throw std::runtime_error("no limit " + std::string(name));
  return *l;
}

std::vector<const Warning*> warnings_for(const Report& r, std::string_view name,
                                         Severity sev = Severity::Warning) {
  std::vector<const Warning*> out;
  for (const auto& w : r.warnings)
    if (w.limit == name && w.severity == sev) out.push_back(&w);
  return out;
}

std::size_t count(const Report& r, Severity sev) {
  return static_cast<std::size_t>(std::count_if(
      r.warnings.begin(), r.warnings.end(), [&](const Warning& w) { return w.severity == sev; }));
}

std::vector<int64_t> pids(const std::vector<ProcessRef>& ps) {
  std::vector<int64_t> out;
  for (const auto& p : ps) out.push_back(p.pid);
  return out;
}

void expect_fits_and_clean(const std::string& table) {
  std::istringstream in(table);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    EXPECT_LE(display_width(line), 100) << "line " << n << ": " << line;
    EXPECT_TRUE(is_clean(line)) << "line " << n << ": " << sanitize(line);
  }
}

// ---------------------------------------------------------------------------------------------
// defaults: the values of a stock kernel and the objects ipcmk creates

TEST(LimitsDefaults, HugeShmDefaultsAreExactAndUnlimited) {
  const Report r = load("defaults");
  const Limit& shmmax = limit(r, "kernel.shmmax");
  EXPECT_EQ(shmmax.value, kDefaultShm);
  EXPECT_EQ(shmmax.unit, "bytes");
  EXPECT_TRUE(shmmax.unlimited);
  EXPECT_EQ(shmmax.used, uint64_t{4096});  // the largest segment
  EXPECT_FALSE(shmmax.used_pct);
  const Limit& shmall = limit(r, "kernel.shmall");
  EXPECT_EQ(shmall.value, kDefaultShm);
  EXPECT_EQ(shmall.unit, "pages");
  EXPECT_FALSE(shmall.value_bytes) << "pages x page size overflows 64 bits";
  EXPECT_TRUE(shmall.unlimited);
  EXPECT_EQ(shmall.used, uint64_t{1});
}

TEST(LimitsDefaults, JsonCarriesValuesAbove2Pow53Exactly) {
  const Report r = load("defaults");
  const std::string text = to_json(r).dump();
  EXPECT_NE(text.find("\"value\":18446744073692774399,"), std::string::npos);
  EXPECT_EQ(text.find("1.8446744073692774e+19"), std::string::npos);
  const auto j = nlohmann::json::parse(text);
  ASSERT_TRUE(j["limits"][0]["value"].is_number_unsigned());
  EXPECT_EQ(j["limits"][0]["name"], "kernel.shmmax");
  EXPECT_EQ(j["limits"][0]["value"].get<uint64_t>(), kDefaultShm);
  EXPECT_EQ(j["limits"][1]["value"].get<uint64_t>(), kDefaultShm);
  EXPECT_TRUE(j["limits"][1]["value_bytes"].is_null());
}

TEST(LimitsDefaults, OnlyInformationalNotes) {
  const Report r = load("defaults");
  EXPECT_EQ(count(r, Severity::Warning), 0u);
  ASSERT_EQ(warnings_for(r, "kernel.shmmax", Severity::Info).size(), 1u);
  ASSERT_EQ(warnings_for(r, "kernel.shmall", Severity::Info).size(), 1u);
  const Warning& w = *warnings_for(r, "kernel.shmall", Severity::Info)[0];
  EXPECT_NE(w.message.find("no limit"), std::string::npos);
  // 24684084 kB of RAM in 4 KiB pages
  EXPECT_NE(w.fix.find("sysctl -w kernel.shmall=6171021"), std::string::npos) << w.fix;
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
}

TEST(LimitsDefaults, EveryListedLimitIsPresent) {
  const Report r = load("defaults");
  for (const char* name : {"kernel.shmmax",
                           "kernel.shmall",
                           "kernel.shmmni",
                           "kernel.shm_rmid_forced",
                           "kernel.msgmax",
                           "kernel.msgmnb",
                           "kernel.msgmni",
                           "kernel.sem.semmsl",
                           "kernel.sem.semmns",
                           "kernel.sem.semopm",
                           "kernel.sem.semmni",
                           "fs.mqueue.msg_max",
                           "fs.mqueue.msgsize_max",
                           "fs.mqueue.queues_max",
                           "fs.mqueue.msg_default",
                           "fs.mqueue.msgsize_default",
                           "fs.pipe-max-size",
                           "fs.pipe-user-pages-soft",
                           "fs.pipe-user-pages-hard",
                           "fs.file-max",
                           "fs.nr_open",
                           "net.core.somaxconn",
                           "net.core.rmem_max",
                           "net.core.wmem_max",
                           "net.unix.max_dgram_qlen",
                           "dev_shm.size",
                           "rlimit.msgqueue",
                           "rlimit.memlock",
                           "page_size"}) {
    const Limit* l = find_limit(r, name);
    ASSERT_NE(l, nullptr) << name;
    EXPECT_TRUE(l->value.has_value()) << name << ": " << l->error;
    EXPECT_FALSE(l->description.empty()) << name;
  }
  EXPECT_EQ(limit(r, "kernel.sem.semmsl").value, uint64_t{32000});
  EXPECT_EQ(limit(r, "kernel.sem.semmns").value, uint64_t{1024000000});
  EXPECT_EQ(limit(r, "kernel.sem.semopm").value, uint64_t{500});
  EXPECT_EQ(limit(r, "kernel.sem.semmni").value, uint64_t{32000});
  EXPECT_EQ(limit(r, "fs.pipe-user-pages-soft").value_bytes, uint64_t{64} * kMiB);
  EXPECT_TRUE(limit(r, "fs.pipe-user-pages-hard").unlimited);  // 0 = off
  EXPECT_FALSE(limit(r, "fs.pipe-user-pages-soft").unlimited);
}

TEST(LimitsDefaults, UsageComesFromObjectsAndFileNr) {
  const Report r = load("defaults");
  const Limit& shmmni = limit(r, "kernel.shmmni");
  EXPECT_EQ(shmmni.used, uint64_t{1});
  ASSERT_TRUE(shmmni.used_pct);
  EXPECT_DOUBLE_EQ(*shmmni.used_pct, 100.0 / 4096);
  EXPECT_EQ(limit(r, "kernel.msgmni").used, uint64_t{1});
  EXPECT_EQ(limit(r, "kernel.sem.semmni").used, uint64_t{1});
  EXPECT_EQ(limit(r, "kernel.sem.semmns").used, uint64_t{3});
  EXPECT_EQ(limit(r, "kernel.sem.semmsl").used, uint64_t{3});
  EXPECT_EQ(limit(r, "fs.mqueue.queues_max").used, uint64_t{1});
  EXPECT_EQ(limit(r, "fs.file-max").used, uint64_t{432});
  EXPECT_EQ(limit(r, "dev_shm.size").used, 4 * kMiB);
  EXPECT_FALSE(limit(r, "kernel.msgmax").used);
}

TEST(LimitsDefaults, SysvObjectsMatchIpcs) {
  const Report r = load("defaults");
  ASSERT_EQ(r.objects.sysv_shm.size(), 1u);
  const SysvShm& shm = r.objects.sysv_shm[0];
  EXPECT_EQ(shm.key, 0xf60fb65du);  // what ipcs -m printed for the same row
  EXPECT_EQ(shm.shmid, 0);
  EXPECT_EQ(shm.owner, "root");
  EXPECT_EQ(shm.perms, 0644u);
  EXPECT_EQ(shm.size, 4096u);
  EXPECT_EQ(shm.nattch, 0u);
  EXPECT_EQ(shm.creator.pid, 3790);
  EXPECT_EQ(shm.creator.comm, "ipcmk");
  EXPECT_EQ(shm.last_user.pid, 0);
  EXPECT_FALSE(shm.last_user.comm);
  ASSERT_EQ(r.objects.sysv_msg.size(), 1u);
  EXPECT_EQ(r.objects.sysv_msg[0].key, 0x96978641u);
  EXPECT_EQ(r.objects.sysv_msg[0].qnum, 0u);
  EXPECT_FALSE(r.objects.sysv_msg[0].qbytes);
  ASSERT_EQ(r.objects.sysv_sem.size(), 1u);
  EXPECT_EQ(r.objects.sysv_sem[0].key, 0x84c25dd7u);
  EXPECT_EQ(r.objects.sysv_sem[0].nsems, 3u);
}

TEST(LimitsDefaults, PosixObjectsAndTheirUsers) {
  const Report r = load("defaults");
  ASSERT_EQ(r.objects.posix_mq.size(), 1u);
  const PosixMq& q = r.objects.posix_mq[0];
  EXPECT_EQ(q.name, "/ipctop_test");
  EXPECT_EQ(q.qsize, uint64_t{5});
  EXPECT_EQ(q.notify_pid, int64_t{0});
  EXPECT_EQ(pids(q.open_by), std::vector<int64_t>{4242});
  EXPECT_EQ(q.open_by[0].comm, "mqd");

  ASSERT_EQ(r.objects.posix_shm.size(), 2u);
  const PosixShm& shm = r.objects.posix_shm[0];
  EXPECT_EQ(shm.name, "/ipctop_shm");
  EXPECT_EQ(shm.size, 8192u);
  EXPECT_FALSE(shm.semaphore);
  EXPECT_EQ(pids(shm.open_by), std::vector<int64_t>{4242});
  EXPECT_EQ(pids(shm.mapped_by), (std::vector<int64_t>{4242, 4243}));
  const PosixShm& sem = r.objects.posix_shm[1];
  EXPECT_EQ(sem.name, "/sem.ready");
  EXPECT_TRUE(sem.semaphore);
  EXPECT_EQ(pids(sem.open_by), std::vector<int64_t>{4243});
  EXPECT_EQ(pids(sem.mapped_by), std::vector<int64_t>{4243});
}

TEST(LimitsDefaults, PosixOwnerAndModeComeFromStat) {
  const Roots roots = roots_at(kFixtures / "defaults");
  Host host = test_host();
  host.user_name = [](uint32_t uid) -> std::optional<std::string> {
    return "user" + std::to_string(uid);
  };
  const Report r = collect(roots, host);
  struct stat st {};
  ASSERT_EQ(::stat((roots.dev_shm + "/ipctop_shm").c_str(), &st), 0);
  ASSERT_FALSE(r.objects.posix_shm.empty());
  EXPECT_EQ(r.objects.posix_shm[0].uid, st.st_uid);
  EXPECT_EQ(r.objects.posix_shm[0].owner, "user" + std::to_string(st.st_uid));
  EXPECT_EQ(r.objects.posix_shm[0].perms, st.st_mode & 0777);
}

TEST(LimitsDefaults, RlimitsAreInjectable) {
  Host host = test_host();
  host.rlimit_msgqueue = RLimit{1234, 5678};
  host.rlimit_memlock = RLimit{UINT64_MAX, UINT64_MAX};
  const Report r = collect(roots_at(kFixtures / "defaults"), host);
  const Limit& mq = limit(r, "rlimit.msgqueue");
  EXPECT_EQ(mq.value, uint64_t{1234});
  EXPECT_EQ(mq.hard, uint64_t{5678});
  EXPECT_FALSE(mq.unlimited);
  const Limit& memlock = limit(r, "rlimit.memlock");
  EXPECT_TRUE(memlock.unlimited);
  EXPECT_NE(to_json(r).dump().find("\"value\":18446744073709551615"), std::string::npos);
  EXPECT_EQ(count(r, Severity::Warning), 0u);

  host.rlimit_memlock.reset();
  const Report without = collect(roots_at(kFixtures / "defaults"), host);
  const Limit& missing = limit(without, "rlimit.memlock");
  EXPECT_FALSE(missing.value);
  EXPECT_FALSE(missing.error.empty());
}

// ---------------------------------------------------------------------------------------------
// shmmax / shmall consistency

TEST(LimitsShm, StudyNoteExampleIsConsistent) {
  // shmmax 8 GiB, shmall 4194304 pages = 16 GiB with 4 KiB pages, 32 GiB of RAM
  const Report r = load("study");
  EXPECT_EQ(limit(r, "kernel.shmmax").value, 8 * kGiB);
  const Limit& shmall = limit(r, "kernel.shmall");
  EXPECT_EQ(shmall.value, uint64_t{4194304});
  EXPECT_EQ(shmall.value_bytes, 16 * kGiB);
  EXPECT_FALSE(shmall.unlimited);
  EXPECT_EQ(shmall.used, uint64_t{524288});  // one 2 GiB segment
  EXPECT_DOUBLE_EQ(shmall.used_pct.value_or(-1), 12.5);
  EXPECT_DOUBLE_EQ(limit(r, "kernel.shmmax").used_pct.value_or(-1), 25.0);
  EXPECT_TRUE(r.warnings.empty()) << r.warnings.front().message;
  ASSERT_EQ(r.objects.sysv_shm.size(), 1u);
  EXPECT_EQ(r.objects.sysv_shm[0].owner, "alice");
  EXPECT_EQ(r.objects.sysv_shm[0].nattch, 3u);
  EXPECT_EQ(r.objects.posix_mq[0].notify_pid, int64_t{2100});
}

TEST(LimitsShm, ShmmaxBeyondShmallWarnsWithTheShmallThatFits) {
  // shmmax 8 GiB, shmall 1048576 pages = 4 GiB
  const Report r = load("inconsistent");
  const auto w = warnings_for(r, "kernel.shmmax");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0]->fix, "sysctl -w kernel.shmall=2097152");
  EXPECT_NE(w[0]->message.find("ENOSPC"), std::string::npos);
  EXPECT_NE(w[0]->message.find("4294967296"), std::string::npos);  // or lower shmmax to this
  EXPECT_TRUE(warnings_for(r, "kernel.shmall").empty());           // 4 GiB < 16 GiB of RAM
  EXPECT_EQ(count(r, Severity::Warning), 1u);
}

TEST(LimitsShm, ShmallBeyondPhysicalMemoryWarns) {
  // shmall 8388608 pages = 32 GiB, MemTotal 16 GiB
  const Report r = load("shmall_beyond_ram");
  const auto w = warnings_for(r, "kernel.shmall");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0]->fix, "sysctl -w kernel.shmall=4194304");
  EXPECT_TRUE(warnings_for(r, "kernel.shmmax").empty());
}

TEST(LimitsShm, PageSizeIsTakenFromTheHost) {
  // With 64 KiB pages, 1048576 pages of shmall are 64 GiB: now shmmax fits.
  Host host = test_host();
  host.page_size = 65536;
  const Report r = collect(roots_at(kFixtures / "inconsistent"), host);
  EXPECT_EQ(limit(r, "kernel.shmall").value_bytes, 64 * kGiB);
  EXPECT_TRUE(warnings_for(r, "kernel.shmmax").empty());
  EXPECT_EQ(warnings_for(r, "kernel.shmall").size(), 1u);  // 64 GiB > 16 GiB of RAM
}

// ---------------------------------------------------------------------------------------------
// message queues

TEST(LimitsMsg, MsgmnbBelowMsgmaxWarns) {
  const Report r = load("msgmnb_small");
  const auto w = warnings_for(r, "kernel.msgmnb");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0]->fix, "sysctl -w kernel.msgmnb=8192");
  EXPECT_NE(w[0]->message.find("4097 to 8192"), std::string::npos) << w[0]->message;
  // The queue holding 4000 of 4096 bytes, whose last reader (pid 701) has no /proc entry.
  EXPECT_NE(w[1]->message.find("msqid 0"), std::string::npos) << w[1]->message;
  EXPECT_NE(w[1]->message.find("701, which is gone"), std::string::npos) << w[1]->message;
  EXPECT_NE(w[1]->message.find("assumed"), std::string::npos);
}

TEST(LimitsMsg, QueueCapacityFromMsgctlIsUsedWhenKnown) {
  Host host = test_host();
  host.msg_qbytes = [](int64_t msqid, uint32_t key) -> std::optional<uint64_t> {
    if (msqid == 0 && key == 1234) return 65536;
    return std::nullopt;
  };
  const Report r = collect(roots_at(kFixtures / "msgmnb_small"), host);
  EXPECT_EQ(r.objects.sysv_msg[0].qbytes, uint64_t{65536});
  EXPECT_FALSE(r.objects.sysv_msg[1].qbytes);
  // 4000 of 65536 bytes is not full: only the msgmnb/msgmax warning is left.
  EXPECT_EQ(warnings_for(r, "kernel.msgmnb").size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// pipe pages per user (fs.pipe-user-pages-soft = 16384 in the defaults fixture)

Host pipe_host(uint64_t alice_pages) {
  Host host = test_host();
  host.pipe_usage = [alice_pages]() -> std::optional<PipeScan> {
    PipeScan scan;
    scan.by_uid[0] = {1 << 20, 5000};  // root: exempt, however many
    scan.by_uid[1000] = {alice_pages, alice_pages / 16};
    scan.by_uid[1234] = {32, 2};
    scan.unmeasured = 3;
    return scan;
  };
  return host;
}

TEST(LimitsPipes, UsageIsTheUserHoldingMostExceptRoot) {
  const Report r = collect(roots_at(kFixtures / "defaults"), pipe_host(8192));
  const Limit& soft = limit(r, "fs.pipe-user-pages-soft");
  EXPECT_EQ(soft.used, uint64_t{8192});
  EXPECT_EQ(soft.used_what, "pages of the user holding most (alice)");
  ASSERT_TRUE(soft.used_pct.has_value());
  EXPECT_DOUBLE_EQ(*soft.used_pct, 50.0);
  EXPECT_EQ(limit(r, "fs.pipe-user-pages-hard").used, uint64_t{8192});
  EXPECT_FALSE(limit(r, "fs.pipe-user-pages-hard").used_pct) << "0 = no hard limit";
  ASSERT_EQ(r.objects.pipe_users.size(), 3u);
  EXPECT_EQ(r.objects.pipe_users[0].owner, "root") << "most pages first";
  EXPECT_EQ(r.objects.pipe_users[1].owner, "alice");
  EXPECT_EQ(r.objects.pipe_users[2].owner, "1234") << "a uid without a name";
  EXPECT_EQ(r.unmeasured_pipe_processes, 3u);
  EXPECT_TRUE(warnings_for(r, "fs.pipe-user-pages-soft").empty());

  const auto j = to_json(r);
  EXPECT_EQ(j["objects"]["pipe_users"][1]["pages"], 8192);
  EXPECT_EQ(j["objects"]["pipe_users"][1]["uid"], 1000);
  EXPECT_EQ(j["objects"]["pipe_users"][1]["pipes"], 512);
  EXPECT_EQ(j["unmeasured_pipe_processes"], 3);
  const std::string table = render_table(r, false);
  EXPECT_NE(table.find("Pipe buffers by user"), std::string::npos) << table;
  EXPECT_NE(table.find("alice  1000    512      8,192   32 MiB"), std::string::npos) << table;
  EXPECT_NE(table.find("the pipes of 3 process(es) could not be measured"), std::string::npos);
}

TEST(LimitsPipes, AUserOverTheSoftLimitIsWarnedThatNewPipesAreTiny) {
  // 16384 - 16 + 1: the next pipe of 16 pages would take alice over.
  const Report r = collect(roots_at(kFixtures / "defaults"), pipe_host(16369));
  const auto w = warnings_for(r, "fs.pipe-user-pages-soft");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0]->message,
            "user alice (uid 1000) holds 16369 pipe pages (63.9 MiB) in 1023 pipe(s), over "
            "fs.pipe-user-pages-soft 16384: every pipe its processes create gets 2 pages "
            "(8 KiB) instead of 16 (64 KiB), so writers block or get EAGAIN 8 times sooner, and "
            "F_SETPIPE_SZ cannot enlarge them (EPERM).");
  EXPECT_EQ(w[0]->fix, "sysctl -w fs.pipe-user-pages-soft=32768");
  // Root holds far more and is not warned about: it is exempt.
  for (const auto& x : r.warnings) EXPECT_EQ(x.message.find("user root"), std::string::npos);

  const Report below = collect(roots_at(kFixtures / "defaults"), pipe_host(16368));
  EXPECT_TRUE(warnings_for(below, "fs.pipe-user-pages-soft").empty());
}

TEST(LimitsPipes, NotDerivedMeansNoUsageAndNoSection) {
  const Report r = load("defaults");
  EXPECT_FALSE(limit(r, "fs.pipe-user-pages-soft").used);
  EXPECT_TRUE(r.objects.pipe_users.empty());
  EXPECT_TRUE(to_json(r)["objects"]["pipe_users"].empty());
  EXPECT_EQ(render_table(r, false).find("Pipe buffers by user"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// nearly used up

TEST(LimitsNearlyFull, CountsNearTheirLimitsWarnWithFixes) {
  const Report r = load("nearly_full");
  const auto fix = [&](std::string_view name) {
    const auto w = warnings_for(r, name);
    return w.size() == 1 ? w[0]->fix : "<" + std::to_string(w.size()) + " warnings>";
  };
  EXPECT_EQ(fix("kernel.shmmni"), "sysctl -w kernel.shmmni=20");
  EXPECT_EQ(fix("kernel.msgmni"), "sysctl -w kernel.msgmni=8");
  EXPECT_EQ(fix("kernel.sem.semmni"), "sysctl -w kernel.sem=\"250 40 32 20\"");
  EXPECT_EQ(fix("kernel.sem.semmns"), "sysctl -w kernel.sem=\"250 80 32 10\"");
  EXPECT_EQ(fix("fs.mqueue.queues_max"), "sysctl -w fs.mqueue.queues_max=20");
  EXPECT_EQ(fix("fs.file-max"), "sysctl -w fs.file-max=2000");
  EXPECT_NE(fix("dev_shm.size").find("mount -o remount,size=128M /dev/shm"), std::string::npos);
  EXPECT_TRUE(warnings_for(r, "kernel.shmall").empty());      // 9 MiB of 1 GiB
  EXPECT_TRUE(warnings_for(r, "kernel.sem.semmsl").empty());  // per-object maxima never warn

  const auto shmmni = warnings_for(r, "kernel.shmmni");
  ASSERT_EQ(shmmni.size(), 1u);
  EXPECT_NE(shmmni[0]->message.find("9 of 10"), std::string::npos) << shmmni[0]->message;
  EXPECT_NE(shmmni[0]->message.find("3 segment(s)"), std::string::npos) << shmmni[0]->message;
  EXPECT_DOUBLE_EQ(limit(r, "kernel.msgmni").used_pct.value_or(-1), 100.0);
}

// A copy of the nearly_full tree with `queues` SysV queues and the given kernel.msgmni.
Report with_msg_queues(uint64_t msgmni, int queues) {
  const fs::path dir =
      fs::temp_directory_path() / ("ipctop_limits_ipcmni_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::copy(kFixtures / "nearly_full", dir,
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  std::ofstream(dir / "proc/sys/kernel/msgmni") << msgmni << "\n";
  {
    std::ofstream msg(dir / "proc/sysvipc/msg");
    msg << "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid"
           "      stime      rtime      ctime\n";
    for (int i = 0; i < queues; ++i)
      msg << 5000 + i << " " << i << " 600 0 0 0 0 0 0 0 0 0 0 1795478046\n";
  }
  Report r = collect(roots_at(dir), test_host());
  fs::remove_all(dir);
  return r;
}

TEST(LimitsNearlyFull, IpcmniCapsTheSuggestedValue) {
  // Doubling 20000 would give 40000, above what the kernel accepts.
  const Report capped = with_msg_queues(20000, 18000);
  ASSERT_EQ(capped.objects.sysv_msg.size(), 18000u);
  auto w = warnings_for(capped, "kernel.msgmni");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0]->fix, "sysctl -w kernel.msgmni=32768");

  const Report at_max = with_msg_queues(32768, 30000);
  w = warnings_for(at_max, "kernel.msgmni");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0]->fix.find("remove unused objects (ipcrm -q)"), std::string::npos) << w[0]->fix;

  EXPECT_TRUE(warnings_for(with_msg_queues(32768, 4), "kernel.msgmni").empty());
}

// The tracer's failure diagnosis reads the limits every interval with failures: without
// walking every process, and with the same values and warnings.
TEST(LimitsNearlyFull, WithoutProcessUsersTheObjectsAndLimitsStay) {
  Host host = host_for("nearly_full");
  host.process_users = false;
  const Report quick = collect(roots_at(kFixtures / "nearly_full"), host);
  const Report full = load("nearly_full");
  ASSERT_EQ(quick.objects.posix_mq.size(), 9u);
  for (const auto& q : quick.objects.posix_mq) EXPECT_TRUE(q.open_by.empty()) << q.name;
  for (const auto& s : quick.objects.posix_shm) EXPECT_TRUE(s.mapped_by.empty()) << s.name;
  ASSERT_EQ(quick.limits.size(), full.limits.size());
  for (std::size_t i = 0; i < quick.limits.size(); ++i) {
    EXPECT_EQ(quick.limits[i].value, full.limits[i].value) << quick.limits[i].name;
    EXPECT_EQ(quick.limits[i].used, full.limits[i].used) << quick.limits[i].name;
  }
  EXPECT_EQ(quick.warnings.size(), full.warnings.size());
}

TEST(LimitsNearlyFull, PosixUsersFromFdsAndMaps) {
  const Report r = load("nearly_full");
  ASSERT_EQ(r.objects.posix_mq.size(), 9u);
  EXPECT_EQ(r.objects.posix_mq[0].name, "/q0");
  EXPECT_EQ(pids(r.objects.posix_mq[0].open_by),
            (std::vector<int64_t>{900, 901, 902, 903, 904, 905}));
  EXPECT_EQ(pids(r.objects.posix_mq[1].open_by), std::vector<int64_t>{900});  // /dev/mqueue/q1
  EXPECT_TRUE(r.objects.posix_mq[2].open_by.empty());
  ASSERT_EQ(r.objects.posix_shm.size(), 2u);
  EXPECT_EQ(r.objects.posix_shm[0].name, "/big");
  EXPECT_EQ(pids(r.objects.posix_shm[0].mapped_by), std::vector<int64_t>{900});
  EXPECT_TRUE(r.objects.posix_shm[1].mapped_by.empty());
  const auto shm = warnings_for(r, "dev_shm.size");
  ASSERT_EQ(shm.size(), 1u);
  EXPECT_NE(shm[0]->message.find("/big (4 KiB)"), std::string::npos) << shm[0]->message;
}

// ---------------------------------------------------------------------------------------------
// missing and garbled input: values go missing, nothing fails

TEST(LimitsMissing, NoMqueueSysctlsAndNoMount) {
  const Report r = load("no_mqueue");
  for (const char* name : {"fs.mqueue.msg_max", "fs.mqueue.msgsize_max", "fs.mqueue.queues_max",
                           "fs.mqueue.msg_default", "fs.mqueue.msgsize_default"}) {
    const Limit& l = limit(r, name);
    EXPECT_FALSE(l.value) << name;
    EXPECT_NE(l.error.find("No such file or directory"), std::string::npos) << l.error;
    EXPECT_FALSE(l.used) << name;
  }
  EXPECT_TRUE(limit(r, "kernel.shmmax").value.has_value());
  EXPECT_TRUE(r.objects.posix_mq.empty());
  EXPECT_EQ(r.objects.posix_shm.size(), 1u);
  const bool mentions_mount = std::any_of(r.errors.begin(), r.errors.end(), [](const auto& e) {
    return e.find("mount -t mqueue") != std::string::npos;
  });
  EXPECT_TRUE(mentions_mount);
  EXPECT_TRUE(to_json(r)["limits"][find_limit(r, "fs.mqueue.msg_max") - r.limits.data()]["value"]
                  .is_null());
}

TEST(LimitsMissing, NonexistentRootsGiveEmptyValuesNotFailures) {
  const Report r = collect(roots_at("/nonexistent/ipctop"), test_host());
  for (const Limit& l : r.limits) {
    if (l.source.starts_with("/nonexistent")) {
      EXPECT_FALSE(l.value) << l.name;
    }
  }
  EXPECT_TRUE(r.objects.sysv_shm.empty());
  EXPECT_FALSE(r.errors.empty());
  EXPECT_FALSE(render_table(r, false).empty());
  EXPECT_NO_THROW((void)to_json(r).dump());
}

TEST(LimitsGarbage, GarbledFilesGiveMissingValues) {
  const Report r = load("garbage");
  EXPECT_NE(limit(r, "kernel.shmmax").error.find("is empty"), std::string::npos);
  EXPECT_NE(limit(r, "kernel.shmall").error.find("not a number"), std::string::npos);
  for (const char* name :
       {"kernel.shmmax", "kernel.shmall", "kernel.shmmni", "kernel.msgmax", "kernel.msgmnb",
        "kernel.sem.semopm", "kernel.sem.semmni", "fs.pipe-max-size", "net.core.somaxconn",
        "net.core.rmem_max", "net.unix.max_dgram_qlen"}) {
    EXPECT_FALSE(limit(r, name).value) << name << " = " << *limit(r, name).value;
    EXPECT_FALSE(limit(r, name).error.empty()) << name;
  }
  EXPECT_EQ(limit(r, "kernel.sem.semmsl").value, uint64_t{250});
  EXPECT_EQ(limit(r, "kernel.sem.semmns").value, uint64_t{32000});
  EXPECT_EQ(limit(r, "net.core.wmem_max").value, uint64_t{4194304});
  EXPECT_EQ(limit(r, "fs.file-max").value, uint64_t{2466170});
  EXPECT_FALSE(limit(r, "fs.file-max").used);
  EXPECT_FALSE(limit(r, "meminfo.MemTotal").value);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(LimitsGarbage, GarbledSysvipcRowsAreSkippedAndCounted) {
  const Report r = load("garbage");
  ASSERT_EQ(r.objects.sysv_shm.size(), 1u);
  EXPECT_EQ(r.objects.sysv_shm[0].shmid, 1);
  // The count is known even though shmmni itself is garbled; a percentage is not.
  EXPECT_EQ(limit(r, "kernel.shmmni").used, uint64_t{1});
  EXPECT_FALSE(limit(r, "kernel.shmmni").used_pct);
  const auto has = [&](std::string_view text) {
    return std::any_of(r.errors.begin(), r.errors.end(),
                       [&](const auto& e) { return e.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(has("skipped 2 garbled line(s)"));
  EXPECT_TRUE(has("sysvipc/msg is empty"));
  EXPECT_TRUE(has("no 'nsems' column"));
  EXPECT_TRUE(has("no QSIZE"));
  EXPECT_FALSE(limit(r, "kernel.sem.semmni").used);  // sysvipc/sem unusable: usage unknown
  ASSERT_EQ(r.objects.posix_mq.size(), 2u);
  EXPECT_EQ(r.objects.posix_mq[0].name, "/good");
  EXPECT_EQ(r.objects.posix_mq[0].qsize, uint64_t{12});
  EXPECT_FALSE(r.objects.posix_mq[1].qsize);
  EXPECT_TRUE(r.objects.posix_shm.empty()) << "a symlink is not a shm object";
  EXPECT_EQ(r.objects.sysv_shm[0].creator.pid, 1);
  EXPECT_FALSE(r.objects.sysv_shm[0].creator.comm) << "empty comm";
}

TEST(LimitsGarbage, ErrorsQuoteGarbageSafely) {
  const Report r = load("garbage");
  const std::string& e = limit(r, "fs.pipe-max-size").error;
  EXPECT_NE(e.find("\\x1b[2J"), std::string::npos) << e;
  for (const auto& err : r.errors) EXPECT_TRUE(is_clean(err)) << sanitize(err);
  expect_fits_and_clean(render_table(r, false));
  expect_fits_and_clean(render_table(r, true));
  EXPECT_NO_THROW((void)to_json(r).dump());
}

// ---------------------------------------------------------------------------------------------
// hostile names: created at run time, git cannot hold them portably

class LimitsHostile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ipctop_limits_hostile_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::copy(kFixtures / "hostile", dir_,
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    fs::create_directories(dir_ / "dev_shm" / "a_directory");
    fs::create_directories(dir_ / "dev_mqueue");
    fs::create_directories(dir_ / "proc/666/fd");
    for (const std::string& name : kShmNames) write(dir_ / "dev_shm" / name, "data");
    write(dir_ / "dev_shm" / std::string(255, 'L'), "");
    ASSERT_EQ(::mkfifo((dir_ / "dev_shm/fifo").c_str(), 0600), 0);
    fs::create_symlink("/etc/passwd", dir_ / "dev_shm/link");
    write(dir_ / "dev_mqueue" / "\x1b]0;title\x07", "QSIZE:1 NOTIFY:0 SIGNO:0 NOTIFY_PID:0\n");
    write(dir_ / "dev_mqueue" / "q\xc3", "QSIZE:2 NOTIFY:0 SIGNO:0 NOTIFY_PID:0\n");
    ASSERT_EQ(::mkfifo((dir_ / "dev_mqueue/fifo").c_str(), 0600), 0);
    fs::create_symlink("/dev/shm/new\nline", dir_ / "proc/666/fd/3");
    fs::create_symlink("/q\xc3", dir_ / "proc/666/fd/4");
    write(dir_ / "proc/666/maps",
          "7f8c02248000-7f8c0224a000 rw-s 00000000 00:1b 2    /dev/shm/new\\012line\n"
          "7f8c02248000-7f8c0224a000 rw-s 00000000 00:1b 3    /dev/shm/\x1b[31mred\n");
    report_ = collect(roots_at(dir_), test_host());
    normalise_posix_objects(report_);
    normalise_paths(report_, dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  const std::vector<std::string> kShmNames = {"\x1b[31mred", "bad\xff\xfe", "new\nline",
                                              "\xe2\x80\xae"
                                              "evil",
                                              "sem.\x1b[2J"};
  fs::path dir_;
  Report report_;
};

TEST_F(LimitsHostile, NamesAreSanitized) {
  std::vector<std::string> names;
  for (const auto& s : report_.objects.posix_shm) names.push_back(s.name);
  // Sorted by raw name: ESC (0x1b) first, U+202E (0xe2 ...) last.
  EXPECT_EQ(names, (std::vector<std::string>{"/\\x1b[31mred", "/" + std::string(255, 'L'),
                                             "/bad\\xff\\xfe", "/new\\x0aline", "/sem.\\x1b[2J",
                                             "/\\u202eevil"}));
  ASSERT_EQ(report_.objects.posix_mq.size(), 2u);
  EXPECT_EQ(report_.objects.posix_mq[0].name, "/\\x1b]0;title\\x07");
  EXPECT_EQ(report_.objects.posix_mq[1].name, "/q\\xc3");
  EXPECT_EQ(report_.objects.sysv_shm[0].creator.comm, "\\x1b]0;owned\\x07evil\\xff");
  EXPECT_EQ(report_.objects.sysv_shm[0].last_user.comm, "\\u202ereversed");
}

TEST_F(LimitsHostile, UsersAreMatchedOnRawNames) {
  const auto& shm = report_.objects.posix_shm;
  const auto nl =
      std::find_if(shm.begin(), shm.end(), [](const auto& s) { return s.name == "/new\\x0aline"; });
  ASSERT_NE(nl, shm.end());
  EXPECT_EQ(pids(nl->open_by), std::vector<int64_t>{666});
  EXPECT_EQ(pids(nl->mapped_by), std::vector<int64_t>{666});  // maps escapes '\n' as \012
  const auto red =
      std::find_if(shm.begin(), shm.end(), [](const auto& s) { return s.name == "/\\x1b[31mred"; });
  ASSERT_NE(red, shm.end());
  EXPECT_EQ(pids(red->mapped_by), std::vector<int64_t>{666});
  EXPECT_EQ(pids(report_.objects.posix_mq[1].open_by), std::vector<int64_t>{666});
  EXPECT_TRUE(report_.objects.posix_mq[0].open_by.empty());
}

TEST_F(LimitsHostile, OutputStaysClean) {
  const std::string table = render_table(report_, false);
  EXPECT_EQ(table.find('\x1b'), std::string::npos);
  EXPECT_EQ(table.find('\x07'), std::string::npos);
  expect_fits_and_clean(table);
  expect_fits_and_clean(render_table(report_, true));
  std::string json;
  ASSERT_NO_THROW(json = to_json(report_).dump());
  EXPECT_EQ(json.find('\x1b'), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// golden tables: IPCTOP_UPDATE_GOLDEN=1 rewrites them instead of comparing

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The first differing lines, enough to see what changed without two full copies.
std::string line_diff(const std::string& expected, const std::string& actual) {
  const auto e = lines_of(expected);
  const auto a = lines_of(actual);
  std::string out;
  int shown = 0;
  for (std::size_t i = 0; i < std::max(e.size(), a.size()) && shown < 12; ++i) {
    const std::string* el = i < e.size() ? &e[i] : nullptr;
    const std::string* al = i < a.size() ? &a[i] : nullptr;
    if (el != nullptr && al != nullptr && *el == *al) continue;
    out += "line " + std::to_string(i + 1) + ":\n";
    out += "  - " + (el != nullptr ? *el : std::string("<none>")) + "\n";
    out += "  + " + (al != nullptr ? *al : std::string("<none>")) + "\n";
    ++shown;
  }
  return out;
}

void check_golden(const std::string& file, const std::string& actual) {
  const fs::path path = kGolden / file;
  const char* update = std::getenv("IPCTOP_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    fs::create_directories(kGolden);
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path << " is missing; run with IPCTOP_UPDATE_GOLDEN=1 to create it";
  std::stringstream expected;
  expected << in.rdbuf();
  if (actual == expected.str()) return;
  ADD_FAILURE() << path << " differs (IPCTOP_UPDATE_GOLDEN=1 rewrites it):\n"
                << line_diff(expected.str(), actual);
}

class LimitsGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(LimitsGolden, Table) {
  const std::string name = GetParam();
  const std::string table = render_table(load(name), false);
  expect_fits_and_clean(table);
  check_golden(name + ".txt", table);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, LimitsGolden,
                         ::testing::Values("defaults", "study", "inconsistent", "shmall_beyond_ram",
                                           "msgmnb_small", "nearly_full", "no_mqueue", "garbage"));

TEST(LimitsGoldenRaw, DefaultsRawTable) {
  const std::string table = render_table(load("defaults"), true);
  EXPECT_NE(table.find("18446744073692774399"), std::string::npos);
  expect_fits_and_clean(table);
  check_golden("defaults.raw.txt", table);
}

TEST(LimitsGoldenRaw, NearlyFullRawTable) {
  const std::string table = render_table(load("nearly_full"), true);
  expect_fits_and_clean(table);
  check_golden("nearly_full.raw.txt", table);
}

TEST(LimitsGoldenPipes, UserOverTheSoftLimitTable) {
  Report r = collect(roots_at(kFixtures / "defaults"), pipe_host(16369));
  normalise_posix_objects(r);
  normalise_paths(r, kFixtures / "defaults");
  const std::string table = render_table(r, false);
  expect_fits_and_clean(table);
  check_golden("pipes_over_soft.txt", table);
}

// The JSON contract, whole: limits, warnings and objects of the seed's example.
TEST(LimitsGoldenJson, StudyJson) {
  check_golden("study.json", to_json(load("study")).dump(2) + "\n");
}

TEST_F(LimitsHostile, GoldenTable) { check_golden("hostile.txt", render_table(report_, false)); }

}  // namespace
}  // namespace ipctop::limits
