//! The web chat's JSON protocol, one JSON object per WebSocket text frame, told apart by
//! `type`. docs/WEB_CHAT.md describes it for people writing their own client.

use serde::{Deserialize, Serialize};
use shopdesk_port::{Button, HistoryLine};

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Starts a new, anonymous visitor.
    Hello {
        #[serde(default)]
        language: Option<String>,
    },
    /// Continues an earlier visitor's conversation.
    Resume { token: String },
    /// A message to the store. `id` is chosen by the client and unique per visitor:
    /// sending the same id again (after a reconnect) never acts twice.
    Message {
        #[serde(default)]
        id: Option<String>,
        text: String,
    },
    /// The visitor is typing.
    Typing,
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The session is ready: keep `resume_token` to continue later.
    Welcome {
        visitor: String,
        resume_token: String,
        history: Vec<HistoryLine>,
    },
    /// The answer to a message is being prepared.
    Typing,
    /// A piece of the answer to message `id`, to append.
    Token { id: String, text: String },
    /// The answer to message `id` is complete: `text` is all of it.
    Done {
        id: String,
        text: String,
        buttons: Vec<Button>,
        /// The message id was already answered; nothing was done again.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        duplicate: bool,
    },
    /// A message the store sends on its own (a person from the store's team).
    Message { text: String, buttons: Vec<Button> },
    Error {
        code: ErrorCode,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not JSON, or not an object with the fields its type needs.
    InvalidJson,
    /// The frame's `type` is not one of hello, resume, message, typing.
    UnknownType,
    /// The frame is larger than the server accepts.
    TooLarge,
    /// Binary frames are not part of the protocol.
    BinaryNotSupported,
    /// A message or typing frame came before hello or resume.
    HelloFirst,
    /// hello or resume came twice on one connection.
    AlreadyStarted,
    /// The resume token is not one this server signed, or it expired.
    BadToken,
    /// A message id must be 1 to 64 letters, digits, `-` or `_`.
    BadId,
}

impl ServerFrame {
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        ServerFrame::Error {
            code,
            message: message.into(),
            id: None,
        }
    }
}

/// Reads a frame, telling a frame of an unknown type from one that is not valid JSON.
pub fn parse(text: &str) -> Result<ClientFrame, ServerFrame> {
    match serde_json::from_str::<ClientFrame>(text) {
        Ok(frame) => Ok(frame),
        Err(e) => {
            let kind = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string));
            Err(match kind {
                Some(t) if !["hello", "resume", "message", "typing"].contains(&t.as_str()) => {
                    ServerFrame::error(
                        ErrorCode::UnknownType,
                        format!("unknown frame type `{t}`: use hello, resume, message or typing"),
                    )
                }
                _ => ServerFrame::error(ErrorCode::InvalidJson, format!("invalid frame: {e}")),
            })
        }
    }
}

/// Whether a client's message id is acceptable.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_parse_and_bad_ones_say_why() {
        assert_eq!(
            parse(r#"{"type":"message","id":"m1","text":"hi"}"#),
            Ok(ClientFrame::Message {
                id: Some("m1".into()),
                text: "hi".into()
            })
        );
        assert_eq!(parse(r#"{"type":"typing"}"#), Ok(ClientFrame::Typing));
        let unknown = parse(r#"{"type":"dance"}"#).unwrap_err();
        assert!(matches!(
            unknown,
            ServerFrame::Error {
                code: ErrorCode::UnknownType,
                ..
            }
        ));
        let bad = parse("{not json").unwrap_err();
        assert!(matches!(
            bad,
            ServerFrame::Error {
                code: ErrorCode::InvalidJson,
                ..
            }
        ));
        let missing = parse(r#"{"type":"message"}"#).unwrap_err();
        assert!(matches!(
            missing,
            ServerFrame::Error {
                code: ErrorCode::InvalidJson,
                ..
            }
        ));
        assert!(valid_id("m-1_x") && !valid_id("") && !valid_id("a b"));
        let done = serde_json::to_value(ServerFrame::Done {
            id: "m".into(),
            text: "t".into(),
            buttons: vec![],
            duplicate: false,
        })
        .unwrap();
        assert_eq!(
            done,
            serde_json::json!({"type":"done","id":"m","text":"t","buttons":[]})
        );
    }
}
