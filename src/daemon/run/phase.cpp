#include "daemon/run/phase.hpp"

namespace sbx::daemon {

std::optional<Phase> next_phase(Phase from, PhaseEvent event) {
  using P = Phase;
  using E = PhaseEvent;
  switch (from) {
    case P::launching:
      switch (event) {
        case E::exec_reported:
          return P::running;
        case E::launch_failed:
          return P::ended;
        case E::stop_asked:
          return P::launching;  // applied once it runs
        default:
          return std::nullopt;
      }
    case P::running:
      switch (event) {
        case E::ended_for_good:
          return P::ended;
        case E::ended_to_restart:
          return P::backoff;
        case E::stop_asked:
          return P::stopping;
        case E::launch_failed:
          return P::ended;  // adopted while starting: its waiter ended before the exec
        default:
          return std::nullopt;
      }
    case P::stopping:
      switch (event) {
        case E::ended_for_good:
          return P::stopping;  // its tree may still be ending
        case E::stop_asked:
          return P::stopping;
        case E::tree_gone:
          return P::ended;
        case E::launch_failed:
          return P::ended;
        default:
          return std::nullopt;
      }
    case P::backoff:
      switch (event) {
        case E::restart_due:
          return P::launching;
        case E::stop_asked:
          return P::ended;  // nothing runs: the last run's end is final
        default:
          return std::nullopt;
      }
    case P::ended:
      switch (event) {
        case E::stop_asked:
          return P::stopping;  // what its tree left behind
        case E::tree_gone:
          return P::ended;
        default:
          return std::nullopt;
      }
  }
  return std::nullopt;
}

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::launching:
      return "launching";
    case Phase::running:
      return "running";
    case Phase::stopping:
      return "stopping";
    case Phase::backoff:
      return "backoff";
    case Phase::ended:
      return "ended";
  }
  return "?";
}

const char* phase_event_name(PhaseEvent e) {
  switch (e) {
    case PhaseEvent::exec_reported:
      return "exec_reported";
    case PhaseEvent::launch_failed:
      return "launch_failed";
    case PhaseEvent::ended_for_good:
      return "ended_for_good";
    case PhaseEvent::ended_to_restart:
      return "ended_to_restart";
    case PhaseEvent::restart_due:
      return "restart_due";
    case PhaseEvent::stop_asked:
      return "stop_asked";
    case PhaseEvent::tree_gone:
      return "tree_gone";
  }
  return "?";
}

}  // namespace sbx::daemon
