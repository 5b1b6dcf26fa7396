//! When held data must be gone: the date a retention rule gives for what a flow carried. Pure.

use jiff::Timestamp;
use jiff::civil::Date;

use super::model::RetentionRule;
use super::vocab::RetentionStart;

/// When what a flow carried must be gone under `rule`: `keep_for` after `received`, or
/// `keep_for` after `ended`, the agreement's last day (at the London midnight that follows).
/// `None` while retention runs from an agreement that has not ended.
pub fn retention_ends(
    rule: &RetentionRule,
    received: Timestamp,
    ended: Option<Date>,
) -> Option<Timestamp> {
    match rule.from {
        RetentionStart::Receipt => rule.keep_for.after_instant(received),
        RetentionStart::AgreementEnd => {
            let end = rule.keep_for.after(ended?)?;
            Some(end.to_zoned(crate::dates::london()).ok()?.timestamp())
        }
    }
}
