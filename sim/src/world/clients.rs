//! Clients: planned steps (operations, crashes, partitions) and the storage calls of the
//! actors' code, each checked for a degraded actor (B11).

use super::*;

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
    /// An explicit transaction: the calls that ran inside it, and how it ended.
    Txn { calls: Vec<Shown>, end: TxnEnd },
}

/// How an explicit transaction ended, for the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TxnEnd {
    Committed,
    RolledBack,
    /// `txn_begin` threw.
    NotOpened,
    /// The commit or rollback threw.
    Failed,
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
            Shown::Txn { calls, end } => {
                let inner: Vec<String> = calls.iter().map(ToString::to_string).collect();
                let end = match end {
                    TxnEnd::Committed => "commit",
                    TxnEnd::RolledBack => "rollback",
                    TxnEnd::NotOpened => "not opened",
                    TxnEnd::Failed => "end failed",
                };
                write!(f, "transaction {{ {} }} {end}", inner.join("; "))
            }
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
    let style = match op {
        Op::SetAndPut { .. } => Style::Plus,
        Op::SetTwice { .. } | Op::Turn { .. } => Style::Turn,
        Op::SetAlarm { .. } | Op::DeleteAlarm | Op::GetAlarm | Op::Put { .. } | Op::DeleteAll { .. } | Op::ScheduleNext { .. } => Style::Single,
    };
    (op.into_calls(), style)
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
                self.partition_ends.push(std::cmp::Reverse((until, host)));
                let peer = match manager {
                    Some(m) => m.to_string(),
                    None if self.managers.len() == 1 => "manager".to_string(),
                    None => "every manager".to_string(),
                };
                self.note(EventKind::Fault, "world", None, |_| format!("partition host-{host} <-> {peer} for {ms}ms"));
            }
            Action::Enqueue { .. } | Action::Pause { .. } => unreachable!("job-queue steps run in the queue world (plan_check.rs refuses them here)"),
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
        let symbolic = calls.iter().any(Call::is_symbolic);
        let live = if symbolic { self.live_values(actor) } else { LiveValues::default() };
        let value = self.events_handled.to_le_bytes().to_vec();
        let factory = self.factory.clone();
        let before = self.user_view.turn_start(actor);
        let slot = &mut self.actors[actor];
        let core = slot.core.as_mut().expect("a turn runs on a loaded actor");
        let mut turn = Turn { core: &mut **core, recent: &mut slot.recent, factory: factory.as_ref(), now, live: &live, value: &value, opts, seen: Vec::with_capacity(calls.len() + 1) };
        let mut shown = Vec::with_capacity(calls.len());
        let mut writes = TurnWrites::default();
        let result = turn.calls(calls, &mut shown, &mut writes);
        let seen = std::mem::take(&mut turn.seen);
        core.end_turn();
        // Alarm writes inside an explicit transaction end the stored value only if the
        // outermost transaction commits (conservation); one entry per open transaction.
        let mut txn_writes: Vec<Option<(AlarmTime, Option<Millis>)>> = Vec::new();
        for (what, r) in seen {
            let at = self.now_ms();
            let violation = self.user_view.call(actor, &self.actors[actor].id.0, &what, &r, at);
            self.fail(violation);
            if r.is_err() {
                if matches!(what, Seen::TxnEnd { .. }) {
                    txn_writes.pop();
                }
                continue;
            }
            let write = match what {
                Seen::TxnBegin => {
                    txn_writes.push(None);
                    continue;
                }
                Seen::TxnEnd { commit } => match (txn_writes.pop().flatten(), commit) {
                    (Some(w), true) => w,
                    _ => continue,
                },
                other => match user_alarm_write(&other) {
                    Some(w) => w,
                    None => continue,
                },
            };
            match txn_writes.last_mut() {
                Some(open) => *open = Some(write),
                None => self.conservation.user_write(actor, write.0, write.1),
            }
        }
        let gate = self.actors[actor].core.as_ref().expect("a turn keeps the actor loaded").gate();
        let violation = self.user_view.turn_end(actor, &self.actors[actor].id.0, before, !opts.allow_unconfirmed, gate, self.now_ms());
        self.fail(violation);
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
        if let Some((value, asked)) = user_alarm_write(&seen) {
            self.conservation.user_write(actor, value, asked);
        }
    }
}

/// A successful call's alarm write as the conservation ledger enters it: the value it leaves
/// (R2-clamped) and the time the user asked for.
fn user_alarm_write(seen: &Seen) -> Option<(AlarmTime, Option<Millis>)> {
    match *seen {
        Seen::Set { time, now } if time.0 > 0 => Some((Some(time.max(now)), Some(time))),
        Seen::Delete | Seen::DeleteAll { delete_alarm: true } => Some((None, None)),
        Seen::Set { .. } | Seen::Get(_) | Seen::DeleteAll { delete_alarm: false } | Seen::GetKey { .. } | Seen::Put { .. } | Seen::DeleteKey { .. } | Seen::TxnBegin | Seen::TxnEnd { .. } => None,
    }
}

/// One turn of the actor's code in progress: the scheduler, what the calls resolve against,
/// and what the user saw, in order (for the user-view model and the conservation ledger).
struct Turn<'a> {
    core: &'a mut dyn ActorScheduler,
    recent: &'a mut [Option<Millis>; REPEAT_DEPTH],
    factory: &'a dyn SchedulerFactory,
    now: Millis,
    live: &'a LiveValues,
    value: &'a [u8],
    opts: WriteOptions,
    seen: Vec<(Seen, Result<(), AlarmError>)>,
}

impl Turn<'_> {
    /// Runs `calls` in order, stopping at the first that throws.
    fn calls(&mut self, calls: &[Call], shown: &mut Vec<Shown>, writes: &mut TurnWrites) -> Result<(), AlarmError> {
        for call in calls {
            let (what, r, wrote) = self.call(call);
            shown.push(what);
            r?;
            if let Some(w) = wrote {
                writes.last_alarm = Some(w);
                if let Some(t) = w {
                    self.recent.rotate_right(1);
                    self.recent[0] = Some(t);
                }
            }
        }
        Ok(())
    }

    /// One call: how the trace shows it, its result, and the alarm it wrote (for the checks
    /// that follow writes: a committed transaction counts as the last write inside it).
    fn call(&mut self, call: &Call) -> (Shown, Result<(), AlarmError>, Option<AlarmTime>) {
        let (now, opts) = (self.now, self.opts);
        match call {
            Call::SetAlarm { time } => match time.resolve(now, self.live) {
                Resolved::At(t) => {
                    let r = self.core.set_alarm(t, now, opts);
                    self.seen.push((Seen::Set { time: t, now }, r.clone()));
                    (Shown::SetAlarm(t), r, Some(Some(t.max(now))))
                }
                Resolved::Delete => self.delete_alarm(),
            },
            Call::DeleteAlarm => self.delete_alarm(),
            Call::GetAlarm => match self.core.get_alarm() {
                Ok(t) => {
                    self.seen.push((Seen::Get(Some(t)), Ok(())));
                    (Shown::GotAlarm(t), Ok(()), None)
                }
                Err(e) => {
                    self.seen.push((Seen::Get(None), Err(e.clone())));
                    (Shown::GetAlarm, Err(e), None)
                }
            },
            Call::Put { key } => {
                let (shown, r) = put_counter(self.core, key, self.value, opts, &mut self.seen);
                (shown, r, None)
            }
            Call::DeleteAll { delete_alarm } => {
                let r = self.core.delete_all(*delete_alarm, opts);
                self.seen.push((Seen::DeleteAll { delete_alarm: *delete_alarm }, r.clone()));
                (Shown::DeleteAll(*delete_alarm), r, delete_alarm.then_some(None))
            }
            Call::ScheduleNext { delay_ms } => match self.core.get_alarm() {
                Ok(existing) => {
                    self.seen.push((Seen::Get(Some(existing)), Ok(())));
                    match self.factory.schedule_next(existing, now, *delay_ms) {
                        Some(t) => {
                            let r = self.core.set_alarm(t, now, opts);
                            self.seen.push((Seen::Set { time: t, now }, r.clone()));
                            (Shown::ScheduleNextSet(*delay_ms, t), r, Some(Some(t.max(now))))
                        }
                        None => (Shown::ScheduleNextKeep(*delay_ms, existing), Ok(()), None),
                    }
                }
                Err(e) => {
                    self.seen.push((Seen::Get(None), Err(e.clone())));
                    (Shown::ScheduleNext(*delay_ms), Err(e), None)
                }
            },
            Call::ExitRearm => {
                let t = self.factory.exit_rearm(now, None, None);
                let r = self.core.set_alarm(t, now, opts);
                self.seen.push((Seen::Set { time: t, now }, r.clone()));
                (Shown::ExitRearm(t), r, Some(Some(t.max(now))))
            }
            Call::Txn { calls, rollback } => self.transaction(calls, *rollback),
        }
    }

    fn delete_alarm(&mut self) -> (Shown, Result<(), AlarmError>, Option<AlarmTime>) {
        let r = self.core.delete_alarm(self.opts);
        self.seen.push((Seen::Delete, r.clone()));
        (Shown::DeleteAlarm, r, Some(None))
    }

    /// `storage.transaction()` around `calls` (R5): begin, the calls, then commit, or roll
    /// back if asked to or if a call threw (its error then ends the turn).
    fn transaction(&mut self, calls: &[Call], rollback: bool) -> (Shown, Result<(), AlarmError>, Option<AlarmTime>) {
        let begun = self.core.txn_begin();
        self.seen.push((Seen::TxnBegin, begun.clone()));
        if let Err(e) = begun {
            return (Shown::Txn { calls: Vec::new(), end: TxnEnd::NotOpened }, Err(e), None);
        }
        let mut inner = Vec::with_capacity(calls.len());
        let mut writes = TurnWrites::default();
        let ran = self.calls(calls, &mut inner, &mut writes);
        let commit = !rollback && ran.is_ok();
        let ended = if commit { self.core.txn_commit(self.opts) } else { self.core.txn_rollback() };
        self.seen.push((Seen::TxnEnd { commit }, ended.clone()));
        let end = match (&ended, commit) {
            (Err(_), _) => TxnEnd::Failed,
            (Ok(()), true) => TxnEnd::Committed,
            (Ok(()), false) => TxnEnd::RolledBack,
        };
        let wrote = if commit && ended.is_ok() { writes.last_alarm } else { None };
        (Shown::Txn { calls: inner, end }, ran.and(ended), wrote)
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
