// The project model: Procfiles, and the dependency graph of either kind of file.
#include "common/project.hpp"

#include <algorithm>
#include <functional>
#include <set>

#include "common/ids.hpp"

namespace sbx {

const char* depends_on_name(DependsOn d) {
  switch (d) {
    case DependsOn::started:
      return "started";
    case DependsOn::ready:
      return "ready";
    case DependsOn::completed:
      return "completed";
  }
  return "started";
}

const ProcessDef* Project::find(std::string_view name) const {
  for (const auto& d : processes) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

bool is_procfile_name(std::string_view path) {
  auto slash = path.find_last_of('/');
  auto base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return base.starts_with("Procfile");
}

namespace {

std::string_view trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

Error file_error(const std::string& file, int line, const std::string& message) {
  return make_error(Errc::usage, file + ":" + std::to_string(line) + ": " + message);
}

std::string default_project_name(const std::string& dir) {
  auto slash = dir.find_last_of('/');
  std::string name = slash == std::string::npos ? dir : dir.substr(slash + 1);
  return name.empty() ? std::string("default") : name;
}

Result<Project> parse_procfile(std::string_view text, const std::string& file,
                               const std::string& dir) {
  Project p;
  p.file = file;
  p.dir = dir;
  p.name = default_project_name(dir);
  int line = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    auto nl = text.find('\n', pos);
    auto raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line;
    auto l = trim(raw);
    if (l.empty() || l[0] == '#') continue;
    if (raw.find('\0') != std::string_view::npos)
      return file_error(file, line, "a NUL byte: a Procfile is text");
    auto colon = l.find(':');
    if (colon == std::string_view::npos)
      return file_error(file, line, "not a 'name: command' line (a comment starts with '#')");
    std::string name(trim(l.substr(0, colon)));
    std::string command(trim(l.substr(colon + 1)));
    if (auto st = check_id(name); !st) return file_error(file, line, st.error().message);
    if (command.empty()) return file_error(file, line, "'" + name + "' has no command after ':'");
    if (p.find(name)) return file_error(file, line, "'" + name + "' is defined twice");
    ProcessDef d;
    d.name = std::move(name);
    d.line = line;
    d.shell_line = std::move(command);
    d.cwd = dir;
    p.processes.push_back(std::move(d));
  }
  if (p.processes.empty())
    return file_error(file, std::max(line, 1), "no processes: add 'name: command' lines");
  return p;
}

Status check_dependencies(const Project& p) {
  for (const auto& d : p.processes) {
    for (const auto& dep : d.depends_on) {
      if (!p.find(dep.name)) {
        return file_error(p.file, dep.line,
                          "'" + d.name + "' depends on '" + dep.name +
                              "', which is not a process of this file: define [process." +
                              dep.name + "] or remove it from depends_on");
      }
    }
  }
  // Depth-first search; a process met again while on the path closes a cycle.
  enum Mark { unseen, on_path, done };
  std::map<std::string, Mark> mark;
  std::vector<const ProcessDef*> path;
  std::function<std::optional<Error>(const ProcessDef&)> visit =
      [&](const ProcessDef& d) -> std::optional<Error> {
    mark[d.name] = on_path;
    path.push_back(&d);
    for (const auto& dep : d.depends_on) {
      const ProcessDef* next = p.find(dep.name);
      if (mark[next->name] == on_path) {
        auto from = std::find(path.begin(), path.end(), next);
        std::string cycle;
        for (auto it = from; it != path.end(); ++it) cycle += (*it)->name + " -> ";
        cycle += next->name;
        return file_error(p.file, dep.line,
                          "a dependency cycle: " + cycle + ": remove one of these depends_on");
      }
      if (mark[next->name] == unseen) {
        if (auto e = visit(*next)) return e;
      }
    }
    path.pop_back();
    mark[d.name] = done;
    return std::nullopt;
  };
  for (const auto& d : p.processes) {
    if (mark[d.name] != unseen) continue;
    if (auto e = visit(d)) return *e;
  }
  return ok_status();
}

Result<std::vector<const ProcessDef*>> start_order(const Project& p,
                                                   const std::vector<std::string>& names) {
  std::set<std::string> wanted;
  std::vector<const ProcessDef*> todo;
  for (const auto& n : names) {
    const ProcessDef* d = p.find(n);
    if (!d) {
      std::string known;
      for (const auto& e : p.processes) known += (known.empty() ? "" : ", ") + e.name;
      return make_error(Errc::usage,
                        "no process '" + n + "' in " + p.file + " (it has: " + known + ")");
    }
    todo.push_back(d);
  }
  if (names.empty()) {
    for (const auto& d : p.processes) todo.push_back(&d);
  }
  while (!todo.empty()) {
    const ProcessDef* d = todo.back();
    todo.pop_back();
    if (!wanted.insert(d->name).second) continue;
    for (const auto& dep : d->depends_on) todo.push_back(p.find(dep.name));
  }
  // Kahn's algorithm in file order: the first process whose dependencies are placed goes next.
  std::vector<const ProcessDef*> out;
  std::set<std::string> placed;
  while (out.size() < wanted.size()) {
    bool progress = false;
    for (const auto& d : p.processes) {
      if (!wanted.count(d.name) || placed.count(d.name)) continue;
      bool ready = std::all_of(d.depends_on.begin(), d.depends_on.end(),
                               [&](const Dependency& dep) { return placed.count(dep.name) > 0; });
      if (!ready) continue;
      out.push_back(&d);
      placed.insert(d.name);
      progress = true;
      break;
    }
    if (!progress) return make_error(Errc::usage, p.file + ": a dependency cycle");
  }
  return out;
}

}  // namespace sbx
