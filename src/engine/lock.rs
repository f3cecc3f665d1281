//! The lock steps of a refresh job (see [`crate::lock`]): wait for the store's lock or take
//! it, and release it before any user code runs.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{Action, Job, Outcome, Phase, Then};
use crate::cache::State;
use crate::error::{Code, Error};

impl Job {
    /// After `store.lock` answered: re-read the store under the lock, or wait and look
    /// again, until the wait bound.
    pub(super) fn locked_or_wait(
        &mut self,
        st: &State,
        taken: bool,
        now: f64,
        jitter: f64,
    ) -> Action {
        let Some(lock) = self.lock else {
            return self.out_of_order();
        };
        if taken {
            self.locked = true;
            return self.read_or_send(st);
        }
        let since = *self.waiting_since.get_or_insert(now);
        if now - since >= lock.wait_ms {
            let e = Error::new(
                Code::LockTimeout,
                "another process held the store's refresh lock past its TTL",
            );
            return self.finish(Outcome::Failed(e));
        }
        self.phase = Phase::Sleeping;
        Action::Sleep(lock.poll_delay(jitter))
    }

    /// After the store write: release the lock first when this job holds it, so that no
    /// user code (`onTokens`) runs under it.
    pub(super) fn release_then_publish(&mut self, st: &mut State) -> Action {
        if self.locked {
            return self.release(Then::HookOrPublish);
        }
        self.hook_or_publish(st)
    }

    pub(super) fn release(&mut self, then: Then) -> Action {
        self.locked = false;
        self.then = Some(then);
        self.phase = Phase::Unlocking;
        Action::Unlock
    }
}
