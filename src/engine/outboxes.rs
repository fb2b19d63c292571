//! The channels the engine can write to on its own initiative (handoff relays, approval
//! requests). Adapters register their [`Outbox`] when they start; until then, and for
//! channels that are not running, writing to a channel fails with a reason.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use shopdesk_port::{Channel, Outbound, Outbox, OutboxError};

#[derive(Default)]
pub struct Outboxes {
    by_channel: RwLock<HashMap<Channel, Arc<dyn Outbox>>>,
}

impl Outboxes {
    pub fn register(&self, outbox: Arc<dyn Outbox>) {
        self.by_channel
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(outbox.channel(), outbox);
    }

    pub fn get(&self, channel: Channel) -> Option<Arc<dyn Outbox>> {
        self.by_channel
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&channel)
            .cloned()
    }

    /// The running channel that has a staff area, and that area's conversation.
    pub fn staff_area(&self) -> Option<(Arc<dyn Outbox>, String)> {
        self.by_channel
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .values()
            .find_map(|o| o.staff_area().map(|area| (o.clone(), area)))
    }

    /// Sends on `channel`, or says why it could not.
    pub async fn send(&self, channel: Channel, message: Outbound) -> Result<(), OutboxError> {
        match self.get(channel) {
            Some(outbox) => outbox.send(message).await,
            None => Err(OutboxError::Unreachable(format!(
                "the {channel} channel is not running"
            ))),
        }
    }
}
