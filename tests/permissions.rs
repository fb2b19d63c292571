//! The permission matrix: every tool × guest / customer / staff / admin × own / another's
//! order, checked on the database itself. A refusal changes no row and leaves exactly one
//! `denied` audit entry; an allowed call changes exactly the intended tables and leaves one
//! `ok` (or `pending`) entry. Runs on SQLite and PostgreSQL.

mod common;

use common::*;
use serde_json::json;
use shopdesk::policy::{Actor, Role};
use shopdesk::tools::{Outcome, ToolCall, ToolError};

#[derive(Debug, Clone, Copy)]
enum Who {
    Guest,
    /// Customer 1 acting on their own records.
    Owner,
    /// Customer 1 acting on customer 2's records.
    OtherCustomer,
    Staff,
    Admin,
}

impl Who {
    fn actor(self) -> Actor {
        match self {
            Who::Guest => actor(Role::Guest, None, None),
            Who::Owner | Who::OtherCustomer => actor(Role::Customer, Some(1), None),
            Who::Staff => actor(Role::Staff, None, Some("alice")),
            Who::Admin => actor(Role::Admin, None, Some("root")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Denied,
    Ok(&'static [&'static str]),
    /// Allowed, and parked as a pending request for someone to confirm.
    Parked,
    /// Allowed to ask, but there is nothing by that name.
    NotFound,
}

struct Case {
    tool: &'static str,
    own: serde_json::Value,
    other: serde_json::Value,
    /// Expected result for guest, owner, other customer, staff, admin.
    expect: [Expect; 5],
}

const D: Expect = Expect::Denied;
const NONE: &[&str] = &[];

fn cases() -> Vec<Case> {
    use Expect::{NotFound, Ok, Parked};
    let orders_products: &'static [&'static str] = &["products", "orders"];
    vec![
        Case {
            tool: "order_lookup",
            own: json!({"order_id": 1001}),
            other: json!({"order_id": 1002}),
            expect: [D, Ok(NONE), D, Ok(NONE), Ok(NONE)],
        },
        Case {
            tool: "recent_orders",
            own: json!({}),
            other: json!({"customer_id": 2}),
            expect: [D, Ok(NONE), D, Ok(NONE), Ok(NONE)],
        },
        Case {
            tool: "cancel_order",
            own: json!({"order_id": 1001}),
            other: json!({"order_id": 1002}),
            expect: [
                D,
                Ok(orders_products),
                D,
                Ok(orders_products),
                Ok(orders_products),
            ],
        },
        Case {
            tool: "change_address",
            own: json!({"order_id": 1001, "address": "2 Elm St, Springfield", "country": "US"}),
            other: json!({"order_id": 1002, "address": "2 Elm St, Springfield", "country": "US"}),
            expect: [D, Ok(&["orders"]), D, Ok(&["orders"]), Ok(&["orders"])],
        },
        Case {
            tool: "start_return",
            own: json!({"order_id": 1003, "reason": "too small"}),
            other: json!({"order_id": 1005, "reason": "too small"}),
            expect: [D, Ok(&["returns"]), D, Ok(&["returns"]), Ok(&["returns"])],
        },
        Case {
            tool: "stock_check",
            own: json!({"sku": "SKU-A"}),
            other: json!({"sku": "SKU-A"}),
            expect: [Ok(NONE); 5],
        },
        Case {
            tool: "product_search",
            own: json!({"query": "mouse"}),
            other: json!({"query": "mouse"}),
            expect: [Ok(NONE); 5],
        },
        Case {
            tool: "restock",
            own: json!({"sku": "SKU-A", "quantity": 10, "reason": "restock"}),
            other: json!({"sku": "SKU-A", "quantity": 10, "reason": "restock"}),
            expect: [D, D, D, Ok(&["purchase_orders"]), Ok(&["purchase_orders"])],
        },
        Case {
            tool: "reprice",
            own: json!({"sku": "SKU-A", "price": "21.00", "reason": "supplier price up"}),
            other: json!({"sku": "SKU-A", "price": "21.00", "reason": "supplier price up"}),
            expect: [
                D,
                D,
                D,
                Ok(&["products", "price_history"]),
                Ok(&["products", "price_history"]),
            ],
        },
        Case {
            tool: "fraud_hold",
            own: json!({"order_id": 1001, "reason": "card mismatch"}),
            other: json!({"order_id": 1002, "reason": "card mismatch"}),
            expect: [
                D,
                D,
                D,
                Ok(&["orders", "fraud_holds"]),
                Ok(&["orders", "fraud_holds"]),
            ],
        },
        Case {
            tool: "release_hold",
            own: json!({"order_id": 1006}),
            other: json!({"order_id": 1006}),
            expect: [
                D,
                D,
                D,
                Ok(&["orders", "fraud_holds"]),
                Ok(&["orders", "fraud_holds"]),
            ],
        },
        Case {
            tool: "audit_log",
            own: json!({}),
            other: json!({}),
            expect: [D, D, D, D, Ok(NONE)],
        },
        Case {
            tool: "manage_staff",
            own: json!({"action": {"do": "add", "name": "carol", "role": "staff"}}),
            other: json!({"action": {"do": "add", "name": "carol", "role": "staff"}}),
            expect: [D, D, D, D, Ok(&["staff"])],
        },
        Case {
            tool: "confirm",
            own: json!({"code": "ZZZZZZ"}),
            other: json!({"code": "ZZZZZZ"}),
            // Guests are refused outright; for everyone else an unknown code is simply not found.
            expect: [D, NotFound, NotFound, NotFound, NotFound],
        },
        Case {
            tool: "fraud_report",
            own: json!({"order_id": 1001}),
            other: json!({"order_id": 1002}),
            expect: [D, D, D, Ok(NONE), Ok(NONE)],
        },
        Case {
            tool: "restock_digest",
            own: json!({}),
            other: json!({}),
            expect: [D, D, D, Ok(NONE), Ok(NONE)],
        },
        Case {
            tool: "price_suggestions",
            own: json!({}),
            other: json!({}),
            expect: [D, D, D, Ok(NONE), Ok(NONE)],
        },
        Case {
            tool: "incident",
            own: json!({"action": {"do": "start", "title": "Carrier strike", "notice": "Deliveries are late."}}),
            other: json!({"action": {"do": "start", "title": "Carrier strike", "notice": "Deliveries are late."}}),
            expect: [
                D,
                D,
                D,
                Ok(&["incidents", "incident_events"]),
                Ok(&["incidents", "incident_events"]),
            ],
        },
        Case {
            tool: "export_my_data",
            own: json!({}),
            other: json!({"customer_id": 2}),
            expect: [D, Ok(NONE), D, Ok(NONE), Ok(NONE)],
        },
        Case {
            tool: "forget_me",
            own: json!({}),
            other: json!({"customer_id": 2}),
            expect: [D, Parked, D, Parked, Parked],
        },
    ]
}

async fn check_case(db: Db, case: &Case, who: Who, expect: Expect) -> String {
    let shop = Shop::new(db).await;
    let args = if matches!(who, Who::OtherCustomer | Who::Staff | Who::Admin) {
        &case.other
    } else {
        &case.own
    };
    let call = ToolCall::from_json(case.tool, args.clone()).unwrap();
    let before = snapshot(shop.store()).await;
    let audit_before = last_audit_id(shop.store()).await;
    let result = shop
        .toolbox()
        .invoke(
            &who.actor(),
            &call,
            &format!("test:{}:{who:?}:0", case.tool),
        )
        .await;
    let after = snapshot(shop.store()).await;
    let audit = audit_since(shop.store(), audit_before).await;
    let tables = changed(&before, &after);
    let label = format!("{db:?} {} as {who:?}", case.tool);
    assert_eq!(
        audit.len(),
        1,
        "{label}: exactly one audit entry, got {audit:?}"
    );
    assert_eq!(audit[0].1, case.tool, "{label}");
    match expect {
        Expect::Denied => {
            assert!(
                matches!(result, Err(ToolError::Denied { .. })),
                "{label}: expected a denial, got {result:?}"
            );
            assert!(tables.is_empty(), "{label}: a refusal changed {tables:?}");
            assert_eq!(audit[0].0, "denied", "{label}");
            "denied".into()
        }
        Expect::Ok(expected) => {
            assert!(
                matches!(result, Ok(Outcome::Done { .. })),
                "{label}: expected success, got {result:?}"
            );
            let mut want = expected.to_vec();
            want.sort();
            let mut got = tables.clone();
            got.sort();
            assert_eq!(got, want, "{label}: changed tables");
            assert_eq!(audit[0].0, "ok", "{label}");
            if expected.is_empty() {
                "ok (read)".into()
            } else {
                format!("ok: {}", expected.join("+"))
            }
        }
        Expect::Parked => {
            assert!(
                matches!(result, Ok(Outcome::Pending { .. })),
                "{label}: expected a pending request, got {result:?}"
            );
            assert_eq!(
                tables,
                vec!["pending_confirmations"],
                "{label}: only the request is stored"
            );
            assert_eq!(audit[0].0, "pending", "{label}");
            "pending confirmation".into()
        }
        Expect::NotFound => {
            assert!(
                matches!(result, Err(ToolError::NotFound(_))),
                "{label}: {result:?}"
            );
            assert!(tables.is_empty(), "{label}: changed {tables:?}");
            assert_eq!(audit[0].0, "rejected", "{label}");
            "not found".into()
        }
    }
}

async fn matrix(db: Db) {
    let whos = [
        Who::Guest,
        Who::Owner,
        Who::OtherCustomer,
        Who::Staff,
        Who::Admin,
    ];
    println!("| tool ({db:?}) | guest | customer, own | customer, another's | staff | admin |");
    println!("|---|---|---|---|---|---|");
    for case in cases() {
        let mut row = format!("| {} ", case.tool);
        for (who, expect) in whos.iter().zip(case.expect) {
            row.push_str(&format!("| {} ", check_case(db, &case, *who, expect).await));
        }
        println!("{row}|");
    }
}

#[tokio::test]
async fn permission_matrix_sqlite() {
    matrix(Db::Sqlite).await;
}

#[tokio::test]
async fn permission_matrix_postgres() {
    matrix(Db::Postgres).await;
}

/// The hold's placer asking to release it gets a pending request, not a release.
#[tokio::test]
async fn placer_cannot_release_alone() {
    for db in BOTH {
        let shop = Shop::new(db).await;
        let bob = actor(Role::Staff, None, Some("bob"));
        let before = snapshot(shop.store()).await;
        let out = shop
            .toolbox()
            .invoke(
                &bob,
                &ToolCall::from_json("release_hold", json!({"order_id": 1006})).unwrap(),
                "t:1:0",
            )
            .await
            .unwrap();
        assert!(matches!(out, Outcome::Pending { .. }), "{out:?}");
        assert_eq!(
            changed(&before, &snapshot(shop.store()).await),
            vec!["pending_confirmations"]
        );
    }
}

/// Another customer's order and a missing order read exactly the same.
#[tokio::test]
async fn not_yours_reads_like_not_found() {
    let shop = Shop::new(Db::Sqlite).await;
    let theirs = shop.say(&ann(), "/order 1002", None).await;
    let missing = shop.say(&ann(), "/order 1002", None).await;
    let nonexistent = shop.say(&ann(), "/order 9999", None).await;
    assert_eq!(theirs, missing);
    assert_eq!(
        theirs.replace("1002", "N"),
        nonexistent.replace("9999", "N")
    );
    for probe in [
        "/cancel 1002",
        "/return 1005 broken",
        "/address 1002 US 1 Probe Street",
    ] {
        let reply = shop.say(&ann(), probe, None).await;
        assert!(reply.contains("can't find order"), "{probe}: {reply}");
    }
}
