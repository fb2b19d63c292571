//! `shopdesk serve`: the engine on every configured channel, and one HTTP listener for
//! every HTTP surface (web chat, Telegram webhook, health). Stops on Ctrl-C or SIGTERM.

use std::sync::Arc;

use anyhow::Context;
use axum::Json;
use axum::routing::get;
use serde_json::json;
use tokio::net::TcpListener;

use crate::channels::{self, Started};
use crate::config::Config;
use crate::engine::Engine;

pub async fn run(config: &Config, engine: Arc<Engine>) -> anyhow::Result<()> {
    let channels = channels::start(config, engine).await;
    let report = channels.report.clone();
    let app = channels
        .router
        .route("/health", get(move || health(report.clone())));
    let listener = TcpListener::bind(&config.http.listen)
        .await
        .with_context(|| format!("cannot listen on {} (http.listen)", config.http.listen))?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await;
    for task in channels.tasks {
        task.abort();
    }
    served.context("the HTTP listener failed")
}

async fn health(report: Vec<Started>) -> Json<serde_json::Value> {
    let channels: serde_json::Map<String, serde_json::Value> = report
        .into_iter()
        .map(|s| {
            (
                s.channel.to_string(),
                json!({"running": s.running, "detail": s.detail}),
            )
        })
        .collect();
    Json(json!({"status": "ok", "channels": channels}))
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down");
}
