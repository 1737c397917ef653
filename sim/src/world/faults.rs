//! Crashes, power loss and restarts of hosts and managers.

use super::*;

impl World {
    pub(super) fn crash(&mut self, node: Node, power: bool, downtime_ms: u64) {
        if !self.chaos() {
            return;
        }
        if self.spec.link == LinkModel::Local && !matches!(node, Node::Producer(_) | Node::Worker(_)) {
            // Local workerd is one process: any crash takes every actor and the scheduler
            // down, and they restart together.
            for host in 0..self.hosts.len() {
                self.crash_node(Node::Host(host), power, downtime_ms);
            }
            for ns in 0..self.managers.len() {
                let manager = self.managers[ns].node;
                self.crash_node(manager, power, downtime_ms);
            }
            return;
        }
        self.crash_node(node, power, downtime_ms);
    }

    fn crash_node(&mut self, node: Node, power: bool, downtime_ms: u64) {
        let kind = if power { "power loss" } else { "crash" };
        match node {
            Node::Host(host) => {
                if !self.hosts[host].up {
                    return;
                }
                self.hosts[host].up = false;
                self.note(if power { EventKind::PowerLoss } else { EventKind::Crash }, "world", None, |_| format!("{kind}: host-{host}"));
                let now = self.now_ms();
                for actor in self.hosts[host].actors.clone() {
                    self.touched.add(actor);
                    let behind = fires_earlier(self.manager_time(actor), self.checker.actors[actor].durable);
                    self.probes.sometimes(behind, &probe::CRASH_MANAGER_BEHIND_STORAGE);
                    self.probes.sometimes(self.actors[actor].handler.is_some(), &probe::CRASH_MID_HANDLER);
                    self.abort_attempts(actor, DEATH_DETECTION_MS);
                    let slot = &mut self.actors[actor];
                    slot.core = None;
                    if power && slot.disk.power_loss(now) {
                        self.probes.hit(&probe::POWER_LOSS_ROLLS_BACK);
                        let d = slot.disk.shadow().alarm;
                        self.checker.durable_changed(actor, d, true);
                        self.conservation.rolled_back(actor, d);
                        self.note(EventKind::PowerLoss, "world", Some(actor), |_| format!("unsynced commits lost: D={}", rel(d)));
                    }
                }
            }
            Node::Manager | Node::NamespaceManager(_) => {
                // Only this namespace's manager goes down; the others keep serving theirs.
                let ns = self.namespace_served(node);
                if !self.managers[ns].up {
                    return;
                }
                let running = (0..self.actors.len()).any(|a| self.home(a) == ns && self.actors[a].handler.is_some());
                self.probes.sometimes(running, &probe::MANAGER_CRASH_WHILE_RUNNING);
                let manager = &mut self.managers[ns];
                manager.up = false;
                manager.epoch += 1;
                manager.core = None;
                manager.ticks.clear();
                // Its actors' manager view is now the rows in its store.
                self.touch_namespace(ns);
                // The metadata store is FULL, so a power loss loses no row.
                self.note(if power { EventKind::PowerLoss } else { EventKind::Crash }, "world", None, |_| format!("{kind}: {node}"));
            }
            Node::Producer(_) | Node::Worker(_) => unreachable!("the alarm world has no job-queue processes"),
        }
        self.after(downtime_ms, Event::Restart { node });
    }

    pub(super) fn restart(&mut self, node: Node) {
        match node {
            Node::Host(host) => {
                if self.hosts[host].up {
                    return;
                }
                self.hosts[host].up = true;
                self.note(EventKind::Restart, "world", None, |_| format!("restart: host-{host}"));
                for actor in self.hosts[host].actors.clone() {
                    self.load_actor(actor);
                }
            }
            Node::Manager | Node::NamespaceManager(_) => self.restart_manager(self.namespace_served(node)),
            Node::Producer(_) | Node::Worker(_) => unreachable!("the alarm world has no job-queue processes"),
        }
    }

    /// The namespace of a manager node of this world.
    pub(super) fn namespace_served(&self, node: Node) -> usize {
        let ns = node.served_namespace().expect("a manager node");
        assert!(ns < self.managers.len(), "{node} is not a manager of this world ({} namespaces)", self.managers.len());
        ns
    }

    /// Restarts namespace `ns`'s manager from its own `metadata.sqlite` (R18).
    pub(super) fn restart_manager(&mut self, ns: usize) {
        if self.managers[ns].up {
            return;
        }
        self.managers[ns].up = true;
        let rows = if self.factory.manager_persists_rows() {
            self.manager_work.row_loads += 1;
            self.managers[ns].store.load().expect("load metadata rows")
        } else {
            Vec::new()
        };
        let node = self.managers[ns].node;
        self.note(EventKind::Restart, "world", None, |_| format!("restart: {node} ({} rows)", rows.len()));
        self.managers[ns].core = Some(self.factory.new_manager(rows, RetryPolicy::default(), &self.probes));
        for actor in 0..self.actors.len() {
            if self.home(actor) == ns {
                self.checker.retries_reset(actor); // R18: retry state lives in memory.
            }
        }
        // Its actors' manager view is the new core's again.
        self.touch_namespace(ns);
        self.schedule_tick(ns);
    }

    /// Every actor of namespace `ns` is touched (its manager went down or came back).
    fn touch_namespace(&mut self, ns: usize) {
        for actor in 0..self.actors.len() {
            if self.home(actor) == ns {
                self.touched.add(actor);
            }
        }
    }
}
