// up and down: start a project's processes in the order of their dependencies, or stop them.

#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/project.hpp"
#include "common/duration.hpp"
#include "common/ids.hpp"

namespace sbx::cli {
namespace {

struct UpArgs {
  std::string file;
  std::string project;
  std::string timeout;
  std::string exit_from;
  std::string grace;
  std::vector<std::string> names;
};

struct DownArgs {
  std::string file;
  std::string project;
  std::string grace;
};

Result<std::optional<Millis>> optional_duration(const std::string& text, const char* option) {
  if (text.empty()) return std::optional<Millis>();
  auto d = parse_duration(text);
  if (!d) return d.error();
  if (d->count() <= 0) return make_error(Errc::usage, std::string(option) + " must be more than 0");
  return std::optional<Millis>(*d);
}

Result<int> run_up(const UpArgs& a) {
  auto timeout = optional_duration(a.timeout, "--timeout");
  if (!timeout) return timeout.error();
  auto grace = optional_duration(a.grace, "--grace");
  if (!grace) return grace.error();
  if (!a.grace.empty() && a.exit_from.empty())
    return make_error(Errc::usage, "--grace goes with --exit-from (sbx down takes it too)");
  auto p = load_project(a.file, a.project);
  if (!p) return p.error();
  UpOptions o;
  o.names = a.names;
  o.timeout = *timeout;
  if (a.exit_from.empty()) return up_project(*p, o);

  if (!p->find(a.exit_from))
    return make_error(Errc::usage,
                      "--exit-from " + a.exit_from + ": no such process in " + p->file);
  if (!o.names.empty()) o.names.push_back(a.exit_from);
  o.exit_from = a.exit_from;
  stop_project_on_signals(*p, *grace);
  o.on_started = [proj = &*p](const std::string& id) { follow_output(*proj, id); };
  auto up = up_project(*p, o);
  if (!up || *up != kExitOk) {
    // The CI form leaves nothing behind, even when `up` failed.
    teardown(*p, *grace);
    return up;
  }
  return run_exit_from(*p, a.exit_from, *grace);
}

Result<int> run_down(const DownArgs& a) {
  auto grace = optional_duration(a.grace, "--grace");
  if (!grace) return grace.error();
  auto p = load_project(a.file, a.project);
  if (!p) {
    // Without a file, --project alone names what to stop (in no particular order).
    if (a.file.empty() && !a.project.empty() && p.error().message.starts_with("no sbx.toml"))
      return down_project(a.project, nullptr, *grace);
    return p.error();
  }
  return down_project(p->name, &*p, *grace);
}

}  // namespace

void define_up(CommandDef& parent) {
  auto a = std::make_shared<UpArgs>();
  auto up = parent.add(
      "up", "Start a project's processes (sbx.toml, Procfile) once what they need is ready",
      "sbx up [OPTIONS] [NAME...]",
      "sbx up\n  sbx up api --timeout 2m\n  sbx up --exit-from tests    (CI: "
      "its exit code, the project stopped)");
  up.runs([a] { return run_up(*a); });
  up.option("names", a->names, "only these processes (and what they depend on)").type_name("NAME");
  up.option("-f,--file", a->file, "the project file (default: ./sbx.toml, else ./Procfile)")
      .type_name("FILE");
  up.option("--project", a->project,
            "the project's name, its processes' session (default: the file's)")
      .type_name("NAME");
  up.option("--timeout", a->timeout, "give up once not all are ready after this long (exit 124)")
      .type_name("DURATION");
  up.option("--exit-from", a->exit_from,
            "then print every process's output until NAME ends; stop the project; exit with "
            "NAME's code")
      .type_name("NAME");
  up.option("--grace", a->grace,
            "with --exit-from: time before SIGKILL when stopping (default 10s)")
      .type_name("DURATION");
}

void define_down(CommandDef& parent) {
  auto a = std::make_shared<DownArgs>();
  auto down = parent.add("down", "Stop a project's processes, dependents first",
                         "sbx down [OPTIONS]", "sbx down\n  sbx down --project shop --grace 2s");
  down.runs([a] { return run_down(*a); });
  down.option("-f,--file", a->file, "the project file (default: ./sbx.toml, else ./Procfile)")
      .type_name("FILE");
  down.option("--project", a->project, "the project's name (default: the file's)")
      .type_name("NAME");
  down.option("--grace", a->grace, "time before SIGKILL (default 10s)").type_name("DURATION");
}

}  // namespace sbx::cli
