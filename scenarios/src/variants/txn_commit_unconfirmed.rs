//! An explicit transaction's commit does not close the output gate.
//!
//! A scheduler that thinks of `storage.transaction()` as "already committed when the closure
//! returns" hands the root commit to storage like an `allowUnconfirmed` write: the writes
//! ship, but nothing waits for them. Outgoing messages (a handler's result, a client's reply)
//! then leave before the writes are durable, which R6 forbids for confirmed writes
//! (workerd's test "confirmed setAlarm blocks output gate", and R11's "waits on the output
//! gate before reporting"). Only `user-view`'s output-gate check sees it: the reference's
//! reports already cover commits in flight, so no manager ever disagrees with storage.

use super::support::{ActorHooks, Parts, Wrapped};
use alarmsim_scheduler::{AlarmError, WriteOptions};

#[derive(Debug, Default)]
pub struct Hooks;

impl ActorHooks for Hooks {
    fn txn_commit(&mut self, x: &mut Parts, _options: WriteOptions) -> Result<(), AlarmError> {
        x.inner.txn_commit(WriteOptions { allow_unconfirmed: true })
    }
}

crate::variant_factory! {
    /// R6: an explicit transaction's commit never closes the output gate.
    TxnCommitUnconfirmed,
    name: "txn-commit-unconfirmed",
    description: "R6: an explicit transaction's root commit ships like an allowUnconfirmed write, so the output gate stays open before its writes are durable",
    actor: |inner| Wrapped::new(inner, Hooks),
    manager: |inner| inner,
}
