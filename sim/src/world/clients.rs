//! Clients: planned steps (operations, crashes, partitions) and the storage calls of the
//! actors' code, each checked for a degraded actor (B11).

use super::*;

/// What a storage call of the actor's code did (a client's operation, or a handler's own
/// setAlarm/deleteAlarm), rendered into text only when a trace is kept or a check fails.
pub(super) enum OpShown {
    SetAlarm(Millis),
    DeleteAlarm,
    GetAlarm,
    GotAlarm(AlarmTime),
    Put(String),
    SetAndPut(Millis, String),
    SetTwice(Millis, Millis),
    DeleteAll(bool),
    ScheduleNext(i64),
    ScheduleNextSet(i64, Millis),
    ScheduleNextKeep(i64, AlarmTime),
}

impl std::fmt::Display for OpShown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpShown::SetAlarm(t) => write!(f, "setAlarm({})", rel(Some(*t))),
            OpShown::DeleteAlarm => f.write_str("deleteAlarm()"),
            OpShown::GetAlarm => f.write_str("getAlarm()"),
            OpShown::GotAlarm(t) => write!(f, "getAlarm() = {}", rel(*t)),
            OpShown::Put(key) => write!(f, "put({key})"),
            OpShown::SetAndPut(t, key) => write!(f, "setAlarm({}) + put({key})", rel(Some(*t))),
            OpShown::SetTwice(t1, t2) => write!(f, "setAlarm({}); setAlarm({}) in one turn", rel(Some(*t1)), rel(Some(*t2))),
            OpShown::DeleteAll(delete_alarm) => write!(f, "deleteAll(deleteAlarm={delete_alarm})"),
            OpShown::ScheduleNext(delay_ms) => write!(f, "scheduleNextAlarm({delay_ms})"),
            OpShown::ScheduleNextSet(delay_ms, t) => write!(f, "scheduleNextAlarm({delay_ms}) -> setAlarm({})", rel(Some(*t))),
            OpShown::ScheduleNextKeep(delay_ms, existing) => write!(f, "scheduleNextAlarm({delay_ms}) -> keep {}", rel(*existing)),
        }
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
            Action::Op { client, actor, op } => self.client_op(client, actor, op),
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

    pub(super) fn client_op(&mut self, client: u32, actor: usize, op: Op) {
        self.touched.add(actor);
        let node = Client(client);
        let host = self.actors[actor].host;
        if !self.hosts[host].up || self.actors[actor].core.is_none() {
            self.note(EventKind::Op, node, Some(actor), |_| "op rejected: host down".to_string());
            return;
        }
        let now = self.clock(Node::Host(host));
        let value = self.events_handled.to_le_bytes().to_vec();
        let factory = self.factory.clone();
        let opts = WriteOptions::default();
        let core = self.actors[actor].core.as_mut().expect("checked above");
        let (shown, result) = match op {
            Op::SetAlarm { delay_ms } => {
                let t = now.saturating_add_ms(delay_ms);
                (OpShown::SetAlarm(t), core.set_alarm(t, now, opts))
            }
            Op::DeleteAlarm => (OpShown::DeleteAlarm, core.delete_alarm(opts)),
            Op::GetAlarm => match core.get_alarm() {
                Ok(t) => (OpShown::GotAlarm(t), Ok(())),
                Err(e) => (OpShown::GetAlarm, Err(e)),
            },
            Op::Put { key } => {
                let r = core.put(&key, value, opts);
                (OpShown::Put(key), r)
            }
            Op::SetAndPut { delay_ms, key } => {
                let t = now.saturating_add_ms(delay_ms);
                let r = core.set_alarm(t, now, opts).and_then(|()| core.put(&key, value, opts));
                (OpShown::SetAndPut(t, key), r)
            }
            Op::SetTwice { first_ms, second_ms } => {
                let (t1, t2) = (now.saturating_add_ms(first_ms), now.saturating_add_ms(second_ms));
                let r = core.set_alarm(t1, now, opts).and_then(|()| core.set_alarm(t2, now, opts));
                (OpShown::SetTwice(t1, t2), r)
            }
            Op::DeleteAll { delete_alarm } => (OpShown::DeleteAll(delete_alarm), core.delete_all(delete_alarm, opts)),
            Op::ScheduleNext { delay_ms } => match core.get_alarm() {
                Ok(existing) => match factory.schedule_next(existing, now, delay_ms) {
                    Some(t) => (OpShown::ScheduleNextSet(delay_ms, t), core.set_alarm(t, now, opts)),
                    None => (OpShown::ScheduleNextKeep(delay_ms, existing), Ok(())),
                },
                Err(e) => (OpShown::ScheduleNext(delay_ms), Err(e)),
            },
        };
        core.end_turn();
        let gate = core.gate();
        if let Err(error) = &result {
            let violation = self.checker.storage_error(&self.actors[actor].id.0, &shown.to_string(), error, gate, self.now_ms());
            self.fail(violation);
        }
        self.note(EventKind::Op, node, Some(actor), |_| match result {
            Ok(()) => shown.to_string(),
            Err(e) => format!("{shown} -> error: {e}"),
        });
        self.pump(actor);
    }
}
