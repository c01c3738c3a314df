#include "doctest.hpp"

#include <initializer_list>
#include <optional>
#include <string_view>

#include "daemon/run/phase.hpp"

using sbx::daemon::next_phase;
using sbx::daemon::Phase;
using E = sbx::daemon::PhaseEvent;

namespace {

constexpr Phase kPhases[] = {Phase::launching, Phase::running, Phase::stopping, Phase::backoff,
                             Phase::ended};
constexpr E kEvents[] = {E::exec_reported, E::launch_failed, E::ended_for_good, E::ended_to_restart,
                         E::restart_due,   E::stop_asked,    E::tree_gone};

/// The phase after `events` from `from`, or nothing if one of them cannot happen on the way.
std::optional<Phase> after(Phase from, std::initializer_list<E> events) {
  std::optional<Phase> p = from;
  for (E e : events) {
    if (!p) return p;
    p = next_phase(*p, e);
  }
  return p;
}

}  // namespace

TEST_CASE("run phase: a run that ends by itself") {
  CHECK(after(Phase::launching, {E::exec_reported}) == Phase::running);
  CHECK(after(Phase::launching, {E::exec_reported, E::ended_for_good}) == Phase::ended);
  CHECK(after(Phase::launching, {E::launch_failed}) == Phase::ended);
}

TEST_CASE("run phase: restarts go through the back-off and launch again") {
  CHECK(after(Phase::running, {E::ended_to_restart}) == Phase::backoff);
  CHECK(after(Phase::running, {E::ended_to_restart, E::restart_due}) == Phase::launching);
  CHECK(after(Phase::backoff, {E::restart_due, E::launch_failed}) == Phase::ended);
  CHECK(after(Phase::backoff, {E::restart_due, E::exec_reported, E::ended_to_restart}) ==
        Phase::backoff);
}

TEST_CASE("run phase: a stop") {
  SUBCASE("while running: stopping until the tree is gone, whenever the leader ends") {
    CHECK(after(Phase::running, {E::stop_asked}) == Phase::stopping);
    CHECK(after(Phase::running, {E::stop_asked, E::ended_for_good}) == Phase::stopping);
    CHECK(after(Phase::running, {E::stop_asked, E::ended_for_good, E::tree_gone}) == Phase::ended);
    CHECK(after(Phase::running, {E::stop_asked, E::stop_asked}) == Phase::stopping);
  }
  SUBCASE("while stopping, a run never restarts") {
    CHECK_FALSE(next_phase(Phase::stopping, E::ended_to_restart));
    CHECK_FALSE(next_phase(Phase::stopping, E::restart_due));
  }
  SUBCASE("while launching: it waits for the exec's report") {
    CHECK(after(Phase::launching, {E::stop_asked}) == Phase::launching);
    CHECK(after(Phase::launching, {E::stop_asked, E::exec_reported, E::stop_asked}) ==
          Phase::stopping);
    CHECK(after(Phase::launching, {E::stop_asked, E::launch_failed}) == Phase::ended);
  }
  SUBCASE("during the back-off: the last run's end is final") {
    CHECK(after(Phase::backoff, {E::stop_asked}) == Phase::ended);
  }
  SUBCASE("once ended: what the tree left is stopped, then it is ended again") {
    CHECK(after(Phase::ended, {E::stop_asked}) == Phase::stopping);
    CHECK(after(Phase::ended, {E::stop_asked, E::tree_gone}) == Phase::ended);
  }
  SUBCASE("adopted while starting, its waiter ends before the exec") {
    CHECK(after(Phase::running, {E::launch_failed}) == Phase::ended);
    CHECK(after(Phase::running, {E::stop_asked, E::launch_failed}) == Phase::ended);
  }
}

TEST_CASE("run phase: an ended run starts nothing and ends nothing again") {
  for (E e : {E::exec_reported, E::launch_failed, E::ended_for_good, E::ended_to_restart,
              E::restart_due}) {
    CAPTURE(sbx::daemon::phase_event_name(e));
    CHECK_FALSE(next_phase(Phase::ended, e));
  }
  CHECK(next_phase(Phase::ended, E::tree_gone) == Phase::ended);  // a stop's end after a normal end
}

TEST_CASE("run phase: only a launch reports an exec, only a back-off falls due") {
  for (Phase p : kPhases) {
    CAPTURE(sbx::daemon::phase_name(p));
    CHECK(next_phase(p, E::exec_reported).has_value() == (p == Phase::launching));
    CHECK(next_phase(p, E::restart_due).has_value() == (p == Phase::backoff));
    CHECK(next_phase(p, E::ended_to_restart).has_value() == (p == Phase::running));
  }
}

TEST_CASE("run phase: every phase and event has a name") {
  for (Phase p : kPhases) CHECK(std::string_view(sbx::daemon::phase_name(p)) != "?");
  for (E e : kEvents) CHECK(std::string_view(sbx::daemon::phase_event_name(e)) != "?");
}
