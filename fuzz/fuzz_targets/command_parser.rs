//! Fuzzes the chat command parser: any text, for every role, must parse or be refused
//! without panicking, and a successful parse must yield a tool call whose arguments
//! round-trip through the tool's JSON (what the audit log and confirmations store).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shopdesk::engine::commands::{self, Command, Parsed};
use shopdesk::policy::Role;
use shopdesk::tools::ToolCall;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for role in [Role::Guest, Role::Customer, Role::Staff, Role::Admin] {
        if let Parsed::Ok(_, Command::Tool(call)) = commands::parse(text, role) {
            let again = ToolCall::from_json(call.name(), call.args_json()).expect("parsed arguments round-trip");
            assert_eq!(again, call);
        }
    }
});
