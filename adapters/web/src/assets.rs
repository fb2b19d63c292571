//! The widget's files, compiled into the binary so the chat works from a single file.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const SHOP_PAGE: &str = include_str!("../static/index.html");
const CHAT_PAGE: &str = include_str!("../static/chat.html");
const WIDGET_JS: &str = include_str!("../static/widget.js");
const WIDGET_CSS: &str = include_str!("../static/widget.css");

pub fn router() -> Router {
    Router::new()
        .route("/", get(|| file("text/html; charset=utf-8", SHOP_PAGE)))
        .route("/chat", get(|| file("text/html; charset=utf-8", CHAT_PAGE)))
        .route(
            "/chat/widget.js",
            get(|| file("text/javascript; charset=utf-8", WIDGET_JS)),
        )
        .route(
            "/chat/widget.css",
            get(|| file("text/css; charset=utf-8", WIDGET_CSS)),
        )
}

async fn file(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, content_type)], body)
}
