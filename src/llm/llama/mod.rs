//! The in-process backend: llama.cpp through llama-cpp-2.
//!
//! One thread owns the model and its one context; requests reach it through a channel and
//! are decoded together (see [`scheduler`]). The public side only checks the queue, sends
//! the request and hands back the receiving end as a stream.

mod scheduler;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use llama_cpp_2::llama_backend::LlamaBackend;

use super::{ChatModel, ChatRequest, EventStream, LlmError};
use crate::config;

/// How to load and run the model (from `[model]` in the config).
#[derive(Debug, Clone)]
pub struct Settings {
    pub path: PathBuf,
    /// Layers offloaded to the GPU; `None`: all of them when this build has a GPU backend.
    pub gpu_layers: Option<u32>,
    pub threads: i32,
    /// Conversations decoded together; each keeps its cache between turns.
    pub parallel: usize,
    /// Context tokens per conversation (prompt plus reply).
    pub context_tokens: u32,
    /// Requests that may wait for a free conversation slot before callers are told `busy`.
    pub queue: usize,
    /// Most tokens evaluated in one decode step, over all conversations.
    pub batch: u32,
    /// A llama.cpp template name (`chatml`, `llama3`, ...); empty: the GGUF's own.
    pub chat_template: String,
}

impl Settings {
    pub fn from_config(model: &config::Model) -> Self {
        Settings {
            path: model.path.clone(),
            gpu_layers: u32::try_from(model.gpu_layers).ok(),
            threads: match model.threads {
                0 => std::thread::available_parallelism()
                    .map(|n| n.get() as i32)
                    .unwrap_or(2),
                n => n as i32,
            },
            parallel: model.parallel as usize,
            context_tokens: model.context_tokens as u32,
            queue: model.queue as usize,
            batch: 512,
            chat_template: model.chat_template.clone(),
        }
    }
}

/// What was loaded, for logs, /readyz and benchmarks.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelInfo {
    pub name: String,
    pub layers: u32,
    pub gpu_layers: u32,
    pub context_tokens: u32,
    pub parallel: usize,
    pub threads: i32,
}

pub struct LlamaChat {
    info: ModelInfo,
    jobs: std::sync::mpsc::Sender<scheduler::Job>,
    /// Requests sent but not yet given a slot: the queue whose bound makes callers `busy`.
    waiting: Arc<AtomicUsize>,
    queue: usize,
}

impl LlamaChat {
    /// Checks the file, then loads it on the model's own thread, logging progress.
    pub async fn load(settings: Settings) -> anyhow::Result<LlamaChat> {
        check_gguf(&settings.path)?;
        let waiting = Arc::new(AtomicUsize::new(0));
        let (jobs, receiver) = std::sync::mpsc::channel();
        let (ready, loaded) = tokio::sync::oneshot::channel();
        let queue = settings.queue;
        let thread_waiting = waiting.clone();
        std::thread::Builder::new()
            .name("llama".into())
            .spawn(move || scheduler::run(settings, receiver, thread_waiting, ready))?;
        let info = loaded
            .await
            .map_err(|_| anyhow::anyhow!("the model thread stopped while loading"))??;
        tracing::info!(
            model = %info.name,
            layers = info.layers,
            gpu_layers = info.gpu_layers,
            parallel = info.parallel,
            context_tokens = info.context_tokens,
            threads = info.threads,
            "model loaded"
        );
        Ok(LlamaChat {
            info,
            jobs,
            waiting,
            queue,
        })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }
}

#[async_trait]
impl ChatModel for LlamaChat {
    fn name(&self) -> &str {
        &self.info.name
    }

    async fn chat(&self, request: ChatRequest) -> Result<EventStream, LlmError> {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(LlmError::Busy);
        }
        let (events, receiver) = tokio::sync::mpsc::unbounded_channel();
        let job = scheduler::Job { request, events };
        if self.jobs.send(job).is_err() {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(LlmError::Unavailable("the model thread has stopped".into()));
        }
        Ok(Box::pin(futures::stream::unfold(
            receiver,
            |mut receiver| async move { receiver.recv().await.map(|event| (event, receiver)) },
        )))
    }
}

/// llama.cpp may be initialised once per process; every model shares it.
fn backend() -> &'static LlamaBackend {
    static BACKEND: OnceLock<LlamaBackend> = OnceLock::new();
    BACKEND.get_or_init(|| {
        llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
        LlamaBackend::init().expect("llama.cpp is initialised only here, once")
    })
}

const HOW_TO_GET: &str = "run scripts/fetch-models to extract the default model into models/, \
                          or set model.path (SHOPDESK_MODEL_PATH) to any GGUF file";

/// Fails early, with what to do, on a missing file or one that is not a GGUF model.
pub fn check_gguf(path: &Path) -> anyhow::Result<()> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot open the model file {} ({e}); {HOW_TO_GET}",
            path.display()
        )
    })?;
    let mut magic = [0u8; 4];
    if file.read_exact(&mut magic).is_err() || &magic != b"GGUF" {
        anyhow::bail!(
            "{} is not a GGUF model (a GGUF file starts with the bytes \"GGUF\"); {HOW_TO_GET}",
            path.display()
        );
    }
    Ok(())
}
