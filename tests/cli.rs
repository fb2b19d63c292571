//! The `shopdesk` binary as a user meets it: scripted chat sessions for each role over a
//! pipe, staff management from the shell, and clear failures for bad settings.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;

fn shopdesk(db_url: &str, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shopdesk"))
        .args(args)
        .env("SHOPDESK_DATABASE_URL", db_url)
        .env_remove("SHOPDESK_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn fixture_db() -> TestDb {
    let db = TestDb::new(Db::Sqlite).await;
    fixture(&db.store).await;
    db
}

#[tokio::test]
async fn scripted_chat_as_a_customer() {
    let db = fixture_db().await;
    let (ok, out, err) = shopdesk(
        &db.url,
        &["chat", "--as", "customer:1"],
        "/start\n/orders\n/order 1004\n/order 1002\n/cancel 1001 \"ordered twice\"\n/restock SKU-A 5 x\n",
    );
    println!("{out}");
    assert!(ok, "{err}");
    assert!(
        out.contains("> /orders\nRecent orders:"),
        "the transcript echoes each line"
    );
    assert!(out.contains("Hi Ann Lee!"));
    assert!(out.contains("Order #1004 — shipped") && out.contains("days late"));
    assert!(out.contains("I can't find order #1002"));
    assert!(out.contains("Order #1001 is cancelled"));
    assert!(out.contains("Sorry, /restock is not available to you."));
}

#[tokio::test]
async fn scripted_chat_as_staff_and_admin() {
    let db = fixture_db().await;
    let (ok, out, err) = shopdesk(
        &db.url,
        &["chat", "--as", "staff:alice"],
        "/stock SKU-A\n/restock SKU-A \"holiday demand\"\n/reprice SKU-A 26.00 \"supplier raised cost\"\n/hold 1002 \"card used on 9 accounts\"\n",
    );
    println!("{out}");
    assert!(ok, "{err}");
    assert!(out.contains("On hand 50, reserved 3"));
    assert!(
        out.contains("does not need a restock now") || out.contains("Purchase order PO-"),
        "{out}"
    );
    assert!(out.contains("beyond the 15% per-change limit") && out.contains("[Confirm "));
    assert!(out.contains("Order #1002 is on hold"));
    let code = out.split("/confirm ").nth(1).unwrap()[..6].to_string();

    let (ok, out, err) = shopdesk(
        &db.url,
        &["chat", "--as", "admin"],
        &format!("/confirm {code}\n/audit 3\n/staff list\n"),
    );
    println!("{out}");
    assert!(ok, "{err}");
    assert!(out.contains("now costs 26.00 USD") && out.contains("confirmed by staff:shell"));
    assert!(out.contains("Last 3 audit entries"));
    assert!(out.contains("alice (staff) · discord d-alice, telegram 9001"));
}

#[tokio::test]
async fn staff_management_from_the_shell() {
    let db = fixture_db().await;
    let (ok, out, _) = shopdesk(&db.url, &["staff", "add", "carol", "--role", "admin"], "");
    assert!(ok && out.contains("Added carol as admin."), "{out}");
    let (ok, out, _) = shopdesk(
        &db.url,
        &["staff", "link", "carol", "telegram", "424242"],
        "",
    );
    assert!(
        ok && out.contains("Linked carol to telegram account 424242."),
        "{out}"
    );
    let (ok, out, _) = shopdesk(&db.url, &["staff", "list"], "");
    assert!(
        ok && out.contains("carol (admin) · telegram 424242"),
        "{out}"
    );
    let (ok, _, err) = shopdesk(&db.url, &["staff", "add", "carol"], "");
    assert!(
        !ok && err.contains("already a staff member named carol"),
        "{err}"
    );
    let (ok, out, _) = shopdesk(&db.url, &["staff", "remove", "carol"], "");
    assert!(ok && out.contains("Removed carol."), "{out}");
    let (actor, tool): (String, String) =
        sqlx::query_as("SELECT actor, tool FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert_eq!(
        (actor.as_str(), tool.as_str()),
        ("staff:shell", "manage_staff"),
        "shell actions are audited too"
    );
}

#[tokio::test]
async fn bad_settings_stop_start_up_with_the_fix() {
    let db = fixture_db().await;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shopdesk"));
    let out = cmd
        .args(["migrate"])
        .env("SHOPDESK_DATABASE_URL", &db.url)
        .env("SHOPDESK_HTTP_LISTEN", "localhost")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("invalid setting `http.listen` = localhost: use an address and port such as 127.0.0.1:8080"), "{err}");

    let out = Command::new(env!("CARGO_BIN_EXE_shopdesk"))
        .args(["migrate"])
        .env("SHOPDESK_DATABASE_URL", "mysql://x")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("use sqlite://path/to/file.db or postgres://")
    );

    let (ok, _, err) = shopdesk(&db.url, &["chat", "--as", "customer:999"], "");
    assert!(!ok && err.contains("there is no customer #999"), "{err}");
    let (ok, _, err) = shopdesk(&db.url, &["chat", "--as", "boss"], "");
    assert!(
        !ok && err.contains("use customer:<id>, staff:<name>, admin or guest"),
        "{err}"
    );
}

#[test]
fn help_teaches() {
    let out = Command::new(env!("CARGO_BIN_EXE_shopdesk"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "chat",
        "seed",
        "import",
        "staff",
        "Getting started",
        "SHOPDESK_DATABASE_URL",
    ] {
        assert!(text.contains(needle), "--help lacks {needle}");
    }
}
