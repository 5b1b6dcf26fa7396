//! The settings `serve` and `sweep` share: templates, webhook secrets, the public address.

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
            ..Settings::default()
        })
    }
}
