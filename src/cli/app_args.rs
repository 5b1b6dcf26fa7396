//! The settings `serve` and `sweep` share: templates, webhook secrets, the public address,
//! the life of a requester's private link.

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
            request_link_days: self.request_link_days,
            ..Settings::default()
        })
    }
}
