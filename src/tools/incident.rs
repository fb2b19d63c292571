//! Incident mode (staff): declare an incident with a notice for affected customers, see its
//! status and timeline with the latest alerts, and close it with a summary.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Outcome, Run, Tool, ToolError, reason};
use crate::clock::{self, DAY};
use crate::policy::Rule;
use crate::store::incidents::{self, Incident};

/// Start, inspect or end an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManageIncident {
    pub action: IncidentAction,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum IncidentAction {
    Start {
        title: String,
        /// What affected customers are told first, in plain words.
        notice: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        carrier: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        region: Option<String>,
    },
    Status,
    End {
        /// Which incident; may be left out when only one is open.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<i64>,
        summary: String,
    },
}

#[async_trait]
impl Tool for ManageIncident {
    const NAME: &'static str = "incident";
    const DESCRIPTION: &'static str =
        "Start, inspect or end an incident with a customer notice (staff).";
    const RULE: Rule = Rule::Staff;
    const EFFECT: bool = true;

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        match &self.action {
            IncidentAction::Start {
                title,
                notice,
                carrier,
                region,
            } => {
                start(
                    run,
                    &reason(title)?,
                    &reason(notice)?,
                    carrier.as_deref(),
                    region.as_deref(),
                )
                .await
            }
            IncidentAction::Status => status(run).await,
            IncidentAction::End { id, summary } => end(run, *id, &reason(summary)?).await,
        }
    }
}

async fn start(
    run: &mut Run<'_>,
    title: &str,
    notice: &str,
    carrier: Option<&str>,
    region: Option<&str>,
) -> Result<Outcome, ToolError> {
    let freeze = run.config.incidents.freeze_repricing;
    let me = run.requester();
    let Some(incident) = incidents::start(
        run.conn, title, notice, carrier, region, freeze, &me, run.now,
    )
    .await?
    else {
        return Err(ToolError::Rejected(
            "An incident with that scope is already open: see /incident status.".into(),
        ));
    };
    incidents::log(
        run.conn,
        incident.id,
        "started",
        &format!("{me} started it: {title}"),
        run.now,
    )
    .await?;
    let affected = incidents::affected_customers(run.conn, &incident)
        .await?
        .len();
    let text = format!(
        "Incident #{} started ({}): {title}\nCustomers with an open shipment in scope: {affected}. They see this notice first when they write:\n  {notice}{}",
        incident.id,
        incident.scope(),
        if freeze {
            "\nAutomatic repricing suggestions are frozen until it ends."
        } else {
            ""
        }
    );
    Ok(Outcome::done(
        text,
        json!({"incident_id": incident.id, "affected": affected}),
    ))
}

async fn status(run: &mut Run<'_>) -> Result<Outcome, ToolError> {
    let open = incidents::open(run.conn).await?;
    let mut text = if open.is_empty() {
        "No incident is open.\n".to_string()
    } else {
        String::new()
    };
    for incident in &open {
        text.push_str(&describe(run, incident).await?);
    }
    let alerts: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT kind, subject, evidence, created_at FROM alerts WHERE created_at >= $1 ORDER BY created_at DESC, id LIMIT 10",
    )
    .bind(run.now - DAY)
    .fetch_all(&mut *run.conn)
    .await?;
    if !alerts.is_empty() {
        text.push_str("Alerts in the last 24 hours:\n");
        for (kind, subject, evidence, at) in &alerts {
            text.push_str(&format!(
                "  {} {} — {subject}: {evidence}\n",
                clock::datetime(*at),
                kind.replace('_', " ")
            ));
        }
    }
    Ok(Outcome::done(
        text.trim_end(),
        json!({"open": open.iter().map(|i| i.id).collect::<Vec<_>>()}),
    ))
}

async fn describe(run: &mut Run<'_>, incident: &Incident) -> Result<String, ToolError> {
    let mut text = format!(
        "Incident #{} ({}), open since {}: {}\n  Notice: {}\n",
        incident.id,
        incident.scope(),
        clock::datetime(incident.started_at),
        incident.title,
        incident.notice
    );
    for (at, kind, what) in incidents::timeline(run.conn, incident.id).await? {
        text.push_str(&format!("  {} {kind}: {what}\n", clock::datetime(at)));
    }
    Ok(text)
}

async fn end(run: &mut Run<'_>, id: Option<i64>, summary: &str) -> Result<Outcome, ToolError> {
    let open = incidents::open(run.conn).await?;
    let incident = match (id, open.as_slice()) {
        (Some(id), _) => open
            .iter()
            .find(|i| i.id == id)
            .cloned()
            .ok_or_else(|| ToolError::NotFound(format!("Incident #{id} is not open.")))?,
        (None, [only]) => only.clone(),
        (None, []) => return Err(ToolError::Rejected("No incident is open.".into())),
        (None, _) => {
            return Err(ToolError::Invalid(
                "Several incidents are open: say which, e.g. /incident end #3 <summary>.".into(),
            ));
        }
    };
    let me = run.requester();
    let notified = incidents::notified_count(run.conn, incident.id).await?;
    let noticed: (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM incident_events WHERE incident_id = $1 AND kind = 'notice_shown'",
    )
    .bind(incident.id)
    .fetch_one(&mut *run.conn)
    .await?;
    let hours = (run.now - incident.started_at) as f64 / 3600.0;
    let full = format!(
        "{summary} (open {hours:.1} h; notice shown to {} customers in chat, {notified} notified proactively)",
        noticed.0
    );
    incidents::log(
        run.conn,
        incident.id,
        "ended",
        &format!("{me} ended it: {summary}"),
        run.now,
    )
    .await?;
    incidents::end(run.conn, incident.id, &me, &full, run.now).await?;
    Ok(Outcome::done(
        format!(
            "Incident #{} ({}) is closed: {full}",
            incident.id,
            incident.scope()
        ),
        json!({"incident_id": incident.id}),
    ))
}
