//! Messages → the prompt text a model was trained on.
//!
//! The GGUF's own chat template is used when llama.cpp recognises it; otherwise ChatML,
//! which most instruction-tuned models of this size accept. Tools are described in the
//! system message (llama.cpp's template engine takes no tool list), and tool results go
//! back to the model as user turns, which every template knows.

use super::{Message, Role, ToolSpec};

/// One leading system message (system messages merged, tools described in it), then the
/// conversation with tool results as user turns.
pub fn normalise(messages: &[Message], tools: &[ToolSpec]) -> Vec<Message> {
    let mut system: Vec<String> = messages
        .iter()
        .filter(|m| m.role == Role::System)
        .map(|m| m.content.clone())
        .collect();
    if !tools.is_empty() {
        system.push(describe_tools(tools));
    }
    let mut out = Vec::with_capacity(messages.len() + 1);
    if !system.is_empty() {
        out.push(Message::new(Role::System, system.join("\n\n")));
    }
    for m in messages.iter().filter(|m| m.role != Role::System) {
        out.push(match m.role {
            Role::Tool => Message::new(Role::User, format!("Tool result:\n{}", m.content)),
            _ => m.clone(),
        });
    }
    out
}

fn describe_tools(tools: &[ToolSpec]) -> String {
    let mut text = String::from(
        "Reply with JSON {\"name\":<tool>,\"parameters\":{...}} to call one of these tools, \
         or {\"name\":\"answer\"} to answer in words:",
    );
    for tool in tools {
        let params = tool
            .parameters
            .get("properties")
            .and_then(|p| p.as_object())
            .map(|p| p.keys().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        text.push_str(&format!(
            "\n- {}({params}): {}",
            tool.name, tool.description
        ));
    }
    text
}

/// ChatML, the fallback for templates llama.cpp does not recognise.
pub fn chatml(messages: &[Message], add_assistant: bool) -> String {
    let mut text = String::new();
    for m in messages {
        text.push_str(&format!(
            "<|im_start|>{}\n{}<|im_end|>\n",
            m.role.as_str(),
            m.content
        ));
    }
    if add_assistant {
        text.push_str("<|im_start|>assistant\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systems_merge_tools_are_described_and_tool_results_become_user_turns() {
        let tools = vec![ToolSpec {
            name: "stock_check".into(),
            description: "Stock of a product".into(),
            parameters: serde_json::json!({"properties": {"sku": {"type": "string"}}}),
        }];
        let messages = vec![
            Message::new(Role::System, "You are shopdesk."),
            Message::new(Role::User, "is SKU-1 in stock?"),
            Message::new(Role::Tool, "12 in stock"),
        ];
        let out = normalise(&messages, &tools);
        assert_eq!(out.len(), 3);
        assert!(out[0].content.contains("stock_check(sku)"));
        assert_eq!(out[2].role, Role::User);
        let prompt = chatml(&out, true);
        assert!(prompt.ends_with("<|im_start|>assistant\n"));
    }
}
