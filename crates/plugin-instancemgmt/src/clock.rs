//! [`Clock`]: where the TTL manager reads the time, so tests can move it.

use std::fmt;
use std::time::Instant;

/// A source of the current time for [`TtlInstanceManager`](crate::TtlInstanceManager).
///
/// The manager asks it when an instance was last used and whether it has
/// expired. Production code uses [`SystemClock`]; tests inject a clock they
/// advance by hand, so an hour of idleness takes no time at all.
///
/// ```
/// use std::sync::Mutex;
/// use std::time::{Duration, Instant};
/// use plugin_instancemgmt::Clock;
///
/// #[derive(Debug)]
/// struct ManualClock(Mutex<Instant>);
///
/// impl Clock for ManualClock {
///     fn now(&self) -> Instant {
///         *self.0.lock().unwrap()
///     }
/// }
///
/// let clock = ManualClock(Mutex::new(Instant::now()));
/// let before = clock.now();
/// *clock.0.lock().unwrap() += Duration::from_secs(3600);
/// assert_eq!(clock.now() - before, Duration::from_secs(3600));
/// ```
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The real, monotonic clock ([`Instant::now`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}
