//! `shopdesk serve`: the engine on every configured channel, and one HTTP listener for
//! every HTTP surface (web chat, Telegram webhook, the OpenAI-compatible /v1, health).
//! Commands answer from the start; the model loads in the background and free text
//! reaches it once /readyz says so. Stops on Ctrl-C or SIGTERM.

use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::Json;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;
use tokio::net::TcpListener;

use crate::channels::{self, Started};
use crate::config::Config;
use crate::engine::Engine;

/// Where the model is: what /readyz reports.
#[derive(Debug, Clone)]
enum ModelState {
    Loading,
    Ready(String),
    Off,
    Failed(String),
}

pub async fn run(config: &Config, engine: Arc<Engine>) -> anyhow::Result<()> {
    if config.model.backend == "llama" {
        crate::llm::llama::check_gguf(&config.model.path)?;
    }
    let state = Arc::new(Mutex::new(ModelState::Loading));
    tokio::spawn(load_model(config.clone(), engine.clone(), state.clone()));
    tokio::spawn(load_knowledge(config.clone(), engine.clone()));
    let channels = channels::start(config, engine.clone()).await;
    let report = channels.report.clone();
    let app = channels
        .router
        .merge(crate::v1::router(engine, &config.http.api_key))
        .route("/health", get(move || health(report.clone())))
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(move || readiness(state.clone())));
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

async fn load_model(config: Config, engine: Arc<Engine>, state: Arc<Mutex<ModelState>>) {
    let loaded = match crate::llm::load(&config).await {
        Ok(Some(model)) => {
            let name = model.name().to_string();
            engine.set_model(model);
            ModelState::Ready(name)
        }
        Ok(None) => {
            tracing::info!("model.backend = none: free text gets a pointer to /help");
            ModelState::Off
        }
        Err(e) => {
            tracing::error!(error = %e, "the model did not load; commands still work");
            ModelState::Failed(e.to_string())
        }
    };
    *state.lock().unwrap_or_else(|p| p.into_inner()) = loaded;
}

/// Opens the knowledge index and brings it up to date (all of it on the first start), in
/// the background: until then free text is answered without it.
async fn load_knowledge(config: Config, engine: Arc<Engine>) {
    let now = engine.toolbox().clock.now();
    let store = engine.store().clone();
    match crate::retrieval::ingest::open_and_sync(
        &config,
        &store,
        now,
        &crate::retrieval::ingest::log_progress,
    )
    .await
    {
        Ok(Some(knowledge)) => {
            match crate::engine::router::load(std::path::Path::new("intents")).and_then(|intents| {
                crate::engine::router::Router::build(intents, knowledge.embedder().clone())
            }) {
                Ok(router) => engine.set_router(std::sync::Arc::new(router)),
                Err(e) => tracing::error!(error = %e, "the intent router is not available"),
            }
            engine.set_knowledge(knowledge);
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "the knowledge index is not available"),
    }
}

/// Ready once the store is migrated (done before serving) and the model has loaded.
async fn readiness(state: Arc<Mutex<ModelState>>) -> impl IntoResponse {
    let state = state.lock().unwrap_or_else(|p| p.into_inner()).clone();
    match state {
        ModelState::Ready(model) => (
            StatusCode::OK,
            Json(json!({"status": "ready", "model": model})),
        ),
        ModelState::Off => (
            StatusCode::OK,
            Json(json!({"status": "ready", "model": null})),
        ),
        ModelState::Loading => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "loading"})),
        ),
        ModelState::Failed(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "failed", "error": error})),
        ),
    }
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
