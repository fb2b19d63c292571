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
    /// all HTTP on http.listen. Logs which channels started and why the others did not.
    Serve,
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
            let toolbox = Toolbox {
                store,
                config: Arc::new(config),
                clock,
            };
            let engine = Engine::new(toolbox, Replies::load(std::path::Path::new("prompts"))?);
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
        Command::Tools => {
            println!("{}", serde_json::to_string_pretty(&ToolCall::specs())?);
        }
    }
    Ok(())
}
