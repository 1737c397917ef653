//! The checks after every event (I1 for the actors an event touched) and the two phases:
//! chaos, then heal and quiesce, then the final checks (I2, no lost alarm, at-least-once).

use super::*;

impl World {
    /// The view of `actor`'s own namespace manager: what every check compares storage with.
    pub(super) fn manager_time(&self, actor: usize) -> AlarmTime {
        self.managers[self.home(actor)].time_of(actor, &self.actors[actor].id)
    }

    /// I2 per namespace: no manager but the actor's own holds an alarm for it.
    pub(super) fn check_no_foreign_entries(&mut self, actor: usize) {
        let home = self.home(actor);
        let id = &self.actors[actor].id;
        let foreign = self.managers.iter().enumerate().find_map(|(ns, m)| (ns != home).then(|| (m, m.time_of(actor, id))).filter(|(_, t)| t.is_some()));
        if let Some((manager, time)) = foreign {
            let violation = self.checker.foreign_entry(&id.0, &manager.name, time, &self.managers[home].name, self.now_ms());
            self.fail(violation);
        }
    }

    pub(super) fn check_step(&mut self) {
        if self.violation.is_some() || !self.spec.checks(Invariant::NeverLate) {
            return;
        }
        let at = self.now_ms();
        if self.check_every_actor {
            self.touched.add_all();
        }
        let idle_check = self.spec.checks(Invariant::IdleConvergence);
        let agreement = self.factory.idle_agreement();
        for i in 0..self.touched.visit(self.actors.len()) {
            let actor = self.touched.nth(i);
            let manager = self.manager_time(actor);
            let violation = self.checker.never_late(actor, &self.actors[actor].id.0, &self.managers[self.home(actor)].name, manager, at);
            if violation.is_some() {
                self.fail(violation);
                return;
            }
            if idle_check && self.idle(actor) {
                let violation = self.checker.idle_convergence(actor, &self.actors[actor].id.0, &self.managers[self.home(actor)].name, manager, at, agreement);
                if violation.is_some() {
                    self.fail(violation);
                    return;
                }
            }
        }
    }

    /// Idle convergence's precondition (I2 during the run): nothing of the actor's own is in
    /// flight (no commit, no command, no fire, result or abandon on its way, no handler), its
    /// output gate is open, its host and its manager are up and the link between them is not cut.
    fn idle(&self, actor: usize) -> bool {
        let slot = &self.actors[actor];
        slot.pending_events == 0
            && slot.commits.is_empty()
            && slot.handler.is_none()
            && slot.arm_waiters.is_empty()
            && slot.pending_reports.is_empty()
            && slot.pending_abandons.is_empty()
            && slot.core.as_ref().is_some_and(|c| c.gate() == Gate::Open && c.commands_outstanding() == 0)
            && self.hosts[slot.host].up
            && self.managers[self.home(actor)].up
            && !self.cut_off(actor)
    }
}

impl World {
    /// One actor's part of quiescence: idle, its manager entry not overdue, and not earlier
    /// than storage (an earlier entry must still fire and reconcile).
    fn actor_settled(&self, a: usize) -> bool {
        // An alarm that is past due on its manager's clock (running, or waiting out a
        // backoff) is not settled.
        if self.manager_time(a).is_some_and(|t| t <= self.manager_clock(self.home(a))) {
            return false;
        }
        let slot = &self.actors[a];
        let idle = slot.core.as_ref().is_some_and(|c| c.gate() == Gate::Open && c.commands_outstanding() == 0)
            && slot.handler.is_none()
            && slot.arm_waiters.is_empty()
            && slot.pending_reports.is_empty()
            && slot.pending_abandons.is_empty();
        idle && !fires_earlier(self.manager_time(a), self.checker.actors[a].durable)
    }
}

impl TwoPhases for World {
    /// Handles the agenda's events up to `t_ms`, one instant at a time: madsim's clock jumps
    /// to each instant (one timer per instant, not per message), then the world handles
    /// every event due there.
    async fn run_until(world: &Rc<RefCell<World>>, start: madsim::time::Instant, t_ms: u64) {
        loop {
            let next = {
                let w = world.borrow();
                if w.violation.is_some() {
                    return;
                }
                w.next_event_ms().filter(|&at| at <= t_ms)
            };
            let Some(at) = next else { break };
            if at > world.borrow().now {
                madsim::time::sleep_until(start + std::time::Duration::from_millis(at)).await;
            }
            world.borrow_mut().run_due(at);
        }
        madsim::time::sleep_until(start + std::time::Duration::from_millis(t_ms)).await;
        world.borrow_mut().run_due(t_ms);
    }

    /// Loads every actor and schedules the plan's steps.
    fn start(&mut self) {
        self.note(EventKind::Note, "world", None, |w| format!("seed {} scenario {} variant {}", w.seed, w.spec.name, w.factory.name()));
        self.note(EventKind::Note, "world", None, |w| format!("profile {}", w.profile.describe()));
        for actor in 0..self.actors.len() {
            self.load_actor(actor);
        }
        for index in 0..self.steps.len() {
            let at = self.steps[index].at_ms;
            self.after(at, Event::Step { index });
        }
        self.settle_gauges();
    }
    /// The end of the chaos phase: faults off, every node up, partitions healed.
    fn heal(&mut self) {
        self.phase = Phase::Quiesce;
        self.note(EventKind::Heal, "world", None, |_| "heal: faults off, clients stopped, restarting every node".to_string());
        for host in &mut self.hosts {
            host.cut_until.fill(0);
        }
        for ns in 0..self.managers.len() {
            self.restart(self.managers[ns].node);
        }
        for host in 0..self.hosts.len() {
            self.restart(Node::Host(host));
        }
        self.touched.add_all();
        self.check_step();
        self.settle_gauges();
    }
    /// Nothing in flight, every node up, no alarm due, and no manager entry earlier than
    /// storage still waiting to fire and reconcile (§2 transition 3).
    fn quiescent(&self) -> bool {
        if self.phase != Phase::Quiesce || self.in_flight > 0 {
            return false;
        }
        let settled = |ns: usize| {
            let manager = &self.managers[ns];
            manager.up && manager.core.as_ref().and_then(|c| c.next_wakeup()).is_none_or(|t| t > self.manager_clock(ns))
        };
        if !(0..self.managers.len()).all(settled) {
            return false;
        }
        // Every actor settled. The scan starts at the actor the last one stopped at: an
        // unsettled actor stays unsettled until an event touches it (time only makes an alarm
        // more overdue), so while the world settles, a check costs one actor, not all of them.
        let n = self.actors.len();
        let hand = self.quiesce_hand.get();
        match (0..n).map(|i| (hand + i) % n).find(|&a| !self.actor_settled(a)) {
            Some(a) => {
                self.quiesce_hand.set(a);
                false
            }
            None => true,
        }
    }
    /// The checks that apply once the world is quiescent.
    fn final_checks(&mut self) {
        let at = self.now_ms();
        for actor in 0..self.actors.len() {
            let now = self.manager_clock(self.home(actor));
            let manager = self.manager_time(actor);
            let local = self.actors[actor].core.as_ref().and_then(|c| c.stored_alarm());
            let name = &self.managers[self.home(actor)].name;
            let violation = self.checker.at_quiescence(actor, &self.actors[actor].id.0, name, manager, local, now, at);
            self.fail(violation);
            self.check_no_foreign_entries(actor);
            if self.violation.is_some() {
                return;
            }
        }
        self.note(EventKind::Note, "world", None, |_| "quiescent: every invariant holds".to_string());
    }
    /// The world did not quiesce in time.
    fn quiesce_timeout(&mut self) {
        let stuck: Vec<String> = (0..self.actors.len())
            .filter(|&a| fires_earlier(self.manager_time(a), self.checker.actors[a].durable) || self.actors[a].handler.is_some())
            .map(|a| format!("{} (manager={} durable={})", self.actors[a].id, rel(self.manager_time(a)), rel(self.checker.actors[a].durable)))
            .collect();
        let detail = format!(
            "the world did not quiesce within {} ms after healing ({} messages in flight; unsettled: {})",
            self.spec.quiesce_limit_ms,
            self.in_flight,
            if stuck.is_empty() { "none".to_string() } else { stuck.join(", ") }
        );
        let violation = self.checker.convergence_timeout(self.now_ms(), detail);
        self.fail(violation);
    }

    fn violated(&self) -> bool {
        self.violation.is_some()
    }

    fn now_ms(&self) -> u64 {
        Self::now_ms(self)
    }

    fn spec(&self) -> &ScenarioSpec {
        &self.spec
    }

    fn finish(&mut self) {
        self.last_event_ms = Self::now_ms(self);
        self.phase = Phase::Done;
    }
}
