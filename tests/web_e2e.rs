//! End to end on the web chat: a WebSocket client speaking the protocol to the web adapter
//! (served by the same router `shopdesk serve` uses), and headless Chromium loading /chat,
//! typing a question and watching the streamed answer. Covers hello/resume with signed
//! tokens, token frames then done, bad frames, floods, a socket closed mid-stream, and one
//! history for a customer linked on Telegram and the web.

mod common;
mod fakes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;
use fakes::PATIENCE;
use fakes::cdp::Browser;
use fakes::scripted::{self, Scripted};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use shopdesk::channels;
use shopdesk::clock::ManualClock;
use shopdesk::config::Config;
use shopdesk::engine::Engine;
use shopdesk::port::{Channel, Handler};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

fn config() -> Config {
    let mut c = Config::default();
    c.web.resume_secret = "a-test-secret-that-is-long-enough".into();
    c.web.max_frame_bytes = 4096;
    c
}

async fn serve(handler: Arc<dyn Handler>, engine: &Engine, config: &Config) -> SocketAddr {
    let channels = channels::start_with(config, handler, engine).await;
    assert!(channels.is_running(Channel::Web), "{:?}", channels.report);
    fakes::serve(channels.router).await
}

struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/chat/ws"))
            .await
            .unwrap();
        Client { ws }
    }

    async fn send(&mut self, frame: Value) {
        self.ws
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }

    /// The next frame: JSON for a text frame, or `{"closed": code}`.
    async fn next(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("a frame in time");
            match message {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(text.as_str()).unwrap();
                }
                Some(Ok(Message::Close(frame))) => {
                    return json!({"closed": frame.map(|f| u16::from(f.code))});
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return json!({"closed": null}),
            }
        }
    }

    async fn expect(&mut self, kind: &str) -> Value {
        let frame = self.next().await;
        assert_eq!(frame["type"], kind, "{frame}");
        frame
    }

    async fn hello(&mut self) -> Value {
        self.send(json!({"type": "hello", "language": "en"})).await;
        self.expect("welcome").await
    }

    /// Sends a message; returns its token frames' texts and its done frame.
    async fn ask(&mut self, id: &str, text: &str) -> (Vec<String>, Value) {
        self.send(json!({"type": "message", "id": id, "text": text}))
            .await;
        let mut tokens = Vec::new();
        loop {
            let frame = self.next().await;
            match frame["type"].as_str() {
                Some("typing") => {}
                Some("token") if frame["id"] == id => {
                    tokens.push(frame["text"].as_str().unwrap().to_string())
                }
                Some("done") if frame["id"] == id => return (tokens, frame),
                _ => panic!("unexpected frame while waiting for {id}: {frame}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_stream_as_token_frames_then_done_and_resume_continues() {
    let shop = Shop::new(Db::Sqlite).await;
    let handler = Scripted::new(shop.engine.clone(), Duration::from_millis(150));
    let addr = serve(handler, &shop.engine, &config()).await;

    let mut client = Client::connect(addr).await;
    let welcome = client.hello().await;
    let visitor = welcome["visitor"].as_str().unwrap().to_string();
    let token = welcome["resume_token"].as_str().unwrap().to_string();
    assert_eq!(visitor.len(), 32);
    assert_eq!(welcome["history"], json!([]));

    client.send(json!({"type": "typing"})).await;
    let (tokens, done) = client.ask("q1", scripted::QUESTION).await;
    println!("token frames: {tokens:?}");
    assert!(tokens.len() >= 2, "streamed in pieces: {tokens:?}");
    assert_eq!(done["text"], scripted::full_answer());
    assert_eq!(tokens.concat(), scripted::full_answer());

    let (_, help) = client.ask("h1", "/help").await;
    assert!(help["text"].as_str().unwrap().contains("/link"));
    let (tokens, again) = client.ask("h1", "/help").await;
    assert!(tokens.is_empty() && again["duplicate"] == true, "{again}");
    drop(client);

    let mut back = Client::connect(addr).await;
    back.send(json!({"type": "resume", "token": token})).await;
    let resumed = back.expect("welcome").await;
    assert_eq!(resumed["visitor"], visitor.as_str());
    let history = resumed["history"].as_array().unwrap();
    assert!(
        history.contains(&json!({"from": "user", "text": "/help"})),
        "{history:?}"
    );
    assert!(history.iter().any(|l| l["from"] == "bot"));
    let (_, whoami) = back.ask("w1", "/whoami").await;
    assert!(whoami["text"].as_str().unwrap().contains(&visitor));

    let mut forged = Client::connect(addr).await;
    let tampered = token.replacen(&visitor[..6], "ffffff", 1);
    forged
        .send(json!({"type": "resume", "token": tampered}))
        .await;
    let refused = forged.expect("error").await;
    assert_eq!(refused["code"], "bad_token");
    let fresh = forged.hello().await;
    assert_ne!(fresh["visitor"], visitor.as_str());
}

/// The real model behind the real engine: its answer in words reaches the visitor as
/// token frames while it is being written, and the stored reply is the whole of it. The
/// model may pick a read-only tool instead (a whole answer, one frame); the first of
/// these messages it answers in words is the one checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_answer_streams_in_several_token_frames() {
    let Some(model) = common::model::shared().await else {
        return;
    };
    let shop = Shop::new(Db::Sqlite).await;
    shop.engine.set_model(model);
    let addr = serve(shop.engine.clone(), &shop.engine, &config()).await;
    let mut client = Client::connect(addr).await;
    client.hello().await;
    let messages = [
        "hello! how are you today?",
        "write me a short poem about the sea",
        "tell me something nice",
        "what is your name?",
        "good morning, who are you?",
    ];
    for (i, text) in messages.iter().enumerate() {
        let (tokens, done) = client.ask(&format!("m{i}"), text).await;
        println!("{text} → token frames: {tokens:?}");
        assert_eq!(done["text"].as_str().unwrap(), tokens.concat());
        if tokens.len() >= 2 {
            return;
        }
    }
    panic!("the model answered none of these in words, or never in more than one piece");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_get_clear_errors_or_a_clean_close() {
    let shop = Shop::new(Db::Sqlite).await;
    let addr = serve(shop.engine.clone(), &shop.engine, &config()).await;
    let mut c = Client::connect(addr).await;

    let error = async |c: &mut Client, frame: Message| {
        c.ws.send(frame).await.unwrap();
        let e = c.expect("error").await;
        e["code"].as_str().unwrap().to_string()
    };
    let text = |s: &str| Message::Text(s.to_string().into());
    assert_eq!(
        error(&mut c, text(r#"{"type":"message","text":"hi"}"#)).await,
        "hello_first"
    );
    assert_eq!(error(&mut c, text("{oops")).await, "invalid_json");
    assert_eq!(
        error(&mut c, text(r#"{"type":"dance"}"#)).await,
        "unknown_type"
    );
    assert_eq!(
        error(&mut c, text(r#"{"type":"message"}"#)).await,
        "invalid_json"
    );
    assert_eq!(
        error(&mut c, Message::Binary(vec![0, 159, 146, 150].into())).await,
        "binary_not_supported"
    );
    c.hello().await;
    assert_eq!(
        error(&mut c, text(r#"{"type":"hello"}"#)).await,
        "already_started"
    );
    assert_eq!(
        error(
            &mut c,
            text(r#"{"type":"message","id":"no spaces!","text":"x"}"#)
        )
        .await,
        "bad_id"
    );
    let big = json!({"type": "message", "id": "big", "text": "x".repeat(5000)}).to_string();
    assert_eq!(error(&mut c, text(&big)).await, "too_large");
    let (_, still) = c.ask("after", "/whoami").await;
    assert!(still["text"].as_str().unwrap().contains("guest"), "{still}");

    // Far beyond the limit the socket is closed with 1009, and the server goes on.
    let huge = "y".repeat(20_000);
    let _ = c.ws.send(text(&huge)).await;
    assert_eq!(c.next().await, json!({"closed": 1009}));

    // A client that keeps sending garbage is cut off with 1008.
    let mut noisy = Client::connect(addr).await;
    for _ in 0..19 {
        noisy.ws.send(text("nope")).await.unwrap();
        noisy.expect("error").await;
    }
    noisy.ws.send(text("nope")).await.unwrap();
    noisy.expect("error").await;
    assert_eq!(
        noisy.next().await,
        json!({"closed": u16::from(CloseCode::Policy)})
    );

    let mut next = Client::connect(addr).await;
    next.hello().await;
    let (_, fine) = next.ask("ok", "/start").await;
    assert!(fine["text"].as_str().unwrap().starts_with("Hi!"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_gets_one_polite_answer_then_silence() {
    let db = TestDb::new(Db::Sqlite).await;
    fixture(&db.store).await;
    let mut settings = Config::default();
    settings.limits.per_identity_per_minute = 3;
    let engine = Arc::new(engine_for(&db.store, ManualClock::new(NOW), settings));
    let addr = serve(engine.clone(), &engine, &config()).await;
    let mut c = Client::connect(addr).await;
    c.hello().await;
    let mut answers = Vec::new();
    for i in 0..6 {
        let (_, done) = c.ask(&format!("f{i}"), "/whoami").await;
        answers.push(done["text"].as_str().unwrap().to_string());
    }
    println!("{answers:#?}");
    assert!(answers[..3].iter().all(|a| a.contains("guest")));
    assert!(answers[3].contains("faster than I can read"));
    assert_eq!(answers[4..], ["", ""], "silence for the rest of the flood");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_closed_mid_stream_loses_nothing() {
    let shop = Shop::new(Db::Sqlite).await;
    let handler = Scripted::new(shop.engine.clone(), Duration::from_millis(300));
    let addr = serve(handler.clone(), &shop.engine, &config()).await;

    let mut c = Client::connect(addr).await;
    let token = c.hello().await["resume_token"]
        .as_str()
        .unwrap()
        .to_string();
    c.send(json!({"type": "message", "id": "s1", "text": scripted::QUESTION}))
        .await;
    c.expect("typing").await;
    c.expect("token").await;
    drop(c);

    // The server reads the answer to its end although nobody is listening.
    let deadline = Instant::now() + PATIENCE;
    while handler.pulled.load(Ordering::SeqCst) < scripted::ANSWER.len() {
        assert!(
            Instant::now() < deadline,
            "the answer was abandoned mid-stream"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The client resumes and sends the same message again: it gets the whole answer once.
    let mut back = Client::connect(addr).await;
    back.send(json!({"type": "resume", "token": token})).await;
    back.expect("welcome").await;
    let (_, done) = back.ask("s1", scripted::QUESTION).await;
    assert_eq!(done["text"], scripted::full_answer());
    let (_, again) = back.ask("s1", scripted::QUESTION).await;
    assert_eq!(again["duplicate"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_linked_on_telegram_and_the_web_has_one_history() {
    let shop = Shop::new(Db::Sqlite).await;
    let addr = serve(shop.engine.clone(), &shop.engine, &config()).await;
    shop.say(&ann(), "/order 1004", Some("tg-1")).await;

    let mut c = Client::connect(addr).await;
    let welcome = c.hello().await;
    let visitor = welcome["visitor"].as_str().unwrap().to_string();
    let token = welcome["resume_token"].as_str().unwrap().to_string();
    let (_, linked) = c.ask("l1", "/link 1001 +1-555-0001").await;
    assert!(
        linked["text"].as_str().unwrap().contains("Ann Lee"),
        "{linked}"
    );
    let (_, orders) = c.ask("o1", "/orders").await;
    assert!(orders["text"].as_str().unwrap().contains("#1004"));
    drop(c);

    let mut resumed = Client::connect(addr).await;
    resumed
        .send(json!({"type": "resume", "token": token}))
        .await;
    let history = resumed.expect("welcome").await["history"].clone();
    let lines: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert!(
        lines.contains(&"/order 1004"),
        "Telegram's messages are in the web history: {lines:?}"
    );
    assert!(lines.contains(&"/orders"));

    let staff_view = shop.say(&alice(), "/history 1", None).await;
    println!("{staff_view}");
    assert!(staff_view.contains("telegram:7001") && staff_view.contains(&format!("web:{visitor}")));
    assert!(staff_view.contains("· telegram · Ann Lee: /order 1004"));
    assert!(staff_view.contains("· web · Ann Lee: /orders"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_types_a_question_and_watches_the_answer_stream_in() {
    let shop = Shop::new(Db::Sqlite).await;
    let handler = Scripted::new(shop.engine.clone(), Duration::from_millis(400));
    let addr = serve(handler, &shop.engine, &config()).await;
    let mut browser = Browser::launch().await;

    browser.open(&format!("http://{addr}/chat")).await;
    browser
        .wait_for(
            "the widget to connect",
            "document.querySelector('.sd-chat')?.dataset.state === 'ready'",
        )
        .await;
    browser
        .eval(&format!(
            "(() => {{ const i = document.querySelector('.sd-input'); i.value = {}; \
             i.dispatchEvent(new Event('input')); document.querySelector('.sd-form').requestSubmit(); return true; }})()",
            json!(scripted::QUESTION)
        ))
        .await;
    let full = scripted::full_answer();
    let mut seen: Vec<String> = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let state = browser
            .eval("(() => { const b = [...document.querySelectorAll('.sd-bot')].pop(); return b ? [b.textContent, b.classList.contains('sd-done')] : null; })()")
            .await;
        if let Some(text) = state[0].as_str()
            && seen.last().map(String::as_str) != Some(text)
        {
            seen.push(text.to_string());
        }
        if state[1] == true {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the answer never finished: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    println!("the page showed, in turn: {seen:#?}");
    assert_eq!(seen.last().unwrap(), &full);
    assert!(
        seen.iter()
            .any(|s| !s.is_empty() && s.len() < full.len() && full.starts_with(s.as_str())),
        "a partial answer was on screen before the end: {seen:?}"
    );
    let chunks = browser
        .eval("document.querySelector('.sd-bot.sd-done').dataset.chunks")
        .await;
    assert_eq!(chunks, json!(scripted::ANSWER.len().to_string()));

    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-chat.png");
    browser.screenshot(&shot).await;
    println!("screenshot of /chat: {}", shot.display());

    // The demo shop page, as a new visitor: the widget in the corner answers a command.
    browser.open(&format!("http://{addr}/")).await;
    browser.eval("localStorage.clear(); true").await;
    browser.open(&format!("http://{addr}/")).await;
    browser
        .wait_for(
            "the widget on the shop page",
            "document.querySelector('.sd-chat')?.dataset.state === 'ready'",
        )
        .await;
    browser
        .eval(
            "(() => { document.querySelector('.sd-toggle').click(); const i = document.querySelector('.sd-input'); \
             i.value = '/stock SKU-A'; document.querySelector('.sd-form').requestSubmit(); return true; })()",
        )
        .await;
    browser
        .wait_for(
            "the stock answer",
            "document.querySelector('.sd-bot.sd-done')?.textContent.includes('in stock') === true",
        )
        .await;
    let shop_shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-shop.png");
    browser.screenshot(&shop_shot).await;
    println!(
        "screenshot of the demo shop with the widget: {}",
        shop_shot.display()
    );
}
