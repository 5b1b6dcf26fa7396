//! Plain-English names for the format's codes, as a DPO reads them in a DPIA: `public_task`
//! becomes "Article 6(1)(e) public task", `p18_safeguarding` the title of Schedule 1 paragraph
//! 18. Kept apart from the vocabularies because they are wording for documents, not format.

use jiff::Span;
use jiff::civil::Date;

use crate::agreement::model::Signature;
use crate::agreement::values::IsoDuration;
use crate::agreement::vocab::*;

pub fn article6(a: Article6) -> &'static str {
    match a {
        Article6::Consent => "Article 6(1)(a) consent",
        Article6::Contract => "Article 6(1)(b) contract",
        Article6::LegalObligation => "Article 6(1)(c) legal obligation",
        Article6::VitalInterests => "Article 6(1)(d) vital interests",
        Article6::PublicTask => "Article 6(1)(e) public task",
        Article6::LegitimateInterests => "Article 6(1)(f) legitimate interests",
        Article6::RecognisedLegitimateInterests => {
            "Article 6(1)(ea) recognised legitimate interests"
        }
    }
}

pub fn article9(a: Article9) -> &'static str {
    match a {
        Article9::ExplicitConsent => "Article 9(2)(a) explicit consent",
        Article9::Employment => "Article 9(2)(b) employment, social security and social protection",
        Article9::VitalInterests => "Article 9(2)(c) vital interests",
        Article9::NotForProfit => "Article 9(2)(d) not-for-profit bodies",
        Article9::MadePublic => "Article 9(2)(e) made public by the data subject",
        Article9::LegalClaims => "Article 9(2)(f) legal claims or judicial acts",
        Article9::SubstantialPublicInterest => {
            "Article 9(2)(g) reasons of substantial public interest"
        }
        Article9::HealthSocialCare => "Article 9(2)(h) health or social care",
        Article9::PublicHealth => "Article 9(2)(i) public health",
        Article9::ArchivingResearch => "Article 9(2)(j) archiving, research and statistics",
    }
}

pub fn article10(a: Article10) -> &'static str {
    match a {
        Article10::OfficialAuthority => "Article 10: under the control of official authority",
        Article10::Schedule1 => {
            "Article 10: authorised by law through DPA 2018 s.10(5) and a Schedule 1 condition"
        }
    }
}

/// "Paragraph 18: safeguarding of children and of individuals at risk" (DPA 2018 Schedule 1).
pub fn schedule1(code: Schedule1) -> String {
    format!(
        "DPA 2018 Schedule 1 paragraph {}: {}",
        code.paragraph(),
        schedule1_title(code)
    )
}

fn schedule1_title(code: Schedule1) -> &'static str {
    use Schedule1::*;
    match code {
        P1Employment => "employment, social security and social protection",
        P2HealthSocialCare => "health or social care purposes",
        P3PublicHealth => "public health",
        P4Research => "research etc",
        P6StatutoryGovernment => "statutory etc and government purposes",
        P7JusticeParliament => "administration of justice and parliamentary purposes",
        P8Equality => "equality of opportunity or treatment",
        P9RacialDiversity => "racial and ethnic diversity at senior levels of organisations",
        P10PreventingUnlawfulActs => "preventing or detecting unlawful acts",
        P11ProtectingPublicDishonesty => "protecting the public against dishonesty etc",
        P12RegulatoryRequirements => {
            "regulatory requirements relating to unlawful acts and dishonesty etc"
        }
        P13Journalism => "journalism etc in connection with unlawful acts and dishonesty etc",
        P14PreventingFraud => "preventing fraud",
        P15TerroristFinancing => "suspicion of terrorist financing or money laundering",
        P16DisabilitySupport => {
            "support for individuals with a particular disability or medical condition"
        }
        P17Counselling => "counselling etc",
        P18Safeguarding => "safeguarding of children and of individuals at risk",
        P19EconomicWellbeing => "safeguarding of economic well-being of certain individuals",
        P20Insurance => "insurance",
        P21OccupationalPensions => "occupational pensions",
        P22PoliticalParties => "political parties",
        P23ElectedRepresentativesRequests => "elected representatives responding to requests",
        P24DisclosureToElectedRepresentatives => "disclosure to elected representatives",
        P25PrisonersElectedRepresentatives => "informing elected representatives about prisoners",
        P26LegalJudgments => "publication of legal judgments",
        P27AntiDoping => "anti-doping in sport",
        P28SportStandards => "standards of behaviour in sport",
        P29Consent => "consent",
        P30VitalInterests => "protecting individual's vital interests",
        P31NotForProfit => "processing by not-for-profit bodies",
        P32PublicDomain => "personal data in the public domain",
        P33LegalClaims => "legal claims",
        P34JudicialActs => "judicial acts",
        P35IndecencyAccounts => {
            "administration of accounts used in commission of indecency offences involving children"
        }
        P36ExtensionPart2 => {
            "extension of conditions in Part 2 referring to substantial public interest"
        }
        P37ExtensionInsurance => "extension of insurance conditions",
    }
}

pub fn category(c: FieldCategory) -> &'static str {
    use FieldCategory::*;
    match c {
        Identity => "identity",
        Contact => "contact details",
        Demographic => "demographic",
        Financial => "financial",
        Household => "household",
        Education => "education",
        Employment => "employment",
        Location => "location",
        OnlineIdentifier => "online identifier",
        SocialCare => "social care",
        Other => "other",
        Health => "health",
        Ethnicity => "racial or ethnic origin",
        Religion => "religious or philosophical beliefs",
        Sexuality => "sex life or sexual orientation",
        Biometric => "biometric",
        Genetic => "genetic",
        Political => "political opinions",
        TradeUnion => "trade union membership",
        CriminalOffence => "criminal offence",
    }
}

/// Which legal class a field falls in, as the DPIA's data inventory names it.
pub fn data_class(c: FieldCategory) -> &'static str {
    if c.is_special() {
        "special category (Article 9)"
    } else if c.is_criminal() {
        "criminal offence data (Article 10)"
    } else {
        "personal data"
    }
}

pub fn role(r: PartyRole) -> &'static str {
    match r {
        PartyRole::Controller => "controller",
        PartyRole::JointController => "joint controller",
        PartyRole::Processor => "processor",
        PartyRole::Recipient => "recipient (independent controller)",
    }
}

pub fn sector(s: Sector) -> &'static str {
    match s {
        Sector::LocalAuthority => "local authority",
        Sector::Nhs => "NHS",
        Sector::Police => "police",
        Sector::CentralGovernment => "central government",
        Sector::Education => "education",
        Sector::Vcs => "voluntary and community sector",
        Sector::Private => "private sector",
        Sector::Other => "other",
    }
}

pub fn dspt(s: DsptStatus) -> &'static str {
    match s {
        DsptStatus::StandardsExceeded => "standards exceeded",
        DsptStatus::StandardsMet => "standards met",
        DsptStatus::ApproachingStandards => "approaching standards",
        DsptStatus::StandardsNotMet => "standards not met",
    }
}

pub fn frequency(f: Frequency) -> &'static str {
    match f {
        Frequency::OneOff => "one-off",
        Frequency::OnDemand => "on demand",
        Frequency::Daily => "daily",
        Frequency::Weekly => "weekly",
        Frequency::Monthly => "monthly",
    }
}

pub fn method(m: TransferMethod) -> &'static str {
    match m {
        TransferMethod::Api => "API",
        TransferMethod::Sftp => "SFTP",
        TransferMethod::SecureEmail => "secure email",
        TransferMethod::Portal => "portal",
        TransferMethod::Other => "other",
    }
}

pub fn deletion(m: DeletionMethod) -> &'static str {
    match m {
        DeletionMethod::Webhook => "asked to delete by webhook",
        DeletionMethod::Email => "asked to delete by email",
        DeletionMethod::Manual => "deletes on manual request",
    }
}

pub fn retention_start(s: RetentionStart) -> &'static str {
    match s {
        RetentionStart::Receipt => "from receipt",
        RetentionStart::AgreementEnd => "from the end of the agreement",
    }
}

pub fn retention_action(a: RetentionAction) -> &'static str {
    match a {
        RetentionAction::Delete => "then deleted",
        RetentionAction::Anonymise => "then anonymised",
        RetentionAction::Return => "then returned",
    }
}

pub fn likelihood(l: Likelihood) -> &'static str {
    match l {
        Likelihood::Remote => "Remote",
        Likelihood::Possible => "Possible",
        Likelihood::Probable => "Probable",
    }
}

pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Minimal => "Minimal",
        Severity::Significant => "Significant",
        Severity::Severe => "Severe",
    }
}

pub fn effect(e: MeasureEffect) -> &'static str {
    match e {
        MeasureEffect::Eliminated => "Eliminated",
        MeasureEffect::Reduced => "Reduced",
        MeasureEffect::Accepted => "Accepted",
    }
}

pub fn level(l: RiskLevel) -> &'static str {
    match l {
        RiskLevel::Low => "Low",
        RiskLevel::Medium => "Medium",
        RiskLevel::High => "High",
    }
}

pub fn yes_no(b: bool) -> &'static str {
    if b { "Yes" } else { "No" }
}

/// "1 February 2026": the long form UK public bodies use in documents.
pub fn date(d: Date) -> String {
    d.strftime("%-d %B %Y").to_string()
}

/// "6 years", "1 year 6 months", "90 days", "24 hours".
pub fn duration(d: &IsoDuration) -> String {
    let span: Span = d.span();
    let units = [
        (i64::from(span.get_years()), "year"),
        (i64::from(span.get_months()), "month"),
        (i64::from(span.get_weeks()), "week"),
        (i64::from(span.get_days()), "day"),
        (i64::from(span.get_hours()), "hour"),
        (span.get_minutes(), "minute"),
        (span.get_seconds(), "second"),
    ];
    let parts: Vec<String> = units
        .iter()
        .filter(|(n, _)| *n != 0)
        .map(|&(n, unit)| format!("{n} {unit}{}", if n == 1 { "" } else { "s" }))
        .collect();
    if parts.is_empty() {
        d.to_string()
    } else {
        parts.join(" ")
    }
}

/// "Claire Whitfield, Executive Director of People, Bristol City Council, 20 January 2026":
/// name, position and date as the ICO template's sign-off asks, with what is known.
pub fn signature(s: &Signature, position: Option<String>, party_name: Option<&str>) -> String {
    let mut parts = vec![s.name.clone()];
    parts.extend(position);
    parts.extend(party_name.map(str::to_owned));
    parts.push(date(s.date));
    parts.join(", ")
}

/// Joins names as prose: "a", "a and b", "a, b and c".
pub fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [rest @ .., last] => {
            let head: Vec<&str> = rest.iter().map(AsRef::as_ref).collect();
            format!("{} and {}", head.join(", "), last.as_ref())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_words() {
        let d = |s: &str| duration(&IsoDuration::parse(s).unwrap());
        assert_eq!(d("P6Y"), "6 years");
        assert_eq!(d("P1Y6M"), "1 year 6 months");
        assert_eq!(d("P90D"), "90 days");
        assert_eq!(d("PT24H"), "24 hours");
        assert_eq!(d("P2W"), "2 weeks");
    }

    #[test]
    fn dates_and_lists_read_as_prose() {
        assert_eq!(date(jiff::civil::date(2026, 2, 1)), "1 February 2026");
        assert_eq!(and_list::<&str>(&[]), "");
        assert_eq!(and_list(&["a"]), "a");
        assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
    }

    #[test]
    fn every_schedule1_code_has_a_title() {
        for code in Schedule1::ALL {
            let text = schedule1(*code);
            assert!(
                text.contains(&format!("paragraph {}:", code.paragraph())),
                "{text}"
            );
        }
        assert!(schedule1(Schedule1::P18Safeguarding).ends_with("individuals at risk"));
    }
}
