//! The nodes of a simulated topology: alarm managers, actor hosts, job-queue processes.
//! Plans, profiles and traces name nodes; nothing here knows what a node does.

use serde::{Deserialize, Serialize};

/// A node of the simulated topology.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Node {
    /// The alarm manager of a world with one namespace (`manager`).
    Manager,
    /// The alarm manager of namespace `k` in a world with several (`manager-<k>`). A variant
    /// of its own, so single-namespace plans keep their names and their JSON (`"manager"`).
    NamespaceManager(usize),
    Host(usize),
    /// A job-queue process that enqueues.
    Producer(usize),
    /// A job-queue process that claims and runs jobs.
    Worker(usize),
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Node::Manager => f.write_str("manager"),
            Node::NamespaceManager(k) => write!(f, "manager-{k}"),
            Node::Host(h) => write!(f, "host-{h}"),
            Node::Producer(p) => write!(f, "producer-{p}"),
            Node::Worker(w) => write!(f, "worker-{w}"),
        }
    }
}

impl Node {
    /// The manager node of `namespace` in a world of `namespaces` namespaces.
    pub fn manager_of(namespace: usize, namespaces: u32) -> Node {
        if namespaces == 1 {
            Node::Manager
        } else {
            Node::NamespaceManager(namespace)
        }
    }

    /// The namespace a manager node serves; `None` for every other node.
    pub fn served_namespace(self) -> Option<usize> {
        match self {
            Node::Manager => Some(0),
            Node::NamespaceManager(k) => Some(k),
            Node::Host(_) | Node::Producer(_) | Node::Worker(_) => None,
        }
    }
}
