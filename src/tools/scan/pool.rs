//! The scan's worker pool: a fixed number of tasks, each pulling the next
//! item from a shared counter until none is left.
//!
//! This is what bounds a scan's open sockets whatever its size: at most
//! `workers` items are being probed at once, so the descriptor budget holds
//! for a /16 as for one host, and no queue of pending probes is ever built.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Items a worker runs between two returns to the scheduler.
const YIELD_EVERY: u64 = 32;

/// Runs `work(item)` for every item in `0..items` on at most `workers`
/// tasks. Dropping the returned future (a stop) aborts the tasks.
pub(super) async fn run<F, Fut>(items: usize, workers: usize, work: F)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let work = Arc::new(work);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..workers.clamp(1, items.max(1)) {
        let (work, next) = (Arc::clone(&work), Arc::clone(&next));
        tasks.spawn(async move {
            for done in 0u64.. {
                // An item finished at once never waits, so the task would
                // never give the scheduler a chance to stop it on Ctrl-C.
                if done % YIELD_EVERY == YIELD_EVERY - 1 {
                    tokio::task::yield_now().await;
                }
                let item = next.fetch_add(1, Ordering::Relaxed);
                if item >= items {
                    return;
                }
                work(item).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[tokio::test]
    async fn every_item_once_and_never_more_than_the_workers_at_a_time() {
        let seen: Arc<Vec<AtomicBool>> =
            Arc::new((0..500).map(|_| AtomicBool::new(false)).collect());
        let (busy, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (s, b, m) = (Arc::clone(&seen), Arc::clone(&busy), Arc::clone(&most));
        run(500, 7, move |item| {
            let (seen, busy, most) = (Arc::clone(&s), Arc::clone(&b), Arc::clone(&m));
            async move {
                let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::task::yield_now().await;
                assert!(
                    !seen[item].swap(true, Ordering::SeqCst),
                    "item {item} twice"
                );
                busy.fetch_sub(1, Ordering::SeqCst);
            }
        })
        .await;
        assert!(seen.iter().all(|s| s.load(Ordering::SeqCst)));
        assert!(most.load(Ordering::SeqCst) <= 7);
    }
}
