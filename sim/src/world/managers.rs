//! The alarm managers, one per namespace: routing (`home`), persisted rows, ticks that fire
//! due alarms, attempt outcomes and abandons.

use super::*;

impl ManagerNode {
    /// A fresh manager per namespace of `spec`. `first_store` is namespace 0's (opened by
    /// the caller); the others get stores of their own, always FULL like it.
    pub(super) fn per_namespace(spec: &ScenarioSpec, factory: &dyn SchedulerFactory, seed: u64, probes: &Probes) -> Vec<ManagerNode> {
        assert!(spec.namespaces >= 1, "scenario {}: namespaces must be at least 1", spec.name);
        // The manager's store is always FULL: a lost row is a lost alarm (docs/ARCHITECTURE.md).
        let open = || MetadataStore::pool().take(|| MetadataStore::open(&Location::Memory, Durability::Full)).expect("an in-memory metadata store opens");
        let stores: Vec<Pooled<MetadataStore>> = (0..spec.namespaces).map(|_| open()).collect();
        let manager = |(ns, store): (usize, Pooled<MetadataStore>)| {
            let node = Node::manager_of(ns, spec.namespaces);
            // A retry's jitter on one manager draws nothing from another's stream.
            let rng_seed = if ns == 0 { seed ^ MANAGER_STREAM } else { stream_seed(seed ^ MANAGER_STREAM, ns as u64) };
            ManagerNode {
                node,
                name: node.to_string(),
                up: true,
                epoch: 1,
                core: Some(factory.new_manager(Vec::new(), RetryPolicy::default(), probes)),
                store,
                rows: BTreeMap::new(),
                ticks: BTreeSet::new(),
                rng: ChaCha8Rng::seed_from_u64(rng_seed),
            }
        };
        stores.into_iter().enumerate().map(manager).collect()
    }

    /// Its view of actor `index` (`id`): the live entry, or the durable row while it is down.
    pub(super) fn time_of(&self, index: usize, id: &ActorId) -> AlarmTime {
        match &self.core {
            Some(core) if self.up => core.effective_time(id),
            _ => self.rows.get(&index).and_then(|row| row.time),
        }
    }
}

impl World {
    /// The namespace whose manager serves `actor`. Every alarm message of the actor — its
    /// commands, the fires it receives, its results and abandon answers — goes to or comes
    /// from this manager and no other: the one place routing per namespace is decided.
    pub(super) fn home(&self, actor: usize) -> usize {
        self.actors[actor].namespace
    }

    /// Writes the rows the manager asked to persist (R18) and forwards abandon requests.
    pub(super) fn flush_manager(&mut self, ns: usize) {
        let persists = self.factory.manager_persists_rows();
        while let Some(effect) = self.managers[ns].core.as_mut().and_then(|c| c.poll_effect()) {
            match effect {
                ManagerEffect::Persist(row) => {
                    // The manager changes an entry only in a call that persists it (R18):
                    // this actor's I1 is checked after the event.
                    let index = self.actor_index(&row.actor);
                    if index < self.actors.len() {
                        self.touched.add(index);
                    }
                    let manager = &mut self.managers[ns];
                    // Rewriting a row with the contents it already has changes nothing on
                    // disk, so the simulator skips it (a sixth of all row writes).
                    if persists && manager.rows.get(&index) != Some(&row) {
                        manager.store.write(&row).expect("write a metadata row");
                        manager.rows.insert(index, row);
                        self.manager_work.rows += 1;
                    }
                }
                ManagerEffect::Abandon { actor, scheduled } => {
                    let index = self.actor_index(&actor);
                    // R13/R15: the manager may give the alarm up only after an abort or the
                    // retry limit; conservation accepts the abandon's `S = none` only then
                    // (judged when the manager decides: the request may outlive its process).
                    if self.checker.abandon_justified(index, scheduled) {
                        self.conservation.abandon_justified(index, scheduled);
                    }
                    self.touched.add(index);
                    let name = self.managers[ns].node;
                    self.note(EventKind::Fire, name, Some(index), |_| format!("abandon {} after the retry limit (R16)", rel(Some(scheduled))));
                    let latency = self.draw(index, self.profile.link_latency_ms);
                    let epoch = self.managers[ns].epoch;
                    self.after(latency, Event::AbandonArrive { epoch, actor: index, scheduled });
                }
            }
        }
        self.schedule_tick(ns);
    }

    pub(super) fn actor_index(&self, actor: &ActorId) -> usize {
        actor.0[1..].parse().expect("actor ids are a<N>")
    }

    /// Wakes the manager of namespace `ns` when its next alarm is due on its own clock.
    pub(super) fn schedule_tick(&mut self, ns: usize) {
        let manager = &self.managers[ns];
        let Some(core) = manager.core.as_ref() else { return };
        let Some(next) = core.next_wakeup() else { return };
        let at = self.shared_ms_for(manager.node, next).max(self.now_ms());
        if self.managers[ns].ticks.insert(at) {
            let epoch = self.managers[ns].epoch;
            self.after(at - self.now_ms(), Event::ManagerTick { namespace: ns, epoch, at });
        }
    }

    pub(super) fn manager_tick(&mut self, ns: usize, epoch: u64, at: u64) {
        self.managers[ns].ticks.remove(&at);
        if epoch != self.managers[ns].epoch || !self.managers[ns].up {
            return;
        }
        // R8: re-read the clock before firing.
        let now = self.manager_clock(ns);
        let fires = self.managers[ns].core.as_mut().expect("manager up").take_due(now);
        let name = self.managers[ns].node;
        for fire in fires {
            let actor = self.actor_index(&fire.actor);
            self.touched.add(actor);
            let violation = self.checker.fire(actor, &fire.actor.0, fire.scheduled, fire.retry_count, now, self.now_ms());
            self.fail(violation);
            self.note(EventKind::Fire, name, Some(actor), |_| format!("fire {} (retryCount={})", rel(Some(fire.scheduled)), fire.retry_count));
            let latency = self.draw(actor, self.profile.link_latency_ms);
            self.after(latency, Event::FireArrive { epoch, actor, fire, fired_at: now });
        }
        self.flush_manager(ns);
    }

    pub(super) fn fire_result_arrive(&mut self, epoch: u64, actor: usize, scheduled: Millis, result: FireResult, counts: Option<bool>) {
        let ns = self.home(actor);
        if epoch != self.managers[ns].epoch || !self.managers[ns].up {
            return; // The manager process that asked is gone.
        }
        let now = self.manager_clock(ns);
        self.checker.fire_result(actor, scheduled, counts, result.outcome == Outcome::Aborted, now);
        let report = result.report.map(|(t, f)| format!(" report={} fence={f}", rel(t))).unwrap_or_default();
        let name = self.managers[ns].node;
        self.note(EventKind::Fire, name, Some(actor), |_| format!("result {}: {:?}{report}", rel(Some(scheduled)), result.outcome));
        let id = self.actors[actor].id.clone();
        let manager = &mut self.managers[ns];
        let core = manager.core.as_mut().expect("manager up");
        core.on_fire_result(&id, scheduled, result, now, &mut manager.rng);
        self.flush_manager(ns);
    }

    pub(super) fn abandon_arrive(&mut self, epoch: u64, actor: usize, scheduled: Millis) {
        let host = self.actors[actor].host;
        let reachable = self.hosts[host].up && self.actors[actor].core.is_some() && !self.cut_off(actor);
        if !reachable {
            self.note(EventKind::Fault, Node::Host(host), Some(actor), |_| format!("abandonAlarm({}) unreachable", rel(Some(scheduled))));
            self.after(LINK_TIMEOUT_MS, Event::AbandonResult { epoch, actor, scheduled, answer: Err(()) });
            return;
        }
        let write_in_flight = !self.actors[actor].commits.is_empty() || self.actors[actor].core.as_ref().is_some_and(|c| c.commands_outstanding() > 0);
        let core = self.actors[actor].core.as_mut().expect("checked");
        match core.abandon_alarm(scheduled) {
            Ok(keep) => {
                self.user_view.abandoned(actor, scheduled, write_in_flight);
                // Only an abandon the actor carried out ends the alarm; one it refused keeps
                // the manager's justification for asking again.
                self.conservation.abandon_arrived(actor, scheduled);
                self.note(EventKind::Fire, Node::Host(host), Some(actor), |_| format!("abandonAlarm({}) -> keep {}", rel(Some(scheduled)), rel(keep)));
                self.actors[actor].pending_abandons.push((epoch, scheduled));
            }
            Err(e) => {
                self.note(EventKind::Fault, Node::Host(host), Some(actor), |_| format!("abandonAlarm({}) -> error: {e}", rel(Some(scheduled))));
                self.after(LINK_TIMEOUT_MS, Event::AbandonResult { epoch, actor, scheduled, answer: Err(()) });
            }
        }
        self.pump(actor);
    }

    pub(super) fn abandon_result(&mut self, epoch: u64, actor: usize, scheduled: Millis, answer: Result<(AlarmTime, Fence), ()>) {
        let ns = self.home(actor);
        if epoch != self.managers[ns].epoch || !self.managers[ns].up {
            return;
        }
        let now = self.manager_clock(ns);
        let id = self.actors[actor].id.clone();
        // A failed abandon may have ended nothing (the actor's delete failed to commit and the
        // actor reset), so asking again stays justified (F4's fix re-asks).
        self.conservation.abandon_answered(actor, scheduled, answer.is_ok());
        self.managers[ns].core.as_mut().expect("manager up").on_abandon_result(&id, scheduled, answer, now);
        self.checker.abandon_answered(actor, scheduled);
        self.flush_manager(ns);
    }
}
