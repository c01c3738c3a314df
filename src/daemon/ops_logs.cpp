#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "common/ids.hpp"
#include "common/record_json.hpp"
#include "daemon/log_pump.hpp"
#include "daemon/ops.hpp"
#include "proto/message.hpp"

namespace sbx::daemon {
namespace json = boost::json;

void op_logs(Context& ctx, const json::object& args, const ConnPtr& conn) {
  auto id = proto::get_string(args, "id");
  if (!id) return conn->reply(id.error());
  if (auto st = check_id(*id); !st) return conn->reply(st.error());
  const ProcessRecord* r = ctx.supervisor.find(*id);
  if (!r) return conn->reply(make_error(Errc::not_found, "no process '" + *id + "': see 'sbx ps'"));
  bool want_out = proto::get_bool(args, "stdout", true);
  bool want_err = proto::get_bool(args, "stderr", true);
  auto tail = proto::get_opt_int(args, "tail");

  std::vector<LogSource> sources;
  for (bool is_err : {false, true}) {
    if (is_err ? !want_err : !want_out) continue;
    LogSource src;
    src.stream = is_err ? proto::kStreamStderr : proto::kStreamStdout;
    src.fd.reset(::open(ctx.paths.log_path(*id, is_err).c_str(), O_RDONLY | O_CLOEXEC));
    if (!src.fd) {
      if (errno == ENOENT) continue;  // a process that could not start has no logs
      return conn->reply(make_error(Errc::failed, "cannot read the log of '" + *id + "': " + std::strerror(errno)));
    }
    if (tail) {
      struct stat st{};
      ::fstat(src.fd.get(), &st);
      src.offset = tail_offset(src.fd.get(), st.st_size, *tail);
    }
    sources.push_back(std::move(src));
  }
  auto pump = std::make_shared<LogPump>(conn, std::move(sources));
  pump->run([&ctx, conn, id = *id] {
    const ProcessRecord* rec = ctx.supervisor.find(id);
    if (!rec) return conn->end(make_error(Errc::not_found, "process '" + id + "' was removed"));
    conn->end(json::value(record_to_json(*rec)));
  });
}

}  // namespace sbx::daemon
