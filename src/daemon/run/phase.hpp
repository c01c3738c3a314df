#pragma once
// The lifecycle of one process entry, as one value and one table of transitions.
//
//   launching --exec_reported--> running --stop_asked--> stopping --tree_gone--> ended
//       |                          |  \--ended_for_good------------------------> ended
//       |                          \----ended_to_restart--> backoff --restart_due--> launching
//       \--launch_failed--> ended                           backoff --stop_asked---> ended
//
// A stop asked while launching waits for the exec's report (it is applied once running);
// a stop asked once ended still signals what is left of the tree (stopping, then ended).

#include <optional>

namespace sbx::daemon {

enum class Phase {
  launching,  ///< the waiter is started, the program's exec not yet reported: no pid
  running,    ///< its waiter (or its program, the waiter lost) is watched until it ends
  stopping,   ///< ended for good on request: signalled, until its whole tree is gone
  backoff,    ///< between two runs: it restarts when its back-off has passed
  ended,      ///< its record is final (a stop may still clean up what the tree left)
};

enum class PhaseEvent {
  exec_reported,     ///< the waiter says the program was exec'd
  launch_failed,     ///< it could not start (or its waiter ended before the exec)
  ended_for_good,    ///< the run ended and does not restart
  ended_to_restart,  ///< the run ended and restarts after its back-off
  restart_due,       ///< the back-off has passed
  stop_asked,        ///< kill, --timeout, daemon stop, rm -f
  tree_gone,         ///< no process of the run is left (or SIGKILL could not reap them)
};

/// The phase `event` leads to from `from`, or nothing when it cannot happen there.
std::optional<Phase> next_phase(Phase from, PhaseEvent event);

const char* phase_name(Phase p);
const char* phase_event_name(PhaseEvent e);

}  // namespace sbx::daemon
