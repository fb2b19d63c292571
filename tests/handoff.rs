//! Handoff and linking in the engine, on SQLite and PostgreSQL, with recording outboxes in
//! place of the platforms: relays both ways, the queue, handing back by button and by
//! number, a web visitor who is offline when staff answer, and /link's limits per order.

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::*;
use shopdesk::port::{Author, Channel, Handler, Identity, Outbound, Outbox, OutboxError};

/// An outbox that keeps what the engine wrote; `reachable: false` plays an offline visitor.
struct Recorder {
    channel: Channel,
    area: Option<&'static str>,
    reachable: bool,
    sent: Mutex<Vec<Outbound>>,
    threads: Mutex<Vec<(String, Outbound)>>,
}

impl Recorder {
    fn new(channel: Channel, area: Option<&'static str>, reachable: bool) -> Arc<Recorder> {
        Arc::new(Recorder {
            channel,
            area,
            reachable,
            sent: Mutex::default(),
            threads: Mutex::default(),
        })
    }

    fn sent_to(&self, conversation: &str) -> Vec<String> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.conversation == conversation)
            .map(|m| m.text.clone())
            .collect()
    }
}

#[async_trait]
impl Outbox for Recorder {
    fn channel(&self) -> Channel {
        self.channel
    }

    async fn send(&self, message: Outbound) -> Result<(), OutboxError> {
        if !self.reachable {
            return Err(OutboxError::Unreachable(
                "the visitor is not connected".into(),
            ));
        }
        self.sent.lock().unwrap().push(message);
        Ok(())
    }

    fn staff_area(&self) -> Option<String> {
        self.area.map(String::from)
    }

    async fn open_thread(&self, title: &str, first: Outbound) -> Result<String, OutboxError> {
        let mut threads = self.threads.lock().unwrap();
        threads.push((title.to_string(), first));
        Ok(format!("thread-{}", threads.len()))
    }
}

/// Staff write in a staff conversation (a thread, or the staff room) on Discord.
async fn staff_says(shop: &Shop, who: &Identity, conversation: &str, text: &str) -> String {
    let inbound = shopdesk::port::Inbound::text(who.clone(), conversation, text);
    shop.engine
        .handle(inbound)
        .await
        .collect()
        .await
        .map(|r| r.text)
        .unwrap_or_default()
}

#[tokio::test]
async fn handoffs_relay_both_ways_queue_and_hand_back() {
    for db in BOTH {
        let shop = Shop::new(db).await;
        let discord = Recorder::new(Channel::Discord, Some("staff-room"), true);
        let telegram = Recorder::new(Channel::Telegram, None, true);
        let web = Recorder::new(Channel::Web, None, false);
        for outbox in [&discord, &telegram, &web] {
            shop.engine.outboxes().register(outbox.clone());
        }

        let queued = shop.say(&ann(), "/human", Some("h-1")).await;
        assert!(queued.contains("number 1 in the queue"), "{db:?}: {queued}");
        let (title, intro) = discord.threads.lock().unwrap()[0].clone();
        assert!(title.contains("Ann Lee"));
        assert!(intro.text.contains("Recent orders") && intro.buttons[0].command == "/handback");
        assert_eq!(
            shop.say(&ann(), "/human", Some("h-2")).await,
            "",
            "already handed off: relayed"
        );

        let visitor = Identity::new(Channel::Web, "v-1");
        let mut inbound = shopdesk::port::Inbound::text(visitor.clone(), "v-1", "/human");
        inbound.event_id = Some("w-1".into());
        shop.engine.handle(inbound).await.collect().await;

        let queue = staff_says(&shop, &alice(), "staff-room", "/queue").await;
        assert!(queue.starts_with("Waiting for a person (2)"), "{queue}");
        assert_eq!(queue.matches("Waiting for a person").count(), 1, "{queue}");

        assert_eq!(
            staff_says(&shop, &alice(), "thread-1", "Hello Ann, on it.").await,
            ""
        );
        assert_eq!(
            telegram.sent_to("chat-7001"),
            ["alice (store team): Hello Ann, on it."]
        );
        assert_eq!(
            shop.say(&ann(), "thanks!", Some("h-3")).await,
            "",
            "the bot is silent"
        );
        assert!(
            discord
                .sent_to("thread-1")
                .contains(&"Ann Lee (customer #1): thanks!".to_string())
        );

        let offline = staff_says(&shop, &alice(), "thread-2", "Hi, how can I help?").await;
        assert!(
            offline.contains("Not delivered to the customer right now"),
            "{offline}"
        );
        let history = shop.engine.history(&visitor, "v-1", 10).await;
        assert!(
            history
                .iter()
                .any(|l| l.from == Author::Staff && l.text.contains("Hi, how can I help?")),
            "the visitor sees it when they come back: {history:?}"
        );

        let back = staff_says(&shop, &alice(), "thread-1", "/handback").await;
        assert!(
            back.contains("Handed back to the bot: handoff #1"),
            "{back}"
        );
        assert!(telegram.sent_to("chat-7001")[1].contains("back with the store's assistant"));
        assert!(
            shop.say(&ann(), "/orders", Some("h-4"))
                .await
                .contains("#1001")
        );
        let by_number = staff_says(&shop, &bob(), "staff-room", "/handback 2").await;
        assert!(
            by_number.contains("could not be told right now"),
            "{by_number}"
        );
        assert_eq!(
            shop.count("SELECT COUNT(*) FROM handoffs WHERE status = 'open'")
                .await,
            0
        );
        assert_eq!(
            shop.count("SELECT COUNT(*) FROM conversations WHERE owner <> 'bot'")
                .await,
            0
        );
    }
}

#[tokio::test]
async fn linking_joins_histories_and_guessing_one_order_is_stopped() {
    for db in BOTH {
        let shop = Shop::new(db).await;
        shop.say(&ann(), "/order 1004", Some("t-1")).await;
        let visitor = Identity::new(Channel::Web, "v-ann");
        let linked = shop
            .say(&visitor, "/link 1004 ann@example.com", Some("w-1"))
            .await;
        assert!(linked.contains("Ann Lee"), "{linked}");
        let lines: Vec<String> = shop
            .engine
            .history(&visitor, "chat-v-ann", 20)
            .await
            .into_iter()
            .map(|l| l.text)
            .collect();
        assert!(
            lines.contains(&"/order 1004".to_string()),
            "one history: {lines:?}"
        );

        // Ten accounts guessing at order 1002 lock it for everyone for the window.
        for n in 0..10 {
            let guesser = Identity::new(Channel::Web, format!("g-{n}"));
            shop.say(&guesser, "/link 1002 guess@example.com", None)
                .await;
        }
        let late = Identity::new(Channel::Web, "g-late");
        let locked = shop
            .say(&late, "/link 1002 wang.fang@example.cn", None)
            .await;
        assert!(locked.contains("Too many attempts"), "{locked}");
        assert_eq!(
            shop.count("SELECT COUNT(*) FROM customer_identities WHERE customer_id = 2")
                .await,
            1,
            "only the fixture's Telegram account"
        );
        assert_eq!(
            shop.count("SELECT COUNT(*) FROM audit_log WHERE tool = 'link_account'")
                .await,
            12
        );
    }
}
