//! Bad input gets a clear, polite answer and changes nothing: malformed commands, unknown
//! SKUs and orders, bad numbers, huge and binary messages, forbidden commands. The test
//! prints the table of inputs and answers (run with --nocapture to see it).

mod common;

use common::*;
use shopdesk::port::Identity;

struct Probe {
    who: fn() -> Identity,
    who_label: &'static str,
    input: String,
    expect: &'static str,
}

fn probe(
    who: fn() -> Identity,
    who_label: &'static str,
    input: impl Into<String>,
    expect: &'static str,
) -> Probe {
    Probe {
        who,
        who_label,
        input: input.into(),
        expect,
    }
}

fn probes() -> Vec<Probe> {
    vec![
        probe(
            ann,
            "customer",
            "/order abc",
            "`abc` is not an order number",
        ),
        probe(ann, "customer", "/order 1042 1043", "Too many arguments"),
        probe(
            ann,
            "customer",
            "/order 99999999999999999999",
            "is not an order number",
        ),
        probe(ann, "customer", "/order", "Missing the order number"),
        probe(ann, "customer", "/order 9999", "can't find order #9999"),
        probe(ann, "customer", "/ordr 1001", "Did you mean /order?"),
        probe(
            ann,
            "customer",
            "/frobnicate",
            "I don't know the command /frobnicate",
        ),
        probe(ann, "customer", "/", "no command name after the /"),
        probe(
            ann,
            "customer",
            "/cancel 1001 \"changed my mind",
            "unclosed quote",
        ),
        probe(
            ann,
            "customer",
            "/cancel 1004",
            "can no longer be cancelled",
        ),
        probe(
            ann,
            "customer",
            "/return 1001",
            "can start once it has been delivered",
        ),
        probe(
            ann,
            "customer",
            "/address 1001 USA 1 Main St",
            "not a two-letter country code",
        ),
        probe(
            ann,
            "customer",
            "/orders 2",
            "only show you your own orders",
        ),
        probe(
            ann,
            "customer",
            "/reprice SKU-A 1.00 cheap",
            "Sorry, /reprice is not available to you",
        ),
        probe(
            ann,
            "customer",
            "/audit",
            "Sorry, /audit is not available to you",
        ),
        probe(
            guest,
            "guest",
            "/order 1001",
            "Sorry, /order is not available to you",
        ),
        probe(
            ann,
            "customer",
            "/stock SKU-NOPE",
            "There is no product with SKU SKU-NOPE",
        ),
        probe(
            ann,
            "customer",
            "/stock SKU-A'OR'1'='1",
            "There is no product with SKU SKU-A'OR'1'='1",
        ),
        probe(ann, "customer", "/stock ' OR 1=1 --", "unclosed quote"),
        probe(ann, "customer", "/search %", "No products match"),
        probe(
            ann,
            "customer",
            "x".repeat(10_000),
            "too long (10000 characters)",
        ),
        probe(
            ann,
            "customer",
            "\u{0}\u{1}\u{2}binary\u{7f}",
            "binary data",
        ),
        probe(ann, "customer", "   ", "empty"),
        probe(ann, "customer", "where is my parcel?", "Type /help"),
        probe(alice, "staff", "/restock SKU-A", "Missing the reason"),
        probe(
            alice,
            "staff",
            "/restock SKU-A -5 oops",
            "is not a valid quantity",
        ),
        probe(
            alice,
            "staff",
            "/restock SKU-A 0 oops",
            "is not a valid quantity",
        ),
        probe(
            alice,
            "staff",
            "/restock SKU-ZZ 5 more",
            "There is no product with SKU SKU-ZZ",
        ),
        probe(
            alice,
            "staff",
            "/reprice SKU-A 1e3 typo",
            "is not an amount",
        ),
        probe(
            alice,
            "staff",
            "/reprice SKU-A 19.999 typo",
            "is not an amount",
        ),
        probe(
            alice,
            "staff",
            "/reprice SKU-A 20.00 same",
            "already costs 20.00 USD",
        ),
        probe(alice, "staff", "/hold 1001", "Missing the reason"),
        probe(
            alice,
            "staff",
            "/hold 1004 late",
            "only orders not yet shipped can be held",
        ),
        probe(alice, "staff", "/release 1001", "is not on hold"),
        probe(alice, "staff", "/confirm 123", "is not a confirmation code"),
        probe(
            alice,
            "staff",
            "/staff list",
            "Sorry, /staff is not available to you",
        ),
        probe(
            root,
            "admin",
            "/staff add bad name!",
            "`name!` is not a role",
        ),
        probe(root, "admin", "/staff add eve!", "is not a valid name"),
        probe(
            root,
            "admin",
            "/staff link alice slack U123",
            "not a channel staff can link",
        ),
        probe(root, "admin", "/staff remove root", "can't remove yourself"),
        probe(root, "admin", "/staff fire bob", "is not a staff action"),
        probe(
            root,
            "admin",
            "/audit 0",
            "is not a valid number of entries",
        ),
    ]
}

#[tokio::test]
async fn bad_input_gets_clear_answers_and_changes_nothing() {
    let shop = Shop::new(Db::Sqlite).await;
    let before = snapshot(shop.store()).await;
    println!("| who | input | answer |\n|---|---|---|");
    for p in probes() {
        let reply = shop.say(&(p.who)(), &p.input, None).await;
        let shown: String = p
            .input
            .chars()
            .take(40)
            .collect::<String>()
            .escape_debug()
            .to_string();
        println!(
            "| {} | `{shown}` | {} |",
            p.who_label,
            reply.replace('\n', " ")
        );
        assert!(
            reply.contains(p.expect),
            "{} {:?}: expected {:?} in {reply:?}",
            p.who_label,
            shown,
            p.expect
        );
    }
    assert!(
        changed(&before, &snapshot(shop.store()).await).is_empty(),
        "bad input changed data"
    );
}

#[tokio::test]
async fn help_lists_only_what_the_role_may_use() {
    let shop = Shop::new(Db::Sqlite).await;
    let customer = shop.say(&ann(), "/help", None).await;
    assert!(customer.contains("/order <order number>") && customer.contains("/cancel"));
    for hidden in [
        "/restock", "/reprice", "/hold", "/release", "/audit", "/staff",
    ] {
        assert!(!customer.contains(hidden), "customer help shows {hidden}");
    }
    let staff = shop.say(&alice(), "/help", None).await;
    assert!(staff.contains("/restock") && staff.contains("/release") && !staff.contains("/audit"));
    let admin = shop.say(&root(), "/help", None).await;
    assert!(admin.contains("/audit") && admin.contains("/staff"));
    let guest_help = shop.say(&guest(), "/help", None).await;
    assert!(guest_help.contains("/stock") && !guest_help.contains("/orders"));
}

#[tokio::test]
async fn greetings_follow_the_users_language() {
    let shop = Shop::new(Db::Sqlite).await;
    assert!(
        shop.say(&wang(), "/start", None)
            .await
            .starts_with("王芳，您好")
    );
    assert!(
        shop.say(&ann(), "/start", None)
            .await
            .starts_with("Hi Ann Lee!")
    );
    assert!(
        shop.say(&root(), "/whoami", None)
            .await
            .contains("root on discord, role admin")
    );
}
