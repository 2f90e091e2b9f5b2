//! A pool of worker threads for handlers that may block (libvirt's util/virthreadpool.c).
//!
//! No thread starts before the first job: a daemon that never hands work to its pool (all
//! of virtproxyd's work is non-blocking I/O on the loop thread) runs no idle threads. With
//! the first job `min_workers` threads start, and more, up to `max_workers`, when a job
//! finds every worker busy. (libvirt starts `min_workers` at once; virt-admin's
//! srv-threadpool-info shows nWorkers 0 until then.) `prio_workers` extra threads serve only high-priority jobs, so
//! that cheap calls are answered while ordinary workers are stuck in slow calls. The numbers
//! are what virt-admin's srv-threadpool-info shows and srv-threadpool-set changes.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;

pub type Job = Box<dyn FnOnce() + Send + 'static>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolParams {
    pub min_workers: usize,
    pub max_workers: usize,
    pub prio_workers: usize,
    pub free_workers: usize,
    pub n_workers: usize,
    pub job_queue_depth: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolError {
    /// min > max, or max == 0 with a queue to serve.
    InvalidLimits {
        min: usize,
        max: usize,
    },
    Spawn(String),
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::InvalidLimits { min, max } => write!(
                f,
                "invalid argument: minWorkers ({min}) must be less than or equal to maxWorkers ({max}), and maxWorkers must be greater than 0"
            ),
            PoolError::Spawn(e) => write!(f, "Unable to create thread: {e}"),
        }
    }
}

impl std::error::Error for PoolError {}

#[derive(Default)]
struct State {
    jobs: VecDeque<(Job, bool)>,
    n_prio_jobs: usize,
    min: usize,
    max: usize,
    n_workers: usize,
    free_workers: usize,
    /// Workers asked to exit (after the limits were lowered).
    to_retire: usize,
    prio_target: usize,
    n_prio: usize,
    free_prio: usize,
    prio_to_retire: usize,
    /// The first job came: the minimum and priority workers run.
    started: bool,
    quit: bool,
}

struct Shared {
    name: String,
    state: Mutex<State>,
    cond: Condvar,
    prio_cond: Condvar,
    quit_cond: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A worker never panics while holding the lock (jobs run outside it), so poisoning
        // can only come from a panicking job; the state itself is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct ThreadPool {
    shared: Arc<Shared>,
}

const STACK_SIZE: usize = 512 * 1024;

impl ThreadPool {
    // C: virThreadPoolNewFull
    pub fn new(name: &str, min: usize, max: usize, prio: usize) -> Result<ThreadPool, PoolError> {
        if min > max || max == 0 {
            return Err(PoolError::InvalidLimits { min, max });
        }
        let shared = Arc::new(Shared {
            name: name.to_string(),
            state: Mutex::new(State { min, max, prio_target: prio, ..State::default() }),
            cond: Condvar::new(),
            prio_cond: Condvar::new(),
            quit_cond: Condvar::new(),
        });
        Ok(ThreadPool { shared })
    }

    /// Starts the minimum and priority workers (at the first job).
    fn start(&self, st: &mut State) -> Result<(), PoolError> {
        st.started = true;
        for _ in 0..st.min {
            self.spawn(st, false)?;
        }
        for _ in 0..st.prio_target {
            self.spawn(st, true)?;
        }
        Ok(())
    }

    fn spawn(&self, st: &mut State, prio: bool) -> Result<(), PoolError> {
        let shared = Arc::clone(&self.shared);
        let name = format!("{}-{}", if prio { "prio-worker" } else { "worker" }, self.shared.name);
        thread::Builder::new()
            .name(name)
            .stack_size(STACK_SIZE)
            .spawn(move || worker(shared, prio))
            .map_err(|e| PoolError::Spawn(e.to_string()))?;
        if prio {
            st.n_prio += 1;
        } else {
            st.n_workers += 1;
        }
        Ok(())
    }

    /// Queues a job. High-priority jobs may also be taken by the priority workers.
    // C: virThreadPoolSendJob
    pub fn submit(&self, job: Job, priority: bool) -> Result<(), PoolError> {
        let mut st = self.shared.lock();
        if !st.started {
            // The fresh minimum workers take this job (a pool with min 0 gets one now).
            self.start(&mut st)?;
            if st.n_workers == 0 {
                self.spawn(&mut st, false)?;
            }
        } else if st.free_workers == st.to_retire && st.n_workers < st.max {
            self.spawn(&mut st, false)?;
        }
        st.jobs.push_back((job, priority));
        if priority {
            st.n_prio_jobs += 1;
            self.shared.prio_cond.notify_one();
        }
        self.shared.cond.notify_one();
        Ok(())
    }

    // C: virThreadPoolGetParameters (as the admin program reports them)
    pub fn params(&self) -> PoolParams {
        let st = self.shared.lock();
        PoolParams {
            min_workers: st.min,
            max_workers: st.max,
            prio_workers: st.prio_target,
            free_workers: st.free_workers.saturating_sub(st.to_retire),
            n_workers: st.n_workers - st.to_retire.min(st.n_workers),
            job_queue_depth: st.jobs.len(),
        }
    }

    /// Changes the limits; None keeps a value. Workers above a lowered limit exit when idle.
    // C: virThreadPoolSetParameters
    pub fn set_params(&self, min: Option<usize>, max: Option<usize>, prio: Option<usize>) -> Result<(), PoolError> {
        let mut st = self.shared.lock();
        let new_min = min.unwrap_or(st.min);
        let new_max = max.unwrap_or(st.max);
        if new_min > new_max || new_max == 0 {
            return Err(PoolError::InvalidLimits { min: new_min, max: new_max });
        }
        st.min = new_min;
        st.max = new_max;
        if !st.started {
            if let Some(p) = prio {
                st.prio_target = p;
            }
            return Ok(());
        }
        let live = st.n_workers - st.to_retire;
        if live < new_min {
            for _ in live..new_min {
                self.spawn(&mut st, false)?;
            }
        } else if live > new_max {
            st.to_retire += live - new_max;
            self.shared.cond.notify_all();
        }
        if let Some(p) = prio {
            let live_prio = st.n_prio - st.prio_to_retire;
            if p > live_prio {
                for _ in live_prio..p {
                    self.spawn(&mut st, true)?;
                }
            } else if p < live_prio {
                st.prio_to_retire += live_prio - p;
                self.shared.prio_cond.notify_all();
            }
            st.prio_target = p;
        }
        Ok(())
    }

    /// Stops accepting work, lets running jobs finish, and waits for every worker to exit.
    pub fn shutdown(&self) {
        let mut st = self.shared.lock();
        st.quit = true;
        st.jobs.clear();
        self.shared.cond.notify_all();
        self.shared.prio_cond.notify_all();
        while st.n_workers + st.n_prio > 0 {
            st = self.shared.quit_cond.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.shutdown();
    }
}

// C: virThreadPoolWorker
fn worker(shared: Arc<Shared>, prio: bool) {
    let mut st = shared.lock();
    loop {
        if st.quit {
            break;
        }
        if prio && st.prio_to_retire > 0 {
            st.prio_to_retire -= 1;
            break;
        }
        if !prio && st.to_retire > 0 {
            st.to_retire -= 1;
            break;
        }
        let job = if prio {
            if st.n_prio_jobs > 0 {
                take_job(&mut st, true)
            } else {
                None
            }
        } else {
            take_job(&mut st, false)
        };
        match job {
            Some(job) => {
                drop(st);
                job();
                st = shared.lock();
            }
            None => {
                let cond = if prio { &shared.prio_cond } else { &shared.cond };
                if prio {
                    st.free_prio += 1;
                } else {
                    st.free_workers += 1;
                }
                st = cond.wait(st).unwrap_or_else(|p| p.into_inner());
                if prio {
                    st.free_prio -= 1;
                } else {
                    st.free_workers -= 1;
                }
            }
        }
    }
    if prio {
        st.n_prio -= 1;
    } else {
        st.n_workers -= 1;
    }
    shared.quit_cond.notify_all();
}

fn take_job(st: &mut State, prio_only: bool) -> Option<Job> {
    let idx = if prio_only {
        st.jobs.iter().position(|(_, p)| *p)?
    } else if st.jobs.is_empty() {
        return None;
    } else {
        0
    };
    let (job, was_prio) = st.jobs.remove(idx)?;
    if was_prio {
        st.n_prio_jobs -= 1;
    }
    Some(job)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    fn wait_until(pool: &ThreadPool, f: impl Fn(&PoolParams) -> bool) -> PoolParams {
        for _ in 0..2000 {
            let p = pool.params();
            if f(&p) {
                return p;
            }
            thread::sleep(Duration::from_millis(1));
        }
        pool.params()
    }

    #[test]
    fn new_starts_no_thread() {
        let pool = ThreadPool::new("t", 2, 4, 1).unwrap();
        let p = pool.params();
        assert_eq!((p.min_workers, p.max_workers, p.prio_workers, p.n_workers, p.free_workers), (2, 4, 1, 0, 0));
    }

    #[test]
    fn first_job_starts_min_workers() {
        let pool = ThreadPool::new("t", 2, 4, 1).unwrap();
        let (tx, rx) = mpsc::channel();
        pool.submit(Box::new(move || tx.send(1).unwrap()), false).unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), 1);
        let p = wait_until(&pool, |p| p.free_workers == 2);
        assert_eq!((p.min_workers, p.max_workers, p.prio_workers, p.n_workers, p.free_workers), (2, 4, 1, 2, 2));
    }

    #[test]
    fn new_rejects_min_above_max() {
        assert!(matches!(ThreadPool::new("t", 5, 2, 0), Err(PoolError::InvalidLimits { .. })));
        assert!(matches!(ThreadPool::new("t", 0, 0, 0), Err(PoolError::InvalidLimits { .. })));
    }

    #[test]
    fn submit_runs_job() {
        let pool = ThreadPool::new("t", 1, 2, 0).unwrap();
        let (tx, rx) = mpsc::channel();
        pool.submit(Box::new(move || tx.send(42).unwrap()), false).unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), 42);
    }

    #[test]
    fn busy_workers_grow_pool_up_to_max() {
        let pool = ThreadPool::new("t", 1, 3, 0).unwrap();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        for _ in 0..5 {
            let r = Arc::clone(&release_rx);
            pool.submit(
                Box::new(move || {
                    let _ = r.lock().unwrap().recv();
                }),
                false,
            )
            .unwrap();
            wait_until(&pool, |p| p.free_workers == 0);
        }
        let p = pool.params();
        assert_eq!(p.n_workers, 3);
        for _ in 0..5 {
            release_tx.send(()).unwrap();
        }
    }

    #[test]
    fn priority_job_runs_while_workers_blocked() {
        let pool = ThreadPool::new("t", 1, 1, 1).unwrap();
        let (block_tx, block_rx) = mpsc::channel::<()>();
        pool.submit(
            Box::new(move || {
                let _ = block_rx.recv();
            }),
            false,
        )
        .unwrap();
        let (tx, rx) = mpsc::channel();
        pool.submit(Box::new(move || tx.send(1).unwrap()), true).unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), 1);
        block_tx.send(()).unwrap();
    }

    #[test]
    fn set_params_lowers_and_raises_workers() {
        let pool = ThreadPool::new("t", 3, 5, 0).unwrap();
        pool.submit(Box::new(|| {}), false).unwrap();
        wait_until(&pool, |p| p.free_workers == 3);
        pool.set_params(Some(1), Some(1), None).unwrap();
        let p = wait_until(&pool, |p| p.n_workers == 1);
        assert_eq!((p.min_workers, p.max_workers, p.n_workers), (1, 1, 1));
        pool.set_params(Some(4), Some(6), Some(2)).unwrap();
        let p = wait_until(&pool, |p| p.free_workers == 4);
        assert_eq!((p.min_workers, p.max_workers, p.prio_workers, p.n_workers), (4, 6, 2, 4));
    }

    #[test]
    fn set_params_rejects_min_above_max() {
        let pool = ThreadPool::new("t", 1, 2, 0).unwrap();
        assert!(pool.set_params(Some(3), None, None).is_err());
        assert_eq!(pool.params().min_workers, 1);
    }
}
