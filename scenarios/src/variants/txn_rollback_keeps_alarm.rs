//! A rolled-back explicit transaction keeps its alarm write.
//!
//! The alarm lives in a metadata row of its own (`_cf_METADATA` in workerd); a scheduler that
//! stages key-value writes in the transaction's savepoint but applies `setAlarm` straight to
//! that row has nothing to undo when the transaction rolls back. R5: "after rollback, null
//! again" (inside a handler), and outside one the value before the transaction (workerd's
//! tests "rolling back transaction leaves alarm in expected state" and "rolling back nested
//! transaction leaves deferred alarm deletion in expected state"). Only explicit transactions
//! reach it (the `explicit-transactions` scenario).

use super::support::{ActorHooks, Parts, Wrapped};
use alarmsim_scheduler::{AlarmError, Millis, WriteOptions};

#[derive(Debug, Default)]
pub struct Hooks;

impl ActorHooks for Hooks {
    fn txn_rollback(&mut self, x: &mut Parts) -> Result<(), AlarmError> {
        // The transaction's view of the alarm, then the view without it: if they differ, the
        // transaction wrote the alarm, and this scheduler keeps that write.
        let inside = x.inner.get_alarm()?;
        x.inner.txn_rollback()?;
        if x.inner.get_alarm()? != inside {
            let kept = WriteOptions::default();
            match inside {
                Some(time) => x.inner.set_alarm(time, Millis(time.0), kept)?,
                None => x.inner.delete_alarm(kept)?,
            }
        }
        Ok(())
    }
}

crate::variant_factory! {
    /// R5: a rolled-back transaction's setAlarm/deleteAlarm stays.
    TxnRollbackKeepsAlarm,
    name: "txn-rollback-keeps-alarm",
    description: "R5: rolling back an explicit transaction discards its key-value writes but keeps its alarm write (the alarm row is written outside the savepoint)",
    actor: |inner| Wrapped::new(inner, Hooks),
    manager: |inner| inner,
}
