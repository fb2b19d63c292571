//! In-repo fakes of the platforms the channel tests talk to, each speaking the platform's
//! real wire format: the Telegram Bot API, Discord's REST API and gateway, and the Chrome
//! DevTools protocol client that drives Chromium. Plus a scripted stream that stands in for
//! the language model's streamed answers until the model lands.
#![allow(dead_code)]

pub mod cdp;
pub mod discord;
pub mod scripted;
pub mod telegram;

use std::time::Duration;

/// How long a test waits for something that should happen within a second or two.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Serves `router` on a free local port; returns its address.
pub async fn serve(router: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    addr
}
