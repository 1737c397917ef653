//! The actor side: incarnations loaded from disk, the effects of the scheduler under test
//! turned into commits and commands, resets, and the backend applying commits in order.

use super::*;

impl World {
    /// Starts a new incarnation of the actor from its disk (host start, restart, or reset).
    pub(super) fn load_actor(&mut self, actor: usize) {
        self.touched.add(actor);
        let slot = &mut self.actors[actor];
        let incarnation = slot.disk.next_incarnation().expect("bump the incarnation");
        let loaded = slot.disk.load().expect("load the actor store");
        let expected = slot.disk.shadow().clone();
        slot.incarnation = incarnation;
        slot.failed_from = None;
        slot.interrupt_next_commit = false;
        slot.calls_in_flight = 0;
        // What the dead incarnation had in flight is no longer this actor's (`Sym::InFlight`,
        // `Sym::LastSent`).
        slot.commits.clear();
        slot.last_sent = None;
        slot.acked = (CommitId(0), loaded.alarm);
        slot.failure_delivered = false;
        let now = self.now_ms();
        let durable = loaded.alarm;
        let violation = self.checker.durability(&self.actors[actor].id.0, &loaded, &expected, now);
        self.fail(violation);
        self.user_view.loaded(actor, &loaded);
        let core = self.factory.new_actor(self.actors[actor].id.clone(), incarnation, loaded, &self.probes);
        self.actors[actor].core = Some(core);
        self.checker.actor_loaded(actor, durable);
        self.conservation.loaded(actor, durable);
        let host = self.host_node(actor);
        self.note(if incarnation > 1 { EventKind::Restart } else { EventKind::Note }, host, Some(actor), |_| format!("load incarnation {incarnation}: S={}", rel(durable)));
        self.pump(actor);
    }

    /// Drains the actor's effects into messages.
    pub(super) fn pump(&mut self, actor: usize) {
        while let Some(effect) = self.actors[actor].core.as_mut().and_then(|c| c.poll_effect()) {
            let inc = self.actors[actor].incarnation;
            let host = self.host_node(actor);
            match effect {
                ActorEffect::Commit { id, batch } => {
                    self.actors[actor].commits.insert(id, batch.alarm);
                    self.note(EventKind::Commit, host, Some(actor), |_| format!("C#{} ship alarm={} keys={}", id.0, rel(batch.alarm), batch.kv.len()));
                    let latency = self.draw(actor, self.profile.commit_latency_ms);
                    // An interrupted write (B15) fails like a commit the backend refused.
                    let fail_before = self.chance(actor, self.profile.commit_fail_before) | std::mem::take(&mut self.actors[actor].interrupt_next_commit);
                    let fail_after = self.chance(actor, self.profile.commit_fail_after);
                    // Commits apply in order: strictly after the previous one, since events at the
                    // same instant run in a seeded random order (two commits landing in the same
                    // ms could otherwise apply out of order and leave D at the older value).
                    let apply_at = (self.now_ms() + latency).max(self.actors[actor].last_apply_ms + 1);
                    self.actors[actor].last_apply_ms = apply_at;
                    let delay = apply_at - self.now_ms();
                    self.after(delay, Event::CommitApply { actor, inc, id, batch, fail_before, fail_after });
                }
                ActorEffect::Schedule { call, time, fence } => {
                    self.actors[actor].last_sent = Some(time);
                    self.actors[actor].calls_in_flight += 1;
                    self.note(EventKind::Command, host, Some(actor), |_| format!("sR#{}({}) fence={fence}", call.0, rel(time)));
                    self.command_send(actor, inc, call, time, fence, 0);
                }
                ActorEffect::ArmResolved { arm, ok } => {
                    if let Some(ctx) = self.actors[actor].arm_waiters.remove(&arm) {
                        let outcome = if ok { Outcome::Canceled } else { Outcome::Failed { counted: false } };
                        self.note(EventKind::Fire, host, Some(actor), |_| format!("arm {} resolved: {outcome:?}", rel(Some(ctx.scheduled))));
                        self.send_fire_result(actor, ctx, FireResult { outcome, report: None });
                    }
                }
            }
        }
        let Some(core) = self.actors[actor].core.as_ref() else { return };
        let gate = core.gate();
        let outstanding = core.commands_outstanding();
        let bound = self.factory.command_bound();
        let violation = self.checker.bounded_commands(&self.actors[actor].id.0, bound, outstanding, self.actors[actor].calls_in_flight, gate == Gate::Broken, self.now_ms());
        self.fail(violation);
        let violation = self.checker.gate_broke(&self.actors[actor].id.0, gate, self.actors[actor].failure_delivered, self.now_ms());
        self.fail(violation);
        match gate {
            Gate::Broken => self.reset_actor(actor, "output gate broken"),
            Gate::Open => {
                for ctx in std::mem::take(&mut self.actors[actor].pending_reports) {
                    let report = self.actors[actor].core.as_mut().map(|c| c.report());
                    self.send_fire_result(actor, ctx, FireResult { outcome: Outcome::Succeeded, report });
                }
                for (epoch, scheduled) in std::mem::take(&mut self.actors[actor].pending_abandons) {
                    // The answer is the actor's report as the reply leaves (R16), never a
                    // value frozen at call time that newer writes may have overtaken.
                    let answer = self.actors[actor].core.as_mut().expect("gate open").report();
                    // The reply crosses the same link as every message: a partition or a lost
                    // response turns it into a failed RPC at the manager, after the actor has
                    // answered (B8's failure half: a replacement queued meanwhile must survive).
                    if self.cut_off(actor) || self.chance(actor, self.profile.link_drop_response) {
                        let host = self.host_node(actor);
                        self.probes.hit(&probe::ABANDON_REPLY_LOST);
                        self.note(EventKind::Fault, host, Some(actor), |_| format!("abandonAlarm({}) reply lost", rel(Some(scheduled))));
                        self.after(LINK_TIMEOUT_MS, Event::AbandonResult { epoch, actor, scheduled, answer: Err(()) });
                        continue;
                    }
                    let latency = self.draw(actor, self.profile.link_latency_ms);
                    self.after(latency, Event::AbandonResult { epoch, actor, scheduled, answer: Ok(answer) });
                }
            }
            Gate::Blocked { .. } => {}
        }
    }

    /// The actor broke (a failed commit or a rejected move-earlier): reset it from its disk.
    pub(super) fn reset_actor(&mut self, actor: usize, why: &str) {
        let host = self.host_node(actor);
        self.note(EventKind::Fault, host, Some(actor), |_| format!("reset: {why}"));
        self.abort_attempts(actor, 0);
        self.actors[actor].core = None;
        self.load_actor(actor);
    }

    /// Fails every attempt the actor was working on (its process or gate died).
    pub(super) fn abort_attempts(&mut self, actor: usize, delay_ms: u64) {
        let slot = &mut self.actors[actor];
        let mut ctxs: Vec<FireCtx> = slot.handler.take().map(|h| h.ctx).into_iter().collect();
        ctxs.extend(std::mem::take(&mut slot.arm_waiters).into_values());
        ctxs.append(&mut slot.pending_reports);
        for (epoch, scheduled) in std::mem::take(&mut slot.pending_abandons) {
            self.after(delay_ms, Event::AbandonResult { epoch, actor, scheduled, answer: Err(()) });
        }
        for ctx in ctxs {
            let result = FireResult { outcome: Outcome::Failed { counted: false }, report: None };
            self.after(delay_ms, Event::FireResultArrive { epoch: ctx.epoch, actor, scheduled: ctx.scheduled, result, counts: Some(false) });
        }
    }

    pub(super) fn live(&self, actor: usize, inc: u64) -> bool {
        let slot = &self.actors[actor];
        slot.incarnation == inc && slot.core.is_some() && self.hosts[slot.host].up
    }

    pub(super) fn commit_apply(&mut self, actor: usize, inc: u64, id: CommitId, batch: CommitBatch, fail_before: bool, fail_after: bool) {
        if !self.live(actor, inc) {
            return; // The process died before the write reached the disk.
        }
        let host = self.host_node(actor);
        let ack_delay = self.draw(actor, self.profile.commit_latency_ms);
        let already_failed = self.actors[actor].failed_from.is_some_and(|f| f <= id);
        if already_failed || fail_before {
            self.actors[actor].failed_from.get_or_insert(id);
            self.note(EventKind::Fault, host, Some(actor), |_| format!("C#{} failed before applying", id.0));
            self.after(ack_delay, Event::CommitAck { actor, inc, id, ok: false, dup: false });
            return;
        }
        let now = self.now_ms();
        self.actors[actor].disk.apply(&batch, now).expect("apply a commit to the actor store");
        self.checker.durable_changed(actor, batch.alarm, false);
        let violation = self.conservation.durable_changed(actor, &self.actors[actor].id.0, batch.alarm, now);
        self.fail(violation);
        self.probes.sometimes(fail_after, &probe::COMMIT_ACK_LOST);
        let suffix = if fail_after { " (its acknowledgement will fail)" } else { "" };
        self.note(EventKind::Commit, host, Some(actor), |_| format!("C#{} durable: D={}{suffix}", id.0, rel(batch.alarm)));
        self.after(ack_delay, Event::CommitAck { actor, inc, id, ok: !fail_after, dup: false });
        self.maybe_duplicate(actor, ack_delay, Event::CommitAck { actor, inc, id, ok: !fail_after, dup: true });
    }

    pub(super) fn commit_ack(&mut self, actor: usize, inc: u64, id: CommitId, ok: bool, dup: bool) {
        if !self.live(actor, inc) {
            return;
        }
        let host = self.host_node(actor);
        if dup {
            self.note(EventKind::Commit, host, Some(actor), |_| format!("C#{} {} again (a duplicate completion)", id.0, if ok { "ok" } else { "FAILED" }));
            self.actors[actor].core.as_mut().expect("live").on_commit_result(id, ok);
            return self.pump(actor);
        }
        self.note(if ok { EventKind::Commit } else { EventKind::Fault }, host, Some(actor), |_| format!("C#{} {}", id.0, if ok { "ok" } else { "FAILED" }));
        let slot = &mut self.actors[actor];
        if let Some(alarm) = slot.commits.remove(&id) {
            if ok && id > slot.acked.0 {
                slot.acked = (id, alarm);
            }
        }
        slot.failure_delivered |= !ok;
        slot.core.as_mut().expect("live").on_commit_result(id, ok);
        self.pump(actor);
    }
}
