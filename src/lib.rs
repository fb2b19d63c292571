//! shopdesk: an online store's first responder in chat.
//!
//! The pipeline reads left to right: adapters (in `adapters/`) turn platform events into
//! `Inbound` messages → the [`engine`] parses commands and decides what to do → [`tools`]
//! act on the [`store`], each call checked by [`policy`] first. See docs/ARCHITECTURE.md.

pub mod bench;
pub mod channels;
pub mod clock;
pub mod config;
pub mod engine;
pub mod import;
pub mod llm;
pub mod money;
pub mod ops;
pub mod policy;
pub mod retrieval;
pub mod seed;
pub mod serve;
pub mod store;
pub mod tools;
pub mod v1;

pub use shopdesk_port as port;
