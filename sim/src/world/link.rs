//! The link from an actor to its manager: schedule commands that are lost, retried,
//! duplicated (late "zombie" copies) and partitioned, and their results.

use super::*;

impl World {
    pub(super) fn command_send(&mut self, actor: usize, inc: u64, call: CallId, time: AlarmTime, fence: Fence, attempt: u32) {
        let lost = self.cut_off(actor) || self.chance(actor, self.profile.link_drop_request);
        if !lost {
            let latency = self.draw(actor, self.profile.link_latency_ms);
            self.after(latency, Event::CommandArrive { actor, inc, call, time, fence, attempt, zombie: false });
        } else if attempt < LINK_RETRIES {
            self.after(100 << attempt, Event::CommandSend { actor, inc, call, time, fence, attempt: attempt + 1 });
        } else {
            self.after(LINK_TIMEOUT_MS, Event::CommandResult { actor, inc, call, ok: false });
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
            self.after(LINK_TIMEOUT_MS, Event::CommandResult { actor, inc, call, ok: false });
        } else {
            let latency = self.draw(actor, self.profile.link_latency_ms);
            self.after(latency, Event::CommandResult { actor, inc, call, ok: true });
        }
    }

    pub(super) fn command_send_lost(&mut self, actor: usize, inc: u64, call: CallId, time: AlarmTime, fence: Fence, attempt: u32) {
        if attempt < LINK_RETRIES {
            self.after(100 << attempt, Event::CommandSend { actor, inc, call, time, fence, attempt: attempt + 1 });
        } else {
            self.after(LINK_TIMEOUT_MS, Event::CommandResult { actor, inc, call, ok: false });
        }
    }

    pub(super) fn command_result(&mut self, actor: usize, inc: u64, call: CallId, ok: bool) {
        if !self.live(actor, inc) {
            return;
        }
        let host = self.host_node(actor);
        self.note(if ok { EventKind::Command } else { EventKind::Fault }, host, Some(actor), |_| format!("sR#{} {}", call.0, if ok { "ok" } else { "FAILED" }));
        let slot = &mut self.actors[actor];
        slot.calls_in_flight = slot.calls_in_flight.saturating_sub(1);
        slot.failure_delivered |= !ok;
        slot.core.as_mut().expect("live").on_schedule_result(call, ok);
        self.pump(actor);
    }
}
