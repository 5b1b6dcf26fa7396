//! Step 3: consultation, with data subjects, DPOs and processors.

use serde::Serialize;

use super::contact;
use crate::agreement::Agreement;
use crate::agreement::vocab::PartyRole;

/// Step 3: consultation.
#[derive(Debug, Clone, Serialize)]
pub struct Consultation {
    pub data_subject_views: Option<String>,
    /// What to do when no views are recorded.
    pub missing_views: Option<&'static str>,
    pub dpos: Vec<String>,
    pub processors: Vec<String>,
}

pub(super) fn consultation(a: &Agreement) -> Consultation {
    let views = a.dpia.as_ref().and_then(|d| d.data_subject_views.clone());
    let missing_views = views.is_none().then_some(
        "No consultation with data subjects is recorded. Article 35(9) asks the controller to \
         seek the views of data subjects or their representatives where appropriate, or to \
         record why it is not appropriate.",
    );
    Consultation {
        data_subject_views: views,
        missing_views,
        dpos: a
            .parties
            .iter()
            .filter_map(|p| {
                p.dpo
                    .as_ref()
                    .map(|d| format!("{}, data protection officer for {}", contact(d), p.name))
            })
            .collect(),
        processors: a
            .parties
            .iter()
            .filter(|p| p.role == PartyRole::Processor)
            .map(|p| {
                let contract = p
                    .contract
                    .as_ref()
                    .map(|c| format!(" ({})", c.trim()))
                    .unwrap_or_default();
                format!(
                    "{} is a processor: its Article 28 contract{contract} obliges it to assist \
                     with this DPIA (Article 28(3)(f)).",
                    p.name
                )
            })
            .collect(),
    }
}
