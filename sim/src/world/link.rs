//! The link from an actor to its manager: schedule commands that are lost, retried,
//! duplicated (late "zombie" copies) and partitioned, and their results.

use super::*;

impl World {
    pub(super) fn command_send(&mut self, actor: usize, inc: u64, call: CallId, time: AlarmTime, fence: Fence, attempt: u32) {
        if self.spec.link == LinkModel::Local {
            // Local workerd: `scheduleRun` is a synchronous call into the in-process scheduler
            // (`ActorSqliteHooks`, R20): applied now, in this event; its promise settles next.
            return self.command_arrive(actor, inc, call, time, fence, attempt, false);
        }
        let cut = self.cut_off(actor);
        let move_earlier = cut && fires_earlier(time, self.checker.actors[actor].durable);
        self.probes.sometimes(move_earlier, &probe::PARTITION_MOVE_EARLIER);
        let lost = cut || self.chance(actor, self.profile.link_drop_request);
        if !lost {
            let latency = self.draw(actor, self.profile.link_latency_ms);
            self.after(latency, Event::CommandArrive { actor, inc, call, time, fence, attempt, zombie: false });
        } else if attempt < LINK_RETRIES {
            self.after(100 << attempt, Event::CommandSend { actor, inc, call, time, fence, attempt: attempt + 1 });
        } else {
            self.after(LINK_TIMEOUT_MS, Event::CommandResult { actor, inc, call, ok: false, dup: false });
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn command_arrive(&mut self, actor: usize, inc: u64, call: CallId, time: AlarmTime, fence: Fence, attempt: u32, zombie: bool) {
        let ns = self.home(actor);
        if !self.managers[ns].up || self.cut_off(actor) {
            if !zombie {
                self.command_send_lost(actor, inc, call, time, fence, attempt);
            }
            return;
        }
        if self.live(actor, inc) {
            // Not a dead incarnation's late command: the one that runs now was heard.
            self.checker.incarnation_heard(actor);
        } else {
            self.probes.hit(&probe::COMMAND_DEAD_INCARNATION);
        }
        let id = self.actors[actor].id.clone();
        let applied = self.managers[ns].core.as_mut().expect("manager up").schedule(&id, time, fence, Some(id.0.clone()));
        let kind = if zombie { "late copy of " } else { "" };
        let verdict = match applied {
            Applied::Applied => "applied",
            Applied::Unchanged => "unchanged (the alarm it already has)",
            Applied::Stale => "ignored (stale fence)",
        };
        let name = self.managers[ns].node;
        self.note(EventKind::Command, name, Some(actor), |_| format!("{kind}sR#{}({}) fence={fence} {verdict}", call.0, rel(time)));
        if applied == Applied::Applied {
            self.checker.command_applied(actor, time);
        }
        self.probes.sometimes(zombie && applied == Applied::Stale, &probe::COMMAND_LATE_COPY_STALE);
        if self.spec.link == LinkModel::Local {
            // The hook's promise is already resolved (`kj::READY_NOW`): its continuation is a
            // ready event, and KJ's loop runs ready events before any I/O or timer that came
            // due, so the actor hears the answer before another request reaches it or the
            // scheduler's task fires what it just set.
            self.ready(Event::CommandResult { actor, inc, call, ok: true, dup: false });
            return self.flush_manager(ns);
        }
        self.flush_manager(ns);
        if zombie {
            return;
        }
        if self.chance(actor, self.profile.link_duplicate) {
            let delay = self.draw(actor, self.profile.zombie_delay_ms);
            self.after(delay, Event::CommandArrive { actor, inc, call, time, fence, attempt, zombie: true });
        }
        let lost = self.cut_off(actor) || self.chance(actor, self.profile.link_drop_response);
        if lost {
            self.after(LINK_TIMEOUT_MS, Event::CommandResult { actor, inc, call, ok: false, dup: false });
        } else {
            let latency = self.draw(actor, self.profile.link_latency_ms);
            self.after(latency, Event::CommandResult { actor, inc, call, ok: true, dup: false });
            self.maybe_duplicate(actor, latency, Event::CommandResult { actor, inc, call, ok: true, dup: true });
        }
    }

    pub(super) fn command_send_lost(&mut self, actor: usize, inc: u64, call: CallId, time: AlarmTime, fence: Fence, attempt: u32) {
        if attempt < LINK_RETRIES {
            self.after(100 << attempt, Event::CommandSend { actor, inc, call, time, fence, attempt: attempt + 1 });
        } else {
            self.after(LINK_TIMEOUT_MS, Event::CommandResult { actor, inc, call, ok: false, dup: false });
        }
    }

    /// With the seed's `link_duplicate` chance, delivers a second copy of a completion later
    /// (a retried RPC whose first answer arrived after all): the scheduler must ignore it.
    pub(super) fn maybe_duplicate(&mut self, actor: usize, first_after_ms: u64, copy: Event) {
        if self.chance(actor, self.profile.link_duplicate) {
            let delay = self.draw(actor, self.profile.zombie_delay_ms);
            self.after(first_after_ms + delay, copy);
        }
    }

    pub(super) fn command_result(&mut self, actor: usize, inc: u64, call: CallId, ok: bool, dup: bool) {
        if !self.live(actor, inc) {
            return;
        }
        let host = self.host_node(actor);
        if dup {
            self.note(EventKind::Command, host, Some(actor), |_| format!("sR#{} {} again (a duplicate answer)", call.0, if ok { "ok" } else { "FAILED" }));
            self.actors[actor].core.as_mut().expect("live").on_schedule_result(call, ok);
            return self.pump(actor);
        }
        self.note(if ok { EventKind::Command } else { EventKind::Fault }, host, Some(actor), |_| format!("sR#{} {}", call.0, if ok { "ok" } else { "FAILED" }));
        let slot = &mut self.actors[actor];
        slot.calls_in_flight = slot.calls_in_flight.saturating_sub(1);
        slot.failure_delivered |= !ok;
        slot.core.as_mut().expect("live").on_schedule_result(call, ok);
        self.pump(actor);
    }
}
