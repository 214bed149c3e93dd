//! Backends with several targets (issue 25): the [`Balancer`] that picks a peer
//! ([`crate::peer`]) for each attempt.
//!
//! Picking: weighted round robin (the smooth order nginx uses, precomputed per balancer so a
//! pick is one atomic add), or least in flight relative to the weights. Targets that are not
//! available, or already tried for this request, are skipped; none left is
//! `NoHealthyUpstream`. A target given by host name is a [`Named`] slot whose addresses
//! take its turns in rotation. A backend's only target takes every request whatever its
//! state (as in nginx).

use crate::config::Balance;
use crate::discovery::Named;
use crate::peer::{identity, Origin, Peer};
use domain::targets::Targets;
use domain::BackendAddress;
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};

/// One listed target: an address, or a host name whose addresses are discovered.
#[derive(Debug)]
enum Slot {
    Fixed(Arc<Peer>),
    Named(Arc<Named>),
}

/// A backend's targets and the order they take turns in.
#[derive(Debug)]
pub struct Balancer {
    /// The targets, in the order listed, with their weights.
    slots: Box<[(Slot, u32)]>,
    /// Weighted round robin: slot indexes in the smooth order, one turn per weight unit
    /// (divided by the weights' common divisor).
    schedule: Box<[u8]>,
    next: AtomicUsize,
    /// The first target's address and origin (what a request's URL and default `Host` are
    /// built from before a target is picked).
    first: (BackendAddress, Arc<Origin>),
}

impl Balancer {
    /// The balancer for `targets` (their peers shared with every other backend listing
    /// them). A target named by a host name is discovered ([`crate::discovery`]).
    pub fn new(targets: &Targets) -> Result<Balancer, String> {
        let mut slots = Vec::with_capacity(targets.targets().len());
        for target in targets.targets() {
            let slot = if Named::is_name(target.address.host()) {
                Slot::Named(Named::new(&target.address, target.max_conns)?)
            } else {
                Slot::Fixed(Peer::intern(&target.address, target.max_conns, None)?)
            };
            slots.push((slot, target.weight));
        }
        let weights: Vec<u32> = slots.iter().map(|(_, w)| *w).collect();
        let first = targets.first().clone();
        let origin = Origin::intern(first.is_tls(), &first.authority())?;
        Ok(Balancer {
            schedule: smooth_order(&weights),
            slots: slots.into(),
            next: AtomicUsize::new(0),
            first: (first, origin),
        })
    }

    /// The shared balancer for `targets`: backends listing the same targets share one turn
    /// order and one allocation.
    pub fn intern(targets: &Targets) -> Result<Arc<Balancer>, String> {
        static BALANCERS: LazyLock<Mutex<FxHashMap<String, Weak<Balancer>>>> = LazyLock::new(Mutex::default);
        let key = targets.to_string();
        let mut balancers = BALANCERS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(balancer) = balancers.get(&key).and_then(Weak::upgrade) {
            return Ok(balancer);
        }
        if balancers.len() >= 1024 {
            balancers.retain(|_, balancer| balancer.strong_count() > 0);
        }
        let balancer = Arc::new(Balancer::new(targets)?);
        balancers.insert(key, Arc::downgrade(&balancer));
        Ok(balancer)
    }

    /// The first target's address and origin.
    pub fn first(&self) -> (&BackendAddress, &Arc<Origin>) {
        (&self.first.0, &self.first.1)
    }

    /// Whether there is more than one peer to choose from (several targets, or a name with
    /// several addresses): only then do failures count against a peer.
    pub fn several(&self) -> bool {
        match &*self.slots {
            [(Slot::Fixed(_), _)] => false,
            [(Slot::Named(named), _)] => named.peers().len() > 1,
            _ => true,
        }
    }

    /// How many targets are listed.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Never: a balancer has at least one target.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The next peer for an attempt: available, not in `tried` ([`identity`]), by
    /// `balance`; `None` when none is left. A backend's only listed address is never taken
    /// out (see [`crate::peer::run_checks`]); a single name skips its unavailable addresses while it has
    /// others, and tries them when it has nothing else.
    pub fn pick(&self, balance: Balance, tried: &[usize]) -> Option<Arc<Peer>> {
        let fresh = |p: &Arc<Peer>| !tried.contains(&identity(p));
        let usable = |p: &Arc<Peer>| fresh(p) && p.is_available();
        if let [(slot, _)] = &*self.slots {
            return match slot {
                Slot::Fixed(peer) => fresh(peer).then(|| peer.clone()),
                Slot::Named(named) => named.pick(usable).or_else(|| named.pick(fresh)),
            };
        }
        let from = |slot: &Slot| match slot {
            Slot::Fixed(peer) => usable(peer).then(|| peer.clone()),
            Slot::Named(named) => named.pick(usable),
        };
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.slots.len();
        match balance {
            Balance::RoundRobin => {
                let i = self.schedule[turn % self.schedule.len()] as usize;
                // An unusable target's turn passes to the next usable one in list order.
                (0..n).find_map(|k| from(&self.slots[(i + k) % n].0))
            }
            Balance::LeastInFlight => {
                let mut best: Option<(Arc<Peer>, usize, u32)> = None;
                for k in 0..n {
                    let (slot, weight) = &self.slots[(turn + k) % n];
                    let candidates: Vec<Arc<Peer>> = match slot {
                        Slot::Fixed(peer) => vec![peer.clone()],
                        Slot::Named(named) => named.peers().to_vec(),
                    };
                    for peer in candidates.into_iter().filter(|p| usable(p)) {
                        let load = peer.in_flight();
                        // load / weight smaller than best's, compared without division.
                        let better = match &best {
                            None => true,
                            Some((_, best_load, best_weight)) => {
                                (load as u64) * (*best_weight as u64) < (*best_load as u64) * (*weight as u64)
                            }
                        };
                        if better {
                            best = Some((peer, load, *weight));
                        }
                    }
                }
                best.map(|(peer, _, _)| peer)
            }
        }
    }

    /// An attempt on `peer` failed to reach it (connect, TLS, protocol). It counts against
    /// the peer only when there are others to take its share: a backend's only target is
    /// never ejected (as in nginx), here and in [`Balancer::pick`].
    pub fn failed(&self, peer: &Peer, health: crate::config::Health) {
        if self.several() {
            peer.failed(health);
        }
    }

    /// `peer` answered with `status`: a 502, 503 or 504 (its own gateway, or the target
    /// failing) counts against it, any other answer clears its failures; again only when
    /// there are others.
    pub fn answered(&self, peer: &Peer, health: crate::config::Health, status: http::StatusCode) {
        if !self.several() {
            return;
        }
        if matches!(status.as_u16(), 502..=504) {
            peer.failed(health);
        } else {
            peer.succeeded();
        }
    }

    /// Whether a peer is left for another attempt (without taking a turn).
    pub fn any_left(&self, tried: &[usize]) -> bool {
        let usable = |p: &Arc<Peer>| !tried.contains(&identity(p)) && (self.slots.len() == 1 || p.is_available());
        self.peers().iter().any(|(p, _)| usable(p))
    }

    /// The peers now (a name's current addresses) and their targets' weights.
    pub fn peers(&self) -> Vec<(Arc<Peer>, u32)> {
        let mut all = Vec::new();
        for (slot, weight) in self.slots.iter() {
            match slot {
                Slot::Fixed(peer) => all.push((peer.clone(), *weight)),
                Slot::Named(named) => all.extend(named.peers().iter().map(|p| (p.clone(), *weight))),
            }
        }
        all
    }
}

/// The smooth weighted round-robin order (each turn: every target gains its weight, the
/// largest total goes and loses the sum), one full cycle, after dividing by the common
/// divisor. At most 64 targets × 1,000 weight units.
fn smooth_order(weights: &[u32]) -> Box<[u8]> {
    fn gcd(a: u32, b: u32) -> u32 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let divisor = weights.iter().copied().fold(0, gcd).max(1);
    let weights: Vec<i64> = weights.iter().map(|w| (*w / divisor) as i64).collect();
    let total: i64 = weights.iter().sum();
    let mut current = vec![0i64; weights.len()];
    let mut order = Vec::with_capacity(total as usize);
    for _ in 0..total {
        for (c, w) in current.iter_mut().zip(&weights) {
            *c += w;
        }
        let (best, _) = current.iter().enumerate().max_by_key(|(i, c)| (**c, -(*i as i64))).expect("one target");
        current[best] -= total;
        order.push(best as u8);
    }
    order.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Health;
    use std::time::Duration;

    fn balancer(text: &str) -> Balancer {
        Balancer::new(&Targets::parse(text).expect("targets")).expect("balancer")
    }

    #[test]
    fn the_smooth_order_spreads_the_turns() {
        assert_eq!(&*smooth_order(&[3, 1]), &[0, 0, 1, 0]);
        assert_eq!(&*smooth_order(&[5, 1, 1]), &[0, 0, 1, 0, 2, 0, 0]);
        // The common divisor keeps the cycle short.
        assert_eq!(smooth_order(&[300, 100]).len(), 4);
        assert_eq!(smooth_order(&[1000; 64]).len(), 64);
    }

    #[test]
    fn round_robin_follows_the_weights_exactly_over_whole_cycles() {
        let b = balancer("http://10.9.0.1:1 weight=3, http://10.9.0.2:1 weight=1, http://10.9.0.3:1 weight=2");
        let mut seen = [0; 3];
        for _ in 0..6_000 {
            let peer = b.pick(Balance::RoundRobin, &[]).expect("one");
            seen[b
                .slots
                .iter()
                .position(|(s, _)| matches!(s, Slot::Fixed(p) if Arc::ptr_eq(p, &peer)))
                .expect("listed")] += 1;
        }
        assert_eq!(seen, [3_000, 1_000, 2_000]);
    }

    #[test]
    fn an_ejected_target_is_skipped_until_its_backoff_ends() {
        let b = balancer("http://10.9.1.1:1, http://10.9.1.2:1");
        let health = Health { failures: 2, backoff: Duration::from_millis(50) };
        let second = b.peers()[1].0.clone();
        let first = b.peers()[0].0.clone();
        second.failed(health);
        assert!(second.is_available(), "one failure is not enough");
        second.failed(health);
        assert_eq!(second.state(), "ejected");
        for _ in 0..10 {
            assert!(Arc::ptr_eq(&b.pick(Balance::RoundRobin, &[]).expect("first"), &first));
        }
        std::thread::sleep(Duration::from_millis(60));
        assert!(second.is_available(), "back after the back-off");
        // One more failure ejects it again at once; a success clears the count.
        second.failed(health);
        assert!(!second.is_available());
        second.succeeded();
        assert!(second.is_available());
        second.failed(health);
        assert!(second.is_available(), "the count started over");
    }

    #[test]
    fn tried_and_unavailable_targets_leave_none() {
        let b = balancer("http://10.9.2.1:1, http://10.9.2.2:1");
        let (first, second) = (b.peers()[0].0.clone(), b.peers()[1].0.clone());
        first.probed(false, 2, 1);
        assert_eq!(first.state(), "down");
        assert!(Arc::ptr_eq(&b.pick(Balance::RoundRobin, &[]).expect("second"), &second));
        assert!(b.pick(Balance::RoundRobin, &[identity(&second)]).is_none());
        assert!(b.pick(Balance::LeastInFlight, &[identity(&second)]).is_none());
        // Two good probes in a row bring it back.
        first.probed(true, 2, 1);
        assert_eq!(first.state(), "down");
        first.probed(true, 2, 1);
        assert_eq!(first.state(), "healthy");
    }

    #[test]
    fn least_in_flight_weighs_the_load() {
        let b = balancer("http://10.9.3.1:1 weight=2, http://10.9.3.2:1");
        let (first, second) = (b.peers()[0].0.clone(), b.peers()[1].0.clone());
        let _a = [first.start(), first.start()];
        let _b = second.start();
        // 2/2 against 1/1: equal, either; one more on the first makes the second lighter.
        let _more = first.start();
        for _ in 0..4 {
            assert!(Arc::ptr_eq(&b.pick(Balance::LeastInFlight, &[]).expect("one"), &second));
        }
    }

    #[test]
    fn a_target_listed_by_two_backends_is_one_peer() {
        let a = balancer("http://10.9.4.1:1, http://10.9.4.2:1");
        let b = balancer("http://10.9.4.2:1");
        assert!(Arc::ptr_eq(&a.peers()[1].0, &b.peers()[0].0));
        let limited = balancer("http://10.9.4.2:1 max_conns=5");
        assert!(!Arc::ptr_eq(&limited.peers()[0].0, &b.peers()[0].0), "another limit is another pool");
    }
}
