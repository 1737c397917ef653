//! The local alarm scheduler before workerd #6104: alarms lived in one global in-memory
//! SQLite database, so every alarm the manager held was lost when its process restarted.
//!
//! The scheduler is the reference; the manager's rows are simply never made durable.

crate::variant_factory! {
    /// The pre-#6104 manager: rows in memory only.
    InMemoryManager,
    name: "in-memory-manager",
    description: "before workerd #6104: the manager keeps its alarms in memory only, so a manager restart loses every pending alarm",
    actor: |inner| inner,
    manager: |inner| inner,
    persists_rows: false,
}
