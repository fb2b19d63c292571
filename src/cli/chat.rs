//! `shopdesk chat`: the terminal channel. Each line is one inbound message from the chosen
//! persona; replies print as they arrive. Buttons are shown as the command they would send.

use std::io::IsTerminal;

use shopdesk::engine::Engine;
use shopdesk::policy::{Actor, Role};
use shopdesk::port::{Channel, Handler, Identity, Inbound, Reply, ReplyChunk};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// The admin acting from the shell (`shopdesk staff ...`, `chat --as admin`).
pub fn shell_admin() -> Actor {
    Actor {
        role: Role::Admin,
        customer_id: None,
        staff_name: Some("shell".into()),
        channel: Channel::Cli,
        external_id: "admin".into(),
        language: "en".into(),
    }
}

pub async fn run(engine: &Engine, persona: &str) -> anyhow::Result<()> {
    let identity = Identity::new(Channel::Cli, persona);
    // Fail early, before the first prompt, when the persona does not exist.
    let mut conn = engine.store().pool().acquire().await?;
    let actor = shopdesk::engine::identity::resolve(&mut conn, &identity, None).await?;
    drop(conn);

    let interactive = std::io::stdin().is_terminal();
    let mut out = tokio::io::stdout();
    if interactive {
        out.write_all(
            format!("shopdesk chat as {actor}. Type /help, or Ctrl-D to leave.\n").as_bytes(),
        )
        .await?;
    }
    let conversation = format!("terminal-{persona}");
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        if interactive {
            out.write_all(b"> ").await?;
            out.flush().await?;
        }
        let Some(line) = lines.next_line().await? else {
            break;
        };
        if line.trim().is_empty() {
            continue;
        }
        if !interactive {
            out.write_all(format!("> {line}\n").as_bytes()).await?;
        }
        let reply = engine
            .handle(Inbound::text(identity.clone(), &conversation, line))
            .await;
        print_reply(&mut out, reply).await?;
    }
    Ok(())
}

async fn print_reply(out: &mut tokio::io::Stdout, reply: Reply) -> anyhow::Result<()> {
    use futures::StreamExt;
    let Reply::Stream(mut stream) = reply else {
        return Ok(());
    };
    while let Some(chunk) = stream.next().await {
        match chunk {
            ReplyChunk::Text { text } => out.write_all(text.as_bytes()).await?,
            ReplyChunk::Buttons { buttons } => {
                for b in buttons {
                    out.write_all(format!("\n  [{}] → {}", b.label, b.command).as_bytes())
                        .await?;
                }
            }
        }
        out.flush().await?;
    }
    out.write_all(b"\n").await?;
    Ok(())
}
