//! The real default model (SmolLM2-135M-Instruct, from scripts/fetch-models), loaded once
//! per test binary and shared by its tests: loading it per test would dominate the suite.

use std::path::PathBuf;
use std::sync::Arc;

use shopdesk::llm::ChatModel;
use shopdesk::llm::llama::{LlamaChat, Settings};

pub fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/SmolLM2-135M-Instruct.Q4_1.gguf")
}

/// Settings for a test model: `parallel` conversations, a short context.
pub fn settings(parallel: usize, queue: usize) -> Settings {
    Settings {
        path: path(),
        gpu_layers: None,
        threads: 2,
        parallel,
        context_tokens: 1024,
        queue,
        batch: 512,
        chat_template: String::new(),
    }
}

/// The shared model, or `None` (with the reason printed) when the file is absent and
/// SHOPDESK_REQUIRE_MODEL is not set; scripts/test sets it, so CI never skips.
pub async fn shared() -> Option<Arc<dyn ChatModel>> {
    static MODEL: tokio::sync::OnceCell<Arc<dyn ChatModel>> = tokio::sync::OnceCell::const_new();
    if !available() {
        return None;
    }
    Some(
        MODEL
            .get_or_init(|| async {
                let model = LlamaChat::load(settings(16, 64))
                    .await
                    .expect("the model loads");
                Arc::new(model) as Arc<dyn ChatModel>
            })
            .await
            .clone(),
    )
}

pub fn available() -> bool {
    if path().exists() {
        return true;
    }
    if std::env::var_os("SHOPDESK_REQUIRE_MODEL").is_some() {
        panic!(
            "{} is missing and SHOPDESK_REQUIRE_MODEL is set: run scripts/fetch-models",
            path().display()
        );
    }
    eprintln!(
        "skipped: {} is missing (run scripts/fetch-models)",
        path().display()
    );
    false
}
