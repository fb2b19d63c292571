//! Continuous batching: many conversations in one llama context, decoded together.
//!
//! The context has one KV cache shared by `parallel` sequences (slots). Each slot keeps the
//! tokens whose keys and values it holds, so a conversation's next turn evaluates only what
//! is new; a new conversation copies the longest prefix any slot already holds (the system
//! prompt, usually), which costs no memory in a unified cache.
//!
//! Every step builds one batch: first one token for each conversation that is generating
//! (so a long prompt never stalls the others), then prompt chunks to fill the rest. Each
//! conversation samples with its own sampler. Structured output samples freely first and
//! consults the grammar only when the chosen token breaks it, as llama.cpp's own common
//! sampler does: checking the grammar against the whole vocabulary every step is what
//! makes constrained decoding slow.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;
use std::time::Instant;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use tokio::sync::mpsc::UnboundedSender;

use super::{ModelInfo, Settings, backend};
use crate::llm::utf8::Utf8Stream;
use crate::llm::{
    ChatRequest, Event, Finish, FinishReason, LlmError, Message, Output, budget, grammar, template,
};

pub struct Job {
    pub request: ChatRequest,
    pub events: UnboundedSender<Result<Event, LlmError>>,
}

type Ready = tokio::sync::oneshot::Sender<anyhow::Result<ModelInfo>>;

/// The model thread: loads, reports, then serves jobs until every sender is gone.
pub fn run(settings: Settings, jobs: Receiver<Job>, waiting: Arc<AtomicUsize>, ready: Ready) {
    let backend = backend();
    let gpu_layers = match settings.gpu_layers {
        Some(n) => n,
        None if backend.supports_gpu_offload() => u32::MAX,
        None => 0,
    };
    let mut reported = 0;
    let params = LlamaModelParams::default()
        .with_n_gpu_layers(gpu_layers)
        .with_progress_callback(move |progress| {
            let percent = (progress * 100.0) as u32;
            if percent >= reported + 25 || percent == 100 && reported < 100 {
                reported = percent;
                tracing::info!(percent, "loading the model");
            }
            true
        });
    let model = match LlamaModel::load_from_file(backend, &settings.path, &params) {
        Ok(model) => model,
        Err(e) => {
            let _ = ready.send(Err(anyhow::anyhow!(
                "llama.cpp could not load {} ({e}): the file may be truncated or of an \
                 architecture this build does not know; run scripts/fetch-models again, \
                 which verifies the checksum",
                settings.path.display()
            )));
            return;
        }
    };
    let parallel = settings.parallel.clamp(1, 256);
    let n_ctx = settings.context_tokens * parallel as u32;
    let context_params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n_ctx))
        .with_n_batch(settings.batch)
        .with_n_ubatch(settings.batch)
        .with_n_seq_max(parallel as u32)
        .with_kv_unified(true)
        .with_n_threads(settings.threads)
        .with_n_threads_batch(settings.threads);
    let ctx = match model.new_context(backend, context_params) {
        Ok(ctx) => ctx,
        Err(e) => {
            let _ = ready.send(Err(anyhow::anyhow!(
                "cannot create a context of {n_ctx} tokens ({e}); lower model.parallel or \
                 model.context_tokens"
            )));
            return;
        }
    };
    let template = chat_template(&model, &settings.chat_template);
    let name = settings
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "local".into());
    let info = ModelInfo {
        name,
        layers: model.n_layer(),
        gpu_layers: gpu_layers.min(model.n_layer() + 1),
        context_tokens: settings.context_tokens,
        parallel,
        threads: settings.threads,
    };
    if ready.send(Ok(info)).is_err() {
        return;
    }
    let mut scheduler = Scheduler {
        model: &model,
        ctx,
        template,
        slots: (0..parallel).map(Slot::new).collect(),
        pending: VecDeque::new(),
        waiting,
        context_tokens: settings.context_tokens as usize,
        n_ctx: n_ctx as usize,
        batch: LlamaBatch::new(settings.batch as usize, 1),
        batch_limit: settings.batch as usize,
    };
    scheduler.serve(&jobs);
}

/// The GGUF's template when llama.cpp knows it, else the configured name, else ChatML.
fn chat_template(model: &LlamaModel, configured: &str) -> Option<LlamaChatTemplate> {
    let probe = [LlamaChatMessage::new("user".into(), "hi".into()).ok()?];
    let candidates = if configured.is_empty() {
        vec![model.chat_template(None).ok()]
    } else {
        vec![LlamaChatTemplate::new(configured).ok()]
    };
    for template in candidates.into_iter().flatten() {
        if model.apply_chat_template(&template, &probe, true).is_ok() {
            return Some(template);
        }
    }
    tracing::warn!("llama.cpp does not recognise the model's chat template; using ChatML");
    None
}

struct Slot {
    id: i32,
    session: Option<String>,
    /// The tokens whose keys and values this sequence holds, from position 0.
    cached: Vec<LlamaToken>,
    last_used: Instant,
    active: Option<Active>,
}

impl Slot {
    fn new(id: usize) -> Self {
        Slot {
            id: id as i32,
            session: None,
            cached: Vec::new(),
            last_used: Instant::now(),
            active: None,
        }
    }
}

struct Active {
    events: UnboundedSender<Result<Event, LlmError>>,
    prompt: Vec<LlamaToken>,
    prompt_tokens: usize,
    cached_tokens: usize,
    output: Output,
    max_tokens: usize,
    sampler: LlamaSampler,
    grammar: Option<LlamaSampler>,
    /// Sampled but not yet decoded: goes into the next batch.
    next: Option<LlamaToken>,
    generated: usize,
    text: Utf8Stream,
    /// Structured output is parsed when complete, not streamed.
    structured: String,
    /// Where this slot's logits are in the current batch.
    logits_at: Option<i32>,
}

impl Active {
    fn in_prompt(&self, slot_cached: usize) -> bool {
        slot_cached < self.prompt.len()
    }
}

struct Scheduler<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    template: Option<LlamaChatTemplate>,
    slots: Vec<Slot>,
    pending: VecDeque<Job>,
    waiting: Arc<AtomicUsize>,
    context_tokens: usize,
    n_ctx: usize,
    batch: LlamaBatch<'static>,
    batch_limit: usize,
}

impl Scheduler<'_> {
    fn serve(&mut self, jobs: &Receiver<Job>) {
        loop {
            let idle = self.slots.iter().all(|s| s.active.is_none()) && self.pending.is_empty();
            if idle {
                match jobs.recv() {
                    Ok(job) => self.pending.push_back(job),
                    Err(_) => return,
                }
            }
            while let Ok(job) = jobs.try_recv() {
                self.pending.push_back(job);
            }
            self.drop_cancelled();
            self.assign_pending();
            if self.slots.iter().any(|s| s.active.is_some()) {
                self.step();
            }
        }
    }

    /// A stream whose receiver is gone (the user left) frees its sequence at once.
    fn drop_cancelled(&mut self) {
        for slot in &mut self.slots {
            if slot.active.as_ref().is_some_and(|a| a.events.is_closed()) {
                slot.active = None;
                let _ = self
                    .ctx
                    .clear_kv_cache_seq(Some(slot.id as u32), None, None);
                slot.cached.clear();
                slot.session = None;
            }
        }
        let before = self.pending.len();
        self.pending.retain(|job| !job.events.is_closed());
        self.waiting
            .fetch_sub(before - self.pending.len(), Ordering::SeqCst);
    }

    /// Gives waiting jobs free slots, oldest first; a conversation runs one job at a time.
    fn assign_pending(&mut self) {
        let mut i = 0;
        while i < self.pending.len() {
            let session = self.pending[i].request.session.clone();
            let busy_session = session.is_some()
                && self
                    .slots
                    .iter()
                    .any(|s| s.active.is_some() && s.session == session);
            if busy_session {
                i += 1;
                continue;
            }
            let Some(slot) = self.free_slot(session.as_deref()) else {
                return;
            };
            let job = self.pending.remove(i).expect("index is in range");
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            self.start(slot, job);
        }
    }

    /// The conversation's own slot if free, else the free slot used longest ago.
    fn free_slot(&self, session: Option<&str>) -> Option<usize> {
        let free = || {
            self.slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.active.is_none())
        };
        if let Some(session) = session
            && let Some((i, _)) = free().find(|(_, s)| s.session.as_deref() == Some(session))
        {
            return Some(i);
        }
        free()
            .min_by_key(|(_, s)| (!s.cached.is_empty(), s.last_used))
            .map(|(i, _)| i)
    }

    fn start(&mut self, index: usize, job: Job) {
        let Job { request, events } = job;
        let prompt = match self.prompt_tokens(&request) {
            Ok(prompt) => prompt,
            Err(e) => {
                let _ = events.send(Err(e));
                return;
            }
        };
        let grammar = match &request.output {
            Output::Text => None,
            Output::ToolChoice => Some(grammar::tool_choice_schema(&request.tools)),
            Output::Json(schema) => Some(schema.clone()),
        };
        let grammar = match grammar
            .map(|schema| self.grammar_sampler(&schema))
            .transpose()
        {
            Ok(g) => g,
            Err(e) => {
                let _ = events.send(Err(LlmError::Failed(e)));
                return;
            }
        };
        let sampler = sampler_chain(&request, grammar.is_some());
        let reused = self.reuse_prefix(index, &prompt);
        self.make_room(
            index,
            prompt.len() - reused + request.sampling.max_tokens as usize,
        );
        let slot = &mut self.slots[index];
        slot.session = request.session.clone();
        slot.last_used = Instant::now();
        slot.active = Some(Active {
            events,
            prompt_tokens: prompt.len(),
            cached_tokens: reused,
            prompt,
            output: request.output,
            max_tokens: request.sampling.max_tokens.max(1) as usize,
            sampler,
            grammar,
            next: None,
            generated: 0,
            text: Utf8Stream::default(),
            structured: String::new(),
            logits_at: None,
        });
    }

    /// Renders and tokenizes the request, trimmed to the conversation's context.
    fn prompt_tokens(&self, request: &ChatRequest) -> Result<Vec<LlamaToken>, LlmError> {
        let tools = match request.output {
            Output::ToolChoice => request.tools.as_slice(),
            _ => &[],
        };
        let messages = template::normalise(&request.messages, tools);
        let reserve = request.sampling.max_tokens as usize + 8;
        let count = |m: &[Message]| self.tokenize(&self.render(m)).len();
        let fitted = budget::fit(&messages, self.context_tokens, reserve, count);
        let tokens = self.tokenize(&self.render(&fitted));
        if tokens.len() + reserve > self.context_tokens {
            return Err(LlmError::Failed(format!(
                "the system prompt alone ({} tokens) does not fit model.context_tokens ({})",
                tokens.len(),
                self.context_tokens
            )));
        }
        Ok(tokens)
    }

    fn render(&self, messages: &[Message]) -> String {
        let chat: Option<Vec<LlamaChatMessage>> = messages
            .iter()
            .map(|m| LlamaChatMessage::new(m.role.as_str().into(), m.content.clone()).ok())
            .collect();
        if let (Some(template), Some(chat)) = (&self.template, chat)
            && let Ok(text) = self.model.apply_chat_template(template, &chat, true)
        {
            return text;
        }
        template::chatml(messages, true)
    }

    fn tokenize(&self, text: &str) -> Vec<LlamaToken> {
        let vocab = self.model.vocab();
        vocab.tokenize(text.as_bytes(), vocab.should_add_bos(), true)
    }

    fn grammar_sampler(&self, schema: &serde_json::Value) -> Result<LlamaSampler, String> {
        let gbnf = grammar::compact_gbnf(schema)?;
        LlamaSampler::grammar(self.model, &gbnf, "root")
            .map_err(|e| format!("the output grammar did not load: {e}"))
    }

    /// Keeps what the slot already holds of this prompt, or copies a longer prefix from
    /// another slot; returns how many prompt tokens need no evaluation.
    fn reuse_prefix(&mut self, index: usize, prompt: &[LlamaToken]) -> usize {
        let own = common_prefix(&self.slots[index].cached, prompt);
        let donor = self
            .slots
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != index)
            .map(|(i, s)| (i, common_prefix(&s.cached, prompt)))
            .max_by_key(|(_, n)| *n);
        // At least one prompt token is evaluated: its logits start the reply.
        let limit = prompt.len().saturating_sub(1);
        let id = self.slots[index].id;
        let reused = match donor {
            Some((donor, shared)) if shared.min(limit) > own.min(limit) => {
                let shared = shared.min(limit);
                let _ = self.ctx.clear_kv_cache_seq(Some(id as u32), None, None);
                let from = self.slots[donor].id;
                let _ = self
                    .ctx
                    .kv_cache_seq_cp(from, id, Some(0), Some(shared as u32));
                shared
            }
            _ => {
                let own = own.min(limit);
                let _ = self.ctx.kv_cache_seq_rm(id, Some(own as u32), None);
                own
            }
        };
        self.slots[index].cached = prompt[..reused].to_vec();
        reused
    }

    /// Frees idle slots' caches, least recently used first, until `needed` more tokens fit.
    fn make_room(&mut self, keep: usize, needed: usize) {
        loop {
            let used: usize = self.slots.iter().map(|s| s.cached.len()).sum();
            if used + needed <= self.n_ctx {
                return;
            }
            let victim = self
                .slots
                .iter()
                .enumerate()
                .filter(|(i, s)| *i != keep && s.active.is_none() && !s.cached.is_empty())
                .min_by_key(|(_, s)| s.last_used)
                .map(|(i, _)| i);
            let Some(victim) = victim else { return };
            let id = self.slots[victim].id;
            let _ = self.ctx.clear_kv_cache_seq(Some(id as u32), None, None);
            self.slots[victim].cached.clear();
            self.slots[victim].session = None;
        }
    }

    /// One decode of one batch, then one sampled token for every slot that has logits.
    fn step(&mut self) {
        self.batch.clear();
        let mut planned: Vec<(usize, usize)> = Vec::new();
        for slot in &mut self.slots {
            let Some(active) = slot.active.as_mut() else {
                continue;
            };
            active.logits_at = None;
            if let Some(token) = active.next {
                let at = self.batch.n_tokens();
                if self
                    .batch
                    .add(token, slot.cached.len() as i32, &[slot.id], true)
                    .is_ok()
                {
                    active.logits_at = Some(at);
                    planned.push((slot.id as usize, 1));
                }
            }
        }
        let mut by_age: Vec<usize> = (0..self.slots.len())
            .filter(|&i| {
                let s = &self.slots[i];
                s.active
                    .as_ref()
                    .is_some_and(|a| a.in_prompt(s.cached.len()))
            })
            .collect();
        by_age.sort_by_key(|&i| self.slots[i].last_used);
        for i in by_age {
            let room = self.batch_limit - self.batch.n_tokens() as usize;
            if room == 0 {
                break;
            }
            let slot = &mut self.slots[i];
            let active = slot.active.as_mut().expect("only active slots are planned");
            let start = slot.cached.len();
            let end = (start + room).min(active.prompt.len());
            for (pos, &token) in active.prompt[start..end].iter().enumerate() {
                let last = start + pos + 1 == active.prompt.len();
                let at = self.batch.n_tokens();
                if self
                    .batch
                    .add(token, (start + pos) as i32, &[slot.id], last)
                    .is_err()
                {
                    break;
                }
                if last {
                    active.logits_at = Some(at);
                }
            }
            planned.push((i, end - start));
        }
        if self.batch.n_tokens() == 0 {
            return;
        }
        if let Err(e) = self.ctx.decode(&mut self.batch) {
            self.fail_all(format!("decoding failed: {e}"));
            return;
        }
        for (i, added) in planned {
            let slot = &mut self.slots[i];
            let Some(active) = slot.active.as_mut() else {
                continue;
            };
            match active.next.take() {
                Some(token) if added == 1 && !active.in_prompt(slot.cached.len()) => {
                    slot.cached.push(token)
                }
                other => {
                    active.next = other;
                    let start = slot.cached.len();
                    let end = start + added;
                    let tokens = active.prompt[start..end].to_vec();
                    slot.cached.extend(tokens);
                }
            }
        }
        for i in 0..self.slots.len() {
            self.sample(i);
        }
    }

    fn sample(&mut self, index: usize) {
        let model = self.model;
        let slot = &mut self.slots[index];
        let Some(active) = slot.active.as_mut() else {
            return;
        };
        let Some(at) = active.logits_at.take() else {
            return;
        };
        let token = match &mut active.grammar {
            None => active.sampler.sample(&self.ctx, at),
            Some(grammar) => constrained(&self.ctx, at, &mut active.sampler, grammar),
        };
        slot.last_used = Instant::now();
        let vocab = model.vocab();
        let finish = if vocab.is_eog(token) {
            Some(FinishReason::Stop)
        } else {
            active.generated += 1;
            let piece = active.text.push(&vocab.token_to_piece(token, false, None));
            match active.output {
                Output::Text if !piece.is_empty() => {
                    let _ = active.events.send(Ok(Event::Text(piece)));
                }
                Output::Text => {}
                _ => active.structured.push_str(&piece),
            }
            active.next = Some(token);
            (active.generated >= active.max_tokens).then_some(FinishReason::Length)
        };
        if let Some(reason) = finish {
            let active = slot.active.take().expect("checked above");
            finish_job(active, reason);
        }
    }

    fn fail_all(&mut self, why: String) {
        tracing::error!(error = %why, "llama decode failed; ending every running request");
        for slot in &mut self.slots {
            if let Some(active) = slot.active.take() {
                let _ = active.events.send(Err(LlmError::Failed(why.clone())));
            }
            let _ = self
                .ctx
                .clear_kv_cache_seq(Some(slot.id as u32), None, None);
            slot.cached.clear();
            slot.session = None;
        }
    }
}

/// Sends what is left of the reply and how it ended. Structured output is parsed here:
/// a tool choice becomes a [`Event::ToolCall`] (or nothing, for "answer in words").
fn finish_job(mut active: Active, mut reason: FinishReason) {
    active.text.finish();
    let events = &active.events;
    match &active.output {
        Output::Text => {}
        Output::Json(_) => {
            let _ = events.send(Ok(Event::Text(active.structured.clone())));
        }
        Output::ToolChoice => match grammar::parse_tool_choice(&active.structured) {
            Ok(Some((name, arguments))) => {
                reason = FinishReason::ToolCall;
                let _ = events.send(Ok(Event::ToolCall { name, arguments }));
            }
            Ok(None) => {}
            Err(e) => {
                let _ = events.send(Err(LlmError::Failed(e)));
                return;
            }
        },
    }
    let _ = events.send(Ok(Event::Done(Finish {
        reason,
        prompt_tokens: active.prompt_tokens,
        cached_tokens: active.cached_tokens,
        completion_tokens: active.generated,
    })));
}

/// Samples without the grammar, and only when the grammar rejects that token looks for
/// the most likely token it allows: first among the few most likely ones, each checked on
/// its own, and only if none fits over the whole vocabulary. Structured output is greedy,
/// so this picks exactly the token a full grammar pass would.
fn constrained(
    ctx: &LlamaContext<'_>,
    at: i32,
    sampler: &mut LlamaSampler,
    grammar: &mut LlamaSampler,
) -> LlamaToken {
    const CANDIDATES: usize = 32;
    let first = sampler.sample(ctx, at);
    let logits = ctx.get_logits_ith(at);
    let allowed = |grammar: &mut LlamaSampler, token: LlamaToken| {
        let logit = logits[token.0 as usize];
        let mut single =
            LlamaTokenDataArray::new(vec![LlamaTokenData::new(token, logit, 0.0)], false);
        grammar.apply(&mut single);
        single.data[0].logit().is_finite()
    };
    let token = if allowed(grammar, first) {
        first
    } else {
        let mut best: Vec<usize> = (0..logits.len()).collect();
        let k = CANDIDATES.min(best.len());
        best.select_nth_unstable_by(k - 1, |a, b| logits[*b].total_cmp(&logits[*a]));
        best.truncate(k);
        best.sort_by(|a, b| logits[*b].total_cmp(&logits[*a]));
        best.into_iter()
            .map(|i| LlamaToken(i as i32))
            .find(|&t| allowed(grammar, t))
            .unwrap_or_else(|| {
                let mut all = ctx.token_data_array_ith(at);
                grammar.apply(&mut all);
                sampler.apply(&mut all);
                all.selected_token().unwrap_or(first)
            })
    };
    grammar.accept(token);
    token
}

/// Greedy for structured output (the most likely valid JSON), else top-k, top-p,
/// temperature and a seeded draw.
fn sampler_chain(request: &ChatRequest, structured: bool) -> LlamaSampler {
    let s = &request.sampling;
    if structured || s.temperature <= 0.0 {
        return LlamaSampler::greedy();
    }
    LlamaSampler::chain_simple([
        LlamaSampler::top_k(40),
        LlamaSampler::top_p(s.top_p, 1),
        LlamaSampler::temp(s.temperature),
        LlamaSampler::dist(s.seed),
    ])
}

fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}
