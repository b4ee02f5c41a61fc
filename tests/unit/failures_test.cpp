// Live diagnosis of IPC failures: (syscall, errno, arguments, kernel state,
// limit values) -> (limit, detail, fix), from synthetic samples.
#include "model/Failures.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "model/Aggregator.h"
#include "model/Snapshot.h"
#include "render/json/Json.h"

namespace {

using ipctop::diagnose;
using ipctop::Diagnosis;
using ipctop::FailureLimits;
using nlohmann::json;

// The defaults of a stock kernel, with a 4 KiB page.
FailureLimits Defaults() {
  FailureLimits l;
  l.values = {{"page_size", 4096},
              {"kernel.shmmax", 18446744073692774399ull},
              {"kernel.shmall", 18446744073692774399ull},
              {"kernel.shmmni", 4096},
              {"kernel.msgmax", 8192},
              {"kernel.msgmnb", 16384},
              {"kernel.msgmni", 32000},
              {"fs.mqueue.queues_max", 256},
              {"fs.mqueue.msg_max", 10},
              {"fs.mqueue.msgsize_max", 8192},
              {"fs.mqueue.msg_default", 10},
              {"fs.mqueue.msgsize_default", 8192},
              {"fs.pipe-max-size", 1048576},
              {"fs.pipe-user-pages-soft", 16384},
              {"fs.pipe-user-pages-hard", 0},
              {"fs.file-max", 9223372036854775807ull},
              {"fs.nr_open", 1048576},
              {"net.core.wmem_max", 212992},
              {"net.unix.max_dgram_qlen", 512}};
  return l;
}

struct Case {
  ipctop_fail_key key{};
  ipctop_fail_val val{};
  FailureLimits limits = Defaults();

  Case(ipctop_fail_sys sys, int err, uint32_t kind = 0) {
    key.tgid = 4242;
    key.tid = 4243;
    key.sys = static_cast<uint16_t>(sys);
    key.err = static_cast<uint16_t>(err);
    key.kind = kind;
    val.count = 1;
    val.uid = 1000;
    std::strcpy(val.comm, "app");
  }
  Diagnosis run() const { return diagnose(key, val, limits); }
};

void ExpectLimit(const Diagnosis& d, const std::string& limit, const std::string& fix) {
  ASSERT_TRUE(d.limit.has_value()) << "no limit; detail: " << d.detail;
  EXPECT_EQ(*d.limit, limit) << d.detail;
  ASSERT_TRUE(d.fix.has_value()) << d.detail;
  EXPECT_EQ(*d.fix, fix) << d.detail;
}

void ExpectNoLimit(const Diagnosis& d) {
  EXPECT_FALSE(d.limit.has_value()) << *d.limit << ": " << d.detail;
  EXPECT_FALSE(d.detail.empty());
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---------------------------------------------------------------- shmget, shmat

TEST(FailuresShm, ShmgetAboveShmmaxNamesShmmaxAndTheRequestedSize) {
  Case c(IPCTOP_FAIL_SHMGET, EINVAL);
  c.limits.values["kernel.shmmax"] = 8388608;
  c.val.size = 16777216;
  Diagnosis d = c.run();
  ExpectLimit(d, "kernel.shmmax", "sysctl -w kernel.shmmax=16777216");
  EXPECT_EQ(d.detail, "requested 16777216 bytes > kernel.shmmax 8388608");
}

TEST(FailuresShm, ShmgetOfZeroBytesIsBelowShmminNotALimit) {
  Case c(IPCTOP_FAIL_SHMGET, EINVAL);
  c.val.size = 0;
  Diagnosis d = c.run();
  ExpectNoLimit(d);
  EXPECT_TRUE(Has(d.detail, "SHMMIN 1")) << d.detail;
}

TEST(FailuresShm, ShmgetWithinShmmaxOnAnExistingKeyIsTheSmallerSegment) {
  Case c(IPCTOP_FAIL_SHMGET, EINVAL);
  c.limits.values["kernel.shmmax"] = 1 << 20;
  c.val.id = 0x1234;
  c.val.size = 4096;
  Diagnosis d = c.run();
  ExpectNoLimit(d);
  EXPECT_TRUE(Has(d.detail, "0x1234")) << d.detail;
  EXPECT_TRUE(Has(d.detail, "exists and is smaller")) << d.detail;
}

TEST(FailuresShm, ShmgetPrivateWithinTodaysShmmaxStillBlamesShmmax) {
  // IPC_PRIVATE creates a new segment: only the size can be wrong, so the
  // limit was raised between the failure and the read.
  Case c(IPCTOP_FAIL_SHMGET, EINVAL);
  c.limits.values["kernel.shmmax"] = 1 << 20;
  c.val.id = 0;
  c.val.size = 4096;
  Diagnosis d = c.run();
  ExpectLimit(d, "kernel.shmmax", "sysctl -w kernel.shmmax=1048576");
  EXPECT_TRUE(Has(d.detail, "lower at the failure")) << d.detail;
}

TEST(FailuresShm, ShmgetEnospcWithEveryIdTakenIsShmmni) {
  Case c(IPCTOP_FAIL_SHMGET, ENOSPC);
  c.val.size = 4096;
  c.val.ids_in_use = 4096;
  Diagnosis d = c.run();
  ExpectLimit(d, "kernel.shmmni", "sysctl -w kernel.shmmni=8192");
  EXPECT_EQ(d.detail, "4096 segments exist, kernel.shmmni is 4096");
}

TEST(FailuresShm, ShmgetEnospcWithIdsLeftIsShmall) {
  Case c(IPCTOP_FAIL_SHMGET, ENOSPC);
  c.limits.values["kernel.shmall"] = 1000;
  c.val.size = 10 * 4096 + 1;  // 11 pages
  c.val.ids_in_use = 3;
  c.val.shm_pages = 995;
  Diagnosis d = c.run();
  ExpectLimit(d, "kernel.shmall", "sysctl -w kernel.shmall=1006");
  EXPECT_EQ(d.detail,
            "995 pages in all segments + 11 requested (40961 bytes) > kernel.shmall 1000 pages");
}

TEST(FailuresShm, ShmgetEnomemIsMemoryUnlessHugePagesWereAskedFor) {
  Case c(IPCTOP_FAIL_SHMGET, ENOMEM);
  c.val.size = 1ull << 40;
  ExpectNoLimit(c.run());

  c.val.flags = 04000 | 0600;  // SHM_HUGETLB
  c.val.size = 5u << 20;       // three 2 MiB pages
  Diagnosis d = c.run();
  ASSERT_TRUE(d.limit.has_value());
  EXPECT_EQ(*d.limit, "vm.nr_hugepages");
  EXPECT_TRUE(Has(*d.fix, "+ 3 ))")) << *d.fix;
}

TEST(FailuresShm, ShmatEinvalAndEaccesAreNotLimitsAndPointAtTheSegment) {
  for (int err : {EINVAL, EACCES}) {
    SCOPED_TRACE(err);
    Case c(IPCTOP_FAIL_SHMAT, err);
    c.val.id = 98307;
    Diagnosis d = c.run();
    ExpectNoLimit(d);
    EXPECT_TRUE(Has(d.detail, "98307")) << d.detail;
    ASSERT_TRUE(d.fix.has_value());
    EXPECT_EQ(*d.fix, "ipcs -m -i 98307");
  }
  Case c(IPCTOP_FAIL_SHMAT, EACCES);
  c.val.id = 5;
  EXPECT_TRUE(Has(c.run().detail, "uid 1000")) << c.run().detail;
}

// ---------------------------------------------------------------- msgget, msgsnd

TEST(FailuresMsg, MsggetEnospcIsMsgmni) {
  Case c(IPCTOP_FAIL_MSGGET, ENOSPC);
  c.limits.values["kernel.msgmni"] = 16;
  c.val.ids_in_use = 16;
  Diagnosis d = c.run();
  ExpectLimit(d, "kernel.msgmni", "sysctl -w kernel.msgmni=32");
  EXPECT_EQ(d.detail, "16 queues exist, kernel.msgmni is 16");
}

TEST(FailuresMsg, MsgsndEagainOnAFullQueueIsMsgmnbWithTheQueueState) {
  Case c(IPCTOP_FAIL_MSGSND, EAGAIN);
  c.limits.values["kernel.msgmnb"] = 4096;
  c.limits.msg_queues[77] = {4096, 4096, 4};
  c.val.id = 77;
  c.val.size = 1024;
  c.val.flags = 04000;  // IPC_NOWAIT
  Diagnosis d = c.run();
  ExpectLimit(d, "kernel.msgmnb", "sysctl -w kernel.msgmnb=8192");
  EXPECT_TRUE(Has(d.detail, "msgsnd of 1024 bytes with IPC_NOWAIT to full queue 77")) << d.detail;
  EXPECT_TRUE(Has(d.detail, "4096 bytes in 4 messages; msg_qbytes 4096")) << d.detail;
  EXPECT_TRUE(Has(d.detail, "kernel.msgmnb (4096)")) << d.detail;
}

TEST(FailuresMsg, MsgsndEagainOnAGoneQueueStillNamesMsgmnb) {
  Case c(IPCTOP_FAIL_MSGSND, EAGAIN);
  c.val.id = 78;
  c.val.size = 100;
  c.val.flags = 04000;
  Diagnosis d = c.run();
  ExpectLimit(d, "kernel.msgmnb", "sysctl -w kernel.msgmnb=32768");
  EXPECT_FALSE(Has(d.detail, "messages;")) << "no state for a queue that is gone: " << d.detail;
}

TEST(FailuresMsg, MsgsndEinvalAboveMsgmaxIsMsgmaxOtherwiseNotALimit) {
  Case c(IPCTOP_FAIL_MSGSND, EINVAL);
  c.val.id = 5;
  c.val.size = 65536;
  Diagnosis d = c.run();
  ExpectLimit(d, "kernel.msgmax", "sysctl -w kernel.msgmax=65536");
  EXPECT_EQ(d.detail, "message of 65536 bytes > kernel.msgmax 8192");

  c.val.size = 100;
  d = c.run();
  ExpectNoLimit(d);
  EXPECT_TRUE(Has(d.detail, "mtype < 1")) << d.detail;
}

// ---------------------------------------------------------------- mq_open, mq_timedsend

TEST(FailuresMq, MqOpenEnospcIsQueuesMax) {
  Case c(IPCTOP_FAIL_MQ_OPEN, ENOSPC);
  c.limits.values["fs.mqueue.queues_max"] = 0;
  c.val.uid = 65534;
  Diagnosis d = c.run();
  ExpectLimit(d, "fs.mqueue.queues_max", "sysctl -w fs.mqueue.queues_max=1");
  EXPECT_TRUE(Has(d.detail, "0 queues exist, fs.mqueue.queues_max is 0 (uid 65534")) << d.detail;

  c.limits.values["fs.mqueue.queues_max"] = 256;
  c.val.ids_in_use = 256;
  ExpectLimit(c.run(), "fs.mqueue.queues_max", "sysctl -w fs.mqueue.queues_max=512");
}

TEST(FailuresMq, MqOpenEmfileWithAFullFdTableIsNofile) {
  Case c(IPCTOP_FAIL_MQ_OPEN, EMFILE);
  c.val.nofile_cur = 1024;
  c.val.nofile_max = 524288;
  c.val.next_fd = 1024;
  Diagnosis d = c.run();
  ExpectLimit(d, "rlimit.nofile", "prlimit --pid 4242 --nofile=2048");
}

TEST(FailuresMq, MqOpenEmfileWithFdsLeftIsMsgqueue) {
  Case c(IPCTOP_FAIL_MQ_OPEN, EMFILE);
  c.val.nofile_cur = 1024;
  c.val.nofile_max = 1024;
  c.val.next_fd = 3;
  c.val.msgqueue_cur = 819200;
  c.val.msgqueue_max = 819200;
  c.val.attr = 1;
  c.val.nmsg = 10;
  c.val.size = 100000;
  Diagnosis d = c.run();
  // 10 * (100000 + 48) + 10 * 48 = 1000960 bytes: over 819200; double it.
  ExpectLimit(d, "rlimit.msgqueue", "prlimit --pid 4242 --msgqueue=1820160:1820160");
  EXPECT_TRUE(Has(d.detail, "10 messages of 100000 bytes (about 1000960 bytes)")) << d.detail;
  EXPECT_TRUE(Has(d.detail, "RLIMIT_MSGQUEUE 819200")) << d.detail;
}

TEST(FailuresMq, MqOpenEinvalNamesMsgMaxOrMsgsizeMaxFromTheAttr) {
  Case c(IPCTOP_FAIL_MQ_OPEN, EINVAL);
  c.val.attr = 1;
  c.val.nmsg = 50;
  c.val.size = 1024;
  Diagnosis d = c.run();
  ExpectLimit(d, "fs.mqueue.msg_max", "sysctl -w fs.mqueue.msg_max=50");
  EXPECT_TRUE(Has(d.detail, "mq_maxmsg 50 > fs.mqueue.msg_max 10")) << d.detail;

  c.val.nmsg = 10;
  c.val.size = 1 << 20;
  d = c.run();
  ExpectLimit(d, "fs.mqueue.msgsize_max", "sysctl -w fs.mqueue.msgsize_max=1048576");
  EXPECT_TRUE(Has(d.detail, "mq_msgsize 1048576 > fs.mqueue.msgsize_max 8192")) << d.detail;
}

TEST(FailuresMq, MqOpenEinvalBeyondTheHardMaximumOrWithoutAttrIsNoLimit) {
  Case c(IPCTOP_FAIL_MQ_OPEN, EINVAL);
  c.val.attr = 1;
  c.val.nmsg = 100000;
  c.val.size = 64;
  ExpectNoLimit(c.run());
  EXPECT_TRUE(Has(c.run().detail, "65536")) << c.run().detail;

  c.val.nmsg = static_cast<uint64_t>(-1);  // mq_maxmsg -1
  ExpectNoLimit(c.run());
  EXPECT_TRUE(Has(c.run().detail, "above 0")) << c.run().detail;

  c.val.attr = 0;
  ExpectNoLimit(c.run());
}

TEST(FailuresMq, MqTimedsendOnAFullQueueIsNotALimit) {
  Case c(IPCTOP_FAIL_MQ_TIMEDSEND, EAGAIN);
  c.val.id = 3;
  Diagnosis d = c.run();
  ExpectNoLimit(d);
  EXPECT_TRUE(Has(d.detail, "is full")) << d.detail;
  ASSERT_TRUE(d.fix.has_value());
  EXPECT_TRUE(Has(*d.fix, "fs.mqueue.msg_max 10")) << *d.fix;
}

// ---------------------------------------------------------------- pipes

TEST(FailuresPipe, PipeEmfileIsNofileAndRaisesTheHardLimitWhenNeeded) {
  for (auto sys : {IPCTOP_FAIL_PIPE, IPCTOP_FAIL_PIPE2}) {
    Case c(sys, EMFILE);
    c.val.nofile_cur = 64;
    c.val.nofile_max = 64;
    c.val.next_fd = 64;
    Diagnosis d = c.run();
    ExpectLimit(d, "rlimit.nofile", "prlimit --pid 4242 --nofile=128:128");
    EXPECT_TRUE(Has(d.detail, "RLIMIT_NOFILE is 64")) << d.detail;
  }
}

TEST(FailuresPipe, NofileFixStaysUnderNrOpen) {
  Case c(IPCTOP_FAIL_PIPE2, EMFILE);
  c.limits.values["fs.nr_open"] = 1500;
  c.val.nofile_cur = 1024;
  c.val.nofile_max = 4096;
  ExpectLimit(c.run(), "rlimit.nofile", "prlimit --pid 4242 --nofile=1500");
}

TEST(FailuresPipe, PipeEnfileIsFileMaxOrPipeUserPagesHard) {
  Case c(IPCTOP_FAIL_PIPE2, ENFILE);
  c.limits.values["fs.file-max"] = 1000;
  c.limits.used["fs.file-max"] = 1000;
  Diagnosis d = c.run();
  ExpectLimit(d, "fs.file-max", "sysctl -w fs.file-max=2000");
  EXPECT_TRUE(Has(d.detail, "1000 open files")) << d.detail;

  // Over the hard limit, alloc_pipe_info fails, and that is ENFILE too.
  c.limits.values["fs.pipe-user-pages-hard"] = 100;
  c.val.user_pipe_pages = 99;
  d = c.run();
  ExpectLimit(d, "fs.pipe-user-pages-hard", "sysctl -w fs.pipe-user-pages-hard=200");
  EXPECT_TRUE(Has(d.detail, "uid 1000 holds 99 pipe pages")) << d.detail;

  // A user under the soft limit gets 16 pages: 5 + 16 > 20.
  c.limits.values["fs.pipe-user-pages-hard"] = 20;
  c.val.user_pipe_pages = 5;
  ExpectLimit(c.run(), "fs.pipe-user-pages-hard", "sysctl -w fs.pipe-user-pages-hard=40");
  // Over the soft limit the pipe would take 2 pages: 5 + 2 <= 20, so not this.
  c.limits.values["fs.pipe-user-pages-soft"] = 4;
  ExpectLimit(c.run(), "fs.file-max", "sysctl -w fs.file-max=2000");
}

TEST(FailuresPipe, PipeCreatedShrunkIsPipeUserPagesSoft) {
  Case c(IPCTOP_FAIL_PIPE2, 0, IPCTOP_KIND_PIPE);
  c.limits.values["fs.pipe-user-pages-soft"] = 1;
  c.val.chan_capacity = 2;
  c.val.user_pipe_pages = 18;
  Diagnosis d = c.run();
  ExpectLimit(d, "fs.pipe-user-pages-soft", "sysctl -w fs.pipe-user-pages-soft=34");
  EXPECT_EQ(d.detail,
            "pipe created with 2 pages (8192 bytes) instead of 16: uid 1000 holds 18 pipe pages, "
            "fs.pipe-user-pages-soft is 1");
}

TEST(FailuresPipe, SetpipeSzAbovePipeMaxSizeIsPipeMaxSizeRounded) {
  Case c(IPCTOP_FAIL_FCNTL, EPERM, IPCTOP_KIND_PIPE);
  c.limits.values["fs.pipe-max-size"] = 65536;
  c.val.size = 131072;
  c.val.uid = 65534;
  Diagnosis d = c.run();
  ExpectLimit(d, "fs.pipe-max-size", "sysctl -w fs.pipe-max-size=131072");
  EXPECT_EQ(d.detail,
            "F_SETPIPE_SZ 131072 bytes > fs.pipe-max-size 65536 (uid 65534, without "
            "CAP_SYS_RESOURCE)");

  c.val.size = 100000;  // rounded up to 32 pages
  d = c.run();
  ExpectLimit(d, "fs.pipe-max-size", "sysctl -w fs.pipe-max-size=131072");
  EXPECT_TRUE(Has(d.detail, "100000 bytes (rounded to 131072)")) << d.detail;
}

TEST(FailuresPipe, SetpipeSzWithinPipeMaxSizeIsTheUsersPipePages) {
  Case c(IPCTOP_FAIL_FCNTL, EPERM, IPCTOP_KIND_PIPE);
  c.val.size = 1 << 20;  // 256 pages
  c.val.chan_capacity = 16;
  c.val.user_pipe_pages = 16300;
  Diagnosis d = c.run();
  // 16300 + 256 - 16 = 16540 > the soft limit 16384 (no hard limit).
  ExpectLimit(d, "fs.pipe-user-pages-soft", "sysctl -w fs.pipe-user-pages-soft=32768");
  EXPECT_TRUE(Has(d.detail, "would take the user to 16540 pipe pages")) << d.detail;

  c.limits.values["fs.pipe-user-pages-hard"] = 16500;
  ExpectLimit(c.run(), "fs.pipe-user-pages-hard", "sysctl -w fs.pipe-user-pages-hard=33000");
}

TEST(FailuresPipe, SetpipeSzEbusyIsTheDataInThePipe) {
  Case c(IPCTOP_FAIL_FCNTL, EBUSY, IPCTOP_KIND_PIPE);
  c.val.size = 4096;
  c.val.chan_used = 5;
  Diagnosis d = c.run();
  ExpectNoLimit(d);
  EXPECT_EQ(d.detail, "the pipe holds 5 pages of data, more than the 1 pages asked for");
  EXPECT_EQ(*d.fix, "read the pipe down first, or ask for at least 20480 bytes");
}

// ---------------------------------------------------------------- sockets

TEST(FailuresSocket, EveryFdCreatingSocketCallMapsEmfileAndEnfile) {
  for (auto sys :
       {IPCTOP_FAIL_SOCKET, IPCTOP_FAIL_SOCKETPAIR, IPCTOP_FAIL_ACCEPT, IPCTOP_FAIL_ACCEPT4}) {
    SCOPED_TRACE(sys);
    Case c(sys, EMFILE);
    c.val.nofile_cur = 1024;
    c.val.nofile_max = 1048576;
    c.val.next_fd = 1024;
    ExpectLimit(c.run(), "rlimit.nofile", "prlimit --pid 4242 --nofile=2048");
    Case e(sys, ENFILE);
    e.limits.values["fs.file-max"] = 50000;
    ExpectLimit(e.run(), "fs.file-max", "sysctl -w fs.file-max=100000");
  }
}

// ---------------------------------------------------------------- full channels (EAGAIN)

TEST(FailuresFull, WriteToAFullPipeIsTheReaderNotALimit) {
  for (auto sys : {IPCTOP_FAIL_WRITE, IPCTOP_FAIL_WRITEV}) {
    Case c(sys, EAGAIN, IPCTOP_KIND_PIPE);
    c.val.id = 4;
    c.val.chan_capacity = 16;
    c.val.chan_used = 16;
    Diagnosis d = c.run();
    ExpectNoLimit(d);
    EXPECT_EQ(d.detail,
              "the pipe (fd 4) is full (16 of 16 pages, 65536 bytes): its reader is slower than "
              "its writer");
    EXPECT_EQ(*d.fix, "fcntl(fd, F_SETPIPE_SZ, bytes) enlarges it, up to fs.pipe-max-size 1048576");
  }
}

TEST(FailuresFull, WriteToAFullShrunkPipeIsPipeUserPagesSoft) {
  Case c(IPCTOP_FAIL_WRITE, EAGAIN, IPCTOP_KIND_FIFO);
  c.val.id = 7;
  c.val.chan_capacity = 2;
  c.val.chan_used = 2;
  c.val.user_pipe_pages = 20000;
  Diagnosis d = c.run();
  ExpectLimit(d, "fs.pipe-user-pages-soft", "sysctl -w fs.pipe-user-pages-soft=32768");
  EXPECT_TRUE(Has(d.detail, "the FIFO (fd 7) is full at only 2 pages")) << d.detail;
}

TEST(FailuresFull, UnixStreamSendBufferFull) {
  Case c(IPCTOP_FAIL_SENDMSG, EAGAIN, IPCTOP_KIND_UNIX_STREAM);
  c.val.id = 9;
  c.val.chan_capacity = 212992;
  c.val.chan_used = 213000;
  Diagnosis d = c.run();
  ExpectNoLimit(d);
  EXPECT_TRUE(Has(d.detail, "SO_SNDBUF 212992")) << d.detail;
  EXPECT_TRUE(Has(*d.fix, "net.core.wmem_max 212992")) << *d.fix;

  // Already at the cap (the kernel doubles SO_SNDBUF): the sysctl is the limit.
  c.val.chan_capacity = 2 * 212992;
  ExpectLimit(c.run(), "net.core.wmem_max", "sysctl -w net.core.wmem_max=425984");
}

TEST(FailuresFull, UnixDatagramToAFullReceiverIsMaxDgramQlen) {
  for (auto sys : {IPCTOP_FAIL_SENDTO, IPCTOP_FAIL_SENDMSG, IPCTOP_FAIL_WRITE}) {
    Case c(sys, EAGAIN, IPCTOP_KIND_UNIX_DGRAM);
    c.val.chan_capacity = 212992;
    c.val.chan_used = 1;
    ExpectLimit(c.run(), "net.unix.max_dgram_qlen", "sysctl -w net.unix.max_dgram_qlen=1024");
    // Send buffer full: SO_SNDBUF, as for streams.
    c.val.chan_used = 212992;
    ExpectNoLimit(c.run());
  }
}

// ---------------------------------------------------------------- sends that blocked (err 0)

TEST(FailuresBlocked, OnlySendsWithErrZeroAreBlocked) {
  for (auto sys :
       {IPCTOP_FAIL_WRITE, IPCTOP_FAIL_WRITEV, IPCTOP_FAIL_SENDTO, IPCTOP_FAIL_SENDMSG,
        IPCTOP_FAIL_SENDMMSG, IPCTOP_FAIL_PWRITEV2, IPCTOP_FAIL_SPLICE, IPCTOP_FAIL_VMSPLICE,
        IPCTOP_FAIL_TEE, IPCTOP_FAIL_MSGSND, IPCTOP_FAIL_MQ_TIMEDSEND}) {
    EXPECT_TRUE(ipctop::is_blocked(Case(sys, 0).key)) << sys;
    EXPECT_FALSE(ipctop::is_blocked(Case(sys, EAGAIN).key)) << sys;
  }
  // err 0 of pipe()/pipe2() is a pipe created shrunk, not a block.
  EXPECT_FALSE(ipctop::is_blocked(Case(IPCTOP_FAIL_PIPE2, 0).key));
  EXPECT_FALSE(ipctop::is_blocked(Case(IPCTOP_FAIL_SHMGET, 0).key));
}

TEST(FailuresBlocked, PipeWriterBlockedOnAFullPipe) {
  Case c(IPCTOP_FAIL_WRITE, 0, IPCTOP_KIND_PIPE);
  c.val.id = 4;
  c.val.chan_capacity = 16;
  c.val.chan_used = 16;
  Diagnosis d = c.run();
  ExpectNoLimit(d);
  EXPECT_EQ(d.detail,
            "blocked: the pipe (fd 4) is full (16 of 16 pages, 65536 bytes): its reader is "
            "slower than its writer");

  // Shrunk by fs.pipe-user-pages-soft.
  c.val.chan_capacity = 2;
  c.val.chan_used = 2;
  c.val.user_pipe_pages = 17000;
  ExpectLimit(c.run(), "fs.pipe-user-pages-soft", "sysctl -w fs.pipe-user-pages-soft=32768");

  // Already enlarged to fs.pipe-max-size (256 pages = 1 MiB).
  c.val.chan_capacity = 256;
  c.val.chan_used = 256;
  d = c.run();
  ExpectLimit(d, "fs.pipe-max-size",
              "sysctl -w fs.pipe-max-size=2097152 (then enlarge it with fcntl(fd, F_SETPIPE_SZ, "
              "bytes))");
  EXPECT_TRUE(Has(d.detail,
                  "blocked: the pipe (fd 4) is full (256 of 256 pages, 1048576 bytes) "
                  "at fs.pipe-max-size 1048576"))
      << d.detail;
}

TEST(FailuresBlocked, TheSpliceFamilyAndSendmmsgAreDiagnosedAsWrites) {
  for (auto sys : {IPCTOP_FAIL_SENDMMSG, IPCTOP_FAIL_PWRITEV2, IPCTOP_FAIL_SPLICE,
                   IPCTOP_FAIL_VMSPLICE, IPCTOP_FAIL_TEE}) {
    Case c(sys, 0, IPCTOP_KIND_FIFO);
    c.val.id = 6;
    c.val.chan_capacity = 2;
    c.val.chan_used = 2;
    c.val.user_pipe_pages = 20000;
    Diagnosis d = c.run();
    ExpectLimit(d, "fs.pipe-user-pages-soft", "sysctl -w fs.pipe-user-pages-soft=32768");
    EXPECT_TRUE(Has(d.detail, "blocked: the FIFO (fd 6) is full at only 2 pages")) << d.detail;
  }
  EXPECT_EQ(ipctop::failure_syscall_name(IPCTOP_FAIL_SENDMMSG), "sendmmsg");
  EXPECT_EQ(ipctop::failure_syscall_name(IPCTOP_FAIL_PWRITEV2), "pwritev2");
  EXPECT_EQ(ipctop::failure_syscall_name(IPCTOP_FAIL_SPLICE), "splice");
  EXPECT_EQ(ipctop::failure_syscall_name(IPCTOP_FAIL_VMSPLICE), "vmsplice");
  EXPECT_EQ(ipctop::failure_syscall_name(IPCTOP_FAIL_TEE), "tee");
}

TEST(FailuresBlocked, UnixSendersBlockedOnSndbufOrTheReceiversQueue) {
  Case c(IPCTOP_FAIL_SENDMSG, 0, IPCTOP_KIND_UNIX_STREAM);
  c.val.id = 9;
  c.val.chan_capacity = 2 * 212992;
  c.val.chan_used = 2 * 212992;
  Diagnosis d = c.run();
  ExpectLimit(d, "net.core.wmem_max", "sysctl -w net.core.wmem_max=425984");
  EXPECT_TRUE(Has(d.detail, "blocked: the socket's send buffer (fd 9) is full")) << d.detail;

  Case g(IPCTOP_FAIL_SENDTO, 0, IPCTOP_KIND_UNIX_DGRAM);
  g.val.chan_capacity = 212992;
  g.val.chan_used = 768;
  ExpectLimit(g.run(), "net.unix.max_dgram_qlen", "sysctl -w net.unix.max_dgram_qlen=1024");
}

TEST(FailuresBlocked, MsgsndBlockedOnAQueueAtMsgmnbRaisesTheSysctl) {
  Case c(IPCTOP_FAIL_MSGSND, 0, IPCTOP_KIND_SYSV_MSG);
  c.limits.msg_queues[77] = {16384, 16000, 16};
  c.val.id = 77;
  c.val.size = 1000;
  Diagnosis d = c.run();
  ExpectLimit(d, "kernel.msgmnb", "sysctl -w kernel.msgmnb=32768");
  EXPECT_TRUE(Has(d.detail,
                  "msgsnd of 1000 bytes blocked on full queue 77 (16000 bytes in 16 "
                  "messages; msg_qbytes 16384)"))
      << d.detail;
  EXPECT_FALSE(Has(d.detail, "IPC_NOWAIT")) << d.detail;
}

TEST(FailuresBlocked, MsgsndOnAQueueLoweredWithIpcSetIsRaisedWithIpcSet) {
  for (int err : {0, EAGAIN}) {
    Case c(IPCTOP_FAIL_MSGSND, err, err ? 0 : IPCTOP_KIND_SYSV_MSG);
    c.limits.msg_queues[5] = {2048, 2048, 2};
    c.val.id = 5;
    c.val.size = 1024;
    Diagnosis d = c.run();
    ASSERT_TRUE(d.limit.has_value()) << d.detail;
    EXPECT_EQ(*d.limit, "kernel.msgmnb");
    EXPECT_TRUE(Has(d.detail, "its msg_qbytes 2048 was set below kernel.msgmnb 16384")) << d.detail;
    EXPECT_EQ(
        *d.fix,
        "raise queue 5's msg_qbytes with msgctl(IPC_SET), up to kernel.msgmnb 16384 (above it "
        "with CAP_SYS_RESOURCE)");
  }
}

TEST(FailuresBlocked, MqTimedsendBlockedAtMsgMaxOrBelow) {
  Case c(IPCTOP_FAIL_MQ_TIMEDSEND, 0, IPCTOP_KIND_POSIX_MQ);
  c.val.id = 3;
  c.val.chan_capacity = 10;
  c.val.chan_used = 10;
  Diagnosis d = c.run();
  ExpectLimit(d, "fs.mqueue.msg_max",
              "sysctl -w fs.mqueue.msg_max=20 (then recreate the queue with a larger mq_maxmsg)");
  EXPECT_TRUE(Has(d.detail,
                  "blocked: queue (descriptor 3) is full (10 of mq_maxmsg 10 messages) "
                  "and the sender blocked"))
      << d.detail;

  c.val.chan_capacity = 4;
  c.val.chan_used = 4;
  d = c.run();
  ExpectNoLimit(d);
  EXPECT_TRUE(Has(*d.fix, "larger mq_maxmsg (up to fs.mqueue.msg_max 10)")) << *d.fix;

  // EAGAIN with the queue resolved names the sysctl too.
  Case e(IPCTOP_FAIL_MQ_TIMEDSEND, EAGAIN, IPCTOP_KIND_POSIX_MQ);
  e.val.chan_capacity = 10;
  e.val.chan_used = 10;
  ASSERT_TRUE(e.run().limit.has_value());
  EXPECT_EQ(*e.run().limit, "fs.mqueue.msg_max");
}

TEST(FailuresBlocked, RowsSayBlockedAndHaveNoErrno) {
  ipctop::FailureSamples in;
  in.limits = Defaults();
  ipctop::FailureSample s;
  s.key.tgid = 10;
  s.key.tid = 11;
  s.key.sys = IPCTOP_FAIL_WRITE;
  s.key.kind = IPCTOP_KIND_PIPE;
  s.val.count = 7;
  s.val.chan_capacity = 16;
  s.val.chan_used = 16;
  in.entries.push_back(s);
  s.key.err = EAGAIN;
  in.entries.push_back(s);
  ipctop::Snapshot snap;
  ipctop::add_failures(in, ipctop::Filter{}, snap);
  ASSERT_EQ(snap.failures.size(), 2u);
  EXPECT_TRUE(snap.failures[0].blocked);
  EXPECT_EQ(snap.failures[0].err, "");
  EXPECT_EQ(snap.failures[0].count, 7u);
  EXPECT_FALSE(snap.failures[1].blocked);
  json j = ipctop::render::to_json(snap);
  EXPECT_EQ(j["failures"][0]["blocked"], true);
  EXPECT_TRUE(j["failures"][0]["errno"].is_null());
  EXPECT_EQ(j["failures"][1]["blocked"], false);
  EXPECT_EQ(j["failures"][1]["errno"], "EAGAIN");
}

// ---------------------------------------------------------------- into the snapshot

TEST(FailuresSnapshot, RowsAreFilteredSortedNamedAndLossIsReported) {
  ipctop::FailureSamples in;
  in.limits = Defaults();
  in.map_full = 3;
  auto add = [&](uint32_t pid, uint32_t tid, ipctop_fail_sys sys, int err, uint64_t count) {
    ipctop::FailureSample s;
    s.key.tgid = pid;
    s.key.tid = tid;
    s.key.sys = static_cast<uint16_t>(sys);
    s.key.err = static_cast<uint16_t>(err);
    s.val.count = count;
    std::memcpy(s.val.comm, "0123456789abcdef", sizeof(s.val.comm));  // no NUL
    s.val.size = 1 << 30;
    in.entries.push_back(s);
  };
  add(20, 21, IPCTOP_FAIL_SHMGET, ENOMEM, 2);
  add(10, 12, IPCTOP_FAIL_MSGSND, EINVAL, 1);
  add(10, 11, IPCTOP_FAIL_SHMGET, ENOMEM, 5);
  add(30, 30, IPCTOP_FAIL_SHMGET, ENOMEM, 1);  // filtered out
  add(10, 11, IPCTOP_FAIL_MSGGET, ENOSPC, 0);  // nothing in the interval

  ipctop::Filter filter;
  filter.pids = {10, 20};
  ipctop::Snapshot snap;
  snap.lost.events = 4;
  ipctop::add_failures(in, filter, snap);

  ASSERT_EQ(snap.failures.size(), 3u);
  EXPECT_EQ(snap.failures[0].tid, 11u);
  EXPECT_EQ(snap.failures[0].syscall, "shmget");
  EXPECT_EQ(snap.failures[0].err, "ENOMEM");
  EXPECT_EQ(snap.failures[0].count, 5u);
  EXPECT_EQ(snap.failures[0].comm, "0123456789abcdef") << "comm without a NUL stays in bounds";
  EXPECT_EQ(snap.failures[1].tid, 12u);
  EXPECT_EQ(snap.failures[1].syscall, "msgsnd");
  ASSERT_TRUE(snap.failures[1].diagnosis.limit.has_value());
  EXPECT_EQ(*snap.failures[1].diagnosis.limit, "kernel.msgmax");
  EXPECT_EQ(snap.failures[2].pid, 20u);
  EXPECT_EQ(snap.lost.by_point.at("failure_map_full"), 3u);
  EXPECT_EQ(snap.lost.events, 7u);
}

TEST(FailuresSnapshot, NoFailuresStillReportsTheDropPoint) {
  ipctop::Snapshot snap;
  ipctop::add_failures({}, ipctop::Filter{}, snap);
  EXPECT_TRUE(snap.failures.empty());
  EXPECT_EQ(snap.lost.by_point.at("failure_map_full"), 0u);
  EXPECT_EQ(snap.lost.events, 0u);
}

TEST(FailuresJson, EachFailureHasEveryKeyWithNullsWhereNothingApplies) {
  ipctop::Snapshot snap;
  ipctop::FailureRow shrunk;
  shrunk.syscall = "pipe2";
  shrunk.pid = 1;
  shrunk.tid = 2;
  shrunk.comm = "a\x1b[31m";
  shrunk.count = 18446744073709551615ull;
  shrunk.diagnosis = {"fs.pipe-user-pages-soft", "shrunk", "sysctl -w fs.pipe-user-pages-soft=2"};
  ipctop::FailureRow full;
  full.syscall = "write";
  full.err = "EAGAIN";
  full.diagnosis = {std::nullopt, "full", std::nullopt};
  snap.failures = {shrunk, full};

  json j = ipctop::render::to_json(snap);
  ASSERT_TRUE(j.contains("failures"));
  ASSERT_EQ(j["failures"].size(), 2u);
  for (const auto& f : j["failures"])
    for (const char* k :
         {"syscall", "errno", "pid", "tid", "comm", "count", "blocked", "limit", "detail", "fix"})
      EXPECT_TRUE(f.contains(k)) << k;
  EXPECT_TRUE(j["failures"][0]["errno"].is_null()) << "a shrunk pipe has no errno";
  EXPECT_EQ(j["failures"][0]["limit"], "fs.pipe-user-pages-soft");
  EXPECT_EQ(j["failures"][0]["count"].get<uint64_t>(), 18446744073709551615ull);
  EXPECT_EQ(j["failures"][0]["comm"], "a\\x1b[31m") << "comm is sanitized";
  EXPECT_EQ(j["failures"][1]["errno"], "EAGAIN");
  EXPECT_TRUE(j["failures"][1]["limit"].is_null());
  EXPECT_TRUE(j["failures"][1]["fix"].is_null());

  EXPECT_TRUE(ipctop::render::to_json(ipctop::Snapshot{})["failures"].is_array());
  EXPECT_TRUE(ipctop::render::to_json(ipctop::Snapshot{})["failures"].empty());
}

TEST(FailuresNames, SyscallsAndErrnos) {
  EXPECT_EQ(ipctop::failure_syscall_name(IPCTOP_FAIL_MQ_OPEN), "mq_open");
  EXPECT_EQ(ipctop::failure_syscall_name(IPCTOP_FAIL_FCNTL), "fcntl");
  EXPECT_EQ(ipctop::failure_syscall_name(IPCTOP_FAIL_ACCEPT4), "accept4");
  for (uint32_t s = 1; s < IPCTOP_FAIL_SYS_MAX; ++s)
    EXPECT_NE(ipctop::failure_syscall_name(s), "unknown") << s;
  EXPECT_EQ(ipctop::failure_syscall_name(IPCTOP_FAIL_SYS_MAX), "unknown");
  EXPECT_EQ(ipctop::errno_name(EINVAL), "EINVAL");
  EXPECT_EQ(ipctop::errno_name(ENOSPC), "ENOSPC");
  EXPECT_EQ(ipctop::errno_name(EAGAIN), "EAGAIN");
  EXPECT_EQ(ipctop::errno_name(0), "");
}

}  // namespace
