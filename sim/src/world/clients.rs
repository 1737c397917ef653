//! Clients: planned steps (operations, crashes, partitions) and the storage calls of the
//! actors' code, each checked for a degraded actor (B11).

use super::*;
use crate::time_arg::TimeArg;

/// What one storage call of the actor's code did, rendered into text only when a trace is
/// kept or a check fails.
pub(super) enum Shown {
    SetAlarm(Millis),
    DeleteAlarm,
    GetAlarm,
    GotAlarm(AlarmTime),
    Put(String),
    /// The counter's rotation: the put that would have written `KEY_ROTATION` deletes.
    DeleteKey(String),
    DeleteAll(bool),
    ScheduleNext(i64),
    ScheduleNextSet(i64, Millis),
    ScheduleNextKeep(i64, AlarmTime),
    ExitRearm(Millis),
}

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shown::SetAlarm(t) => write!(f, "setAlarm({})", rel(Some(*t))),
            Shown::DeleteAlarm => f.write_str("deleteAlarm()"),
            Shown::GetAlarm => f.write_str("getAlarm()"),
            Shown::GotAlarm(t) => write!(f, "getAlarm() = {}", rel(*t)),
            Shown::Put(key) => write!(f, "put({key})"),
            Shown::DeleteKey(key) => write!(f, "delete({key})"),
            Shown::DeleteAll(delete_alarm) => write!(f, "deleteAll(deleteAlarm={delete_alarm})"),
            Shown::ScheduleNext(delay_ms) => write!(f, "scheduleNextAlarm({delay_ms})"),
            Shown::ScheduleNextSet(delay_ms, t) => write!(f, "scheduleNextAlarm({delay_ms}) -> setAlarm({})", rel(Some(*t))),
            Shown::ScheduleNextKeep(delay_ms, existing) => write!(f, "scheduleNextAlarm({delay_ms}) -> keep {}", rel(*existing)),
            Shown::ExitRearm(t) => write!(f, "exit re-arm setAlarm({})", rel(Some(*t))),
        }
    }
}

/// How a turn's calls read in the trace: one call alone, a set "+" a put (R6), or calls of
/// one turn joined by ";".
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Single,
    Plus,
    Turn,
}

/// The calls of one turn as they ran.
pub(super) struct OpShown {
    pub calls: Vec<Shown>,
    pub style: Style,
}

impl std::fmt::Display for OpShown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.calls.iter().map(ToString::to_string).collect();
        match self.style {
            Style::Single => f.write_str(&parts.join("; ")),
            Style::Plus => f.write_str(&parts.join(" + ")),
            Style::Turn => write!(f, "{} in one turn", parts.join("; ")),
        }
    }
}

/// What a turn did to the alarm, for the checks that follow writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct TurnWrites {
    /// The turn's last successful alarm write: `Some(Some(t))` a set (R2-clamped), `Some(None)`
    /// a delete.
    pub last_alarm: Option<AlarmTime>,
}

/// An operation as the calls of one turn, and how the trace shows them.
fn calls_of(op: Op) -> (Vec<Call>, Style) {
    match op {
        Op::SetAlarm { time } => (vec![Call::SetAlarm { time }], Style::Single),
        Op::DeleteAlarm => (vec![Call::DeleteAlarm], Style::Single),
        Op::GetAlarm => (vec![Call::GetAlarm], Style::Single),
        Op::Put { key } => (vec![Call::Put { key }], Style::Single),
        Op::SetAndPut { time, key } => (vec![Call::SetAlarm { time }, Call::Put { key }], Style::Plus),
        Op::SetTwice { first, second } => (vec![Call::SetAlarm { time: first }, Call::SetAlarm { time: second }], Style::Turn),
        Op::DeleteAll { delete_alarm } => (vec![Call::DeleteAll { delete_alarm }], Style::Single),
        Op::ScheduleNext { delay_ms } => (vec![Call::ScheduleNext { delay_ms }], Style::Single),
        Op::Turn { calls } => (calls, Style::Turn),
    }
}

/// A client task as a trace node (`client-<n>`).
#[derive(Clone, Copy)]
struct Client(u32);

impl std::fmt::Display for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "client-{}", self.0)
    }
}

impl World {
    pub(super) fn step(&mut self, index: usize) {
        if !self.chaos() {
            return; // Steps belong to the chaos phase.
        }
        match self.steps[index].action.clone() {
            Action::Op { client, actor, op, unconfirmed } => self.client_op(client, actor, op, WriteOptions { allow_unconfirmed: unconfirmed }),
            Action::Crash { node, power, downtime_ms } => self.crash(node, power, downtime_ms),
            Action::Partition { host, ms, manager } => {
                let until = self.now_ms() + ms;
                let namespace = manager.map(|m| m.served_namespace().expect("a partition names a manager node"));
                for (ns, cut) in self.hosts[host].cut_until.iter_mut().enumerate() {
                    if namespace.is_none_or(|k| k == ns) {
                        *cut = until;
                    }
                }
                let peer = match manager {
                    Some(m) => m.to_string(),
                    None if self.managers.len() == 1 => "manager".to_string(),
                    None => "every manager".to_string(),
                };
                self.note(EventKind::Fault, "world", None, |_| format!("partition host-{host} <-> {peer} for {ms}ms"));
            }
            Action::Enqueue { .. } => unreachable!("job-queue steps run in the queue world"),
        }
    }

    pub(super) fn client_op(&mut self, client: u32, actor: usize, op: Op, opts: WriteOptions) {
        self.touched.add(actor);
        let node = Client(client);
        let host = self.actors[actor].host;
        if !self.hosts[host].up || self.actors[actor].core.is_none() {
            self.note(EventKind::Op, node, Some(actor), |_| "op rejected: host down".to_string());
            return;
        }
        let (calls, style) = calls_of(op);
        let (shown, result, writes) = self.run_turn(actor, &calls, style, opts);
        if writes.last_alarm.is_some() {
            // A client's write during a handler replaces what the handler set (R11's check
            // follows the handler's own writes only).
            if let Some(run) = self.actors[actor].handler.as_mut() {
                run.wrote = None;
            }
        }
        let gate = self.actors[actor].core.as_ref().expect("a turn keeps the actor loaded").gate();
        if let Err(error) = &result {
            let violation = self.checker.storage_error(&self.actors[actor].id.0, &shown.to_string(), error, gate, self.now_ms());
            self.fail(violation);
        }
        let unconfirmed = if opts.allow_unconfirmed { " (allowUnconfirmed)" } else { "" };
        self.note(EventKind::Op, node, Some(actor), |_| match result {
            Ok(()) => format!("{shown}{unconfirmed}"),
            Err(e) => format!("{shown}{unconfirmed} -> error: {e}"),
        });
        self.pump(actor);
    }

    /// The actor's live values a symbolic time can stand for (`time_arg.rs`).
    pub(super) fn live_values(&self, actor: usize) -> LiveValues {
        let slot = &self.actors[actor];
        LiveValues {
            stored: slot.core.as_ref().and_then(|c| c.stored_alarm()),
            in_flight: slot.commits.last_key_value().map(|(_, alarm)| *alarm),
            last_sent: slot.last_sent,
            handler_time: slot.handler.map(|h| h.ctx.scheduled),
            recent: slot.recent,
        }
    }

    /// Runs `calls` as one turn of the actor's code on its host's clock: each call in order,
    /// stopping at the first that throws, then the end of the turn (the implicit transaction
    /// commits locally, R6). Every symbolic time is resolved first, against the state before
    /// the turn. The effects are left for the caller to pump.
    pub(super) fn run_turn(&mut self, actor: usize, calls: &[Call], style: Style, opts: WriteOptions) -> (OpShown, Result<(), AlarmError>, TurnWrites) {
        let now = self.clock(self.host_node(actor));
        let symbolic = calls.iter().any(|c| matches!(c, Call::SetAlarm { time: TimeArg::Sym(_) }));
        let live = if symbolic { self.live_values(actor) } else { LiveValues::default() };
        let value = self.events_handled.to_le_bytes().to_vec();
        let factory = self.factory.clone();
        let slot = &mut self.actors[actor];
        let core = slot.core.as_mut().expect("a turn runs on a loaded actor");
        let mut shown = Vec::with_capacity(calls.len());
        let mut writes = TurnWrites::default();
        let mut result = Ok(());
        // What the user saw, for the user-view model and the conservation ledger, in order.
        let mut seen: Vec<(Seen, Result<(), AlarmError>)> = Vec::with_capacity(calls.len() + 1);
        for call in calls {
            let (what, r, wrote) = match call {
                Call::SetAlarm { time } => match time.resolve(now, &live) {
                    Resolved::At(t) => {
                        let r = core.set_alarm(t, now, opts);
                        seen.push((Seen::Set { time: t, now }, r.clone()));
                        (Shown::SetAlarm(t), r, Some(Some(t.max(now))))
                    }
                    Resolved::Delete => {
                        let r = core.delete_alarm(opts);
                        seen.push((Seen::Delete, r.clone()));
                        (Shown::DeleteAlarm, r, Some(None))
                    }
                },
                Call::DeleteAlarm => {
                    let r = core.delete_alarm(opts);
                    seen.push((Seen::Delete, r.clone()));
                    (Shown::DeleteAlarm, r, Some(None))
                }
                Call::GetAlarm => match core.get_alarm() {
                    Ok(t) => {
                        seen.push((Seen::Get(Some(t)), Ok(())));
                        (Shown::GotAlarm(t), Ok(()), None)
                    }
                    Err(e) => {
                        seen.push((Seen::Get(None), Err(e.clone())));
                        (Shown::GetAlarm, Err(e), None)
                    }
                },
                Call::Put { key } => {
                    let (shown, r) = put_counter(&mut **core, key, &value, opts, &mut seen);
                    (shown, r, None)
                }
                Call::DeleteAll { delete_alarm } => {
                    let r = core.delete_all(*delete_alarm, opts);
                    seen.push((Seen::DeleteAll { delete_alarm: *delete_alarm }, r.clone()));
                    (Shown::DeleteAll(*delete_alarm), r, delete_alarm.then_some(None))
                }
                Call::ScheduleNext { delay_ms } => match core.get_alarm() {
                    Ok(existing) => {
                        seen.push((Seen::Get(Some(existing)), Ok(())));
                        match factory.schedule_next(existing, now, *delay_ms) {
                            Some(t) => {
                                let r = core.set_alarm(t, now, opts);
                                seen.push((Seen::Set { time: t, now }, r.clone()));
                                (Shown::ScheduleNextSet(*delay_ms, t), r, Some(Some(t.max(now))))
                            }
                            None => (Shown::ScheduleNextKeep(*delay_ms, existing), Ok(()), None),
                        }
                    }
                    Err(e) => {
                        seen.push((Seen::Get(None), Err(e.clone())));
                        (Shown::ScheduleNext(*delay_ms), Err(e), None)
                    }
                },
                Call::ExitRearm => {
                    let t = factory.exit_rearm(now, None, None);
                    let r = core.set_alarm(t, now, opts);
                    seen.push((Seen::Set { time: t, now }, r.clone()));
                    (Shown::ExitRearm(t), r, Some(Some(t.max(now))))
                }
            };
            shown.push(what);
            if let Err(e) = r {
                result = Err(e);
                break;
            }
            if let Some(w) = wrote {
                writes.last_alarm = Some(w);
                if let Some(t) = w {
                    slot.recent.rotate_right(1);
                    slot.recent[0] = Some(t);
                }
            }
        }
        core.end_turn();
        for (what, r) in seen {
            self.observe(actor, what, &r);
        }
        (OpShown { calls: shown, style }, result, writes)
    }

    /// One storage call as the user saw it: judged by the user-view model, and a successful
    /// alarm write entered in the conservation ledger.
    pub(super) fn observe(&mut self, actor: usize, seen: Seen, result: &Result<(), AlarmError>) {
        let at = self.now_ms();
        let violation = self.user_view.call(actor, &self.actors[actor].id.0, &seen, result, at);
        self.fail(violation);
        if result.is_err() {
            return;
        }
        match seen {
            Seen::Set { time, now } if time.0 > 0 => self.conservation.user_write(actor, Some(time.max(now)), Some(time)),
            Seen::Delete | Seen::DeleteAll { delete_alarm: true } => self.conservation.user_write(actor, None, None),
            Seen::Set { .. } | Seen::Get(_) | Seen::DeleteAll { delete_alarm: false } | Seen::GetKey { .. } | Seen::Put { .. } | Seen::DeleteKey { .. } => {}
        }
    }
}

/// The counter a key holds is rotated after this many puts: the put that would store it
/// deletes the key instead, so `delete(key)` runs too (user-view reads it back).
const KEY_ROTATION: u8 = 3;

/// A `put(key)` as an actor's code writes it: read the key's counter, then store the next one
/// (the counter byte, then `stamp` so that every write is a different value), or delete the
/// key when the counter reaches [`KEY_ROTATION`]. No random draw: a plan's puts read and
/// write the same way at every replay. The read and the write are judged by `user-view`.
fn put_counter(core: &mut dyn ActorScheduler, key: &str, stamp: &[u8], opts: WriteOptions, seen: &mut Vec<(Seen, Result<(), AlarmError>)>) -> (Shown, Result<(), AlarmError>) {
    let old = match core.get(key) {
        Ok(old) => old,
        Err(e) => {
            seen.push((Seen::GetKey { key: key.to_string(), returned: None }, Err(e.clone())));
            return (Shown::Put(key.to_string()), Err(e));
        }
    };
    seen.push((Seen::GetKey { key: key.to_string(), returned: Some(old.clone()) }, Ok(())));
    let next = old.as_deref().and_then(<[u8]>::first).map_or(1, |n| n.saturating_add(1));
    if next >= KEY_ROTATION {
        let r = core.delete(key, opts);
        seen.push((Seen::DeleteKey { key: key.to_string() }, r.clone()));
        return (Shown::DeleteKey(key.to_string()), r);
    }
    let mut value = Vec::with_capacity(1 + stamp.len());
    value.push(next);
    value.extend_from_slice(stamp);
    let r = core.put(key, value.clone(), opts);
    seen.push((Seen::Put { key: key.to_string(), value }, r.clone()));
    (Shown::Put(key.to_string()), r)
}
