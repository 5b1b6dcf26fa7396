//! The process's TLS: one crypto provider, ring, installed before the first TLS connection
//! (PostgreSQL through sqlx, `serve --tls-cert`). Two providers are in the build (poem's
//! rustls brings aws-lc-rs), and rustls will not guess between them.

/// Installs ring as the process's provider; later calls, and a provider already chosen, are
/// fine.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
