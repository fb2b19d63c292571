//! `shopdesk bench llm`: the numbers in BENCHMARKS.md, measured end to end through the
//! [`ChatModel`] trait the engine uses (queue, batching, sampling, UTF-8 streaming).
//!
//! For each concurrency level it starts that many conversations at once, each asking for
//! a reply of a fixed length, and reports generated tokens per second over the wall time
//! of the whole run, time to first token, and prompt tokens per second. Then it compares
//! a follow-up turn that reuses the conversation's cache with the same turn cold, and
//! JSON-constrained generation with free generation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;

use crate::llm::{ChatModel, ChatRequest, Event, Message, Output, Role, Sampling};

const TOPICS: [&str; 16] = [
    "a lighthouse",
    "a lost umbrella",
    "a night train",
    "a tea shop",
    "a mountain village",
    "a robot gardener",
    "a paper boat",
    "an old map",
    "a winter market",
    "a jazz cat",
    "a desert well",
    "a clock tower",
    "a river ferry",
    "a bakery at dawn",
    "a kite festival",
    "a library ghost",
];

const SYSTEM: &str = "You are a helpful assistant of an online store. You write vivid, \
    friendly prose and never use lists. Keep every answer on the topic the user gives.";

/// One measured run of `conversations` concurrent requests.
#[derive(Debug, Clone)]
pub struct Run {
    pub conversations: usize,
    pub generated: usize,
    pub prompt_evaluated: usize,
    pub wall: Duration,
    pub mean_first_token: Duration,
    pub max_first_token: Duration,
}

impl Run {
    pub fn generated_per_sec(&self) -> f64 {
        self.generated as f64 / self.wall.as_secs_f64()
    }

    /// Prompt tokens evaluated per second until the last conversation had its first token.
    pub fn prompt_per_sec(&self) -> f64 {
        self.prompt_evaluated as f64 / self.max_first_token.as_secs_f64()
    }
}

fn story_request(topic: &str, tokens: u32, session: Option<String>) -> ChatRequest {
    ChatRequest {
        session,
        messages: vec![
            Message::new(Role::System, SYSTEM),
            Message::new(Role::User, format!("Write a long story about {topic}.")),
        ],
        tools: Vec::new(),
        sampling: Sampling {
            max_tokens: tokens,
            ..Sampling::default()
        },
        output: Output::Text,
    }
}

/// Runs `requests` at once; every stream is read to its end.
pub async fn concurrent(
    model: &Arc<dyn ChatModel>,
    requests: Vec<ChatRequest>,
) -> anyhow::Result<Run> {
    let conversations = requests.len();
    let start = Instant::now();
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let model = model.clone();
            tokio::spawn(async move {
                let mut stream = model.chat(request).await?;
                let mut first = None;
                let mut finish = None;
                while let Some(event) = stream.next().await {
                    match event? {
                        Event::Text(_) | Event::ToolCall { .. } => {
                            first.get_or_insert_with(|| start.elapsed());
                        }
                        Event::Done(f) => finish = Some(f),
                    }
                }
                let finish =
                    finish.ok_or_else(|| anyhow::anyhow!("a stream ended without finishing"))?;
                anyhow::Ok((first.unwrap_or_else(|| start.elapsed()), finish))
            })
        })
        .collect();
    let mut generated = 0;
    let mut prompt_evaluated = 0;
    let mut firsts = Vec::new();
    for task in tasks {
        let (first, finish) = task.await??;
        generated += finish.completion_tokens;
        prompt_evaluated += finish.prompt_tokens - finish.cached_tokens;
        firsts.push(first);
    }
    let wall = start.elapsed();
    Ok(Run {
        conversations,
        generated,
        prompt_evaluated,
        wall,
        mean_first_token: firsts.iter().sum::<Duration>() / firsts.len().max(1) as u32,
        max_first_token: firsts.into_iter().max().unwrap_or_default(),
    })
}

/// Generated tokens/s at each concurrency level, `tokens` per reply.
pub async fn throughput(
    model: &Arc<dyn ChatModel>,
    levels: &[usize],
    tokens: u32,
) -> anyhow::Result<Vec<Run>> {
    let mut runs = Vec::new();
    for &n in levels {
        let requests = (0..n)
            .map(|i| story_request(TOPICS[i % TOPICS.len()], tokens, None))
            .collect();
        runs.push(concurrent(model, requests).await?);
    }
    Ok(runs)
}

/// Time to first token of a follow-up turn whose conversation is cached, and of the same
/// turn evaluated from nothing.
pub async fn follow_up(model: &Arc<dyn ChatModel>) -> anyhow::Result<(Duration, Duration, usize)> {
    let first = story_request("a harbour town", 64, Some("bench-warm".into()));
    let reply = crate::llm::collect(model.chat(first.clone()).await?)
        .await?
        .0;
    let follow = |session: &str, marker: &str| {
        let mut request = first.clone();
        request.session = Some(session.into());
        request.messages[0].content = format!("{marker} {SYSTEM}");
        request
            .messages
            .push(Message::new(Role::Assistant, reply.clone()));
        request.messages.push(Message::new(
            Role::User,
            "Now give that story a title.".to_string(),
        ));
        request.sampling.max_tokens = 16;
        request
    };
    // The cold turn differs in its first word, so no cached prefix applies.
    let mut warm_req = follow("bench-warm", "");
    warm_req.messages[0].content = SYSTEM.into();
    let cold = concurrent(model, vec![follow("bench-cold", "Note:")]).await?;
    let warm = concurrent(model, vec![warm_req]).await?;
    Ok((
        warm.max_first_token,
        cold.max_first_token,
        cold.prompt_evaluated,
    ))
}

/// Generated tokens/s for `n` conversations writing JSON under a grammar, and the same
/// conversations writing free text, both with `tokens` per reply.
pub async fn constrained(
    model: &Arc<dyn ChatModel>,
    n: usize,
    tokens: u32,
) -> anyhow::Result<(Run, Run)> {
    let schema = serde_json::json!({
        "type": "object",
        "properties": {"title": {"type": "string"}, "lines": {"type": "array", "items": {"type": "string"}}},
        "required": ["title", "lines"]
    });
    let make = |output: Output| -> Vec<ChatRequest> {
        (0..n)
            .map(|i| {
                let mut r = story_request(TOPICS[i % TOPICS.len()], tokens, None);
                r.messages[1].content = format!(
                    "Write a poem about {} as JSON with a title and many lines.",
                    TOPICS[i % TOPICS.len()]
                );
                r.sampling.temperature = 0.0;
                r.output = output.clone();
                r
            })
            .collect()
    };
    let free = concurrent(model, make(Output::Text)).await?;
    let json = concurrent(model, make(Output::Json(schema.clone()))).await?;
    Ok((json, free))
}

/// Peak resident memory of this process, from /proc (Linux).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Ingest throughput and query latency of the knowledge index at `size` chunks: the
/// shipped knowledge/ repeated with variations until the index holds `size` chunks, then
/// every evaluation question (embedding + hybrid search) timed one by one.
pub async fn retrieval(
    config: &crate::config::Config,
    size: usize,
    questions: &[(String, String)],
) -> anyhow::Result<(f64, Vec<Duration>)> {
    use crate::retrieval::{Knowledge, Mode, edge::EdgeIndex, embed::Embedder, knowledge};
    let dir = tempfile_dir()?;
    let embedder = Arc::new(Embedder::load(&config.retrieval.embedder_path)?);
    let index = EdgeIndex::open(&dir.join("index"), embedder.dimension())?;
    let k = Knowledge::new(embedder, Arc::new(index), &config.retrieval)?;
    let docs = knowledge::load_dir(&config.retrieval.knowledge_dir)?;
    let base: Vec<knowledge::Chunk> = docs.iter().flat_map(knowledge::chunk).collect();
    anyhow::ensure!(!base.is_empty(), "no knowledge to index");
    let chunks: Vec<knowledge::Chunk> = (0..size)
        .map(|i| {
            let mut c = base[i % base.len()].clone();
            c.id = i as u64 + 1;
            if i >= base.len() {
                c.text = format!(
                    "{} (copy {} of the store's archive)",
                    c.text,
                    i / base.len()
                );
            }
            c
        })
        .collect();
    let start = Instant::now();
    for (done, batch) in chunks.chunks(64).enumerate() {
        let points = k.points(batch).await?;
        k.index().upsert(points).await?;
        crate::retrieval::ingest::print_progress(crate::retrieval::ingest::Progress {
            done: ((done + 1) * 64).min(size),
            total: size,
        });
    }
    let rate = size as f64 / start.elapsed().as_secs_f64();
    let mut latencies = Vec::new();
    for (question, language) in questions {
        let t = Instant::now();
        k.search(question, language, Mode::Hybrid, 3).await?;
        latencies.push(t.elapsed());
    }
    latencies.sort();
    // The index flushes when dropped: close it before its directory goes.
    drop(k);
    let _ = std::fs::remove_dir_all(&dir);
    Ok((rate, latencies))
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("shopdesk-bench-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// One question of the retrieval evaluation set (tests/data/retrieval/questions.toml):
/// the document and section that answer it, or `answerable = false`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct EvalQuestion {
    pub text: String,
    pub language: String,
    pub doc: Option<String>,
    pub section: Option<u32>,
    #[serde(default = "answerable_by_default")]
    pub answerable: bool,
}

fn answerable_by_default() -> bool {
    true
}

/// The evaluation set at `path`.
pub fn eval_questions(path: &std::path::Path) -> anyhow::Result<Vec<EvalQuestion>> {
    #[derive(serde::Deserialize)]
    struct File {
        question: Vec<EvalQuestion>,
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the questions at {} ({e}): run from the repository root",
            path.display()
        )
    })?;
    Ok(toml::from_str::<File>(&text)?.question)
}
