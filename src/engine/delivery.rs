//! The deliveries this process is handling or showing right now. A copy of a delivery
//! that arrives meanwhile (a webhook retried while the first answer still streams) is a
//! duplicate at once; a copy that arrives after the answer was shown, or after a crash,
//! is settled by the store's record of the event.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use futures::stream::BoxStream;
use shopdesk_port::{Channel, ReplyChunk};

type Key = (Channel, String);

#[derive(Default)]
pub struct Deliveries {
    busy: Arc<Mutex<HashSet<Key>>>,
}

/// This process's hold on one delivery; released when dropped.
pub struct Claim {
    busy: Arc<Mutex<HashSet<Key>>>,
    key: Key,
}

impl Deliveries {
    /// Takes the delivery, or `None` when this process already has it in hand.
    pub fn claim(&self, channel: Channel, event_id: &str) -> Option<Claim> {
        let key = (channel, event_id.to_string());
        let fresh = self
            .busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.clone());
        fresh.then(|| Claim {
            busy: self.busy.clone(),
            key,
        })
    }
}

impl Claim {
    /// Keeps the delivery held until the adapter has read (or dropped) the whole reply.
    pub fn until_shown(
        self,
        reply: BoxStream<'static, ReplyChunk>,
    ) -> BoxStream<'static, ReplyChunk> {
        reply
            .map(move |chunk| {
                // The closure owns the claim, so it is released with the stream.
                let _held = &self;
                chunk
            })
            .boxed()
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_is_held_until_its_reply_is_dropped() {
        let deliveries = Deliveries::default();
        let claim = deliveries.claim(Channel::Web, "e1").unwrap();
        assert!(deliveries.claim(Channel::Web, "e1").is_none());
        assert!(deliveries.claim(Channel::Telegram, "e1").is_some());
        let reply = claim.until_shown(futures::stream::empty().boxed());
        assert!(deliveries.claim(Channel::Web, "e1").is_none());
        drop(reply);
        assert!(deliveries.claim(Channel::Web, "e1").is_some());
    }
}
