//! The format's closed vocabularies: every enum value docs/agreement-format.md lists, with its
//! exact spelling (public interface), and the legal facts attached to some of them.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Serialize, Serializer};

use super::decode::{Decode, Decoder, clip};
use super::diagnostic::{Code, suggestion};
use super::yaml::Node;

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident ($what:literal) { $($variant:ident = $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            pub fn from_text(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)* _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "enum": [$($text,)*],
                    "description": $what
                })
            }
        }

        impl Decode for $name {
            const EXPECTED: &'static str = $what;

            fn decode(node: &Node, d: &mut Decoder) -> Option<Self> {
                let text = d.text(node, $what)?;
                let found = Self::from_text(text);
                if found.is_none() {
                    let names = Self::ALL.iter().map(|v| v.as_str());
                    let msg = unknown_value(&d.here(), text, $what, names);
                    d.report(Code::Schema, node.pos, msg);
                }
                found
            }
        }
    };
}

fn unknown_value<'a>(
    here: &str,
    text: &str,
    what: &str,
    names: impl Iterator<Item = &'a str> + Clone,
) -> String {
    let hint = suggestion(text, names.clone());
    let all: Vec<&str> = names.collect();
    let choices = if all.len() <= 12 {
        format!("; expected one of: {}", all.join(", "))
    } else {
        String::from(" (`accord schema` lists them all)")
    };
    format!(
        "{here} is '{}', which is not {what}{choices}{hint}",
        clip(text)
    )
}

vocabulary! {
    /// A party's role in the sharing.
    PartyRole ("a party role") {
        Controller = "controller",
        JointController = "joint_controller",
        Processor = "processor",
        Recipient = "recipient",
    }
}

impl PartyRole {
    /// Controllers decide why and how data is processed (joint controllers together).
    pub fn is_controller(self) -> bool {
        matches!(self, PartyRole::Controller | PartyRole::JointController)
    }
}

vocabulary! {
    Sector ("a sector") {
        LocalAuthority = "local_authority",
        Nhs = "nhs",
        Police = "police",
        CentralGovernment = "central_government",
        Education = "education",
        Vcs = "vcs",
        Private = "private",
        Other = "other",
    }
}

impl Sector {
    /// Public sector, for the lawful-basis warnings: public authorities cannot rely on
    /// legitimate interests for their tasks, and consent given to them is rarely free.
    pub fn is_public(self) -> bool {
        matches!(
            self,
            Sector::LocalAuthority
                | Sector::Nhs
                | Sector::Police
                | Sector::CentralGovernment
                | Sector::Education
        )
    }
}

vocabulary! {
    DsptStatus ("a Data Security and Protection Toolkit status") {
        StandardsExceeded = "standards_exceeded",
        StandardsMet = "standards_met",
        ApproachingStandards = "approaching_standards",
        StandardsNotMet = "standards_not_met",
    }
}

vocabulary! {
    DeletionMethod ("a deletion method") {
        Webhook = "webhook",
        Email = "email",
        Manual = "manual",
    }
}

vocabulary! {
    Article6 ("an Article 6 lawful basis") {
        Consent = "consent",
        Contract = "contract",
        LegalObligation = "legal_obligation",
        VitalInterests = "vital_interests",
        PublicTask = "public_task",
        LegitimateInterests = "legitimate_interests",
        RecognisedLegitimateInterests = "recognised_legitimate_interests",
    }
}

impl Article6 {
    pub fn needs_legal_power(self) -> bool {
        matches!(self, Article6::PublicTask | Article6::LegalObligation)
    }
}

vocabulary! {
    /// Article 9(2) condition for special category data.
    Article9 ("an Article 9 condition") {
        ExplicitConsent = "explicit_consent",
        Employment = "employment",
        VitalInterests = "vital_interests",
        NotForProfit = "not_for_profit",
        MadePublic = "made_public",
        LegalClaims = "legal_claims",
        SubstantialPublicInterest = "substantial_public_interest",
        HealthSocialCare = "health_social_care",
        PublicHealth = "public_health",
        ArchivingResearch = "archiving_research",
    }
}

/// Which Schedule 1 conditions satisfy an Article 9 condition (DPA 2018 s.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needed {
    Para(Schedule1),
    Part2,
}

impl Article9 {
    pub fn needs_schedule1(self) -> Option<Needed> {
        match self {
            Article9::Employment => Some(Needed::Para(Schedule1::P1Employment)),
            Article9::HealthSocialCare => Some(Needed::Para(Schedule1::P2HealthSocialCare)),
            Article9::PublicHealth => Some(Needed::Para(Schedule1::P3PublicHealth)),
            Article9::ArchivingResearch => Some(Needed::Para(Schedule1::P4Research)),
            Article9::SubstantialPublicInterest => Some(Needed::Part2),
            _ => None,
        }
    }
}

impl Needed {
    pub fn is_met_by(self, code: Schedule1) -> bool {
        match self {
            Needed::Para(p) => p == code,
            Needed::Part2 => code.part() == 2,
        }
    }

    pub fn describe(self) -> String {
        match self {
            Needed::Para(p) => format!("'{p}'"),
            Needed::Part2 => "a Part 2 condition (p6 to p28)".to_owned(),
        }
    }
}

vocabulary! {
    /// Article 10 authority for criminal offence data.
    Article10 ("an Article 10 basis") {
        OfficialAuthority = "official_authority",
        Schedule1 = "schedule1",
    }
}

vocabulary! {
    /// DPA 2018 Schedule 1 conditions, by paragraph.
    Schedule1 ("a DPA 2018 Schedule 1 condition code") {
        P1Employment = "p1_employment",
        P2HealthSocialCare = "p2_health_social_care",
        P3PublicHealth = "p3_public_health",
        P4Research = "p4_research",
        P6StatutoryGovernment = "p6_statutory_government",
        P7JusticeParliament = "p7_justice_parliament",
        P8Equality = "p8_equality",
        P9RacialDiversity = "p9_racial_diversity",
        P10PreventingUnlawfulActs = "p10_preventing_unlawful_acts",
        P11ProtectingPublicDishonesty = "p11_protecting_public_dishonesty",
        P12RegulatoryRequirements = "p12_regulatory_requirements",
        P13Journalism = "p13_journalism",
        P14PreventingFraud = "p14_preventing_fraud",
        P15TerroristFinancing = "p15_terrorist_financing",
        P16DisabilitySupport = "p16_disability_support",
        P17Counselling = "p17_counselling",
        P18Safeguarding = "p18_safeguarding",
        P19EconomicWellbeing = "p19_economic_wellbeing",
        P20Insurance = "p20_insurance",
        P21OccupationalPensions = "p21_occupational_pensions",
        P22PoliticalParties = "p22_political_parties",
        P23ElectedRepresentativesRequests = "p23_elected_representatives_requests",
        P24DisclosureToElectedRepresentatives = "p24_disclosure_to_elected_representatives",
        P25PrisonersElectedRepresentatives = "p25_prisoners_elected_representatives",
        P26LegalJudgments = "p26_legal_judgments",
        P27AntiDoping = "p27_anti_doping",
        P28SportStandards = "p28_sport_standards",
        P29Consent = "p29_consent",
        P30VitalInterests = "p30_vital_interests",
        P31NotForProfit = "p31_not_for_profit",
        P32PublicDomain = "p32_public_domain",
        P33LegalClaims = "p33_legal_claims",
        P34JudicialActs = "p34_judicial_acts",
        P35IndecencyAccounts = "p35_indecency_accounts",
        P36ExtensionPart2 = "p36_extension_part2",
        P37ExtensionInsurance = "p37_extension_insurance",
    }
}

impl Schedule1 {
    /// The paragraph number, read from the code itself (`p18_…` is paragraph 18).
    pub fn paragraph(self) -> u32 {
        let digits: String = self.as_str()[1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().unwrap_or(0)
    }

    /// Part 1 (paras 1–4), Part 2 (6–28) or Part 3 (29–37) of Schedule 1.
    pub fn part(self) -> u8 {
        match self.paragraph() {
            1..=4 => 1,
            6..=28 => 2,
            _ => 3,
        }
    }

    /// Sch 1 para 5 and 39: employment and Part 2 conditions need an appropriate policy document.
    pub fn needs_policy_document(self) -> bool {
        self == Schedule1::P1Employment || self.part() == 2
    }
}

vocabulary! {
    FieldCategory ("a field category") {
        Identity = "identity",
        Contact = "contact",
        Demographic = "demographic",
        Financial = "financial",
        Household = "household",
        Education = "education",
        Employment = "employment",
        Location = "location",
        OnlineIdentifier = "online_identifier",
        SocialCare = "social_care",
        Other = "other",
        Health = "health",
        Ethnicity = "ethnicity",
        Religion = "religion",
        Sexuality = "sexuality",
        Biometric = "biometric",
        Genetic = "genetic",
        Political = "political",
        TradeUnion = "trade_union",
        CriminalOffence = "criminal_offence",
    }
}

impl FieldCategory {
    /// Article 9 special category data.
    pub fn is_special(self) -> bool {
        matches!(
            self,
            FieldCategory::Health
                | FieldCategory::Ethnicity
                | FieldCategory::Religion
                | FieldCategory::Sexuality
                | FieldCategory::Biometric
                | FieldCategory::Genetic
                | FieldCategory::Political
                | FieldCategory::TradeUnion
        )
    }

    /// Article 10 criminal offence data.
    pub fn is_criminal(self) -> bool {
        self == FieldCategory::CriminalOffence
    }

    /// Special category or criminal offence data: what the DPIA treats as sensitive.
    pub fn is_sensitive(self) -> bool {
        self.is_special() || self.is_criminal()
    }
}

vocabulary! {
    Frequency ("a frequency") {
        OneOff = "one_off",
        OnDemand = "on_demand",
        Daily = "daily",
        Weekly = "weekly",
        Monthly = "monthly",
    }
}

vocabulary! {
    TransferMethod ("a transfer method") {
        Api = "api",
        Sftp = "sftp",
        SecureEmail = "secure_email",
        Portal = "portal",
        Other = "other",
    }
}

vocabulary! {
    RetentionStart ("when retention starts") {
        Receipt = "receipt",
        AgreementEnd = "agreement_end",
    }
}

vocabulary! {
    RetentionAction ("what happens when retention ends") {
        Delete = "delete",
        Anonymise = "anonymise",
        Return = "return",
    }
}

vocabulary! {
    Likelihood ("a likelihood") {
        Remote = "remote",
        Possible = "possible",
        Probable = "probable",
    }
}

vocabulary! {
    Severity ("a severity of harm") {
        Minimal = "minimal",
        Significant = "significant",
        Severe = "severe",
    }
}

vocabulary! {
    MeasureEffect ("the effect of a measure") {
        Eliminated = "eliminated",
        Reduced = "reduced",
        Accepted = "accepted",
    }
}

vocabulary! {
    RiskLevel ("a residual risk level") {
        Low = "low",
        Medium = "medium",
        High = "high",
    }
}

vocabulary! {
    SignatureRole ("a signature role") {
        SeniorOfficer = "senior_officer",
        Dpo = "dpo",
    }
}

impl SignatureRole {
    /// In words, for people.
    pub fn label(self) -> &'static str {
        match self {
            SignatureRole::SeniorOfficer => "Senior officer",
            SignatureRole::Dpo => "Data protection officer",
        }
    }
}

vocabulary! {
    HandoverKind ("a kind of handover item") {
        Document = "document",
        Training = "training",
        AccessRevocation = "access_revocation",
        DataReturn = "data_return",
        DeletionCertificate = "deletion_certificate",
        Code = "code",
        Licence = "licence",
        Other = "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule1_parts_follow_the_paragraph_numbers() {
        assert_eq!(Schedule1::ALL.len(), 36);
        for code in Schedule1::ALL {
            let p = code.paragraph();
            assert!((1..=37).contains(&p) && p != 5, "{code}");
        }
        assert_eq!(Schedule1::P4Research.part(), 1);
        assert_eq!(Schedule1::P6StatutoryGovernment.part(), 2);
        assert_eq!(Schedule1::P28SportStandards.part(), 2);
        assert_eq!(Schedule1::P29Consent.part(), 3);
        assert!(Schedule1::P18Safeguarding.needs_policy_document());
        assert!(Schedule1::P1Employment.needs_policy_document());
        assert!(!Schedule1::P2HealthSocialCare.needs_policy_document());
        assert!(!Schedule1::P33LegalClaims.needs_policy_document());
    }

    #[test]
    fn vocabularies_round_trip_their_text() {
        for c in FieldCategory::ALL {
            assert_eq!(FieldCategory::from_text(c.as_str()), Some(*c));
        }
        assert_eq!(
            FieldCategory::ALL.iter().filter(|c| c.is_special()).count(),
            8
        );
    }

    #[test]
    fn sensitive_is_special_category_or_criminal_offence_data() {
        for c in FieldCategory::ALL {
            assert_eq!(c.is_sensitive(), c.is_special() || c.is_criminal(), "{c}");
        }
        assert!(FieldCategory::CriminalOffence.is_sensitive());
        assert!(FieldCategory::Genetic.is_sensitive());
        assert!(!FieldCategory::SocialCare.is_sensitive());
        assert!(!FieldCategory::Identity.is_sensitive());
    }
}
