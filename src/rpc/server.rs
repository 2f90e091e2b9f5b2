//! A named server: its client limits, keepalive settings and worker pool (libvirt's
//! rpc/virnetserver.c). Both daemons have two: the main one, named after the daemon,
//! and "admin" for virt-admin. Clients themselves live in the daemon's client table.

use crate::rpc::threadpool::{PoolError, ThreadPool};

pub struct Server {
    pub name: String,
    pub is_admin: bool,
    pub nclients: usize,
    pub nclients_unauth: usize,
    pub nclients_max: usize,
    /// 0 = no limit on clients waiting for authentication.
    pub nclients_unauth_max: usize,
    pub keepalive_interval: i32,
    pub keepalive_count: u32,
    pub pool: ThreadPool,
    /// The listeners of this server are not being accepted on (limits reached).
    pub accept_paused: bool,
    pub next_client_id: u64,
}

pub struct ServerLimits {
    pub max_clients: usize,
    pub max_anonymous_clients: usize,
    pub keepalive_interval: i32,
    pub keepalive_count: u32,
    pub min_workers: usize,
    pub max_workers: usize,
    pub prio_workers: usize,
}

impl Server {
    // C: virNetServerNew
    pub fn new(name: &str, is_admin: bool, l: &ServerLimits) -> Result<Server, PoolError> {
        Ok(Server {
            name: name.to_string(),
            is_admin,
            nclients: 0,
            nclients_unauth: 0,
            nclients_max: l.max_clients,
            nclients_unauth_max: l.max_anonymous_clients,
            keepalive_interval: l.keepalive_interval,
            keepalive_count: l.keepalive_count,
            pool: ThreadPool::new(name, l.min_workers, l.max_workers, l.prio_workers)?,
            accept_paused: false,
            next_client_id: 1,
        })
    }

    /// New connections must wait (libvirt disables the listeners rather than reject).
    // C: virNetServerCheckLimits
    pub fn at_limit(&self) -> bool {
        self.nclients >= self.nclients_max || (self.nclients_unauth_max > 0 && self.nclients_unauth >= self.nclients_unauth_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: usize, unauth: usize) -> ServerLimits {
        ServerLimits {
            max_clients: max,
            max_anonymous_clients: unauth,
            keepalive_interval: 5,
            keepalive_count: 5,
            min_workers: 1,
            max_workers: 1,
            prio_workers: 0,
        }
    }

    #[test]
    fn at_limit_counts_all_clients() {
        let mut s = Server::new("t", false, &limits(2, 0)).unwrap();
        s.nclients = 1;
        assert!(!s.at_limit());
        s.nclients = 2;
        assert!(s.at_limit());
    }

    #[test]
    fn at_limit_counts_unauthenticated_clients() {
        let mut s = Server::new("t", false, &limits(10, 1)).unwrap();
        s.nclients = 1;
        s.nclients_unauth = 1;
        assert!(s.at_limit());
        s.nclients_unauth_max = 0;
        assert!(!s.at_limit());
    }
}
