//! A complete set of access-request answers, as a requester would type them.

/// Every answer of the form, as posted pairs, asking `target` (`agreement:ID` or `party:ID`)
/// for `data` (field ids, or categories for an organisation), with `text` added to every
/// free-text answer (to carry hostile text).
pub fn answers(target: &str, data: &[&str], text: &str) -> Vec<(String, String)> {
    let mut posted: Vec<(String, String)> = [
        ("org_name", format!("Hope Foodbank{text}")),
        ("org_ico", "ZA123456".into()),
        ("org_address", format!("1 High Street{text}")),
        ("org_sector", "vcs".into()),
        ("dspt_status", "standards_met".into()),
        ("dspt_expires", "2027-06-30".into()),
        ("iso27001", "no".into()),
        ("requester_name", format!("Ann Lee{text}")),
        ("requester_role", "Operations manager".into()),
        ("requester_email", "ann@hope.example".into()),
        ("dpo_name", "Dan Poe".into()),
        ("dpo_email", "dpo@hope.example".into()),
        ("target", target.into()),
        ("purpose", format!("To make up food parcels{text}")),
        ("benefits", format!("Residents fed the same day{text}")),
        ("necessity", format!("No parcel without an address{text}")),
        ("subjects", "residents".into()),
        ("volume", "About 200 residents a month".into()),
        ("frequency", "on_demand".into()),
        ("article6", "public_task".into()),
        ("legal_power", format!("Care Act 2014 s.1{text}")),
        ("article9", "health_social_care".into()),
        ("schedule1", "p2_health_social_care".into()),
        ("article10", "official_authority".into()),
        ("keep_for", "P6M".into()),
        ("then", "delete".into()),
        ("deletion_method", "email".into()),
        ("deletion_email", "data@hope.example".into()),
        ("onward", "yes".into()),
        ("onward_details", format!("Our delivery partner{text}")),
        ("processors", "no".into()),
        ("rights", format!("Our DPO answers within a month{text}")),
        ("rights_email", "rights@hope.example".into()),
        ("start", "2027-01-04".into()),
        ("end", "2028-01-03".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    posted.extend(data.iter().map(|d| ("data".to_owned(), (*d).to_owned())));
    posted
}
