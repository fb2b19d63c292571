//! Requests that need a second person are also posted in the staff area with an approve
//! button, so a colleague sees them without being asked in person.

use shopdesk_port::{Button, Inbound, Outbound};

use crate::policy::{Actor, Approval};

use super::Engine;

impl Engine {
    pub(super) async fn announce_pending(
        &self,
        actor: &Actor,
        inbound: &Inbound,
        approval: &str,
        text: &str,
        code: &str,
    ) {
        if Approval::parse(approval) != Some(Approval::SecondPerson) {
            return;
        }
        let Some((outbox, area)) = self.outboxes.staff_area() else {
            return;
        };
        if inbound.identity.channel == outbox.channel() && inbound.conversation == area {
            // Asked in the staff area itself: the reply there already carries the button.
            return;
        }
        let message = Outbound {
            conversation: area,
            text: format!("{} asks for a second person:\n{text}", actor.label()),
            buttons: vec![approve_button(code)],
        };
        if let Err(e) = outbox.send(message).await {
            tracing::warn!(code, error = %e, "could not post the approval request to staff");
        }
    }
}

pub fn approve_button(code: &str) -> Button {
    Button {
        label: format!("Approve {code}"),
        command: format!("/confirm {code}"),
    }
}
