// Fuzz target: ring-buffer records and kernel counters, as hostile as the
// bytes allow, through the decoder, the aggregator and the JSON renderer.
// The input: records (each a 16-bit length and the bytes handed to the
// decoder), then the rest as flow entries (a flow key and two counters).
#include <cstdint>
#include <cstring>

#include "FuzzTree.h"
#include "model/Aggregator.h"
#include "model/Decode.h"
#include "render/json/Json.h"

namespace {

// Names as hostile as the input: whatever bytes the last record carried.
class Names : public ipctop::NameSource {
 public:
  std::string last;
  std::optional<std::string> comm(uint32_t, uint32_t) override { return last; }
  std::optional<uint32_t> ppid(uint32_t pid) override { return pid / 2; }
  std::vector<std::string> cmdline(uint32_t) override { return {last, ""}; }
  std::string channel_path(ipctop::Kind, uint64_t, uint32_t, const std::set<uint32_t>&) override {
    return last;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The decoder on the whole input first: any size, any content.
  (void)ipctop::decode_record(data, size);
  (void)ipctop::decode_record(nullptr, size);

  Names names;
  ipctop::Aggregator agg(names, ipctop::Filter{});
  ipctop::KernelSample sample;
  sample.cpus.assign(2, ipctop::CpuCounters{});
  size_t pos = 0;
  int records = 0;
  while (pos + 2 <= size && records++ < 8) {
    size_t len = data[pos] | (size_t{data[pos + 1]} << 8);
    pos += 2;
    if (len > size - pos) len = size - pos;
    if (auto r = ipctop::decode_record(data + pos, len)) {
      names.last = r->comm;
      sample.records.push_back(*r);
    }
    pos += len;
    if (len == 0) break;
  }
  constexpr size_t kEntry = sizeof(ipctop_flow_key) + 16;
  for (; pos + kEntry <= size; pos += kEntry) {
    ipctop::FlowSample f;
    std::memcpy(&f.key, data + pos, sizeof(f.key));
    std::memcpy(&f.bytes, data + pos + sizeof(f.key), 8);
    std::memcpy(&f.messages, data + pos + sizeof(f.key) + 8, 8);
    sample.flows.push_back(f);
    ipctop::ThreadSample t;
    t.tid = f.key.src_tid;
    t.tgid = f.key.src_tgid;
    t.per_cpu.assign(2, ipctop::ThreadCounters{f.bytes, f.messages, f.bytes, f.messages});
    sample.threads.push_back(t);
    sample.cpus[f.key.src_cpu & 1][f.key.kind % IPCTOP_CNT_MAX] += f.bytes;
  }
  for (int round = 0; round < 2; ++round) {
    ipctop::Snapshot snap = agg.update(sample, 1.0);
    std::string out = ipctop::render::to_json(snap).dump();
    (void)out;
    (void)agg.collect_garbage();
    for (auto& f : sample.flows) f.bytes += 1;  // counters move on, or wrap
  }
  return 0;
}
