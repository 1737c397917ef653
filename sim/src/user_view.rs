//! What the user sees, checked against a sequential model of the Durable Object alarm API
//! (alarm-semantics.md R1–R5, R10, R11, R16): TigerBeetle's auditor, Jepsen's history check.
//!
//! The other checkers compare the manager with storage. This one compares the API's *answers*
//! with the API's specification, under every fault: each `getAlarm` result (R5: null inside a
//! handler that has its deferred delete pending, else the alarm; read-your-writes; R2's clamp
//! to now), each error of `setAlarm`/`getAlarm`/`deleteAlarm` (R2: `t ≤ 0` throws and nothing
//! else does), and the `alarmInfo` a handler receives (R10: `isRetry` is `retryCount > 0`,
//! `scheduledTime` is a time the alarm was set to). It also reads the actor's key-value
//! storage the same way: each `get(key)` returns what the actor last put or deleted there
//! (read-your-writes), `deleteAll` empties it (R7), and a reload starts from what storage
//! holds (R6: the keys commit with the alarm; the durability checker judges what survived).
//!
//! The model of one actor is the value S the API promised, and the running handler (its T
//! and whether its deferred delete is still pending). Where a fault makes several answers
//! legitimate the model allows exactly that set:
//! - after a restart or a reset (a crash, a power loss, a broken output gate) the actor's
//!   writes that were not durable are gone: the model takes what storage holds, which the
//!   durability checker has already judged against the sync model;
//! - a storage call that throws "broken" leaves S unknown until that reset;
//! - an abandon of T while a write is still in flight may clear S or keep it (R16 clears only
//!   a clean S == T, ActorCache's rule, B7).

use crate::checker::{rel, Violation};
use crate::scenario::Invariant;
use alarmsim_scheduler::{AlarmError, AlarmTime, DurableState, Gate, Millis};
use std::collections::{BTreeMap, BTreeSet};

/// What the model allows S to be.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Promised {
    /// Exactly this value.
    Is(AlarmTime),
    /// One of these (an abandon while a write was in flight).
    OneOf(AlarmTime, AlarmTime),
    /// Unknown until the actor is reloaded (a call threw "broken").
    Unknown,
}

impl Promised {
    fn allows(&self, v: AlarmTime) -> bool {
        match *self {
            Promised::Is(s) => s == v,
            Promised::OneOf(a, b) => a == v || b == v,
            Promised::Unknown => true,
        }
    }

    fn show(&self) -> String {
        match *self {
            Promised::Is(s) => rel(s),
            Promised::OneOf(a, b) => format!("{} or {}", rel(a), rel(b)),
            Promised::Unknown => "unknown".to_string(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Running {
    scheduled: Millis,
    /// The deferred delete is still pending: armed with one, and no set/delete since (R11).
    deferred: bool,
}

#[derive(Clone, Debug)]
struct ActorView {
    s: Promised,
    handler: Option<Running>,
    /// Every time the user asked for, raw and clamped: a handler's `scheduledTime` is one.
    asked: BTreeSet<Millis>,
    /// The key-value pairs the API promises (an absent key reads as none); `None` while
    /// unknown (a call threw "broken": until the reset any value may be seen).
    kv: Option<BTreeMap<String, Vec<u8>>>,
    /// Open explicit transactions, innermost last (R5's second bullet).
    txns: Vec<TxnView>,
}

/// The writes of one open explicit transaction, seen only by reads inside it until the
/// outermost one commits.
#[derive(Clone, Debug, Default)]
struct TxnView {
    alarm: Option<AlarmTime>,
    kv: BTreeMap<String, Option<Vec<u8>>>,
}

impl ActorView {
    /// The alarm a read inside the open transactions sees, if one of them wrote it.
    fn txn_alarm(&self) -> Option<AlarmTime> {
        self.txns.iter().rev().find_map(|t| t.alarm)
    }

    /// What a read of `key` inside the open transactions sees, if one of them wrote it.
    fn txn_key(&self, key: &str) -> Option<Option<Vec<u8>>> {
        self.txns.iter().rev().find_map(|t| t.kv.get(key).cloned())
    }

    /// The outermost transaction committed: its writes become the turn's (R6), and an alarm
    /// write cancels a pending deferred delete (R11).
    fn apply(&mut self, committed: TxnView) {
        if let Some(alarm) = committed.alarm {
            self.s = Promised::Is(alarm);
            if let Some(run) = self.handler.as_mut() {
                run.deferred = false;
            }
        }
        if let Some(kv) = self.kv.as_mut() {
            for (key, value) in committed.kv {
                match value {
                    Some(v) => kv.insert(key, v),
                    None => kv.remove(&key),
                };
            }
        }
    }
}

/// One call of the actor's code, as the model sees it.
#[derive(Clone, Debug)]
pub enum Seen {
    /// `setAlarm(time)` at the actor's clock `now`.
    Set { time: Millis, now: Millis },
    Delete,
    /// `getAlarm()`; the value it returned, if it did not throw.
    Get(Option<AlarmTime>),
    DeleteAll { delete_alarm: bool },
    /// `get(key)`; the value it returned, if it did not throw.
    GetKey { key: String, returned: Option<Option<Vec<u8>>> },
    /// `put(key, value)`.
    Put { key: String, value: Vec<u8> },
    /// `delete(key)`.
    DeleteKey { key: String },
    /// `storage.transaction()` opened an explicit transaction.
    TxnBegin,
    /// The innermost explicit transaction committed (`commit`) or rolled back.
    TxnEnd { commit: bool },
}

/// What the API promised just before a turn ([`UserView::turn_start`]), to tell whether the
/// turn changed it.
#[derive(Clone, Debug)]
pub struct TurnStart {
    s: Promised,
    kv: Option<BTreeMap<String, Vec<u8>>>,
}

/// The user-view checker of one run.
#[derive(Clone)]
pub struct UserView {
    actors: Vec<ActorView>,
    on: bool,
}

impl UserView {
    pub fn new(actors: usize, on: bool) -> UserView {
        UserView { actors: vec![ActorView { s: Promised::Is(None), handler: None, asked: BTreeSet::new(), kv: Some(BTreeMap::new()), txns: Vec::new() }; actors], on }
    }

    fn violation(&self, actor: &str, at_ms: u64, message: String) -> Option<Violation> {
        self.on.then(|| Violation { invariant: Invariant::UserView, actor: Some(actor.to_string()), at_ms, message })
    }

    /// A new incarnation loaded `durable` from storage: what it holds is what the API promises
    /// now (writes that were not durable were lost with the old incarnation).
    pub fn loaded(&mut self, index: usize, durable: &DurableState) {
        let view = &mut self.actors[index];
        view.s = Promised::Is(durable.alarm);
        view.kv = Some(durable.kv.clone());
        view.handler = None;
        view.txns.clear();
    }

    /// A storage call returned `result`. Returns the violation if the answer or the error is
    /// not what the model allows.
    pub fn call(&mut self, index: usize, actor: &str, seen: &Seen, result: &Result<(), AlarmError>, at_ms: u64) -> Option<Violation> {
        if result == &Err(AlarmError::Broken) {
            // B11's checker judges whether the gate broke with it; until the reset S is unknown.
            self.actors[index].s = Promised::Unknown;
            self.actors[index].kv = None;
            self.actors[index].txns.clear();
            return None;
        }
        if let Some(answer) = self.in_transaction(index, actor, seen, result, at_ms) {
            return answer;
        }
        let view = &mut self.actors[index];
        match *seen {
            Seen::Set { time, now } => {
                view.asked.insert(time);
                if time.0 <= 0 {
                    if matches!(result, Err(AlarmError::InvalidTime(_))) {
                        return None;
                    }
                    let got = result.as_ref().err().map_or("no error".to_string(), |e| format!("\"{e}\""));
                    return self.violation(actor, at_ms, format!("setAlarm({}) must throw (R2: a time ≤ 0 is a TypeError), but it gave {got}", time.0));
                }
                let clamped = time.max(now); // R2: a past time fires now.
                view.asked.insert(clamped);
                if let Err(e) = result {
                    return self.violation(actor, at_ms, format!("setAlarm({}) threw \"{e}\"; only a time ≤ 0 may throw (R2)", rel(Some(time))));
                }
                view.s = Promised::Is(Some(clamped));
                if let Some(run) = view.handler.as_mut() {
                    run.deferred = false; // R11: a write in the handler cancels the deferred delete.
                }
            }
            Seen::Delete | Seen::DeleteAll { delete_alarm: true } => {
                if let Err(e) = result {
                    return self.violation(actor, at_ms, format!("{} threw \"{e}\"; it never throws on a healthy actor (R4, R7)", what(seen)));
                }
                view.s = Promised::Is(None);
                if let Some(run) = view.handler.as_mut() {
                    run.deferred = false;
                }
                if matches!(seen, Seen::DeleteAll { .. }) {
                    if let Some(kv) = view.kv.as_mut() {
                        kv.clear(); // R7: every key goes.
                    }
                }
            }
            Seen::DeleteAll { delete_alarm: false } => {
                if let Err(e) = result {
                    return self.violation(actor, at_ms, format!("deleteAll() threw \"{e}\"; it never throws on a healthy actor (R7)"));
                }
                // R7: the alarm stays, and so does a pending deferred delete; the keys go.
                if let Some(kv) = view.kv.as_mut() {
                    kv.clear();
                }
            }
            Seen::Put { ref key, ref value } => {
                if let Err(e) = result {
                    return self.violation(actor, at_ms, format!("put({key}) threw \"{e}\"; it never throws on a healthy actor"));
                }
                if let Some(kv) = view.kv.as_mut() {
                    kv.insert(key.clone(), value.clone());
                }
            }
            Seen::DeleteKey { ref key } => {
                if let Err(e) = result {
                    return self.violation(actor, at_ms, format!("delete({key}) threw \"{e}\"; it never throws on a healthy actor"));
                }
                if let Some(kv) = view.kv.as_mut() {
                    kv.remove(key);
                }
            }
            Seen::GetKey { ref key, ref returned } => {
                let Some(returned) = returned else {
                    let e = result.as_ref().err().map(ToString::to_string).unwrap_or_default();
                    return self.violation(actor, at_ms, format!("get({key}) threw \"{e}\"; it never throws on a healthy actor"));
                };
                let kv = view.kv.as_ref()?;
                let promised = kv.get(key).cloned();
                if promised.as_ref() != returned.as_ref() {
                    return self.violation(
                        actor,
                        at_ms,
                        format!(
                            "get({key}) returned {} but the API promises {} (read-your-writes: the value last put or deleted, R6; deleteAll empties the keys, R7)",
                            show_value(returned.as_ref()),
                            show_value(promised.as_ref())
                        ),
                    );
                }
            }
            Seen::TxnBegin | Seen::TxnEnd { .. } => unreachable!("in_transaction answers every transaction call"),
            Seen::Get(returned) => {
                let Some(returned) = returned else {
                    let e = result.as_ref().err().map(ToString::to_string).unwrap_or_default();
                    return self.violation(actor, at_ms, format!("getAlarm() threw \"{e}\"; it never throws on a healthy actor (R5)"));
                };
                let hidden = view.handler.is_some_and(|r| r.deferred);
                let (ok, expected) = if hidden {
                    (returned.is_none(), "none (R5: inside a handler whose deferred delete is pending getAlarm is null)".to_string())
                } else {
                    (view.s.allows(returned), format!("{} (R5: the alarm as last set; R2: a past time reads as the time it was set at)", view.s.show()))
                };
                if !ok {
                    return self.violation(actor, at_ms, format!("getAlarm() returned {} but the API promises {expected}", rel(returned)));
                }
                if !hidden && matches!(view.s, Promised::OneOf(..)) {
                    view.s = Promised::Is(returned); // The read settles which one it was.
                }
            }
        }
        None
    }

    /// A call that opens or ends an explicit transaction, or runs inside one (R5's second
    /// bullet): reads see the transaction's writes, writes stay in it until the outermost
    /// commit, a rollback discards them (inside a handler whose deferred delete is pending,
    /// getAlarm is null again), and `deleteAll` throws. `None` if the call is an ordinary one
    /// for [`UserView::call`]; otherwise the answer.
    fn in_transaction(&mut self, index: usize, actor: &str, seen: &Seen, result: &Result<(), AlarmError>, at_ms: u64) -> Option<Option<Violation>> {
        let view = &mut self.actors[index];
        let open = !view.txns.is_empty();
        let violation = match seen {
            Seen::TxnBegin | Seen::TxnEnd { .. } if result.is_err() => {
                let e = result.as_ref().err().map(ToString::to_string).unwrap_or_default();
                let call = if matches!(seen, Seen::TxnBegin) { "transaction()" } else { "the transaction's commit or rollback" };
                if let Seen::TxnEnd { .. } = seen {
                    view.txns.pop();
                }
                Some(format!("{call} threw \"{e}\"; it never throws on a healthy actor (R5)"))
            }
            Seen::TxnBegin => {
                view.txns.push(TxnView::default());
                None
            }
            Seen::TxnEnd { commit } => {
                let ended = view.txns.pop().expect("a transaction ends only after it began");
                match (commit, view.txns.last_mut()) {
                    (false, _) => {}
                    (true, Some(parent)) => {
                        if ended.alarm.is_some() {
                            parent.alarm = ended.alarm;
                        }
                        parent.kv.extend(ended.kv);
                    }
                    (true, None) => view.apply(ended),
                }
                None
            }
            _ if !open => return None,
            Seen::Set { time, now } if time.0 > 0 && result.is_ok() => {
                view.asked.insert(*time);
                view.asked.insert((*time).max(*now));
                view.txns.last_mut().expect("open").alarm = Some(Some((*time).max(*now)));
                None
            }
            Seen::Delete if result.is_ok() => {
                view.txns.last_mut().expect("open").alarm = Some(None);
                None
            }
            Seen::Put { key, value } if result.is_ok() => {
                view.txns.last_mut().expect("open").kv.insert(key.clone(), Some(value.clone()));
                None
            }
            Seen::DeleteKey { key } if result.is_ok() => {
                view.txns.last_mut().expect("open").kv.insert(key.clone(), None);
                None
            }
            Seen::DeleteAll { .. } => match result {
                Err(AlarmError::InTransaction) => None,
                Ok(()) => Some("deleteAll() succeeded inside an explicit transaction; it must throw (workerd: deleteAll cannot run in a transaction)".to_string()),
                Err(e) => Some(format!("deleteAll() inside an explicit transaction threw \"{e}\"; it must throw \"{}\"", AlarmError::InTransaction)),
            },
            Seen::Get(Some(returned)) => match view.txn_alarm() {
                Some(promised) if promised != *returned => Some(format!(
                    "getAlarm() inside an explicit transaction returned {} but the transaction set it to {} (R5: a transaction reads its own writes)",
                    rel(*returned),
                    rel(promised)
                )),
                Some(_) => None,
                None => return None, // Nothing written in the transaction: the ordinary read.
            },
            Seen::GetKey { key, returned: Some(returned) } => match view.txn_key(key) {
                Some(promised) if promised != *returned => Some(format!(
                    "get({key}) inside an explicit transaction returned {} but the transaction wrote {} (a transaction reads its own writes)",
                    show_value(returned.as_ref()),
                    show_value(promised.as_ref())
                )),
                Some(_) => None,
                None => return None,
            },
            // Errors of ordinary calls, and an R2 TypeError, are judged as outside a transaction.
            _ => return None,
        };
        Some(violation.and_then(|m| self.violation(actor, at_ms, m)))
    }

    /// `armAlarmHandler` decided to run the handler for `scheduled`, with a deferred delete
    /// or not (§2.3: a write in flight runs it without one).
    /// A fire of the alarm the API promises must arm its deferred delete (R11: a successful
    /// run of the current alarm ends it; without the delete the user's handler would run
    /// again for an alarm it already handled, and getAlarm would show it meanwhile, R5).
    ///
    /// `clean` is LC, the alarm of the newest acknowledged commit, when every commit not yet
    /// acknowledged carries it too. If the promised S equals it, the alarm is *clean* (§2.3:
    /// S == LC, no write of it in flight). Then only a fire of S itself, or of any time once S is overdue
    /// (#5764), may run, and with its deferred delete: a premature or stale fire, or one for
    /// an alarm the user deleted, is cancelled after rescheduling the manager to S (PR #2648,
    /// `d1faebb06`, `4aa2aa046`; R8). Running it would call the user's handler for an alarm
    /// that is not due, or not set at all.
    #[allow(clippy::too_many_arguments)] // One fire's facts, each a value the world already holds.
    pub fn armed(&mut self, index: usize, actor: &str, scheduled: Millis, deferred_delete: bool, now: Millis, clean: Option<AlarmTime>, at_ms: u64) -> Option<Violation> {
        let view = &mut self.actors[index];
        view.handler = Some(Running { scheduled, deferred: deferred_delete });
        if !deferred_delete && view.s == Promised::Is(Some(scheduled)) {
            return self.violation(
                actor,
                at_ms,
                format!("the handler for {} runs without its deferred delete although {} is the alarm (R11: a fire of the current alarm arms the deferred delete)", rel(Some(scheduled)), rel(Some(scheduled))),
            );
        }
        let Promised::Is(stored) = view.s else { return None };
        if clean != Some(stored) || stored == Some(scheduled) {
            return None;
        }
        let overdue = stored.is_some_and(|s| s < now);
        if overdue && deferred_delete {
            return None;
        }
        let why = if overdue {
            format!("the alarm is {}, overdue, so the run must arm its deferred delete (#5764)", rel(stored))
        } else {
            format!("the alarm is {}, which is not due, and clean (no write of it in flight): armAlarmHandler must cancel the fire after rescheduling the manager to it (§2.3, PR #2648; R8)", rel(stored))
        };
        self.violation(actor, at_ms, format!("the handler runs for a fire of {} (deferred delete: {deferred_delete}) but {why}", rel(Some(scheduled))))
    }

    /// The handler received `alarmInfo` (R10).
    pub fn alarm_info(&self, index: usize, actor: &str, scheduled: Millis, retry_count: u32, is_retry: bool, at_ms: u64) -> Option<Violation> {
        if is_retry != (retry_count > 0) {
            return self.violation(actor, at_ms, format!("alarmInfo.isRetry is {is_retry} with retryCount {retry_count}; R10: isRetry = retryCount > 0"));
        }
        if !self.actors[index].asked.contains(&scheduled) {
            return self.violation(
                actor,
                at_ms,
                format!("alarmInfo.scheduledTime is {}, a time the alarm was never set to (R10: the alarm's scheduled time)", rel(Some(scheduled))),
            );
        }
        None
    }

    /// The handler ended; a successful one whose deferred delete is still pending deletes the
    /// alarm (R11), a failed one keeps it.
    pub fn handler_finished(&mut self, index: usize, succeeded: bool) {
        let view = &mut self.actors[index];
        if let Some(run) = view.handler.take() {
            if succeeded && run.deferred {
                view.s = Promised::Is(None);
            }
        }
    }

    /// The manager asked the actor to abandon `scheduled` (R16): outside a handler, a stored
    /// `scheduled` is cleared; with a write in flight it may also stay.
    pub fn abandoned(&mut self, index: usize, scheduled: Millis, write_in_flight: bool) {
        let view = &mut self.actors[index];
        if view.handler.is_some() || view.s != Promised::Is(Some(scheduled)) {
            return;
        }
        view.s = if write_in_flight { Promised::OneOf(None, Some(scheduled)) } else { Promised::Is(None) };
    }

    /// What the API promises before a turn (nothing when the check is off).
    pub fn turn_start(&self, index: usize) -> Option<TurnStart> {
        let view = &self.actors[index];
        self.on.then(|| TurnStart { s: view.s.clone(), kv: view.kv.clone() })
    }

    /// The turn that began at `start` ended with the output gate `gate`. If its confirmed
    /// writes changed what the API promises (the alarm or a key), the gate must not be open:
    /// they are not durable yet, and nothing may leave the actor before they are (R6: alarm
    /// writes share the output gate with KV writes; R11: a handler's result waits on it). A
    /// write the turn undid itself changes nothing, and an unknown S or key set asks nothing.
    pub fn turn_end(&self, index: usize, actor: &str, start: Option<TurnStart>, confirmed: bool, gate: Gate, at_ms: u64) -> Option<Violation> {
        let start = start?;
        if !confirmed || gate != Gate::Open {
            return None;
        }
        let view = &self.actors[index];
        let alarm_changed = matches!((&start.s, &view.s), (Promised::Is(a), Promised::Is(b)) if a != b);
        let keys_changed = matches!((&start.kv, &view.kv), (Some(a), Some(b)) if a != b);
        if !alarm_changed && !keys_changed {
            return None;
        }
        let what = if alarm_changed { format!("the alarm from {} to {}", start.s.show(), view.s.show()) } else { "a key".to_string() };
        self.violation(
            actor,
            at_ms,
            format!("a turn's confirmed writes changed {what}, yet the output gate is open before their commit is durable (R6: confirmed writes close the gate; R11: a handler's result waits on it)"),
        )
    }

    /// The scheduled time of the running handler, if one runs (for messages).
    pub fn running(&self, index: usize) -> Option<Millis> {
        self.actors[index].handler.map(|r| r.scheduled)
    }
}

fn what(seen: &Seen) -> &'static str {
    match seen {
        Seen::Set { .. } => "setAlarm()",
        Seen::Delete => "deleteAlarm()",
        Seen::Get(_) => "getAlarm()",
        Seen::DeleteAll { .. } => "deleteAll()",
        Seen::GetKey { .. } => "get()",
        Seen::Put { .. } => "put()",
        Seen::DeleteKey { .. } => "delete()",
        Seen::TxnBegin => "transaction()",
        Seen::TxnEnd { .. } => "the transaction's end",
    }
}

/// A stored value for a message: none, or its bytes in hex.
fn show_value(value: Option<&Vec<u8>>) -> String {
    match value {
        None => "none".to_string(),
        Some(bytes) => format!("0x{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::EPOCH_MS;

    const NOW: Millis = Millis(EPOCH_MS + 1_000);

    fn view() -> UserView {
        UserView::new(1, true)
    }

    fn stored(alarm: AlarmTime) -> DurableState {
        DurableState { kv: BTreeMap::new(), alarm }
    }

    fn get(v: &mut UserView, returned: AlarmTime) -> Option<Violation> {
        v.call(0, "a0", &Seen::Get(Some(returned)), &Ok(()), 5)
    }

    #[test]
    fn key_reads_follow_puts_deletes_delete_all_and_reloads() {
        let mut v = view();
        let read = |v: &mut UserView, key: &str, returned: Option<Vec<u8>>| v.call(0, "a0", &Seen::GetKey { key: key.to_string(), returned: Some(returned) }, &Ok(()), 2);
        assert!(read(&mut v, "k", None).is_none(), "a fresh actor has no keys");
        assert!(v.call(0, "a0", &Seen::Put { key: "k".to_string(), value: vec![1] }, &Ok(()), 1).is_none());
        assert!(read(&mut v, "k", Some(vec![1])).is_none());
        assert!(read(&mut v, "k", None).is_some(), "read-your-writes: a put is seen at once");
        assert!(v.call(0, "a0", &Seen::DeleteKey { key: "k".to_string() }, &Ok(()), 1).is_none());
        assert!(read(&mut v, "k", Some(vec![1])).is_some(), "a deleted key reads as none");
        assert!(v.call(0, "a0", &Seen::Put { key: "k".to_string(), value: vec![2] }, &Ok(()), 1).is_none());
        assert!(v.call(0, "a0", &Seen::DeleteAll { delete_alarm: false }, &Ok(()), 1).is_none());
        assert!(read(&mut v, "k", Some(vec![2])).is_some(), "R7: deleteAll empties the keys, even keeping the alarm");
        // A broken call makes every value possible until the reload, which starts from storage.
        assert!(v.call(0, "a0", &Seen::Put { key: "k".to_string(), value: vec![3] }, &Err(AlarmError::Broken), 1).is_none());
        assert!(read(&mut v, "k", Some(vec![9])).is_none());
        v.loaded(0, &DurableState { kv: [("k".to_string(), vec![4])].into(), alarm: None });
        assert!(read(&mut v, "k", Some(vec![4])).is_none());
        assert!(read(&mut v, "k", Some(vec![3])).is_some(), "after the reload storage is the truth");
    }

    #[test]
    fn a_transaction_reads_its_writes_a_rollback_restores_and_a_commit_cancels_the_deferred_delete() {
        let ok = |v: &mut UserView, seen: Seen| v.call(0, "a0", &seen, &Ok(()), 3);
        let later = Millis(NOW.0 + 500);
        let mut v = view();
        v.loaded(0, &stored(Some(NOW)));
        assert!(v.armed(0, "a0", NOW, true, NOW, Some(Some(NOW)), 0).is_none());
        assert!(ok(&mut v, Seen::TxnBegin).is_none());
        assert!(ok(&mut v, Seen::Set { time: later, now: NOW }).is_none());
        assert!(get(&mut v, Some(later)).is_none(), "R5: the transaction's value inside it");
        assert!(get(&mut v, None).is_some(), "a transaction reads its own writes, even in a handler");
        assert!(ok(&mut v, Seen::TxnEnd { commit: false }).is_none());
        assert!(get(&mut v, None).is_none(), "R5: after rollback, null again");
        assert!(get(&mut v, Some(later)).is_some(), "a rolled-back write is gone");
        // Nested: the inner commit folds into the outer one, which commits the alarm.
        for seen in [Seen::TxnBegin, Seen::TxnBegin, Seen::Set { time: later, now: NOW }, Seen::TxnEnd { commit: true }] {
            assert!(ok(&mut v, seen).is_none());
        }
        assert!(get(&mut v, Some(later)).is_none(), "the inner commit is seen in the outer transaction");
        let delete_all = v.call(0, "a0", &Seen::DeleteAll { delete_alarm: true }, &Ok(()), 3).expect("deleteAll inside a transaction must throw");
        assert!(delete_all.message.contains("transaction"), "{}", delete_all.message);
        assert!(v.call(0, "a0", &Seen::DeleteAll { delete_alarm: true }, &Err(AlarmError::InTransaction), 3).is_none());
        assert!(ok(&mut v, Seen::TxnEnd { commit: true }).is_none());
        assert!(get(&mut v, Some(later)).is_none(), "R11: the committed write replaced the deferred delete");
        v.handler_finished(0, true);
        assert!(get(&mut v, Some(later)).is_none(), "the deferred delete was cancelled by the commit");
        assert!(v.call(0, "a0", &Seen::TxnBegin, &Err(AlarmError::NoTransaction), 3).is_some(), "transaction() never throws on a healthy actor");
    }

    #[test]
    fn reads_follow_writes_and_past_times_clamp_to_now() {
        let mut v = view();
        assert!(v.call(0, "a0", &Seen::Set { time: Millis(NOW.0 - 50), now: NOW }, &Ok(()), 1).is_none());
        assert!(get(&mut v, Some(NOW)).is_none(), "R2: clamped to now");
        assert!(get(&mut v, Some(Millis(NOW.0 - 50))).is_some(), "an unclamped past time is wrong");
        assert!(v.call(0, "a0", &Seen::Delete, &Ok(()), 2).is_none());
        assert!(get(&mut v, None).is_none());
        assert!(get(&mut v, Some(NOW)).is_some(), "read-your-writes: the delete");
    }

    #[test]
    fn only_a_time_at_or_below_zero_throws() {
        let mut v = view();
        let bad = v.call(0, "a0", &Seen::Set { time: Millis(0), now: NOW }, &Ok(()), 1).expect("t ≤ 0 must throw");
        assert!(bad.message.contains("R2"), "{}", bad.message);
        assert!(v.call(0, "a0", &Seen::Set { time: Millis(-3), now: NOW }, &Err(AlarmError::InvalidTime(-3)), 1).is_none());
        assert!(v.call(0, "a0", &Seen::Set { time: NOW, now: NOW }, &Err(AlarmError::InvalidTime(1)), 1).is_some());
        // "broken" is B11's business; S is unknown until the reset.
        assert!(v.call(0, "a0", &Seen::Delete, &Err(AlarmError::Broken), 1).is_none());
        assert!(get(&mut v, Some(Millis(77))).is_none());
        v.loaded(0, &stored(Some(Millis(9))));
        assert!(get(&mut v, Some(Millis(77))).is_some());
    }

    #[test]
    fn get_is_null_in_a_handler_until_it_writes_and_the_deferred_delete_follows_success() {
        let mut v = view();
        v.loaded(0, &stored(Some(NOW)));
        assert!(v.armed(0, "a0", NOW, true, NOW, Some(Some(NOW)), 0).is_none());
        assert!(get(&mut v, Some(NOW)).is_some(), "R5: null while the deferred delete is pending");
        assert!(get(&mut v, None).is_none());
        v.handler_finished(0, true);
        assert!(get(&mut v, None).is_none(), "the deferred delete ran");
        // A write in the handler cancels it (R11), even a write of T itself at T (R3).
        v.loaded(0, &stored(Some(NOW)));
        assert!(v.armed(0, "a0", NOW, true, NOW, Some(Some(NOW)), 0).is_none());
        assert!(v.call(0, "a0", &Seen::Set { time: NOW, now: NOW }, &Ok(()), 1).is_none());
        assert!(get(&mut v, Some(NOW)).is_none(), "after a write getAlarm shows it");
        v.handler_finished(0, true);
        assert!(get(&mut v, Some(NOW)).is_none(), "the write survived the handler");
        // deleteAll without deleteAlarm keeps both the alarm and the deferred delete (R7).
        assert!(v.armed(0, "a0", NOW, true, NOW, Some(Some(NOW)), 0).is_none());
        assert!(v.call(0, "a0", &Seen::DeleteAll { delete_alarm: false }, &Ok(()), 1).is_none());
        assert!(get(&mut v, None).is_none());
        v.handler_finished(0, false);
        assert!(get(&mut v, Some(NOW)).is_none(), "a failed handler keeps the alarm (R11)");
    }

    #[test]
    fn a_clean_alarm_runs_only_its_own_fire_or_an_overdue_one() {
        let later = Some(Millis(NOW.0 + 500));
        let earlier = Some(Millis(NOW.0 - 500));
        let mut v = view();
        // A stale fire of NOW after the alarm moved later durably: cancel it.
        v.loaded(0, &stored(later));
        let bad = v.armed(0, "a0", NOW, false, NOW, Some(later), 1).expect("a premature run of a clean alarm");
        assert!(bad.message.contains("PR #2648"), "{}", bad.message);
        assert!(v.armed(0, "a0", NOW, false, NOW, None, 1).is_none(), "a commit of another alarm in flight may run it (§2.3)");
        assert!(v.armed(0, "a0", NOW, false, NOW, Some(Some(NOW)), 1).is_none(), "S ≠ LC: the move later is not acknowledged yet");
        // The user deleted the alarm and the delete is durable: nothing may run.
        v.loaded(0, &stored(None));
        assert!(v.armed(0, "a0", NOW, true, NOW, Some(None), 1).is_some(), "a run for a deleted alarm");
        // An overdue alarm runs a mismatched fire, with its deferred delete (#5764).
        v.loaded(0, &stored(earlier));
        assert!(v.armed(0, "a0", NOW, true, NOW, Some(earlier), 1).is_none());
        assert!(v.armed(0, "a0", NOW, false, NOW, Some(earlier), 1).expect("no deferred delete").message.contains("#5764"));
    }

    #[test]
    fn alarm_info_is_consistent_and_names_a_time_that_was_set() {
        let mut v = view();
        assert!(v.call(0, "a0", &Seen::Set { time: NOW, now: NOW }, &Ok(()), 1).is_none());
        assert!(v.alarm_info(0, "a0", NOW, 2, true, 1).is_none());
        assert!(v.alarm_info(0, "a0", NOW, 2, false, 1).is_some(), "R10: isRetry = retryCount > 0");
        assert!(v.alarm_info(0, "a0", Millis(NOW.0 + 1), 0, false, 1).is_some(), "never set to that time");
    }

    #[test]
    fn an_abandon_clears_a_clean_stored_time_and_may_keep_one_in_flight() {
        let mut v = view();
        v.loaded(0, &stored(Some(NOW)));
        v.abandoned(0, NOW, false);
        assert!(get(&mut v, Some(NOW)).is_some());
        v.loaded(0, &stored(Some(NOW)));
        v.abandoned(0, NOW, true);
        assert!(get(&mut v.clone(), Some(NOW)).is_none() && get(&mut v.clone(), None).is_none(), "either answer");
        assert!(get(&mut v, None).is_none() && get(&mut v, Some(NOW)).is_some(), "the first read settles it");
        v.loaded(0, &stored(Some(Millis(NOW.0 + 9))));
        v.abandoned(0, NOW, false);
        assert!(get(&mut v, Some(Millis(NOW.0 + 9))).is_none(), "a replacement survives (B7)");
    }
}
