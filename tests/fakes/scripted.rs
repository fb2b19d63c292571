//! Stands in for the language model's streamed answers until the model lands: a handler in
//! front of the engine that lets the engine take every message as usual (de-duplication,
//! history, commands, handoff), and answers one free-text question with a scripted answer
//! that arrives in pieces, some time apart, the way a model's tokens do.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use shopdesk::engine::Engine;
use shopdesk::port::{
    Channel, CommandInfo, Handler, HistoryLine, Identity, Inbound, Reply, ReplyChunk,
};

/// The free-text question the script answers.
pub const QUESTION: &str = "How long does shipping take?";
/// Its answer, in the pieces it streams in.
pub const ANSWER: [&str; 4] = [
    "Standard shipping takes ",
    "3 to 5 business days; ",
    "express takes 1 to 2. ",
    "Orders leave the warehouse within 24 hours.",
];

pub fn full_answer() -> String {
    ANSWER.concat()
}

pub struct Scripted {
    pub engine: Arc<Engine>,
    /// Time before each piece.
    pub pace: Duration,
    /// Pieces the channel has read so far, across all answers.
    pub pulled: Arc<AtomicUsize>,
}

impl Scripted {
    pub fn new(engine: Arc<Engine>, pace: Duration) -> Arc<Scripted> {
        Arc::new(Scripted {
            engine,
            pace,
            pulled: Arc::default(),
        })
    }
}

#[async_trait]
impl Handler for Scripted {
    async fn handle(&self, inbound: Inbound) -> Reply {
        let asked = inbound.text.trim() == QUESTION;
        let reply = self.engine.handle(inbound).await;
        match reply {
            Reply::Stream(_) if asked => {
                let pace = self.pace;
                let pulled = self.pulled.clone();
                Reply::Stream(
                    futures::stream::iter(ANSWER)
                        .then(move |piece| {
                            let pulled = pulled.clone();
                            async move {
                                tokio::time::sleep(pace).await;
                                pulled.fetch_add(1, Ordering::SeqCst);
                                ReplyChunk::Text { text: piece.into() }
                            }
                        })
                        .boxed(),
                )
            }
            other => other,
        }
    }

    async fn delivered(&self, channel: Channel, event_id: &str) {
        self.engine.delivered(channel, event_id).await
    }

    fn commands(&self) -> Vec<CommandInfo> {
        self.engine.commands()
    }

    async fn history(
        &self,
        identity: &Identity,
        conversation: &str,
        limit: usize,
    ) -> Vec<HistoryLine> {
        self.engine.history(identity, conversation, limit).await
    }
}
