//! Privacy: a customer exports their own data and nobody else's; deletion waits for a staff
//! member, then removes or anonymises the customer's personal data everywhere, while the
//! audit log, which never held personal data, keeps only pseudonymous ids. On both databases.

mod common;

use common::*;
use sqlx::Row;

/// Every text cell of every table, for searching personal data.
async fn all_text(shop: &Shop, tables: &[&str]) -> String {
    let mut out = String::new();
    for table in tables {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {table}")))
            .fetch_all(shop.store().pool())
            .await
            .unwrap();
        for row in rows {
            for i in 0..row.len() {
                if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
                    out.push_str(&text);
                    out.push('\n');
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn export_then_deletion_confirmed_by_staff() {
    for db in BOTH {
        let shop = Shop::new(db).await;
        // Ann leaves personal traces: a new address, a return reason, messages.
        shop.say(
            &ann(),
            "/address 1001 US \"12 Secret Lane, Springfield\"",
            Some("p-1"),
        )
        .await;
        shop.say(
            &ann(),
            "/return 1003 \"my neighbour Bob Smith broke it\"",
            Some("p-2"),
        )
        .await;

        let export = shop.say(&ann(), "/mydata", Some("p-3")).await;
        assert!(
            export.contains("ann@example.com") && export.contains("12 Secret Lane"),
            "{export}"
        );
        assert!(
            !export.contains("wang.fang@example.cn"),
            "no one else's data"
        );
        assert!(
            shop.say(&ann(), "/mydata 2", None)
                .await
                .contains("only do that for your own account")
        );

        let request = shop.say(&ann(), "/forgetme", Some("p-4")).await;
        assert!(request.contains("a staff member will confirm"), "{request}");
        let code = request.split("/confirm ").nth(1).unwrap()[..6].to_string();
        assert!(
            shop.say(&ann(), &format!("/confirm {code}"), None)
                .await
                .contains("can't confirm"),
            "the customer cannot confirm it alone"
        );
        let done = shop.say(&alice(), &format!("/confirm {code}"), None).await;
        assert!(
            done.contains("Customer #1's personal data is deleted"),
            "{done}"
        );

        let pii = [
            "Ann Lee",
            "ann@example.com",
            "+15550001",
            "12 Secret Lane",
            "Bob Smith",
        ];
        let everywhere = all_text(
            &shop,
            &[
                "customers",
                "customer_identities",
                "orders",
                "returns",
                "messages",
                "conversations",
                "effects",
                "pending_confirmations",
                "audit_log",
            ],
        )
        .await;
        for item in pii {
            assert!(
                !everywhere.contains(item),
                "{db:?}: `{item}` survived deletion"
            );
        }
        let audit = all_text(&shop, &["audit_log"]).await;
        assert!(
            audit.contains("customer:1"),
            "the audit log keeps the pseudonymous id"
        );
        let (orders,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orders WHERE customer_id = 1")
            .fetch_one(shop.store().pool())
            .await
            .unwrap();
        assert_eq!(orders, 3, "orders are kept, anonymised");
        assert!(
            shop.say(&ann(), "/orders", None)
                .await
                .contains("not available to you"),
            "the Telegram account is unlinked"
        );
        // The untouched customer keeps everything.
        assert!(
            all_text(&shop, &["customers"])
                .await
                .contains("wang.fang@example.cn")
        );
    }
}

#[tokio::test]
async fn the_audit_log_never_receives_personal_data() {
    let shop = Shop::new(Db::Sqlite).await;
    shop.say(&ann(), "/address 1001 US \"77 Hidden Road, Salem\"", None)
        .await;
    shop.say(&ann(), "/cancel 1001 \"call me on +1 555 0199\"", None)
        .await;
    shop.say(
        &ann(),
        "/reprice SKU-A 1 \"my email is ann@example.com\"",
        None,
    )
    .await;
    let audit = all_text(&shop, &["audit_log"]).await;
    for item in ["77 Hidden Road", "555 0199", "ann@example.com"] {
        assert!(
            !audit.contains(item),
            "`{item}` reached the audit log:\n{audit}"
        );
    }
}
