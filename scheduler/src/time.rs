//! Time values. Alarm times are whole milliseconds since the Unix epoch (R2, R10:
//! `scheduledTime` is in ms), and "no alarm" orders as +∞ (`willFireEarlier()`).

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, as seen by one node's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Millis(pub i64);

impl Millis {
    pub const ZERO: Millis = Millis(0);

    pub fn saturating_add_ms(self, ms: i64) -> Millis {
        Millis(self.0.saturating_add(ms))
    }
}

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

/// An alarm value: `None` is "no alarm", which fires at +∞.
pub type AlarmTime = Option<Millis>;

/// `a` fires strictly earlier than `b`, with `None` = +∞ (workerd `willFireEarlier`).
pub fn fires_earlier(a: AlarmTime, b: AlarmTime) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a < b,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// The earlier of two alarm values, with `None` = +∞.
pub fn earliest(a: AlarmTime, b: AlarmTime) -> AlarmTime {
    if fires_earlier(b, a) {
        b
    } else {
        a
    }
}

/// The later of two alarm values, with `None` = +∞ (it is the latest).
pub fn latest(a: AlarmTime, b: AlarmTime) -> AlarmTime {
    if fires_earlier(a, b) {
        b
    } else {
        a
    }
}

/// Renders an alarm value for traces and error messages.
pub fn show(t: AlarmTime) -> String {
    match t {
        Some(m) => m.0.to_string(),
        None => "none".to_string(),
    }
}
