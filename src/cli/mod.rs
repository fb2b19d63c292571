//! Command-line parsing and the subcommands. Each subcommand opens the store with the
//! configured settings and calls into the library; none holds business logic of its own.

mod chat;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use shopdesk::clock::{Clock, SystemClock};
use shopdesk::config::Config;
use shopdesk::engine::Engine;
use shopdesk::engine::replies::Replies;
use shopdesk::store::Store;
use shopdesk::tools::{ManageStaff, Outcome, StaffAction, ToolCall, Toolbox};

#[derive(Parser, Debug)]
#[command(
    name = "shopdesk",
    version,
    about = "An online store's first responder in chat.",
    long_about = "An online store's first responder in chat: one engine answers customers and staff on \
                  Telegram, Discord, the web chat and the terminal, with store tools guarded by roles, \
                  confirmations and an audit log.",
    after_help = "Getting started:\n  shopdesk seed --demo                 write a demo store (500+ products, 20,000 orders)\n  \
                  shopdesk chat --as customer:1        talk to the engine as customer #1\n  \
                  shopdesk chat --as staff:alice       ... as a staff member (try /help)\n  \
                  shopdesk chat --as admin             ... as the store's admin\n\n\
                  Settings come from --config (TOML; see shopdesk.example.toml) and SHOPDESK_* variables,\n\
                  e.g. SHOPDESK_DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop."
)]
pub struct Cli {
    /// Settings file (TOML). Every setting also has a SHOPDESK_* environment variable.
    #[arg(long, global = true, env = "SHOPDESK_CONFIG")]
    config: Option<PathBuf>,

    /// Log as JSON lines instead of text (for log collectors).
    #[arg(long, global = true)]
    log_json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Talk to the engine in this terminal, as a customer, a staff member or the admin.
    ///
    /// Reads one message per line; when stdin is not a terminal it reads lines until the end,
    /// so scripts and tests can drive it: `printf '/order 1042\n' | shopdesk chat --as customer:7`.
    Chat {
        /// Who you are: customer:<id>, staff:<name>, admin, or guest.
        #[arg(long = "as", value_name = "PERSONA", default_value = "admin")]
        persona: String,
    },
    /// Write the deterministic demo store into an empty database.
    Seed {
        /// Required: the demo store is the only seed there is (real stores use `import`).
        #[arg(long)]
        demo: bool,
        /// The random seed; the same seed always writes the same store.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Also write the planted signals (fraud cluster, late shipments, stock-outs) as JSON here.
        #[arg(long, value_name = "FILE")]
        truth: Option<PathBuf>,
    },
    /// Import a real store's products, customers and orders from CSV files (see docs/IMPORT.md).
    ///
    /// Every row is validated first; by default any rejected row means nothing is written.
    Import {
        #[arg(long, value_name = "CSV")]
        products: Option<PathBuf>,
        #[arg(long, value_name = "CSV")]
        customers: Option<PathBuf>,
        #[arg(long, value_name = "CSV")]
        orders: Option<PathBuf>,
        #[arg(long = "order-items", value_name = "CSV")]
        order_items: Option<PathBuf>,
        /// Write the valid rows (in one transaction) and report the rejected ones.
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Create or update the database schema (also done automatically at start).
    Migrate,
    /// List, add or remove staff members and link their chat accounts.
    Staff {
        #[command(subcommand)]
        action: StaffCommand,
    },
    /// Print every tool's name, rule and JSON argument schema.
    Tools,
    /// Run the bot: Telegram and Discord when their tokens are set, the web chat at /chat,
    /// the OpenAI-compatible /v1 and /healthz, /readyz, all on http.listen. Logs which
    /// channels started and why the others did not.
    Serve,
    /// Index the store's knowledge (knowledge/ and the catalogue) for grounded answers.
    ///
    /// Incremental: only new, changed or missing chunks are embedded, and documents that
    /// are gone leave the index. `serve` and `chat` run the same update at start.
    Ingest {
        /// The Markdown knowledge directory (default: retrieval.knowledge_dir).
        dir: Option<PathBuf>,
    },
    /// Measure the model: tokens/s at several concurrency levels, time to first token,
    /// a follow-up turn with and without its cache, JSON-constrained vs free generation.
    ///
    /// Examples (BENCHMARKS.md): `shopdesk bench --conversations 1,4,16 --tokens 64`;
    /// `shopdesk bench --retrieval 10000` for ingest throughput and search latency.
    Bench {
        /// Measure the knowledge index at this many chunks instead of the model.
        #[arg(long, value_name = "CHUNKS")]
        retrieval: Option<usize>,
        /// Concurrency levels, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,4,16")]
        conversations: Vec<usize>,
        /// Tokens generated per reply.
        #[arg(long, default_value_t = 64)]
        tokens: u32,
    },
}

#[derive(Subcommand, Debug)]
enum StaffCommand {
    /// List staff members and their linked accounts.
    List,
    /// Add a staff member.
    Add {
        name: String,
        #[arg(long, default_value = "staff", value_parser = ["staff", "admin"])]
        role: String,
    },
    /// Remove a staff member.
    Remove { name: String },
    /// Link a chat account to a staff member, e.g. `link alice discord 80351110224678912`.
    Link {
        name: String,
        #[arg(value_parser = ["discord", "telegram", "web"])]
        channel: String,
        account: String,
    },
}

pub fn init_logging(args: &Cli) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHOPDESK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,shopdesk=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if args.log_json {
        builder.json().init()
    } else {
        builder.init()
    }
}

pub async fn run(args: Cli) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref(), std::env::vars())?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Store::open(&config.database_url()).await?;
    match args.command {
        Command::Migrate => {
            println!(
                "Database is up to date ({}).",
                shopdesk::store::redact(&config.database_url())
            );
        }
        Command::Chat { persona } => {
            let model = match shopdesk::llm::load(&config).await {
                Ok(model) => model,
                Err(e) => {
                    eprintln!("The model did not load, so free text gets a pointer to /help: {e}");
                    None
                }
            };
            let knowledge = shopdesk::retrieval::ingest::open_existing(&config)?;
            let toolbox = Toolbox {
                store,
                config: Arc::new(config),
                clock,
            };
            let engine = Engine::new(toolbox, Replies::load(std::path::Path::new("prompts"))?);
            if let Some(model) = model {
                engine.set_model(model);
            }
            if let Some(knowledge) = knowledge {
                let intents = shopdesk::engine::router::load(std::path::Path::new("intents"))?;
                let router =
                    shopdesk::engine::router::Router::build(intents, knowledge.embedder().clone())?;
                engine.set_router(Arc::new(router));
                engine.set_knowledge(knowledge);
            }
            chat::run(&engine, &persona).await?;
        }
        Command::Seed { demo, seed, truth } => {
            anyhow::ensure!(
                demo,
                "only the demo store can be seeded: run `shopdesk seed --demo` (real stores: `shopdesk import`)"
            );
            let mut opts = shopdesk::seed::SeedOptions::demo(clock.now());
            opts.seed = seed;
            let report =
                shopdesk::seed::seed_demo(&store, &opts, &|step| eprintln!("  {step}")).await?;
            println!("{report}");
            if let Some(path) = truth {
                std::fs::write(&path, serde_json::to_string_pretty(&report.planted)?)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("Planted signals written to {}.", path.display());
            }
        }
        Command::Import {
            products,
            customers,
            orders,
            order_items,
            skip_invalid,
        } => {
            let files = shopdesk::import::ImportFiles {
                products,
                customers,
                orders,
                order_items,
            };
            let opts = shopdesk::import::ImportOptions {
                skip_invalid,
                now: clock.now(),
            };
            let report = shopdesk::import::import_csv(&store, &files, &opts).await?;
            println!("{report}");
            anyhow::ensure!(
                report.committed,
                "nothing was imported; fix the rows above or pass --skip-invalid"
            );
        }
        Command::Staff { action } => {
            let action = match action {
                StaffCommand::List => StaffAction::List,
                StaffCommand::Add { name, role } => StaffAction::Add { name, role },
                StaffCommand::Remove { name } => StaffAction::Remove { name },
                StaffCommand::Link {
                    name,
                    channel,
                    account,
                } => StaffAction::Link {
                    name,
                    channel,
                    account,
                },
            };
            let toolbox = Toolbox {
                store,
                config: Arc::new(config),
                clock,
            };
            let admin = chat::shell_admin();
            let key = format!("cli:staff-{:016x}:0", rand::random::<u64>());
            match toolbox
                .invoke(&admin, &ToolCall::ManageStaff(ManageStaff { action }), &key)
                .await
            {
                Ok(Outcome::Done { text, .. }) => println!("{text}"),
                Ok(other) => println!("{}", other.text()),
                Err(e) => anyhow::bail!("{e}"),
            }
        }
        Command::Serve => {
            let toolbox = Toolbox {
                store,
                config: Arc::new(config.clone()),
                clock,
            };
            let engine = Engine::new(toolbox, Replies::load(std::path::Path::new("prompts"))?);
            shopdesk::serve::run(&config, Arc::new(engine)).await?;
        }
        Command::Ingest { dir } => {
            let mut config = config;
            if let Some(dir) = dir {
                config.retrieval.knowledge_dir = dir;
            }
            anyhow::ensure!(
                shopdesk::retrieval::embedder_present(&config.retrieval.embedder_path),
                "no embedder at {}: run scripts/fetch-models, or set retrieval.embedder_path",
                config.retrieval.embedder_path.display()
            );
            let knowledge = shopdesk::retrieval::Knowledge::open(&config)?;
            let report = shopdesk::retrieval::ingest::ingest(
                &knowledge,
                &store,
                &config.retrieval.knowledge_dir,
                clock.now(),
                &shopdesk::retrieval::ingest::print_progress,
            )
            .await?;
            println!("{report}");
        }
        Command::Bench {
            retrieval: Some(size),
            ..
        } => bench_retrieval(&config, size).await?,
        Command::Bench {
            conversations,
            tokens,
            ..
        } => bench(config, &conversations, tokens).await?,
        Command::Tools => {
            println!("{}", serde_json::to_string_pretty(&ToolCall::specs())?);
        }
    }
    Ok(())
}

async fn bench(mut config: Config, levels: &[usize], tokens: u32) -> anyhow::Result<()> {
    use shopdesk::bench;
    anyhow::ensure!(
        config.model.backend == "llama",
        "bench measures the in-process model: set model.backend = llama"
    );
    let most = levels.iter().copied().max().unwrap_or(1);
    config.model.parallel = config.model.parallel.max(most as i64);
    config.model.context_tokens = config.model.context_tokens.min(1024);
    let settings = shopdesk::llm::llama::Settings::from_config(&config.model);
    let llama = shopdesk::llm::llama::LlamaChat::load(settings).await?;
    let info = llama.info().clone();
    let model: Arc<dyn shopdesk::llm::ChatModel> = Arc::new(llama);
    println!(
        "model {} · {} threads · {} parallel · {} GPU layers of {}",
        info.name, info.threads, info.parallel, info.gpu_layers, info.layers
    );
    // One short request first, so page faults of the mapped weights are not measured.
    bench::throughput(&model, &[1], 8).await?;
    println!(
        "\n| conversations | generated tok/s (aggregate) | per conversation | mean TTFT | prompt tok/s |"
    );
    println!("|---|---|---|---|---|");
    for run in bench::throughput(&model, levels, tokens).await? {
        println!(
            "| {} | {:.1} | {:.1} | {:.0} ms | {:.0} |",
            run.conversations,
            run.generated_per_sec(),
            run.generated_per_sec() / run.conversations as f64,
            run.mean_first_token.as_secs_f64() * 1000.0,
            run.prompt_per_sec()
        );
    }
    let (warm, cold, prompt) = bench::follow_up(&model).await?;
    println!(
        "\nfollow-up turn ({prompt} prompt tokens): TTFT {:.0} ms with its cache, {:.0} ms cold ({:.0}%)",
        warm.as_secs_f64() * 1000.0,
        cold.as_secs_f64() * 1000.0,
        100.0 * warm.as_secs_f64() / cold.as_secs_f64()
    );
    let n = 4.min(most).max(1);
    let (json, free) = bench::constrained(&model, n, tokens).await?;
    println!(
        "{n} conversations: JSON under a grammar {:.1} tok/s, free text {:.1} tok/s ({:.0}%)",
        json.generated_per_sec(),
        free.generated_per_sec(),
        100.0 * json.generated_per_sec() / free.generated_per_sec()
    );
    if let Some(rss) = bench::peak_rss_mib() {
        println!("peak RSS {rss:.0} MiB");
    }
    Ok(())
}

async fn bench_retrieval(config: &Config, size: usize) -> anyhow::Result<()> {
    let path = std::path::Path::new("tests/data/retrieval/questions.toml");
    let questions: Vec<(String, String)> = shopdesk::bench::eval_questions(path)?
        .into_iter()
        .map(|q| (q.text, q.language))
        .collect();
    let (rate, latencies) = shopdesk::bench::retrieval(config, size, &questions).await?;
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "{size} chunks: ingest {rate:.0} chunks/s; query (embedding + hybrid search) over {} questions: p50 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        at(0.5).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0
    );
    Ok(())
}
