//! The settings `serve` and `sweep` share: templates, webhook secrets, the public address,
//! and who runs the public service (the organisation, its privacy contact, how long a
//! requester's link and a closed request's personal details last).

use std::path::PathBuf;

use clap::Args;

use crate::retention::WebhookSecrets;
use crate::settings::Settings;

#[derive(Debug, Clone, Args)]
pub struct AppArgs {
    /// Folder of templates overriding the built-in ones.
    #[arg(long, env = "ACCORD_TEMPLATES", default_value = "templates")]
    pub templates: PathBuf,
    /// Secrets for signing webhook deletion requests: `party=secret,party=secret`.
    #[arg(long, env = "ACCORD_WEBHOOK_SECRETS", hide_env_values = true)]
    pub webhook_secrets: Option<String>,
    /// Where Accord is reached from outside, for links in emails.
    #[arg(
        long,
        env = "ACCORD_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,
    /// Days a requester's private link to their access request works from when it is sent
    /// (1 to 365); they ask for a new one by e-mail.
    #[arg(
        long,
        env = "ACCORD_REQUEST_LINK_DAYS",
        default_value_t = crate::access::requests::DEFAULT_LINK_DAYS,
        value_parser = clap::value_parser!(u16).range(1..=365)
    )]
    pub request_link_days: u16,
    /// The organisation that runs this Accord, as requesters and residents know it (for
    /// example "London Borough of Camden"): named in e-mails and in the privacy notice, as
    /// the controller of the personal details the request form collects.
    #[arg(
        long,
        env = "ACCORD_ORGANISATION_NAME",
        default_value = crate::access::requests::DEFAULT_ORGANISATION
    )]
    pub organisation_name: String,
    /// How to reach the organisation's data protection officer, as the privacy notice gives it
    /// (an e-mail address or a postal address); unset, the notice says to ask the organisation.
    #[arg(long, env = "ACCORD_PRIVACY_CONTACT")]
    pub privacy_contact: Option<String>,
    /// Days a closed access request (approved, rejected or withdrawn) keeps the requester's
    /// personal details before they are erased (1 to 3650), as the privacy notice promises.
    #[arg(
        long,
        env = "ACCORD_KEEP_CLOSED_REQUESTS_DAYS",
        default_value_t = crate::access::requests::DEFAULT_KEEP_CLOSED_DAYS,
        value_parser = clap::value_parser!(u16).range(1..=3650)
    )]
    pub keep_closed_requests_days: u16,
}

impl AppArgs {
    /// The app's settings from these arguments (body limit at its default).
    pub fn settings(&self) -> Result<Settings, String> {
        let secrets = WebhookSecrets::parse(self.webhook_secrets.as_deref().unwrap_or(""))
            .map_err(|e| format!("ACCORD_WEBHOOK_SECRETS: {e}"))?;
        Ok(Settings {
            templates: self.templates.clone(),
            webhook_secrets: secrets,
            public_url: self.public_url.clone(),
            service: crate::access::requests::Service {
                organisation: self.organisation_name.trim().to_owned(),
                privacy_contact: self
                    .privacy_contact
                    .as_deref()
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned),
                link_days: self.request_link_days,
                keep_closed_days: self.keep_closed_requests_days,
            },
            ..Settings::default()
        })
    }
}
