//! Who may do what. Roles come from the store (which platform account is linked to which
//! customer or staff member), never from what a message says, and every tool call is
//! checked here before it acts.

use std::fmt;

use shopdesk_port::Channel;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Someone we cannot tie to a customer record yet (an unlinked chat account).
    Guest,
    Customer,
    Staff,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Guest => "guest",
            Role::Customer => "customer",
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }

    pub fn is_staff(self) -> bool {
        self >= Role::Staff
    }
}

/// The person behind a message, as the store knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub role: Role,
    /// The customer record, for customers.
    pub customer_id: Option<i64>,
    /// The staff member's name, for staff and admins.
    pub staff_name: Option<String>,
    pub channel: Channel,
    /// The platform account, for guests (who have no record yet).
    pub external_id: String,
    /// `en` or `zh`: the language replies are written in.
    pub language: String,
}

impl Actor {
    /// A stable label for audit records and approvals: `customer:12`, `staff:alice`.
    pub fn label(&self) -> String {
        match (self.role, self.customer_id, &self.staff_name) {
            (Role::Customer, Some(id), _) => format!("customer:{id}"),
            (Role::Staff | Role::Admin, _, Some(name)) => format!("staff:{name}"),
            _ => format!("guest:{}:{}", self.channel, self.external_id),
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.label(), self.role.as_str())
    }
}

/// The role-level rule a tool declares; ownership of the data is checked on top of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Anyone, guests included (public catalogue information).
    Anyone,
    /// Customers on their own records, and staff on anyone's.
    OwnerOrStaff,
    /// Staff and admins.
    Staff,
    /// Admins only.
    Admin,
}

impl Rule {
    pub fn allows(self, role: Role) -> bool {
        match self {
            Rule::Anyone => true,
            Rule::OwnerOrStaff => role >= Role::Customer,
            Rule::Staff => role.is_staff(),
            Rule::Admin => role == Role::Admin,
        }
    }
}

/// Whether the actor may see or act on an order of `owner_customer_id`. A customer's
/// refusal must look exactly like a missing order, so callers answer "not found" for both.
pub fn may_touch_order(actor: &Actor, owner_customer_id: i64) -> bool {
    match actor.role {
        Role::Staff | Role::Admin => true,
        Role::Customer => actor.customer_id == Some(owner_customer_id),
        Role::Guest => false,
    }
}

/// Who may decide a pending request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// The requester confirms their own risky request (a large restock).
    Requester,
    /// A second person: staff other than the requester (and other than `excluded`, such as
    /// the one who placed a hold), or an admin.
    SecondPerson,
}

impl Approval {
    pub fn as_str(self) -> &'static str {
        match self {
            Approval::Requester => "requester",
            Approval::SecondPerson => "second_person",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "requester" => Some(Approval::Requester),
            "second_person" => Some(Approval::SecondPerson),
            _ => None,
        }
    }

    /// Whether `decider` may confirm a request made by `requester`.
    pub fn permits(self, decider: &Actor, requester: &str, excluded: Option<&str>) -> bool {
        let me = decider.label();
        match self {
            Approval::Requester => me == requester,
            Approval::SecondPerson => {
                decider.role == Role::Admin
                    || (decider.role == Role::Staff
                        && me != requester
                        && Some(me.as_str()) != excluded)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, customer: Option<i64>, staff: Option<&str>) -> Actor {
        Actor {
            role,
            customer_id: customer,
            staff_name: staff.map(String::from),
            channel: Channel::Cli,
            external_id: "x".into(),
            language: "en".into(),
        }
    }

    #[test]
    fn customers_touch_only_their_own_orders() {
        assert!(may_touch_order(&actor(Role::Customer, Some(7), None), 7));
        assert!(!may_touch_order(&actor(Role::Customer, Some(7), None), 8));
        assert!(!may_touch_order(&actor(Role::Guest, None, None), 7));
        assert!(may_touch_order(&actor(Role::Staff, None, Some("alice")), 8));
    }

    #[test]
    fn second_person_approval_excludes_requester_and_hold_placer() {
        let alice = actor(Role::Staff, None, Some("alice"));
        let bob = actor(Role::Staff, None, Some("bob"));
        let root = actor(Role::Admin, None, Some("root"));
        let rule = Approval::SecondPerson;
        assert!(!rule.permits(&alice, "staff:alice", None));
        assert!(rule.permits(&bob, "staff:alice", None));
        assert!(!rule.permits(&bob, "staff:alice", Some("staff:bob")));
        assert!(rule.permits(&root, "staff:root", None));
        assert!(!rule.permits(&actor(Role::Customer, Some(1), None), "staff:alice", None));
        assert!(Approval::Requester.permits(&alice, "staff:alice", None));
        assert!(!Approval::Requester.permits(&bob, "staff:alice", None));
    }
}
