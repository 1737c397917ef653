//! Alarm handlers: a fire reaching its actor, `armAlarmHandler`, the handler's behaviour
//! (drawn per attempt), and its outcome on its way back, judged by R14 (B15).

use super::clients::{OpShown, Shown, Style};
use super::*;

/// R14's facts of a handler that threw: the user's error, the gate intact.
const USER_ERROR: FailureFacts = FailureFacts { output_gate_broken: false, is_user_error: true, resource_limit_exceeded: false };
/// R14's facts of a handler past its wall-clock limit (R12): the gate intact.
const WALL_TIME_EXCEEDED: FailureFacts = FailureFacts { output_gate_broken: false, is_user_error: false, resource_limit_exceeded: false };
/// R14's facts of a handler interrupted at its CPU limit inside a write (B15, STOR-5337):
/// the gate broke, not by the user's error, but a resource limit was exceeded.
const CPU_LIMIT_INTERRUPT: FailureFacts = FailureFacts { output_gate_broken: true, is_user_error: false, resource_limit_exceeded: true };

impl World {
    pub(super) fn fire_arrive(&mut self, epoch: u64, actor: usize, fire: Fire, fired_at: Millis) {
        let ctx = FireCtx { epoch, scheduled: fire.scheduled };
        let host = self.actors[actor].host;
        let busy = self.actors[actor].handler.is_some() || !self.actors[actor].arm_waiters.is_empty();
        if !self.hosts[host].up || self.actors[actor].core.is_none() || self.cut_off(actor) || busy {
            self.probes.sometimes(!busy, &probe::FIRE_LOST_TO_PARTITION);
            let why = if busy { "busy with another attempt (R9)" } else { "unreachable" };
            self.note(if busy { EventKind::Fire } else { EventKind::Fault }, Node::Host(host), Some(actor), |_| format!("fire {} rejected: {why}", rel(Some(fire.scheduled))));
            let result = FireResult { outcome: Outcome::Failed { counted: false }, report: None };
            self.after(LINK_TIMEOUT_MS, Event::FireResultArrive { epoch, actor, scheduled: fire.scheduled, result, counts: Some(false) });
            return;
        }
        let now = self.clock(Node::Host(host));
        let core = self.actors[actor].core.as_mut().expect("checked above");
        let serving = core.stored_alarm();
        let decision = core.arm_alarm_handler(fire.scheduled, now);
        let name = Node::Host(host);
        match decision {
            Ok(ArmDecision::Run { deferred_delete }) => {
                self.note(EventKind::Fire, name, Some(actor), |_| format!("arm {} -> run (deferred delete: {deferred_delete})", rel(Some(fire.scheduled))));
                let clean = self.clean_alarm(actor);
                let violation = self.user_view.armed(actor, &self.actors[actor].id.0, fire.scheduled, deferred_delete, now, clean, self.now_ms());
                self.fail(violation);
                self.conservation.armed(actor, serving, deferred_delete);
                let (retry_count, is_retry) = (fire.retry_count, fire.is_retry);
                self.actors[actor].handler = Some(RunningHandler { ctx, fired_at, serving, retry_count, is_retry, wrote: None });
                // R8: the actor also waits for its own clock to reach the alarm time.
                let wait = self.shared_ms_for(Node::Host(host), fire.scheduled).saturating_sub(self.now_ms());
                self.probes.sometimes(wait > 0, &probe::FIRE_BEFORE_ACTOR_CLOCK);
                let inc = self.actors[actor].incarnation;
                self.after(wait, Event::HandlerStart { actor, inc });
            }
            Ok(ArmDecision::Cancel { arm }) => {
                self.note(EventKind::Fire, name, Some(actor), |_| format!("arm {} -> cancel after rescheduling to S={}", rel(Some(fire.scheduled)), rel(serving)));
                self.actors[actor].arm_waiters.insert(arm, ctx);
            }
            Err(e) => {
                self.note(EventKind::Fault, name, Some(actor), |_| format!("arm {} -> error: {e}", rel(Some(fire.scheduled))));
                let result = FireResult { outcome: Outcome::Failed { counted: false }, report: None };
                self.send_fire_result(actor, ctx, result);
            }
        }
        self.pump(actor);
    }

    /// What the world knows of §2.3 "clean" (S == LC, and every commit not yet known durable
    /// carries S): LC, the alarm of the newest acknowledged commit, if every commit still
    /// unacknowledged carries it too; `None` if some write of the alarm is in flight. The
    /// user-view model supplies S. Stricter than the actor's own test (it also counts commits
    /// older than the newest acknowledged), so it never calls clean what the reference would not.
    fn clean_alarm(&self, actor: usize) -> Option<AlarmTime> {
        let slot = &self.actors[actor];
        let acked = slot.acked.1;
        slot.commits.values().all(|alarm| *alarm == acked).then_some(acked)
    }

    pub(super) fn handler_start(&mut self, actor: usize, inc: u64) {
        if !self.live(actor, inc) {
            return;
        }
        let Some(run) = self.actors[actor].handler else { return };
        let host = self.actors[actor].host;
        let now = self.clock(Node::Host(host));
        let at = self.now_ms();
        let manager = &self.managers[self.home(actor)].name;
        let violation = self.checker.handler_start(actor, &self.actors[actor].id.0, manager, run.ctx.scheduled, run.fired_at, now, run.serving, at);
        self.fail(violation);
        let violation = self.user_view.alarm_info(actor, &self.actors[actor].id.0, run.ctx.scheduled, run.retry_count, run.is_retry, at);
        self.fail(violation);
        self.conservation.handler_started(actor, now);
        if self.draw_script(actor) {
            return self.start_script(actor, inc, run.ctx.scheduled);
        }
        let behavior = self.draw_behavior(actor);
        let duration = match behavior {
            Behavior::ExceedWallTime => WALL_TIME_LIMIT_MS,
            _ => self.actor_rngs[actor].random_range(self.spec.handler_ms.lo..=self.spec.handler_ms.hi),
        };
        self.note(EventKind::HandlerStart, Node::Host(host), Some(actor), |_| format!("handler start {} ({behavior:?}, {duration}ms)", rel(Some(run.ctx.scheduled))));
        self.after(duration, Event::HandlerEnd { actor, inc, behavior });
    }

    /// Whether this handler runs a script (the seed's `handler_scripts` chance, from the
    /// actor's edge stream; never after the heal, so the world can settle).
    fn draw_script(&mut self, actor: usize) -> bool {
        let p = self.profile.edges.handler_scripts;
        self.chaos() && p > 0.0 && self.edge_rngs[actor].random_bool(p.min(1.0))
    }

    /// A scripted handler starts: its first calls run now, in the millisecond it started.
    fn start_script(&mut self, actor: usize, inc: u64, scheduled: Millis) {
        let script = HandlerScript::draw(&self.spec, &self.profile.edges, &mut self.edge_rngs[actor]);
        let duration = match script.ending {
            Ending::ExceedWallTime => WALL_TIME_LIMIT_MS,
            _ => script.duration_ms,
        };
        let host = self.host_node(actor);
        self.note(EventKind::HandlerStart, host, Some(actor), |_| format!("handler start {} ({script}, {duration}ms)", rel(Some(scheduled))));
        let (first, middle) = (script.first.clone(), script.middle.clone());
        self.actors[actor].script = Some(script);
        self.handler_turn(actor, &first, "first instant");
        if duration < 2 {
            // No later millisecond before the end: the middle follows the first instant.
            self.handler_turn(actor, &middle, "middle");
        } else if !middle.is_empty() {
            self.after(duration / 2, Event::HandlerMiddle { actor, inc });
        }
        self.after(duration, Event::HandlerEnd { actor, inc, behavior: Behavior::Script });
    }

    pub(super) fn handler_middle(&mut self, actor: usize, inc: u64) {
        if !self.live(actor, inc) || self.actors[actor].handler.is_none() {
            return;
        }
        let Some(middle) = self.actors[actor].script.as_ref().map(|s| s.middle.clone()) else { return };
        self.handler_turn(actor, &middle, "middle");
    }

    /// One turn of a running handler's script (its first instant or its middle): the calls
    /// run, B11 is checked on a failed call, and the handler's own last alarm write is kept
    /// for R11's check at its end.
    fn handler_turn(&mut self, actor: usize, calls: &[Call], part: &str) {
        if calls.is_empty() {
            return;
        }
        let (shown, result, writes) = self.run_turn(actor, calls, Style::Turn, WriteOptions::default());
        if let Some(last) = writes.last_alarm {
            if let Some(run) = self.actors[actor].handler.as_mut() {
                run.wrote = last;
            }
        }
        self.check_handler_call(actor, &shown, &result);
        let host = self.host_node(actor);
        self.note(EventKind::Op, host, Some(actor), |_| format!("handler {part}: {shown}{}", error_suffix(&result)));
        self.pump(actor);
    }

    /// B11 on a storage call of the handler that threw.
    fn check_handler_call(&mut self, actor: usize, shown: &OpShown, result: &Result<(), AlarmError>) {
        if let Err(error) = result {
            let gate = self.actors[actor].core.as_ref().expect("live").gate();
            let violation = self.checker.storage_error(&self.actors[actor].id.0, &format!("{shown} in the handler"), error, gate, self.now_ms());
            self.fail(violation);
        }
    }

    pub(super) fn draw_behavior(&mut self, actor: usize) -> Behavior {
        if !self.chaos() {
            return Behavior::Succeed; // Quiesce: handlers stop re-arming so the world can settle.
        }
        let w = self.spec.handler_weights;
        let weights = [w.succeed, w.throw, w.exceed_wall_time, w.rearm, w.delete_inside, w.container_heartbeat, w.abort, w.cpu_limit];
        let rng = &mut self.actor_rngs[actor];
        match pick(rng, &weights) {
            0 => Behavior::Succeed,
            1 => Behavior::Throw,
            2 => Behavior::ExceedWallTime,
            3 => Behavior::Rearm(rng.random_range(self.spec.alarm_delay_ms.lo..=self.spec.alarm_delay_ms.hi)),
            4 => Behavior::DeleteInside,
            5 => Behavior::ContainerHeartbeat,
            6 => Behavior::Abort,
            _ => Behavior::CpuLimit,
        }
    }

    pub(super) fn handler_end(&mut self, actor: usize, inc: u64, behavior: Behavior) {
        if !self.live(actor, inc) {
            return;
        }
        let Some(run) = self.actors[actor].handler.take() else { return };
        let script = self.actors[actor].script.take();
        let host = self.actors[actor].host;
        let now = self.clock(Node::Host(host));
        let factory = self.factory.clone();
        let opts = WriteOptions::default();
        let value = self.events_handled.to_le_bytes().to_vec();
        let mut interrupted = false;
        // The handler's own storage call at its end, if it made one: (what it called, the result).
        let mut call: Option<(OpShown, Result<(), AlarmError>)> = None;
        // The alarm the handler set, if its last alarm write was a successful setAlarm.
        let mut wrote: Option<Millis> = run.wrote;
        // What the runtime knows about a failure (R14): the scheduler decides whether its
        // retry counts, and the checker judges that decision by the rule itself.
        let failed = |facts: FailureFacts| (Outcome::Failed { counted: factory.retry_counts(facts) }, Some(checker::counts_against_limit(facts)));
        let done = |outcome: Outcome| (outcome, None);
        let one = |shown: Shown| OpShown { calls: vec![shown], style: Style::Single };
        let ((outcome, counts), what) = match behavior {
            Behavior::Script => {
                let script = script.expect("a scripted handler has its script");
                let ending = script.ending;
                if ending != Ending::ExceedWallTime && !script.end.is_empty() {
                    // Its end calls, in the turn that ends it (a handler past the wall-clock
                    // limit is aborted before it gets there, R12).
                    let (shown, result, writes) = self.run_turn(actor, &script.end, Style::Turn, WriteOptions::default());
                    if let Some(last) = writes.last_alarm {
                        wrote = last;
                    }
                    call = Some((shown, result));
                }
                let what = match &call {
                    Some((shown, r)) => format!("end: {shown}{}; then {ending:?}", error_suffix(r)),
                    None => format!("{ending:?}"),
                };
                let verdict = match ending {
                    Ending::Succeed => done(Outcome::Succeeded),
                    Ending::Throw => failed(USER_ERROR),
                    Ending::ExceedWallTime => failed(WALL_TIME_EXCEEDED),
                };
                (verdict, what)
            }
            Behavior::Succeed => (done(Outcome::Succeeded), "succeeded".to_string()),
            Behavior::Throw => (failed(USER_ERROR), "threw".to_string()),
            Behavior::ExceedWallTime => (failed(WALL_TIME_EXCEEDED), "exceeded the wall-time limit (R12)".to_string()),
            Behavior::CpuLimit => {
                // The interrupt lands inside this write: it never commits, and its failed
                // commit breaks the output gate (pump fails the next commit it ships).
                let core = self.actors[actor].core.as_mut().expect("live");
                let r = core.put("cpu-limit", value.clone(), opts);
                interrupted = r.is_ok();
                self.observe(actor, Seen::Put { key: "cpu-limit".to_string(), value }, &r);
                (failed(CPU_LIMIT_INTERRUPT), "exceeded its CPU limit in a write: SQLITE_INTERRUPT, output gate broken (B15)".to_string())
            }
            Behavior::Abort => (done(Outcome::Aborted), "ctx.abort(retryAlarm: false)".to_string()),
            Behavior::Rearm(delay) => {
                let t = now.saturating_add_ms(delay);
                let r = self.actors[actor].core.as_mut().expect("live").set_alarm(t, now, opts);
                self.observe(actor, Seen::Set { time: t, now }, &r);
                let what = format!("re-armed setAlarm({}) {}", rel(Some(t)), result_text(&r));
                wrote = r.is_ok().then_some(t.max(now));
                call = Some((one(Shown::SetAlarm(t)), r));
                (done(Outcome::Succeeded), what)
            }
            Behavior::DeleteInside => {
                let r = self.actors[actor].core.as_mut().expect("live").delete_alarm(opts);
                self.observe(actor, Seen::Delete, &r);
                let what = format!("deleted its alarm {}", result_text(&r));
                if r.is_ok() {
                    wrote = None;
                }
                call = Some((one(Shown::DeleteAlarm), r));
                (done(Outcome::Succeeded), what)
            }
            Behavior::ContainerHeartbeat => {
                let t = factory.exit_rearm(now, None, None);
                let r = self.actors[actor].core.as_mut().expect("live").set_alarm(t, now, opts);
                self.observe(actor, Seen::Set { time: t, now }, &r);
                let what = format!("heartbeat exit re-arm setAlarm({}) {}", rel(Some(t)), result_text(&r));
                wrote = r.is_ok().then_some(t.max(now));
                call = Some((one(Shown::SetAlarm(t)), r));
                (done(Outcome::Succeeded), what)
            }
        };
        // Set before the turn ends, which ships the interrupted write's commit.
        self.actors[actor].interrupt_next_commit = interrupted;
        let core = self.actors[actor].core.as_mut().expect("live");
        core.end_turn();
        let succeeded = outcome == Outcome::Succeeded;
        let replaced = core.stored_alarm() != Some(run.ctx.scheduled);
        self.probes.sometimes(!succeeded && replaced && core.gate() != Gate::Broken, &probe::HANDLER_FAILS_WITH_REPLACEMENT);
        core.handler_finished(succeeded);
        // R11 (B12): an alarm the handler itself set survives the handler's deferred delete.
        let kept = core.stored_alarm();
        let erased = wrote.filter(|&t| succeeded && core.gate() != Gate::Broken && kept != Some(t));
        if let Some(t) = erased {
            let violation = self.checker.handler_write_kept(&self.actors[actor].id.0, t, kept, self.now_ms());
            self.fail(violation);
        }
        self.user_view.handler_finished(actor, succeeded);
        self.conservation.handler_finished(actor, succeeded);
        if let Some((shown, result)) = &call {
            self.check_handler_call(actor, shown, result);
        }
        self.note(EventKind::HandlerEnd, Node::Host(host), Some(actor), |_| format!("handler end {}: {what}", rel(Some(run.ctx.scheduled))));
        if succeeded {
            self.actors[actor].pending_reports.push(run.ctx); // Reported once the gate opens (R11).
        } else {
            self.send_fire_result_judged(actor, run.ctx, FireResult { outcome, report: None }, counts);
        }
        self.pump(actor);
    }

    /// Sends an attempt's outcome to the manager; the checker's verdict on a failure is the
    /// scheduler's own (every failure the runtime itself makes up is uncounted).
    pub(super) fn send_fire_result(&mut self, actor: usize, ctx: FireCtx, result: FireResult) {
        let counts = match result.outcome {
            Outcome::Failed { counted } => Some(counted),
            _ => None,
        };
        self.send_fire_result_judged(actor, ctx, result, counts);
    }

    /// Sends an attempt's outcome with `counts`, R14's verdict on it as the checker sees it.
    pub(super) fn send_fire_result_judged(&mut self, actor: usize, ctx: FireCtx, result: FireResult, counts: Option<bool>) {
        let latency = self.draw(actor, self.profile.link_latency_ms);
        let partitioned = self.cut_off(actor);
        let (delay, result, counts) = if partitioned {
            // The runAlarm RPC itself fails: uncounted (R14).
            (LINK_TIMEOUT_MS, FireResult { outcome: Outcome::Failed { counted: false }, report: None }, Some(false))
        } else {
            (latency, result, counts)
        };
        self.after(delay, Event::FireResultArrive { epoch: ctx.epoch, actor, scheduled: ctx.scheduled, result, counts });
    }
}

fn result_text(result: &Result<(), AlarmError>) -> String {
    match result {
        Ok(()) => String::new(),
        Err(e) => format!("-> error: {e}"),
    }
}

/// `" -> error: …"` after a call that threw, nothing after one that did not.
fn error_suffix(result: &Result<(), AlarmError>) -> String {
    match result {
        Ok(()) => String::new(),
        Err(e) => format!(" -> error: {e}"),
    }
}
