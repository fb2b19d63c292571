//! Flood protection: a token bucket per person and one per channel. A flood gets one
//! polite answer and then silence until the bucket refills, so the bot never answers a
//! flood with a flood of its own.

use std::collections::HashMap;
use std::sync::Mutex;

use shopdesk_port::{Channel, Identity};

use crate::clock::Timestamp;
use crate::config;

/// Buckets kept before full ones are forgotten, so one-time visitors do not pile up.
const MAX_BUCKETS: usize = 10_000;

pub struct Limits {
    per_identity: f64,
    per_channel: f64,
    buckets: Mutex<HashMap<Key, Bucket>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Identity(Identity),
    Channel(Channel),
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Timestamp,
    /// The polite answer was given during the current flood.
    warned: bool,
}

/// Whether a message may go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Too many messages from this person; `first` is true for the first refusal of a flood.
    PersonFlood {
        first: bool,
    },
    /// Too many messages on the whole channel.
    ChannelBusy {
        first: bool,
    },
}

impl Limits {
    pub fn new(settings: &config::Limits) -> Self {
        Limits {
            per_identity: settings.per_identity_per_minute as f64,
            per_channel: settings.per_channel_per_minute as f64,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `identity` and its channel. The terminal is never limited.
    pub fn check(&self, identity: &Identity, now: Timestamp) -> Verdict {
        if identity.channel == Channel::Cli {
            return Verdict::Pass;
        }
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > MAX_BUCKETS {
            let (per_identity, per_channel) = (self.per_identity, self.per_channel);
            buckets.retain(|key, bucket| {
                let capacity = match key {
                    Key::Identity(_) => per_identity,
                    Key::Channel(_) => per_channel,
                };
                refilled(bucket, capacity, now) < capacity
            });
        }
        if let Some(first) = take(
            &mut buckets,
            Key::Identity(identity.clone()),
            self.per_identity,
            now,
        ) {
            return Verdict::PersonFlood { first };
        }
        if let Some(first) = take(
            &mut buckets,
            Key::Channel(identity.channel),
            self.per_channel,
            now,
        ) {
            return Verdict::ChannelBusy { first };
        }
        Verdict::Pass
    }
}

/// Takes one token; `Some(first refusal?)` when the bucket is empty.
fn take(
    buckets: &mut HashMap<Key, Bucket>,
    key: Key,
    capacity: f64,
    now: Timestamp,
) -> Option<bool> {
    let bucket = buckets.entry(key).or_insert(Bucket {
        tokens: capacity,
        at: now,
        warned: false,
    });
    bucket.tokens = refilled(bucket, capacity, now);
    bucket.at = now;
    if bucket.tokens >= 1.0 {
        bucket.tokens -= 1.0;
        bucket.warned = false;
        None
    } else {
        let first = !bucket.warned;
        bucket.warned = true;
        Some(first)
    }
}

/// Tokens after refilling at `capacity` per minute since the bucket was last touched.
fn refilled(bucket: &Bucket, capacity: f64, now: Timestamp) -> f64 {
    let elapsed = (now - bucket.at).max(0) as f64;
    (bucket.tokens + elapsed * capacity / 60.0).min(capacity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_identity: i64, per_channel: i64) -> Limits {
        Limits::new(&config::Limits {
            per_identity_per_minute: per_identity,
            per_channel_per_minute: per_channel,
        })
    }

    #[test]
    fn a_flood_is_answered_once_then_refills() {
        let l = limits(3, 100);
        let ann = Identity::new(Channel::Telegram, "1");
        for _ in 0..3 {
            assert_eq!(l.check(&ann, 0), Verdict::Pass);
        }
        assert_eq!(l.check(&ann, 0), Verdict::PersonFlood { first: true });
        assert_eq!(l.check(&ann, 0), Verdict::PersonFlood { first: false });
        // Someone else is not affected.
        assert_eq!(
            l.check(&Identity::new(Channel::Telegram, "2"), 0),
            Verdict::Pass
        );
        // A token comes back every 20 seconds at 3 per minute.
        assert_eq!(l.check(&ann, 20), Verdict::Pass);
        assert_eq!(l.check(&ann, 20), Verdict::PersonFlood { first: true });
    }

    #[test]
    fn the_channel_has_its_own_budget_and_the_terminal_none() {
        let l = limits(100, 2);
        assert_eq!(l.check(&Identity::new(Channel::Web, "a"), 0), Verdict::Pass);
        assert_eq!(l.check(&Identity::new(Channel::Web, "b"), 0), Verdict::Pass);
        assert_eq!(
            l.check(&Identity::new(Channel::Web, "c"), 0),
            Verdict::ChannelBusy { first: true }
        );
        assert_eq!(
            l.check(&Identity::new(Channel::Telegram, "d"), 0),
            Verdict::Pass
        );
        for _ in 0..10 {
            assert_eq!(
                l.check(&Identity::new(Channel::Cli, "admin"), 0),
                Verdict::Pass
            );
        }
    }
}
