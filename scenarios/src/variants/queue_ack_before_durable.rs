//! Devolutions gateway PR #1108: `JobQueueHandle::enqueue` only sends the job into an
//! in-memory channel and returns Ok; a detached task INSERTs it a moment later. A crash in
//! between loses a job whose enqueue was acknowledged, under NORMAL and FULL alike.

use super::queue_support::QueuePatch;
use alarmsim_scheduler::queue::{Db, NewJob, QueueError, SqliteQueue};
use std::collections::VecDeque;

#[derive(Default)]
pub struct AckBeforeDurable {
    channel: VecDeque<NewJob>,
}

impl QueuePatch for AckBeforeDurable {
    async fn enqueue<D: Db>(&mut self, _q: &mut SqliteQueue, _db: &mut D, job: NewJob) -> Result<(), QueueError> {
        self.channel.push_back(job);
        Ok(())
    }

    async fn background<D: Db>(&mut self, _q: &mut SqliteQueue, db: &mut D) -> Result<(), QueueError> {
        while let Some(job) = self.channel.front().cloned() {
            SqliteQueue::insert(db, &job).await?;
            self.channel.pop_front();
        }
        Ok(())
    }

    fn has_background_work(&self) -> bool {
        !self.channel.is_empty()
    }
}
