//! Symbolic alarm times: what an operation's `setAlarm` argument *means*, resolved against
//! the actor's live state when the operation runs.
//!
//! Alarm code branches on equality and on the same millisecond: setting the stored value is a
//! no-op (R3), the arm decision compares S with T and LC (§2 transition 3), abandon acts only
//! if S == T (R16), every "earlier or later" test compares against ASNLT, and a write made in
//! the handler's own millisecond cancels the deferred delete (R11). A delay drawn uniformly
//! from a wide range almost never produces equal values, so the plan names values instead:
//! "the alarm the actor stores", "the value in flight", "the handler's T", "exactly now".
//! A plan stays replayable and shrinkable (the symbol is in the plan), and the value still
//! comes from the run. A symbol with nothing to stand for at run time (no handler running,
//! nothing in flight) falls back to its `else_ms` delay, deterministically.
//!
//! In a plan file a plain delay is a number (`"time": 1500`, the only form before symbols
//! existed, then spelled `"delay_ms": 1500`, which still loads); a symbol is an object
//! (`"time": {"sym": "stored", "else_ms": 1500}`).

use alarmsim_scheduler::{AlarmTime, Millis};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An alarm time as a plan names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeArg {
    /// `now + ms` (negative: in the past, clamped by R2).
    Delay(i64),
    Sym(Sym),
}

/// The symbolic forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "sym", rename_all = "kebab-case")]
pub enum Sym {
    /// Exactly the actor's clock now (in a handler's first instant: its own T).
    Now,
    /// One millisecond after now.
    NowPlusOne,
    /// `ms` before now: R2 clamps it to now.
    Past { ms: u64 },
    /// The alarm the actor stores (S): setting it again is a no-op (R3).
    Stored { else_ms: i64 },
    /// The alarm of the newest commit still in flight (shipped, not yet acknowledged).
    InFlight { else_ms: i64 },
    /// The time most recently sent to the manager.
    LastSent { else_ms: i64 },
    /// The scheduled time T of the handler running now (R2 clamps it once now > T).
    HandlerTime { else_ms: i64 },
    /// The value of this actor's `back`-th most recent alarm write (1 = the last one).
    Repeat { back: u8, else_ms: i64 },
    /// `none`: the operation deletes the alarm.
    Delete,
}

/// What a [`TimeArg`] resolved to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved {
    At(Millis),
    Delete,
}

/// How many recent alarm writes an actor remembers for [`Sym::Repeat`].
pub const REPEAT_DEPTH: usize = 3;

/// The actor's live state a symbol can stand for, as the simulator sees it.
#[derive(Clone, Copy, Debug, Default)]
pub struct LiveValues {
    pub stored: AlarmTime,
    /// The newest commit not yet acknowledged, if any: its alarm.
    pub in_flight: Option<AlarmTime>,
    /// The last schedule command the actor sent, if any: its time.
    pub last_sent: Option<AlarmTime>,
    /// The running handler's scheduled time, if a handler runs.
    pub handler_time: Option<Millis>,
    /// The actor's most recent alarm writes, newest first (`None` past the history).
    pub recent: [Option<Millis>; REPEAT_DEPTH],
}

impl TimeArg {
    /// The value this argument stands for at `now`, given the actor's live state. Deterministic:
    /// a symbol with nothing to stand for (or standing for no alarm) uses its fallback delay.
    pub fn resolve(self, now: Millis, live: &LiveValues) -> Resolved {
        let delay = |ms: i64| Resolved::At(now.saturating_add_ms(ms));
        let value = |v: AlarmTime, else_ms: i64| v.map_or_else(|| delay(else_ms), Resolved::At);
        match self {
            TimeArg::Delay(ms) => delay(ms),
            TimeArg::Sym(sym) => match sym {
                Sym::Now => Resolved::At(now),
                Sym::NowPlusOne => delay(1),
                Sym::Past { ms } => delay(-(ms.min(i64::MAX as u64) as i64)),
                Sym::Stored { else_ms } => value(live.stored, else_ms),
                Sym::InFlight { else_ms } => value(live.in_flight.flatten(), else_ms),
                Sym::LastSent { else_ms } => value(live.last_sent.flatten(), else_ms),
                Sym::HandlerTime { else_ms } => value(live.handler_time, else_ms),
                Sym::Repeat { back, else_ms } => {
                    let slot = (back as usize).clamp(1, REPEAT_DEPTH) - 1;
                    value(live.recent[slot], else_ms)
                }
                Sym::Delete => Resolved::Delete,
            },
        }
    }

    /// The kind of argument, for the swarm weights and the shrinker.
    pub fn kind(self) -> ArgKind {
        match self {
            TimeArg::Delay(_) => ArgKind::Delay,
            TimeArg::Sym(Sym::Now) => ArgKind::Now,
            TimeArg::Sym(Sym::NowPlusOne) => ArgKind::NowPlusOne,
            TimeArg::Sym(Sym::Past { .. }) => ArgKind::Past,
            TimeArg::Sym(Sym::Stored { .. }) => ArgKind::Stored,
            TimeArg::Sym(Sym::InFlight { .. }) => ArgKind::InFlight,
            TimeArg::Sym(Sym::LastSent { .. }) => ArgKind::LastSent,
            TimeArg::Sym(Sym::HandlerTime { .. }) => ArgKind::HandlerTime,
            TimeArg::Sym(Sym::Repeat { .. }) => ArgKind::Repeat,
            TimeArg::Sym(Sym::Delete) => ArgKind::Delete,
        }
    }

    /// The plain delay this argument falls back to (a symbol's `else_ms`; `Now` is 0 and
    /// `NowPlusOne` 1, `Past` its negative offset). `None` for `Delete`.
    pub fn fallback_ms(self) -> Option<i64> {
        match self {
            TimeArg::Delay(ms) => Some(ms),
            TimeArg::Sym(sym) => match sym {
                Sym::Now => Some(0),
                Sym::NowPlusOne => Some(1),
                Sym::Past { ms } => Some(-(ms.min(i64::MAX as u64) as i64)),
                Sym::Stored { else_ms }
                | Sym::InFlight { else_ms }
                | Sym::LastSent { else_ms }
                | Sym::HandlerTime { else_ms }
                | Sym::Repeat { else_ms, .. } => Some(else_ms),
                Sym::Delete => None,
            },
        }
    }

    /// A symbol of `kind` standing in for a plain delay of `delay_ms` (its fallback), with
    /// `back` for [`Sym::Repeat`]. `ArgKind::Delay` keeps the delay.
    pub fn of_kind(kind: ArgKind, delay_ms: i64, back: u8) -> TimeArg {
        let else_ms = delay_ms;
        match kind {
            ArgKind::Delay => TimeArg::Delay(delay_ms),
            ArgKind::Now => TimeArg::Sym(Sym::Now),
            ArgKind::NowPlusOne => TimeArg::Sym(Sym::NowPlusOne),
            ArgKind::Past => TimeArg::Sym(Sym::Past { ms: delay_ms.unsigned_abs().clamp(1, 60_000) }),
            ArgKind::Stored => TimeArg::Sym(Sym::Stored { else_ms }),
            ArgKind::InFlight => TimeArg::Sym(Sym::InFlight { else_ms }),
            ArgKind::LastSent => TimeArg::Sym(Sym::LastSent { else_ms }),
            ArgKind::HandlerTime => TimeArg::Sym(Sym::HandlerTime { else_ms }),
            ArgKind::Repeat => TimeArg::Sym(Sym::Repeat { back: back.clamp(1, REPEAT_DEPTH as u8), else_ms }),
            ArgKind::Delete => TimeArg::Sym(Sym::Delete),
        }
    }
}

impl std::fmt::Display for TimeArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            TimeArg::Delay(ms) => write!(f, "now{ms:+}"),
            TimeArg::Sym(sym) => match sym {
                Sym::Now => f.write_str("now"),
                Sym::NowPlusOne => f.write_str("now+1"),
                Sym::Past { ms } => write!(f, "now-{ms} (past)"),
                Sym::Stored { else_ms } => write!(f, "stored|now{else_ms:+}"),
                Sym::InFlight { else_ms } => write!(f, "in-flight|now{else_ms:+}"),
                Sym::LastSent { else_ms } => write!(f, "last-sent|now{else_ms:+}"),
                Sym::HandlerTime { else_ms } => write!(f, "handler-T|now{else_ms:+}"),
                Sym::Repeat { back, else_ms } => write!(f, "repeat-{back}|now{else_ms:+}"),
                Sym::Delete => f.write_str("none"),
            },
        }
    }
}

impl Serialize for TimeArg {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            TimeArg::Delay(ms) => serializer.serialize_i64(*ms),
            TimeArg::Sym(sym) => sym.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for TimeArg {
    /// A number is a delay; an object is a symbol, and an unknown `sym` is an error naming the
    /// known ones (never a silent reinterpretation).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TimeArg, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = TimeArg;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a delay in ms (a whole number) or a symbolic time such as {\"sym\": \"stored\", \"else_ms\": 500}")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<TimeArg, E> {
                Ok(TimeArg::Delay(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<TimeArg, E> {
                i64::try_from(v).map(TimeArg::Delay).map_err(|_| E::custom(format!("delay {v} ms is out of range (at most {})", i64::MAX)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<TimeArg, A::Error> {
                // Inside an operation the path of a bad field stops at the step's action (its
                // tag is read first), so the message itself says it is about an alarm time.
                Sym::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(TimeArg::Sym)
                    .map_err(|e| serde::de::Error::custom(format!("alarm time: {e}")))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// The kinds of [`TimeArg`], in a fixed order (swarm weights, shrinker knobs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArgKind {
    Delay,
    Now,
    NowPlusOne,
    Past,
    Stored,
    InFlight,
    LastSent,
    HandlerTime,
    Repeat,
    Delete,
}

impl ArgKind {
    pub const ALL: [ArgKind; 10] = [
        ArgKind::Delay,
        ArgKind::Now,
        ArgKind::NowPlusOne,
        ArgKind::Past,
        ArgKind::Stored,
        ArgKind::InFlight,
        ArgKind::LastSent,
        ArgKind::HandlerTime,
        ArgKind::Repeat,
        ArgKind::Delete,
    ];

    /// The symbolic kinds (everything but the plain delay).
    pub fn symbolic() -> impl Iterator<Item = ArgKind> {
        ArgKind::ALL.into_iter().filter(|k| *k != ArgKind::Delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = Millis(1_000_000);

    #[test]
    fn symbols_resolve_to_live_values_and_fall_back_to_their_delay() {
        let live = LiveValues {
            stored: Some(Millis(5)),
            in_flight: Some(Some(Millis(7))),
            last_sent: Some(None),
            handler_time: Some(Millis(9)),
            recent: [Some(Millis(11)), Some(Millis(12)), None],
        };
        let at = |m: i64| Resolved::At(Millis(m));
        assert_eq!(TimeArg::Delay(10).resolve(NOW, &live), at(NOW.0 + 10));
        assert_eq!(TimeArg::Sym(Sym::Now).resolve(NOW, &live), at(NOW.0));
        assert_eq!(TimeArg::Sym(Sym::NowPlusOne).resolve(NOW, &live), at(NOW.0 + 1));
        assert_eq!(TimeArg::Sym(Sym::Past { ms: 30 }).resolve(NOW, &live), at(NOW.0 - 30));
        assert_eq!(TimeArg::Sym(Sym::Stored { else_ms: 1 }).resolve(NOW, &live), at(5));
        assert_eq!(TimeArg::Sym(Sym::InFlight { else_ms: 1 }).resolve(NOW, &live), at(7));
        // The last command sent was a delete: no time to stand for, so the fallback.
        assert_eq!(TimeArg::Sym(Sym::LastSent { else_ms: 3 }).resolve(NOW, &live), at(NOW.0 + 3));
        assert_eq!(TimeArg::Sym(Sym::HandlerTime { else_ms: 1 }).resolve(NOW, &live), at(9));
        assert_eq!(TimeArg::Sym(Sym::Repeat { back: 2, else_ms: 1 }).resolve(NOW, &live), at(12));
        assert_eq!(TimeArg::Sym(Sym::Repeat { back: 3, else_ms: 4 }).resolve(NOW, &live), at(NOW.0 + 4));
        assert_eq!(TimeArg::Sym(Sym::Delete).resolve(NOW, &live), Resolved::Delete);
        let idle = LiveValues::default();
        assert_eq!(TimeArg::Sym(Sym::HandlerTime { else_ms: 6 }).resolve(NOW, &idle), at(NOW.0 + 6));
        assert_eq!(TimeArg::Sym(Sym::InFlight { else_ms: -6 }).resolve(NOW, &idle), at(NOW.0 - 6));
    }

    #[test]
    fn a_number_is_a_delay_and_an_object_a_symbol() {
        let parse = |s: &str| serde_json::from_str::<TimeArg>(s);
        assert_eq!(parse("-250").unwrap(), TimeArg::Delay(-250));
        assert_eq!(parse(r#"{"sym":"stored","else_ms":500}"#).unwrap(), TimeArg::Sym(Sym::Stored { else_ms: 500 }));
        assert_eq!(parse(r#"{"sym":"now"}"#).unwrap(), TimeArg::Sym(Sym::Now));
        let unknown = parse(r#"{"sym":"tomorrow"}"#).unwrap_err().to_string();
        assert!(unknown.contains("unknown variant `tomorrow`") && unknown.contains("stored"), "{unknown}");
        assert!(parse(r#""soon""#).unwrap_err().to_string().contains("a delay in ms"));
        for arg in ArgKind::ALL.map(|k| TimeArg::of_kind(k, 700, 2)) {
            let json = serde_json::to_string(&arg).unwrap();
            assert_eq!(parse(&json).unwrap(), arg, "{json} round-trips");
            assert_eq!(arg.kind(), ArgKind::ALL[ArgKind::ALL.iter().position(|k| *k == arg.kind()).unwrap()]);
        }
    }
}
