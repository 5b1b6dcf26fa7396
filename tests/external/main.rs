//! The integration tests that need tools from outside the project: headless Chromium
//! (`web_browser`), an OpenID provider (`sso`), Schemathesis (`openapi_contract`), TLS
//! (`serve_tls`, `database_tls`, `mail_tls`), an SMTP server (`mail`) and `pg_dump`
//! (`backup`); scripts/test.sh installs them. One binary, each file a module
//! (`cargo test --test external sso::` runs one).

#[macro_use]
#[path = "../support/mod.rs"]
mod support;

mod backup;
mod database_tls;
mod mail;
mod mail_tls;
mod openapi_contract;
mod serve_tls;
mod sso;
mod web_browser;
