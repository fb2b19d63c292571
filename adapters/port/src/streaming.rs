//! Showing a streamed reply on a chat platform that can edit messages (Telegram, Discord).
//!
//! The first text is posted at once so the user sees the answer start; later text is shown
//! by editing that message, at most once per interval because platforms rate-limit edits;
//! text beyond the platform's message size continues in a new message; buttons go under
//! the last message with the final edit. The platform details (API calls, its errors and
//! retry rules) stay in the adapter, behind [`EditableChat`].

use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use tokio::time::Instant;

use crate::{Button, ReplyChunk};

/// One conversation on a platform whose messages can be edited after they are posted.
#[async_trait]
pub trait EditableChat: Send {
    type Id: Clone + Send + Sync;
    type Error: Send;

    /// Posts a new message.
    async fn post(&mut self, text: &str, buttons: &[Button]) -> Result<Self::Id, Self::Error>;

    /// Replaces the text (and buttons) of a message posted earlier.
    async fn edit(
        &mut self,
        id: &Self::Id,
        text: &str,
        buttons: &[Button],
    ) -> Result<(), Self::Error>;
}

/// A platform's limits on how replies are shown.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Longest message the platform accepts, in characters.
    pub max_chars: usize,
    /// Shortest time between two updates of the message being streamed.
    pub edit_interval: Duration,
}

/// What the user was shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    /// Posts and edits, in order: each is one update the user saw.
    pub updates: usize,
    /// The complete text, across every message it took.
    pub text: String,
}

/// The message being streamed: its platform id once posted, and what it shows.
struct Current<Id> {
    id: Option<Id>,
    text: String,
    shown: String,
    last_update: Option<Instant>,
}

impl<Id: Clone> Current<Id> {
    fn new() -> Self {
        Current {
            id: None,
            text: String::new(),
            shown: String::new(),
            last_update: None,
        }
    }

    fn due(&self, pace: &Pace) -> bool {
        self.last_update
            .is_none_or(|at| at.elapsed() >= pace.edit_interval)
    }

    fn wait_left(&self, pace: &Pace) -> Duration {
        self.last_update
            .map(|at| pace.edit_interval.saturating_sub(at.elapsed()))
            .unwrap_or_default()
    }

    fn dirty(&self) -> bool {
        self.text != self.shown && !self.text.trim().is_empty()
    }

    async fn update<C: EditableChat<Id = Id>>(
        &mut self,
        chat: &mut C,
        buttons: &[Button],
        shown: &mut Shown,
    ) -> Result<(), C::Error> {
        match &self.id {
            None => self.id = Some(chat.post(&self.text, buttons).await?),
            Some(id) => chat.edit(id, &self.text, buttons).await?,
        }
        self.shown = self.text.clone();
        self.last_update = Some(Instant::now());
        shown.updates += 1;
        Ok(())
    }
}

/// Streams `reply` into `chat` within `pace`. An empty stream posts nothing.
pub async fn show<C: EditableChat>(
    chat: &mut C,
    mut reply: BoxStream<'static, ReplyChunk>,
    pace: &Pace,
) -> Result<Shown, C::Error> {
    let mut shown = Shown::default();
    let mut current = Current::new();
    let mut buttons: Vec<Button> = Vec::new();
    loop {
        let next = if current.dirty() {
            match tokio::time::timeout(current.wait_left(pace), reply.next()).await {
                Ok(next) => next,
                Err(_) => {
                    current.update(chat, &[], &mut shown).await?;
                    continue;
                }
            }
        } else {
            reply.next().await
        };
        let Some(chunk) = next else {
            break;
        };
        absorb(chat, chunk, &mut current, &mut buttons, &mut shown, pace).await?;
        // Whatever else is ready goes into the same update, so a reply that is complete at
        // once (a command's answer with its buttons) is a single post.
        let mut ended = false;
        while let Some(ready) = reply.next().now_or_never() {
            match ready {
                Some(chunk) => {
                    absorb(chat, chunk, &mut current, &mut buttons, &mut shown, pace).await?
                }
                None => {
                    ended = true;
                    break;
                }
            }
        }
        if ended {
            break;
        }
        if current.dirty() && current.due(pace) {
            current.update(chat, &[], &mut shown).await?;
        }
    }
    let buttons_pending = !buttons.is_empty();
    if current.dirty() || (buttons_pending && !current.text.trim().is_empty()) {
        if !current.due(pace) {
            tokio::time::sleep(current.wait_left(pace)).await;
        }
        current.update(chat, &buttons, &mut shown).await?;
    }
    Ok(shown)
}

/// Adds one chunk; text beyond the platform's limit closes the current message and
/// continues in a new one.
async fn absorb<C: EditableChat>(
    chat: &mut C,
    chunk: ReplyChunk,
    current: &mut Current<C::Id>,
    buttons: &mut Vec<Button>,
    shown: &mut Shown,
    pace: &Pace,
) -> Result<(), C::Error> {
    match chunk {
        ReplyChunk::Text { text } => {
            shown.text.push_str(&text);
            current.text.push_str(&text);
            while current.text.chars().count() > pace.max_chars {
                let rest = split_off_overflow(&mut current.text, pace.max_chars);
                current.update(chat, &[], shown).await?;
                *current = Current {
                    text: rest,
                    ..Current::new()
                };
            }
        }
        ReplyChunk::Buttons { buttons: more } => buttons.extend(more),
    }
    Ok(())
}

/// Awaits `work`, calling `signal` once if it is still running after `after`: a typing
/// indicator that shows only while the user would otherwise wait in silence, and never
/// for a reply that turns out to be empty (a conversation a person has taken over).
pub async fn signal_if_slow<T>(
    work: impl Future<Output = T>,
    after: Duration,
    signal: impl Future<Output = ()>,
) -> T {
    let mut work = std::pin::pin!(work);
    match tokio::time::timeout(after, &mut work).await {
        Ok(done) => done,
        Err(_) => {
            signal.await;
            work.await
        }
    }
}

/// Cuts `text` to at most `max` characters, preferring a line break in the last fifth, and
/// returns what was cut off.
fn split_off_overflow(text: &mut String, max: usize) -> String {
    let hard = text
        .char_indices()
        .nth(max)
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    let soft_floor = text
        .char_indices()
        .nth(max - max / 5)
        .map(|(i, _)| i)
        .unwrap_or(0);
    let cut = text[..hard]
        .rfind('\n')
        .filter(|&i| i >= soft_floor)
        .map(|i| i + 1)
        .unwrap_or(hard);
    text.split_off(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder {
        ops: Vec<(String, usize, String)>,
    }

    #[async_trait]
    impl EditableChat for Recorder {
        type Id = usize;
        type Error = ();

        async fn post(&mut self, text: &str, buttons: &[Button]) -> Result<usize, ()> {
            let id = self.ops.iter().filter(|o| o.0 == "post").count();
            self.ops
                .push(("post".into(), id, format!("{text}|{}", buttons.len())));
            Ok(id)
        }

        async fn edit(&mut self, id: &usize, text: &str, buttons: &[Button]) -> Result<(), ()> {
            self.ops
                .push(("edit".into(), *id, format!("{text}|{}", buttons.len())));
            Ok(())
        }
    }

    fn text(t: &str) -> ReplyChunk {
        ReplyChunk::Text { text: t.into() }
    }

    fn pace(max_chars: usize, ms: u64) -> Pace {
        Pace {
            max_chars,
            edit_interval: Duration::from_millis(ms),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn slow_chunks_become_a_post_then_edits() {
        let stream = futures::stream::iter(["Hel", "lo ", "world"])
            .then(|t| async move {
                tokio::time::sleep(Duration::from_millis(500)).await;
                text(t)
            })
            .boxed();
        let mut chat = Recorder::default();
        let shown = show(&mut chat, stream, &pace(100, 100)).await.unwrap();
        assert_eq!(shown.text, "Hello world");
        assert_eq!(
            chat.ops,
            vec![
                ("post".into(), 0, "Hel|0".into()),
                ("edit".into(), 0, "Hello |0".into()),
                ("edit".into(), 0, "Hello world|0".into()),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_reply_complete_at_once_is_one_post_with_its_buttons() {
        let chunks = vec![
            text("a"),
            text("b"),
            text("c"),
            ReplyChunk::Buttons {
                buttons: vec![Button {
                    label: "Go".into(),
                    command: "/go".into(),
                }],
            },
        ];
        let mut chat = Recorder::default();
        let shown = show(
            &mut chat,
            futures::stream::iter(chunks).boxed(),
            &pace(100, 1000),
        )
        .await
        .unwrap();
        assert_eq!(shown.updates, 1);
        assert_eq!(chat.ops, vec![("post".into(), 0, "abc|1".into())]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_signal_comes_only_when_the_work_is_slow() {
        let signals = std::sync::atomic::AtomicUsize::new(0);
        let signal = || async {
            signals.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        };
        let quick = signal_if_slow(async { 1 }, Duration::from_millis(100), signal()).await;
        let slow = signal_if_slow(
            async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                2
            },
            Duration::from_millis(100),
            signal(),
        )
        .await;
        assert_eq!((quick, slow), (1, 2));
        assert_eq!(signals.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn long_text_continues_in_new_messages_and_empty_posts_nothing() {
        let mut chat = Recorder::default();
        let long = format!("{}\n{}", "x".repeat(9), "y".repeat(12));
        let shown = show(
            &mut chat,
            futures::stream::iter([text(&long)]).boxed(),
            &pace(10, 0),
        )
        .await
        .unwrap();
        assert_eq!(shown.text, long);
        let posts: Vec<_> = chat.ops.iter().filter(|o| o.0 == "post").collect();
        assert_eq!(posts.len(), 3, "{:?}", chat.ops);
        assert!(chat.ops.iter().all(|o| o.2.len() <= 12));

        let mut chat = Recorder::default();
        let shown = show(&mut chat, futures::stream::empty().boxed(), &pace(10, 0))
            .await
            .unwrap();
        assert_eq!(shown.updates, 0);
        assert!(chat.ops.is_empty());
    }
}
