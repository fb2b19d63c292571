//! The visitors connected right now, so the engine can write to them first (a person from
//! the store answering in a handoff). A visitor who is not connected is unreachable for
//! now; the engine keeps the message in their history, which they get on resume.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use shopdesk_port::{Channel, Outbound, Outbox, OutboxError};
use tokio::sync::mpsc;

use crate::protocol::ServerFrame;

/// Frames queued for one socket.
pub type SocketSender = mpsc::Sender<ServerFrame>;

#[derive(Default)]
pub struct WebOutbox {
    live: Mutex<HashMap<String, Vec<(u64, SocketSender)>>>,
}

/// Keeps a socket registered for its visitor while it lives.
pub struct Registration {
    outbox: Arc<WebOutbox>,
    visitor: String,
    socket: u64,
}

impl WebOutbox {
    pub fn register(self: &Arc<Self>, visitor: &str, sender: SocketSender) -> Registration {
        let socket = rand::random::<u64>();
        self.lock()
            .entry(visitor.to_string())
            .or_default()
            .push((socket, sender));
        Registration {
            outbox: self.clone(),
            visitor: visitor.to_string(),
            socket,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<(u64, SocketSender)>>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut live = self.outbox.lock();
        if let Some(sockets) = live.get_mut(&self.visitor) {
            sockets.retain(|(id, _)| *id != self.socket);
            if sockets.is_empty() {
                live.remove(&self.visitor);
            }
        }
    }
}

#[async_trait]
impl Outbox for WebOutbox {
    fn channel(&self) -> Channel {
        Channel::Web
    }

    async fn send(&self, message: Outbound) -> Result<(), OutboxError> {
        let sockets: Vec<SocketSender> = self
            .lock()
            .get(&message.conversation)
            .map(|s| s.iter().map(|(_, tx)| tx.clone()).collect())
            .unwrap_or_default();
        let frame = ServerFrame::Message {
            text: message.text,
            buttons: message.buttons,
        };
        let mut reached = false;
        for socket in sockets {
            reached |= socket.send(frame.clone()).await.is_ok();
        }
        if reached {
            Ok(())
        } else {
            Err(OutboxError::Unreachable(
                "the visitor is not connected; they will see it when they return".into(),
            ))
        }
    }
}
