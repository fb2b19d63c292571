//! The shapes structured output must take, as JSON schemas, and their grammars.
//!
//! A tool choice is `{"name":"<tool>","parameters":{...}}` for one of the offered tools, or
//! `{"name":"answer"}` to answer in words. (`name` sorts before `parameters`, and the
//! grammar follows key order, so the tool is chosen before its arguments are written.)
//! The grammar allows compact JSON only: whitespace between tokens would be tokens the
//! small model spends nothing useful on.

use serde_json::{Map, Value, json};

use super::ToolSpec;

/// The `name` of the choice that means "no tool: answer in words".
pub const ANSWER: &str = "answer";

/// Longest string argument a tool choice may hold (tighter than any limit of its own):
/// without it a small model can repeat a word until the token budget cuts the JSON short.
const MAX_ARGUMENT_CHARS: u64 = 40;

/// One schema that accepts exactly the valid choices among `tools`.
pub fn tool_choice_schema(tools: &[ToolSpec]) -> Value {
    let mut defs = Map::new();
    let mut choices: Vec<Value> = tools
        .iter()
        .map(|tool| {
            let mut parameters = tool.parameters.clone();
            hoist_definitions(&mut parameters, &mut defs);
            json!({
                "type": "object",
                "properties": {"name": {"const": tool.name}, "parameters": parameters},
                "required": ["name", "parameters"],
            })
        })
        .collect();
    choices.push(json!({
        "type": "object",
        "properties": {"name": {"const": ANSWER}},
        "required": ["name"],
    }));
    let mut schema = json!({ "anyOf": choices });
    if !defs.is_empty() {
        schema["$defs"] = Value::Object(defs);
    }
    close_objects(&mut schema);
    bound_strings(&mut schema);
    schema
}

/// What a finished tool-choice output means: a call, or `None` for "answer in words".
pub fn parse_tool_choice(output: &str) -> Result<Option<(String, Value)>, String> {
    let value: Value = serde_json::from_str(output.trim())
        .map_err(|e| format!("the model's choice is not JSON ({e}): {output}"))?;
    let name = value
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the model's choice names no tool: {output}"))?;
    if name == ANSWER {
        return Ok(None);
    }
    let parameters = value.get("parameters").cloned().unwrap_or(json!({}));
    Ok(Some((name.to_string(), parameters)))
}

/// The GBNF grammar for `schema`, made compact: llama.cpp's converter allows optional
/// whitespace (`space`) between every pair of tokens; we allow none.
pub fn compact_gbnf(schema: &Value) -> Result<String, String> {
    let gbnf = llama_cpp_2::json_schema_to_grammar(&schema.to_string())
        .map_err(|e| format!("cannot turn the schema into a grammar: {e}"))?;
    Ok(gbnf
        .lines()
        .map(|line| {
            if line.starts_with("space ::=") {
                "space ::= \"\"".to_string()
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Moves a tool schema's local definitions to the shared root, where its `$ref`s point
/// once the schema is nested inside the choice, and drops annotations the grammar ignores.
fn hoist_definitions(schema: &mut Value, defs: &mut Map<String, Value>) {
    if let Value::Object(map) = schema {
        for key in ["$defs", "definitions"] {
            if let Some(Value::Object(local)) = map.remove(key) {
                defs.extend(local);
            }
        }
        map.remove("$schema");
        map.remove("title");
        for value in map.values_mut() {
            rewrite_refs(value);
        }
    }
    for value in defs.values_mut() {
        rewrite_refs(value);
    }
}

fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/definitions/")
            {
                *r = format!("#/$defs/{name}");
            }
            map.values_mut().for_each(rewrite_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

/// Objects accept only the properties they name: the model cannot add keys of its own.
fn close_objects(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            map.values_mut().for_each(close_objects);
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// Strings get at most [`MAX_ARGUMENT_CHARS`], so every choice ends within its token budget.
fn bound_strings(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let is_string = match map.get("type") {
                Some(Value::String(t)) => t == "string",
                Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
                _ => false,
            };
            let free = !["enum", "const", "pattern", "format"]
                .iter()
                .any(|k| map.contains_key(*k));
            if is_string && free {
                let own = map.get("maxLength").and_then(Value::as_u64);
                let limit = own.map_or(MAX_ARGUMENT_CHARS, |n| n.min(MAX_ARGUMENT_CHARS));
                map.insert("maxLength".into(), json!(limit));
            }
            map.values_mut().for_each(bound_strings);
        }
        Value::Array(items) => items.iter_mut().for_each(bound_strings),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup() -> ToolSpec {
        ToolSpec {
            name: "order_lookup".into(),
            description: "Look up an order".into(),
            parameters: json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "title": "OrderLookup",
                "type": "object",
                "properties": {"order_id": {"type": "integer"}, "kind": {"$ref": "#/$defs/Kind"}},
                "required": ["order_id"],
                "$defs": {"Kind": {"type": "string", "enum": ["a", "b"]}}
            }),
        }
    }

    #[test]
    fn the_choice_schema_nests_each_tool_and_hoists_its_definitions() {
        let schema = tool_choice_schema(&[lookup()]);
        assert_eq!(schema["anyOf"].as_array().unwrap().len(), 2);
        assert_eq!(schema["$defs"]["Kind"]["enum"], json!(["a", "b"]));
        let params = &schema["anyOf"][0]["properties"]["parameters"];
        assert!(params.get("$defs").is_none() && params.get("title").is_none());
        assert_eq!(params["additionalProperties"], json!(false));
        assert_eq!(schema["$defs"]["Kind"].get("maxLength"), None);
    }

    #[test]
    fn free_strings_are_bounded() {
        let tool = ToolSpec {
            name: "product_search".into(),
            description: "Search".into(),
            parameters: json!({"type": "object", "properties": {"query": {"type": "string"}}}),
        };
        let schema = tool_choice_schema(&[tool]);
        let query = &schema["anyOf"][0]["properties"]["parameters"]["properties"]["query"];
        assert_eq!(query["maxLength"], json!(MAX_ARGUMENT_CHARS));
    }

    #[test]
    fn the_grammar_allows_no_whitespace() {
        let gbnf = compact_gbnf(&tool_choice_schema(&[lookup()])).unwrap();
        assert!(gbnf.contains("space ::= \"\""), "{gbnf}");
        assert!(gbnf.contains("order_lookup"), "{gbnf}");
    }

    #[test]
    fn choices_parse_into_a_call_or_an_answer() {
        assert_eq!(
            parse_tool_choice(r#"{"name":"order_lookup","parameters":{"order_id":7}}"#).unwrap(),
            Some(("order_lookup".into(), json!({"order_id": 7})))
        );
        assert_eq!(parse_tool_choice(r#"{"name":"answer"}"#).unwrap(), None);
        assert!(parse_tool_choice("{\"name\":").is_err());
    }
}
